"""A real HTTP/1.1 server on 127.0.0.1 for tests: register routes, make requests, assert on what arrived.

    def test_feed(http_server):                      # the fixture from tests/conftest.py
        http_server.route("/feed.xml", Reply(body=b"<rss/>", headers={"Content-Type": "application/rss+xml"}))
        http_server.route("/flaky", Reply(503), Reply(503), Reply(body=b"ok"))   # one per hit, the last repeats
        http_server.route("/gbk", Reply.text("<p>中文</p>", charset="gbk"))
        http_server.route("/slow", Reply(body=b"late", delay=0.5))
        http_server.route("/broken", reset_connection(after=b"<rss"), Reply(body=b"<rss/>"))
        ...                                           # fetch http_server.url("/feed.xml") etc.
        assert http_server.hits("/flaky") == 3
        assert http_server.requests_to("/feed.xml")[0].headers["if-none-match"] == '"v1"'

Outside pytest: `with LocalServer() as server: ...`; `LocalServer(tls=context)` serves HTTPS with a server-side
`ssl.SSLContext`.

A route answers with a `Reply` (status, headers, body, delay before answering) or with a behaviour: a
function given the `Exchange`, for what a well-behaved server would not do. Ready-made behaviours:
`reset_connection`, `close_without_response`, `hang`, `drip`, `stream`. Unrouted paths get 404.

Requests are matched on their target as sent: "/feed.xml?page=2" first, then "/feed.xml". A request sent
through this server as an HTTP proxy carries an absolute target ("http://example.com/feed"), so route that.

Every request is recorded (`requests`, `requests_to`, `hits`) with its arrival time on `time.monotonic()`,
and the server tracks how many requests each host had in flight at once (`max_in_flight`): a request counts
from its arrival until its answer starts. Serve the same server under several host names with
`url(path, host="localhost")` to test per-host limits.
"""
from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

__all__ = [
    "Behaviour",
    "Exchange",
    "LocalServer",
    "RecordedRequest",
    "Reply",
    "close_without_response",
    "conditional",
    "drip",
    "hang",
    "reset_connection",
    "stream",
]

# Statuses whose responses never carry a body, so they get no Content-Length.
_BODILESS = {204, 304}


