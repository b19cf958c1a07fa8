"""The bounded queue between feed polls and article workers, fair across hosts.

A plain FIFO lets one slow host take every worker: with robots.txt's Crawl-delay or a hanging server, the
workers would all sit in the fetcher's per-host limiter while jobs for other hosts wait behind them. Here a
worker only gets a job whose host has fewer than `per_host` jobs in progress (the fetcher's own per-host
limit), taking hosts in turn, so a slow host holds at most `per_host` workers. The bound is per host too:
a producer waits while its host has `maxsize` jobs waiting, so a backlog on a slow host does not stop polls
of other hosts from queueing their articles. Memory stays bounded by hosts × maxsize jobs.
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from typing import Generic, TypeVar

T = TypeVar("T")


class HostFairQueue(Generic[T]):
    def __init__(self, maxsize: int, per_host: int):
        self.maxsize = maxsize
        self.per_host = per_host
        self._waiting: OrderedDict[str, deque[T]] = OrderedDict()
        self._active: dict[str, int] = {}
        self._size = 0
        self._changed = asyncio.Condition()

    def qsize(self) -> int:
        return self._size

    async def put(self, host: str, item: T) -> None:
        """Add a job; waits while `host` has `maxsize` jobs waiting (backpressure on the producer)."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self._waiting.get(host, ())) < self.maxsize)
            self._waiting.setdefault(host, deque()).append(item)
            self._size += 1
            self._changed.notify_all()

    async def get(self) -> tuple[str, T]:
        """The next job of a host with a free slot, hosts in turn; call `done(host)` when it is finished."""
        async with self._changed:
            picked = await self._changed.wait_for(self._pick)
            self._changed.notify_all()
            return picked

    def _pick(self) -> tuple[str, T] | None:
        for host in self._waiting:
            if self._active.get(host, 0) < self.per_host:
                jobs = self._waiting[host]
                item = jobs.popleft()
                if jobs:
                    self._waiting.move_to_end(host)  # next time, other hosts first
                else:
                    del self._waiting[host]
                self._active[host] = self._active.get(host, 0) + 1
                self._size -= 1
                return host, item
        return None

    async def done(self, host: str) -> None:
        async with self._changed:
            self._active[host] -= 1
            if not self._active[host]:
                del self._active[host]
            self._changed.notify_all()
