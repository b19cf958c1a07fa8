"""Extraction (and feed parsing) in a pool of worker processes, awaited from the event loop.

trafilatura, lxml and feedparser are CPU-bound and hold the GIL: run in the loop's process they would stall
every download. Workers fork from a forkserver that has already imported `crawler.extract.article` and
`crawler.feeds` (and with them trafilatura and feedparser), so a new or replaced worker starts at once. This
module itself imports none of that: the parent (and `crawler --help`) stays light.

A worker that dies (killed for memory, a crash in a C extension) breaks a ProcessPoolExecutor for good; the
pool replaces it, and each call it took down raises ExtractionError (FeedError for feeds) instead of hanging.
Calls wait in the pool's own queue until a worker is free rather than in the executor's, so a death takes
down the calls that were running (at most one per worker), not everything queued behind them.

A worker is handed its next call the moment it returns a result, from the executor's result thread: the
event loop, busy with fetching and writing, never stands between a worker and its next page (waiting for the
loop to submit it kept the workers idle a third of the time).

Workers start on the first call, from a thread of their own: ProcessPoolExecutor starts a worker inside
submit(), and the start waits for the forkserver to import trafilatura and jieba (a second or more), which,
done on the event loop, stalled every download for that long. Nothing starts before a call: a `crawler once`
whose feeds all answer 304 never pays for those imports.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, tzinfo
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ExtractionError, FeedError
from ..fingerprint import Fingerprint, hash_and_fingerprint
from ..models import Extracted, ExtractRules, ParsedFeed

if TYPE_CHECKING:
    from ..enrich import CompanyTable, Securities

_WORKER_MODULES = ["crawler.extract.forkserver", "crawler.extract.article", "crawler.feeds", "crawler.metadata"]


def worker_count(configured: int) -> int:
    """Worker processes for a configured number (`extract.workers`): 0 means one per CPU core."""
    return configured or os.cpu_count() or 1


class ExtractionPool:
    """Worker processes for extraction and feed parsing; `workers=0` means one per CPU core."""

    def __init__(self, workers: int = 0):
        self._workers = worker_count(workers)
        self._lock = threading.Lock()
        self._executor = self._new_executor()
        self._closed = False
        self._waiting: deque[_Call] = deque()
        self._follow_ups: deque[_Call] = deque()
        """Calls for articles already extracted (`analyse`, for those whose text came from the feed): served
        before new pages, so that articles leave the pool finished one by one instead of all advancing a stage
        at a time in a convoy (every in-flight article waiting on the pool, then all of them on the event
        loop, the pool idle)."""
        self._running = 0
        self._starting: ProcessPoolExecutor | None = None
        self._started: ProcessPoolExecutor | None = None
        """The executor whose workers are up: calls go to it only (`_start`)."""

    async def extract_page(self, body: bytes, content_type: str | None, url: str,
                           rules: ExtractRules = ExtractRules(), *, now: datetime | None = None) -> Extracted:
        return await self._run(url, ExtractionError, _extract_page, body, content_type, url, rules, now)

    async def extract_and_analyse(self, body: bytes, content_type: str | None, url: str, rules: ExtractRules,
                                  *, now: datetime | None, feed_title: str | None, table: CompanyTable | None,
                                  min_near_chars: int) -> tuple[Extracted, Analysis | None]:
        """`extract_page`, then `analyse` of the article's title (the feed entry's, else the page's) and body,
        in one worker call: one round trip per article instead of two. No analysis (None) when neither gives
        a title."""
        return await self._run(url, ExtractionError, _extract_and_analyse, body, content_type, url, rules, now,
                               feed_title, table, min_near_chars)

    async def extract_feed_content(self, html: str, url: str) -> str:
        return await self._run(url, ExtractionError, _extract_feed_content, html, url)

    async def parse_feed(self, body: bytes, url: str, content_type: str | None = None,
                         default_tz: tzinfo | None = None) -> ParsedFeed:
        return await self._run(url, FeedError, _parse_feed, body, url, content_type, default_tz)

    async def analyse(self, title: str, body: str, table: CompanyTable | None, min_near_chars: int,
                      url: str) -> Analysis:
        """What the dedup and the enrichment need of an article, in one worker call: its content hash, its
        near-duplicate fingerprint (about 1 ms) and, with a company `table`, the securities it names (about
        1 ms of regular expressions and word segmentation): too long to hold the event loop, and one round
        trip rather than three."""
        return await self._run(url, ExtractionError, _analyse, title, body, table, min_near_chars)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiting = [*self._follow_ups, *self._waiting]
            self._waiting, self._follow_ups = deque(), deque()
            executor = self._executor
        for call in waiting:
            call.settle(None, asyncio.CancelledError())
        executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    async def _run(self, url: str, failure: type[ExtractionError | FeedError], function: Callable[..., Any],
                   *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        call = _Call(url, failure, function, args, loop, loop.create_future())
        with self._lock:
            if self._closed:
                raise failure(url, "the extraction processes are shut down")
            (self._waiting if function in _FIRST_STAGE else self._follow_ups).append(call)
        self._dispatch()
        try:
            return await call.outcome
        except asyncio.CancelledError:
            call.abandoned = True  # not submitted if still waiting; a running call finishes unheard
            raise

    def _dispatch(self) -> None:
        """Submit waiting calls while workers are free (any thread: the loop's, the executor's result thread)."""
        while True:
            with self._lock:
                if self._closed or not (self._follow_ups or self._waiting):
                    return
                if self._started is not self._executor:
                    if self._starting is not self._executor:
                        self._starting = self._executor
                        threading.Thread(target=self._start, args=(self._executor,), name="extraction-start",
                                         daemon=True).start()
                    return
                if self._running >= self._workers:
                    return
                call = (self._follow_ups or self._waiting).popleft()
                if call.abandoned:
                    continue
                self._running += 1
                executor = self._executor
            try:
                future = executor.submit(call.function, *call.args)
            except BaseException as error:  # noqa: BLE001 - broken or shut down under us: the call fails
                with self._lock:
                    self._running -= 1
                if isinstance(error, BrokenProcessPool):
                    self._replace(executor)
                call.settle(None, call.failure(call.url, f"the extraction processes are unavailable ({error})"))
                continue
            future.add_done_callback(lambda done, call=call, executor=executor: self._finished(call, executor, done))

    def _finished(self, call: _Call, executor: ProcessPoolExecutor, future: Future) -> None:
        with self._lock:
            self._running -= 1
        try:
            call.settle(future.result(), None)
        except BrokenProcessPool as error:
            self._replace(executor)
            died = call.failure(call.url, "the worker process died (out of memory or a parser crash)")
            died.__cause__ = error
            call.settle(None, died)
        except BaseException as error:  # noqa: BLE001 - the call's own exception, for its caller
            call.settle(None, error)
        self._dispatch()

    def _start(self, executor: ProcessPoolExecutor) -> None:
        """Start `executor`'s workers (one trivial call each: a submit starts a worker while none is idle), then
        hand it the waiting calls."""
        try:
            for started in [executor.submit(os.getpid) for _ in range(self._workers)]:
                started.result()
        except BrokenProcessPool:
            pass  # the first call submitted finds it broken and replaces it
        except (CancelledError, RuntimeError):
            pass  # shut down meanwhile: close() has settled the waiting calls
        with self._lock:
            if self._executor is executor:
                self._started = executor
        self._dispatch()

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


class _Call:
    """One call to a worker function, and the event-loop future its caller awaits."""

    __slots__ = ("url", "failure", "function", "args", "loop", "outcome", "abandoned")

    def __init__(self, url: str, failure: type[ExtractionError | FeedError], function: Callable[..., Any],
                 args: tuple, loop: asyncio.AbstractEventLoop, outcome: asyncio.Future):
        self.url, self.failure, self.function, self.args = url, failure, function, args
        self.loop, self.outcome = loop, outcome
        self.abandoned = False

    def settle(self, result: Any, error: BaseException | None) -> None:
        """Hand the outcome to the caller's loop, from whichever thread has it."""
        def deliver() -> None:
            if self.outcome.done():
                return
            if isinstance(error, asyncio.CancelledError):
                self.outcome.cancel()
            elif error is not None:
                self.outcome.set_exception(error)
            else:
                self.outcome.set_result(result)

        try:
            self.loop.call_soon_threadsafe(deliver)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


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


