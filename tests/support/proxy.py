"""A small forward proxy on 127.0.0.1 for tests: `CONNECT host:port` tunnels (HTTPS through a proxy) and
absolute-form `GET http://host:port/path` requests (plain HTTP through a proxy), both passed on to the real
server, and every request recorded.

    with ForwardProxy(names={"feeds.test": "127.0.0.1"}) as proxy:
        ... HTTPS_PROXY=proxy.url ...
        assert proxy.requests[0] == ("CONNECT", "feeds.test:8443")

It only ever connects to loopback addresses: `names` maps test host names to them, and anything else is
answered with 502. Forwarded GET requests get `Via: 1.1 test-proxy`, so the origin can tell them apart, and
`Connection: close`, so each one is a connection of its own.
"""
from __future__ import annotations

import ipaddress
import socket
import socketserver
import threading
from collections.abc import Mapping
from types import TracebackType
from urllib.parse import urlsplit

VIA = "1.1 test-proxy"


class ForwardProxy:
    def __init__(self, names: Mapping[str, str] | None = None):
        self._names = dict(names or {})
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str]] = []
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, target) of every request, in arrival order: ("CONNECT", "host:port") or ("GET", url)."""
        with self._lock:
            return list(self._requests)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ForwardProxy:
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                owner._handle(self)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _address(self, host: str) -> str | None:
        address = self._names.get(host.lower(), host.strip("[]"))
        try:
            return address if ipaddress.ip_address(address).is_loopback else None
        except ValueError:
            return None

    def _handle(self, handler: socketserver.StreamRequestHandler) -> None:
        head = _read_head(handler.rfile)
        if not head:
            return
        method, target, _ = head[0].split(" ", 2)
        with self._lock:
            self._requests.append((method, target))
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            address = self._address(host)
            if address is None:
                handler.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            with socket.create_connection((address, int(port)), timeout=30) as upstream:
                handler.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                handler.wfile.flush()
                _pipe(handler.connection, upstream, handler.rfile)
            return
        parts = urlsplit(target)
        address = self._address(parts.hostname or "")
        if address is None or parts.scheme != "http":
            handler.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kept = [line for line in head[1:] if not line.lower().startswith(("connection:", "proxy-connection:"))]
        request = "\r\n".join([f"{method} {path} HTTP/1.1", *kept, f"Via: {VIA}", "Connection: close", "", ""])
        with socket.create_connection((address, parts.port or 80), timeout=30) as upstream:
            upstream.sendall(request.encode("latin-1"))
            while data := upstream.recv(65536):
                handler.wfile.write(data)


def _read_head(stream) -> list[str]:
    lines = []
    while True:
        line = stream.readline(65537)
        if not line or line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.decode("latin-1").rstrip("\r\n"))


def _pipe(client: socket.socket, upstream: socket.socket, client_buffer) -> None:
    """Copy bytes both ways until either side closes."""
    pending = client_buffer.peek() if hasattr(client_buffer, "peek") else b""
    if pending:
        upstream.sendall(client_buffer.read(len(pending)))

    def copy(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    back = threading.Thread(target=copy, args=(upstream, client), daemon=True)
    back.start()
    copy(client, upstream)
    back.join()
