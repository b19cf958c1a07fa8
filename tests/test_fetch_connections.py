"""The connection pool's bookkeeping in linear time: the same decisions as httpcore's own, without its
idle × connections count per request."""
from __future__ import annotations

import asyncio
import random

import httpcore
import httpx
import pytest

from crawler.fetch.connections import assign_linearly, install_linear_pool
from tests.support.server import LocalServer, Reply

ORIGINS = [httpcore.URL(f"http://127.0.0.1:{8000 + n}/").origin for n in range(4)]


class FakeConnection:
    """A connection in one of the states the pool tells apart; counts how often it is asked `is_idle`."""

    def __init__(self, name: str, origin: httpcore.Origin, state: str):
        self.name, self.origin, self.state = name, origin, state
        self.idle_checks = 0

    def is_closed(self) -> bool:
        return self.state == "closed"

    def has_expired(self) -> bool:
        return self.state == "expired"

    def is_idle(self) -> bool:
        self.idle_checks += 1
        return self.state == "idle"

    def is_available(self) -> bool:
        return self.state in ("idle", "available")

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self.origin

    def __repr__(self) -> str:
        return self.name


class FakeRequest:
    def __init__(self, name: str, origin: httpcore.Origin, queued: bool):
        self.name, self.queued, self.connection = name, queued, None
        self.request = httpcore.Request("GET", f"{origin.scheme.decode()}://{origin.host.decode()}:{origin.port}/")

    def is_queued(self) -> bool:
        return self.queued

    def assign_to_connection(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.queued = False


def scenario(seed: int) -> httpcore.AsyncConnectionPool:
    """A pool in a random state: connections to a few origins in every state, requests queued or not."""
    rng = random.Random(seed)
    max_connections = rng.randint(1, 12)
    pool = httpcore.AsyncConnectionPool(max_connections=max_connections,
                                        max_keepalive_connections=rng.randint(0, max_connections))
    states = ["closed", "expired", "idle", "available", "busy"]
    pool._connections = [FakeConnection(f"c{n}", rng.choice(ORIGINS), rng.choice(states))
                         for n in range(rng.randint(0, max_connections + 3))]
    pool._requests = [FakeRequest(f"r{n}", rng.choice(ORIGINS), rng.random() < 0.7) for n in range(rng.randint(0, 8))]
    created = iter(range(100))
    pool.create_connection = lambda origin: FakeConnection(f"new{next(created)}", origin, "available")
    return pool


def outcome(pool: httpcore.AsyncConnectionPool, closing: list) -> tuple:
    return ([repr(c) for c in closing], [repr(c) for c in pool._connections],
            [(r.name, repr(r.connection), r.queued) for r in pool._requests])


@pytest.mark.parametrize("seed", range(400))
def test_the_same_connections_are_dropped_closed_created_and_assigned_as_by_httpcore(seed):
    ours, theirs = scenario(seed), scenario(seed)
    expected = outcome(theirs, httpcore.AsyncConnectionPool._assign_requests_to_connections(theirs))
    assert outcome(ours, assign_linearly(ours)) == expected


def test_idle_connections_are_asked_once_each_not_once_per_idle_connection():
    def pool_of_idle(count: int) -> httpcore.AsyncConnectionPool:
        pool = httpcore.AsyncConnectionPool(max_connections=count, max_keepalive_connections=count)
        pool._connections = [FakeConnection(f"c{n}", ORIGINS[n % 4], "idle") for n in range(count)]
        pool._requests = []
        return pool

    theirs, ours = pool_of_idle(128), pool_of_idle(128)
    httpcore.AsyncConnectionPool._assign_requests_to_connections(theirs)
    assign_linearly(ours)
    assert sum(c.idle_checks for c in theirs._connections) == 128 + 128 * 128  # what the change removes
    assert sum(c.idle_checks for c in ours._connections) == 128


def test_direct_and_proxy_transports_get_it_and_still_fetch():
    direct = httpx.AsyncHTTPTransport()
    proxied = httpx.AsyncHTTPTransport(proxy="http://127.0.0.1:9")
    for transport in (direct, proxied):
        install_linear_pool(transport)
        assert transport._pool._assign_requests_to_connections.__func__ is assign_linearly

    async def fetch_all(urls: list[str]) -> list[bytes]:
        async with httpx.AsyncClient(transport=direct) as client:
            return [response.content for response in await asyncio.gather(*(client.get(u) for u in urls))]

    with LocalServer() as server:
        server.route("/a", Reply.text("a"))
        assert asyncio.run(fetch_all([server.url("/a")] * 6)) == [b"a"] * 6


def test_every_transport_of_the_fetcher_has_it():
    from crawler.config import NetworkSettings
    from crawler.fetch import Fetcher

    fetcher = Fetcher(NetworkSettings(allow_private=True, proxy="http://127.0.0.1:9"))
    transports = [fetcher._direct, *(transport for _, transport in fetcher._mounts if transport is not None)]
    assert len(transports) == 2
    for transport in transports:
        assert transport._pool._assign_requests_to_connections.__func__ is assign_linearly
