"""Extraction (and feed parsing) in a pool of worker processes, awaited from the event loop.

trafilatura, lxml and feedparser are CPU-bound and hold the GIL: run in the loop's process they would stall
every download. Workers fork from a forkserver that has already imported `crawler.extract.article` and
`crawler.feeds` (and with them trafilatura and feedparser), so a new or replaced worker starts at once. This
module itself imports none of that: the parent (and `crawler --help`) stays light.

A worker that dies (killed for memory, a crash in a C extension) breaks a ProcessPoolExecutor for good; the
pool replaces it, and each call it took down raises ExtractionError (FeedError for feeds) instead of hanging.
Calls wait in the event loop until a worker is free rather than in the executor's queue, so a death takes
down the calls that were running (at most one per worker), not everything queued behind them.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, tzinfo
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ExtractionError, FeedError
from ..models import Extracted, ExtractRules, ParsedFeed

if TYPE_CHECKING:
    from ..enrich import CompanyTable, Securities

_WORKER_MODULES = ["crawler.extract.forkserver", "crawler.extract.article", "crawler.feeds"]


class ExtractionPool:
    """Worker processes for extraction and feed parsing; `workers=0` means one per CPU core."""

    def __init__(self, workers: int = 0):
        self._workers = workers or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._executor = self._new_executor()
        self._closed = False
        self._free_workers: asyncio.Semaphore | None = None
        self._free_workers_loop: asyncio.AbstractEventLoop | None = None

    async def extract_page(self, body: bytes, content_type: str | None, url: str,
                           rules: ExtractRules = ExtractRules(), *, now: datetime | None = None) -> Extracted:
        return await self._run(url, ExtractionError, _extract_page, body, content_type, url, rules, now)

    async def extract_feed_content(self, html: str, url: str) -> str:
        return await self._run(url, ExtractionError, _extract_feed_content, html, url)

    async def parse_feed(self, body: bytes, url: str, content_type: str | None = None,
                         default_tz: tzinfo | None = None) -> ParsedFeed:
        return await self._run(url, FeedError, _parse_feed, body, url, content_type, default_tz)

    async def find_securities(self, title: str, body: str, table: CompanyTable, url: str) -> Securities:
        """`crawler.enrich.securities` in a worker: a few milliseconds of regular expressions and word
        segmentation per article, too long to hold the event loop."""
        return await self._run(url, ExtractionError, _find_securities, title, body, table)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    async def _run(self, url: str, failure: type[ExtractionError | FeedError], function: Callable[..., Any],
                   *args: Any) -> Any:
        async with self._worker_slot():
            executor = self._executor
            try:
                outcome = await asyncio.get_running_loop().run_in_executor(executor, function, *args)
            except BrokenProcessPool as error:
                self._replace(executor)
                raise failure(url, "the worker process died (out of memory or a parser crash)") from error
        return outcome

    def _worker_slot(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; a pool outlives a loop in tests and in `asyncio.run` reruns.
        loop = asyncio.get_running_loop()
        if self._free_workers is None or self._free_workers_loop is not loop:
            self._free_workers, self._free_workers_loop = asyncio.Semaphore(self._workers), loop
        return self._free_workers

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        # Every call the dead worker took down lands here; only the first one replaces the executor.
        with self._lock:
            if self._executor is broken and not self._closed:
                self._executor = self._new_executor()
        broken.shutdown(wait=False, cancel_futures=True)

    def _new_executor(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_WORKER_MODULES)
        # No max_tasks_per_child: an executor that recycles workers deadlocks once tasks queue up
        # (CPython gh-115634, Python 3.11 up to 3.15 betas).
        return ProcessPoolExecutor(self._workers, mp_context=context, initializer=_start_worker,
                                   initargs=(os.getpid(),))


def _start_worker(parent_pid: int) -> None:
    """A worker outlives a parent killed with SIGKILL (it hangs on its call queue, an orphan): a watchdog
    thread ends it once the parent is gone. (The forkserver, not the parent, is the worker's parent process,
    so the parent's pid is passed in.)"""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass  # alive, under another user

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


# The functions below run in the workers. They import their modules there, where the forkserver has already
# loaded them, so that pickling a reference to them does not pull trafilatura into the parent. Their
# ExtractionError / FeedError cross back to the parent as they are (crawler.errors makes them picklable).


def _extract_page(body: bytes, content_type: str | None, url: str, rules: ExtractRules,
                  now: datetime | None) -> Extracted:
    from .article import extract_page

    return extract_page(body, content_type, url, rules, now=now)


def _extract_feed_content(html: str, url: str) -> str:
    from .article import extract_feed_content

    return extract_feed_content(html, url)


def _parse_feed(body: bytes, url: str, content_type: str | None, default_tz: tzinfo | None) -> ParsedFeed:
    from ..feeds import parse_feed

    return parse_feed(body, url, content_type, default_tz)


def _find_securities(title: str, body: str, table: CompanyTable) -> Securities:
    from ..enrich import securities

    return securities(title, body, table)
