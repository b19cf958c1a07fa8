"""What the crawler does with the TCP socket under an httpx connection.

Two per-request costs of the httpx stack that have nothing to do with the page, measured on a local site:

- Before every request, and again when its response is closed, httpcore asks each idle connection of the pool
  whether the server has closed it (`get_extra_info("is_readable")`). Its anyio stream answers by building a
  dict of all the socket's attributes, a `getpeername` system call included, to find the socket, then polls
  it: about a fifth of a page's fetching time with a dozen idle connections. `LeanStream` keeps the socket it
  was opened on and polls it directly.
- Servers that write a response's head and body in two sends without TCP_NODELAY (Python's http.server and
  many small frameworks) hold the body back under Nagle's algorithm until the head is acknowledged, and Linux
  delays that ACK on a kept-alive connection: some 40 ms per request. `acknowledge_now` sends it at once.
"""
from __future__ import annotations

import select
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def acknowledge_now(response: httpx.Response) -> None:
    """Send the ACK for the response head now instead of up to 40 ms later (TCP_QUICKACK: one system call;
    Linux only, elsewhere nothing to do)."""
    if _QUICKACK is None:
        return
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        except OSError:  # not TCP (a test transport), or already closed: nothing is delayed then
            pass


class LeanStream(httpcore.AsyncNetworkStream):
    """A network stream that knows its socket: `socket` and `is_readable` without anyio's attribute lookup."""

    __slots__ = ("_inner", "_socket")

    def __init__(self, inner: httpcore.AsyncNetworkStream):
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return LeanStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self._socket
        if info == "is_readable":
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket | None) -> bool:
    """Whether an idle connection has something to read: the server closed it (or broke the protocol). A
    socket that is gone counts as readable, so that the pool drops the connection, as httpcore itself does."""
    if sock is None or sock.fileno() == -1:
        return True
    poller = getattr(select, "poll", None)
    if poller is None:  # Windows
        return bool(select.select([sock], [], [], 0)[0])
    check = poller()
    check.register(sock, select.POLLIN)
    return bool(check.poll(0))


class LeanBackend(httpcore.AsyncNetworkBackend):
    """Wraps every stream another backend opens in a `LeanStream`."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend):
        self._inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        return LeanStream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        return LeanStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install_lean_streams(transport: httpx.AsyncHTTPTransport) -> None:
    """Open `transport`'s connections through `LeanBackend` (where httpx keeps its pool where we know: a
    speed-up only, so an httpx that moved it is left as it is)."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.AsyncNetworkBackend) and not isinstance(backend, LeanBackend):
        pool._network_backend = LeanBackend(backend)  # type: ignore[union-attr]