def _extract_and_analyse(body: bytes, content_type: str | None, url: str, rules: ExtractRules,
                         now: datetime | None, feed_title: str | None, table: CompanyTable | None,
                         min_near_chars: int) -> tuple[Extracted, Analysis | None]:
    from ..metadata import choose_title

    extracted = _extract_page(body, content_type, url, rules, now)
    title = choose_title(feed_title, extracted.title)
    return extracted, _analyse(title, extracted.body, table, min_near_chars) if title is not None else None


def _extract_feed_content(html: str, url: str) -> str:
    from .article import extract_feed_content

    return extract_feed_content(html, url)


def _parse_feed(body: bytes, url: str, content_type: str | None, default_tz: tzinfo | None) -> ParsedFeed:
    from ..feeds import parse_feed

    return parse_feed(body, url, content_type, default_tz)


@dataclass(frozen=True, slots=True)
class Analysis:
    title: str
    """The title analysed (with the body): it names securities too."""
    content_hash: str
    fingerprint: Fingerprint | None
    securities: Securities | None
    """None when no company table was given (the feed has `enrich: false`)."""


def _analyse(title: str, body: str, table: CompanyTable | None, min_near_chars: int) -> Analysis:
    from ..enrich import securities

    digest, fingerprint = hash_and_fingerprint(body, min_near_chars)
    return Analysis(title, digest, fingerprint, securities(title, body, table) if table is not None else None)


_FIRST_STAGE = frozenset({_extract_page, _extract_and_analyse, _parse_feed})
"""What starts new work (a page, a feed); every other call finishes an article already under way."""
