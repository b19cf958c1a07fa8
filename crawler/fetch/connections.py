"""httpcore's connection pool, with its per-request bookkeeping made linear.

httpcore 1.0's `AsyncConnectionPool` reassigns requests to connections every time a request starts or ends
(`_assign_requests_to_connections`). For each idle connection it decides whether the pool holds too many by
building a list of all the pool's connections and taking its length: O(idle × connections) per request. With
the default 16 connections that is a tenth of a millisecond per fetch; with `network.concurrency: 128` over
many hosts, whose connections wait idle between requests, it was most of a fetch's CPU
(`benchmarks/fetch.py --concurrency 128 --sites 64`: 4.0-4.5 ms per fetch, 17 million `is_idle` calls per
thousand fetches). `assign_linearly` takes the same decisions counting the connections once, and looks for an
idle connection only when a request needs one closed to make room.
"""
from __future__ import annotations

import types

import httpcore
import httpx

_ORIGINAL = httpcore.AsyncConnectionPool._assign_requests_to_connections


def install_linear_pool(transport: httpx.AsyncHTTPTransport) -> None:
    """Give `transport`'s connection pool `assign_linearly`: where httpx keeps its pool where we know and the
    pool's method is the httpcore 1.0 one it was checked against (a speed-up only: anything else is left as
    it is). Proxy pools take it too: they differ in the connections they create, not in their bookkeeping."""
    pool = getattr(transport, "_pool", None)
    if (isinstance(pool, httpcore.AsyncConnectionPool) and httpcore.__version__.startswith("1.0.")
            and type(pool)._assign_requests_to_connections is _ORIGINAL):
        pool._assign_requests_to_connections = types.MethodType(assign_linearly, pool)  # type: ignore[method-assign]


def assign_linearly(pool: httpcore.AsyncConnectionPool) -> list[httpcore.AsyncConnectionInterface]:
    """httpcore 1.0.9's `AsyncConnectionPool._assign_requests_to_connections` (BSD 3-Clause, Encode OSS Ltd.)
    in linear time: the same connections dropped, closed, created and assigned (tests/test_fetch_connections.py
    compares the two). Returns the connections to close."""
    connections = pool._connections
    closing: list[httpcore.AsyncConnectionInterface] = []
    for connection in list(connections):
        if connection.is_closed():
            connections.remove(connection)
        elif connection.has_expired():
            connections.remove(connection)
            closing.append(connection)
        # httpcore's "too many idle connections" test counts every connection of the pool, idle or not.
        elif connection.is_idle() and len(connections) > pool._max_keepalive_connections:
            connections.remove(connection)
            closing.append(connection)
    for pool_request in [request for request in pool._requests if request.is_queued()]:
        origin = pool_request.request.url.origin
        available = next((connection for connection in connections
                          if connection.can_handle_request(origin) and connection.is_available()), None)
        if available is not None:
            pool_request.assign_to_connection(available)
            continue
        if len(connections) >= pool._max_connections:
            idle = next((connection for connection in connections if connection.is_idle()), None)
            if idle is None:
                continue  # the request waits for a connection to come free
            connections.remove(idle)
            closing.append(idle)
        connection = pool.create_connection(origin)
        connections.append(connection)
        pool_request.assign_to_connection(connection)
    return closing
