"""How long the running event loop stood still: for tests that work must not hold the loop."""
from __future__ import annotations

import asyncio
import time
from types import TracebackType


class LoopStalls:
    """`async with LoopStalls(tick) as stalls:` a task asks to run every `tick` seconds meanwhile;
    `stalls.longest` is the longest time it waited between two runs."""

    def __init__(self, tick: float):
        self.tick = tick
        self.longest = 0.0
        self._done = False
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> LoopStalls:
        self._task = asyncio.ensure_future(self._watch())
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        self._done = True
        assert self._task is not None
        await self._task

    async def _watch(self) -> None:
        last = time.perf_counter()
        while not self._done:
            await asyncio.sleep(self.tick)
            now = time.perf_counter()
            self.longest, last = max(self.longest, now - last), now
