"""How many requests may be in flight, overall and per host, and how far apart a host's requests start.

A "host" is an origin, scheme://host:port: the unit robots.txt applies to (RFC 9309), so a Crawl-delay
of one site does not slow another site served from the same machine on another port.

The per-host semaphore is taken before the global one: a caller waiting for a busy host must not sit on a
global slot that a request to another host could use. Callers hold a slot for one attempt only, never while
sleeping between retries.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_CRAWL_DELAY = 60.0
"""A robots.txt asking for more would stall a run; we space requests this far apart at most."""


def origin(url: str) -> str:
    """`scheme://host:port` of a URL, the key of every per-host limit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        port = 0
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while a request waits for its start time, so that starts are spaced one after the other."""
    delay: float = 0.0
    last_start: float = float("-inf")


class HostLimiter:
    def __init__(self, concurrency: int, per_host: int):
        self._global = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._hosts: dict[str, _Host] = {}
        self._min_interval = 0.0

    def _host(self, host: str) -> _Host:
        key = host.lower()
        if key not in self._hosts:
            self._hosts[key] = _Host(asyncio.Semaphore(self._per_host))
        return self._hosts[key]

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        """Requests to `host` start at least `seconds` apart (capped at MAX_CRAWL_DELAY); 0 lifts it."""
        self._host(host).delay = min(max(0.0, seconds), MAX_CRAWL_DELAY)

    def crawl_delay(self, host: str) -> float:
        return self._host(host).delay

    def set_min_interval(self, seconds: float) -> None:
        """Requests to any one host start at least `seconds` apart (a backfill's --rate); a longer crawl delay
        still wins."""
        self._min_interval = max(0.0, seconds)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one request's place: a host slot, the host's turn to start, then a global slot."""
        state = self._host(host)
        loop = asyncio.get_running_loop()
        async with state.semaphore:
            async with state.turn:
                wait = state.last_start + max(state.delay, self._min_interval) - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._global.acquire()
                state.last_start = loop.time()
            try:
                yield
            finally:
                self._global.release()
