"""Prometheus metrics and a health check for the daemon (`--metrics-port`), off by default.

The counters live in their own registry (not prometheus_client's global one), so several pipelines in one
process (tests) do not mix. The HTTP endpoint is a few lines of asyncio on the daemon's own loop:
`GET /metrics` (Prometheus text format) and `GET /healthz` (200 while running, 503 while shutting down).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger("crawler")

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.polls = Counter("crawler_polls", "Feed polls, by feed and outcome (ok, not_modified, failed)",
                             ["feed", "outcome"], registry=self.registry)
        self.articles = Counter("crawler_articles", "Article jobs, by outcome (archived, duplicate, known, "
                                "failed, given_up)", ["outcome"], registry=self.registry)
        self.failures = Counter("crawler_failures", "Failures by kind (the error class)", ["kind"],
                                registry=self.registry)
        self.fetch_seconds = Histogram("crawler_fetch_seconds", "Fetch latency, retries included, by kind (feed, page)",
                                       ["kind"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.queue_depth = Gauge("crawler_queue_depth", "Article jobs waiting for a worker", registry=self.registry)
        self.healthy = True

    def watch_queue(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(depth)

    def failure(self, error: BaseException) -> None:
        self.failures.labels(type(error).__name__).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsServer:
    """`async with MetricsServer(metrics, host, port):` serves /metrics and /healthz."""

    def __init__(self, metrics: Metrics, host: str, port: int):
        self.metrics = metrics
        self.host = host
        self.port = port
        self._server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> "MetricsServer":
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("metrics on http://%s:%d/metrics, health check on /healthz", self.host, self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            path = request.split(b" ", 2)[1].split(b"?")[0] if request.count(b" ") >= 2 else b""
            if path == b"/metrics":
                status, ctype, body = "200 OK", CONTENT_TYPE_LATEST, self.metrics.exposition()
            elif path == b"/healthz":
                status = "200 OK" if self.metrics.healthy else "503 Service Unavailable"
                ctype, body = "text/plain; charset=utf-8", (b"ok\n" if self.metrics.healthy else b"shutting down\n")
            else:
                status, ctype, body = "404 Not Found", "text/plain; charset=utf-8", b"not found\n"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