@dataclass(frozen=True)
class Reply:
    """One canned response. Content-Length is added unless `headers` sets it (set it to lie)."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (the request counts as in flight meanwhile)."""

    @classmethod
    def text(
        cls,
        text: str,
        *,
        charset: str = "utf-8",
        content_type: str = "text/html",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """`text` encoded in `charset` (gbk, gb18030...), labelled `Content-Type: <content_type>; charset=<charset>`.
        For a page that does not declare its charset in the header, build the Reply directly."""
        return cls(
            status,
            text.encode(charset),
            {"Content-Type": f"{content_type}; charset={charset}", **(headers or {})},
            delay,
        )


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    target: str
    """The request target as sent: "/path?query", or an absolute URL for a proxied request."""
    headers: Mapping[str, str]
    """Lower-case names; repeated headers joined with ", "."""
    time: float
    """Arrival, on `time.monotonic()`."""
    client_port: int
    """The client's port: requests sharing it came over one (kept-alive) connection."""

    @property
    def host(self) -> str:
        """Host name from the Host header, without the port."""
        host = self.headers.get("host", "")
        return host.rsplit(":", 1)[0] if not host.endswith("]") else host


class Exchange:
    """One request as a behaviour sees it: answer it, or misbehave."""

    def __init__(self, handler: BaseHTTPRequestHandler, request: RecordedRequest, server: LocalServer):
        self.request = request
        self._handler = handler
        self._server = server
        self.answered = False

    def send(self, reply: Reply) -> None:
        """Wait `reply.delay`, then write the whole response."""
        if reply.delay:
            self.wait(reply.delay)
        headers = dict(reply.headers)
        if reply.status not in _BODILESS and not any(k.lower() == "content-length" for k in headers):
            headers["Content-Length"] = str(len(reply.body))
        self.send_head(reply.status, headers)
        if reply.status not in _BODILESS:
            self.write(reply.body)

    def send_head(self, status: int, headers: Mapping[str, str]) -> None:
        """Write the status line and headers; the body is up to the caller (`write`)."""
        self.answer_started()
        self._handler.send_response(status)
        for name, value in headers.items():
            self._handler.send_header(name, value)
        self._handler.end_headers()

    def write(self, data: bytes) -> None:
        self._handler.wfile.write(data)
        self._handler.wfile.flush()

    def reset(self) -> None:
        """Abort the connection with a TCP RST (what a crashing server or a middlebox does)."""
        self.answer_started()
        self._handler.close_connection = True
        sock = self._handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def close(self) -> None:
        """Close the connection (normally, with FIN) once the behaviour returns."""
        self.answer_started()
        self._handler.close_connection = True

    def wait(self, seconds: float | None) -> bool:
        """Sleep, but wake when the server stops (None: until then). True if the server is stopping."""
        return self._server._stopping.wait(seconds)

    def answer_started(self) -> None:
        """The request stops counting as in flight (done for you by send, send_head, reset and close)."""
        if not self.answered:
            self.answered = True
            self._server._leave(self.request)


Behaviour = Callable[[Exchange], None]
Response = Reply | Behaviour


def reset_connection(after: bytes = b"", declared_length: int = 1_000_000) -> Behaviour:
    """Send a 200 head announcing `declared_length` bytes, then `after`, then reset the connection."""

    def behaviour(exchange: Exchange) -> None:
        exchange.send_head(200, {"Content-Length": str(declared_length)})
        exchange.write(after)
        exchange.reset()

    return behaviour


def close_without_response() -> Behaviour:
    """Read the request, then close the connection without a byte of answer."""
    return lambda exchange: exchange.close()


def hang() -> Behaviour:
    """Read the request and never answer (until the server stops)."""

    def behaviour(exchange: Exchange) -> None:
        exchange.wait(None)

    return behaviour


def conditional(reply: Reply) -> Behaviour:
    """`reply`, or 304 Not Modified when the request's If-None-Match matches its ETag or its
    If-Modified-Since equals its Last-Modified (as most feed servers answer)."""
    headers = {k.lower(): v for k, v in reply.headers.items()}

    def behaviour(exchange: Exchange) -> None:
        asked = exchange.request.headers
        etag, modified = headers.get("etag"), headers.get("last-modified")
        if (etag and asked.get("if-none-match") == etag) or (
                modified and not asked.get("if-none-match") and asked.get("if-modified-since") == modified):
            exchange.send(Reply(304, headers={k: v for k, v in reply.headers.items()
                                              if k.lower() in ("etag", "last-modified")}))
        else:
            exchange.send(reply)

    return behaviour


def drip(body: bytes, interval: float, headers: Mapping[str, str] | None = None) -> Behaviour:
    """Send a 200 head, then the body one byte every `interval` seconds."""

    def behaviour(exchange: Exchange) -> None:
        exchange.send_head(200, {"Content-Length": str(len(body)), **(headers or {})})
        for i in range(len(body)):
            exchange.write(body[i : i + 1])
            if exchange.wait(interval):
                return

    return behaviour


def stream(chunks: Callable[[], Iterable[bytes]], headers: Mapping[str, str] | None = None) -> Behaviour:
    """Send a 200 head, then the chunks `chunks()` yields, as they come: a body far larger than memory, or one
    that never ends. Without a Content-Length in `headers` the body ends when the connection closes."""

    def behaviour(exchange: Exchange) -> None:
        exchange.send_head(200, dict(headers or {}))
        for chunk in chunks():
            exchange.write(chunk)
            if exchange.wait(0):
                return
        exchange.close()

    return behaviour


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    timeout = 30  # an idle keep-alive connection frees its thread eventually
    server: _Server

    def do_GET(self) -> None:
        self.server.owner._handle(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: LocalServer, tls: ssl.SSLContext | None, host: str = "127.0.0.1"):
        super().__init__((host, 0), _Handler)
        self.owner = owner
        if tls is not None:
            # Handshake in the handler's thread, on first read: a client that never completes it must not
            # stall the accepting loop.
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up on us mid-answer is what many tests are about


class LocalServer:
    def __init__(self, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        """`host`: another loopback address (127.0.0.2...) gives a second machine to tell apart from the first."""
        self._tls = tls
        self._host = host
        self._routes: dict[str, tuple[Response, ...]] = {}
        self._route_hits: Counter[str] = Counter()
        self._requests: list[RecordedRequest] = []
        self._in_flight: Counter[str] = Counter()
        self._max_in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> LocalServer:
        self._server = _Server(self, self._tls, self._host)
        # A short poll interval: stop() waits for the serving loop to notice, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="LocalServer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging and dripping behaviours
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()
            self._server = self._thread = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- setting up ---------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not running"
        return self._server.server_address[1]

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """Absolute URL of `path`; `host` may be another name for this machine ("localhost")."""
        return f"{'https' if self._tls else 'http'}://{host or self._host}:{self.port}{path}"

    def route(self, path: str, *responses: Response) -> None:
        """Answer requests for `path` with `responses`, one per hit, the last one repeating.
        Replaces the previous route for `path` and restarts its sequence."""
        if not responses:
            raise ValueError("route() needs at least one Reply or behaviour")
        with self._lock:
            self._routes[path] = responses
            self._route_hits[path] = 0

    # --- asserting ----------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Requests whose target is `path`, with or without a query string."""
        return [r for r in self.requests if r.target == path or r.target.split("?", 1)[0] == path]

    def hits(self, path: str) -> int:
        return len(self.requests_to(path))

    def max_in_flight(self, host: str | None = None) -> int:
        """Most requests in flight at once for `host` (a name without port), or for all hosts together."""
        with self._lock:
            return self._max_in_flight[host or ""]

    # --- serving ------------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        headers: dict[str, str] = {}
        for name, value in handler.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        request = RecordedRequest(handler.command, handler.path, headers, time.monotonic(), handler.client_address[1])
        with self._lock:
            self._requests.append(request)
            for key in ("", request.host):
                self._in_flight[key] += 1
                self._max_in_flight[key] = max(self._max_in_flight[key], self._in_flight[key])
            response = self._next_response(request.target)
        exchange = Exchange(handler, request, self)
        try:
            if isinstance(response, Reply):
                exchange.send(response)
            else:
                response(exchange)
        except OSError:
            handler.close_connection = True  # the client went away; nothing to answer
        finally:
            if not exchange.answered:
                handler.close_connection = True  # an unanswered request leaves nothing to keep alive
            exchange.answer_started()

    def _next_response(self, target: str) -> Response:
        path = target if target in self._routes else target.split("?", 1)[0]
        responses = self._routes.get(path)
        if responses is None:
            return Reply(404, b"no route for this path in the test server\n")
        hit = self._route_hits[path]
        self._route_hits[path] += 1
        return responses[min(hit, len(responses) - 1)]

    def _leave(self, request: RecordedRequest) -> None:
        with self._lock:
            for key in ("", request.host):
                self._in_flight[key] -= 1

