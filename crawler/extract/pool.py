"""Extraction (and feed parsing) in a pool of worker processes, awaited from the event loop.

trafilatura, lxml and feedparser are CPU-bound and hold the GIL: run in the loop's process they would stall
every download. Workers fork from a forkserver that has already imported `crawler.extract.article` and
`crawler.feeds` (and with them trafilatura and feedparser), so a new or replaced worker starts at once. This
module itself imports none of that: the parent (and `crawler --help`) stays light.

Each worker has two pipes of its own, one for calls and one for results, and the event loop itself watches
their parent ends and the worker's process sentinel (`loop.add_reader`): a result is read and the worker's
next call written in one loop callback, with no thread in between. (A ProcessPoolExecutor took about 0.3
ms of the parent's CPU per call in its queue-management and feeder threads and their hand-overs to the loop;
`benchmarks/pool.py` measures it.) The parent never blocks on a pipe: calls are written without blocking,
the rest of a call too large for the pipe (1 MB where the kernel allows) when the worker has read the start
of it, and results are read as they come. Calls and results travel through separate pipes, so a worker
writing a large result never waits on a parent writing it a large call.

A worker holds up to two calls: the one it runs and the next, waiting in its pipe. It starts the next the
moment it returns a result, whatever the event loop is busy with (waiting for the loop to hand it over kept
the workers idle a third of the time). Every other call waits in the pool's own queues, calls that finish an
article before new pages.

A worker that dies (killed for memory, a crash in a C extension) closes its result pipe and its sentinel
fires. Its results already written are read; the first call it had not answered is the one that was running:
it raises ExtractionError (FeedError for feeds) instead of hanging; the call behind it never started and goes
back to the front of the queue. A replacement worker starts.

Workers start on the first call, from a thread of their own (so do replacements): a start waits for the
forkserver, and the forkserver's own start imports trafilatura and loads jieba's dictionary (two or three
seconds), which, done on the event loop, stalled every download for that long. Nothing starts before a call
(a `crawler once` whose feeds all answer 304 never pays for those imports), but for `crawler backfill`, which
surely extracts: it boots the forkserver as it starts (`boot_in_background`).

The pool serves one event loop at a time; it moves to another loop (tests run one per test) when a call
comes from there.
"""
from __future__ import annotations

import asyncio
import atexit
import errno
import fcntl
import multiprocessing
import multiprocessing.util  # its exit handler registered before ours: see _kill_running_workers
import os
import pickle
import struct
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from datetime import datetime, tzinfo
from multiprocessing.connection import Connection
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ExtractionError, FeedError
from ..fingerprint import Fingerprint, hash_and_fingerprint
from ..models import Extracted, ExtractRules, ParsedFeed

if TYPE_CHECKING:
    from ..enrich import CompanyTable, Securities

_WORKER_MODULES = ["crawler.extract.forkserver", "crawler.extract.article", "crawler.feeds", "crawler.metadata"]
_CALLS_PER_WORKER = 2
"""The call a worker runs and the one waiting in its pipe, so that it never waits for the event loop."""
_PIPE_BYTES = 1 << 20
"""Asked of the kernel for each pipe (the default is 64 kB): a page of a few hundred kB goes in one write, and a
worker writes a result of that size without waiting for the loop to read it. 1 MB is the unprivileged ceiling
(/proc/sys/fs/pipe-max-size)."""
_READ_BYTES = 256 << 10
"""Read from a result pipe per loop callback: a larger result is read over several."""
_HEADER = struct.Struct("!Q")
"""Frames a pickled call or result in a pipe: its length in bytes."""


def worker_count(configured: int) -> int:
    """Worker processes for a configured number (`extract.workers`): 0 means one per CPU core."""
    return configured or os.cpu_count() or 1


class ExtractionPool:
    """Worker processes for extraction and feed parsing; `workers=0` means one per CPU core."""

    def __init__(self, workers: int = 0):
        self._size = worker_count(workers)
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: list[_Worker] = []
        """Workers watched by `_loop`."""
        self._waiting: deque[_Call] = deque()
        self._follow_ups: deque[_Call] = deque()
        """Calls for articles already extracted (`analyse`, for those whose text came from the feed): served
        before new pages, so that articles leave the pool finished one by one instead of all advancing a stage
        at a time in a convoy (every in-flight article waiting on the pool, then all of them on the event
        loop, the pool idle)."""
        self._lock = threading.Lock()
        """Guards `_arrivals` and `_closed` against the starting thread."""
        self._arrivals: list[_Worker] = []
        """Workers started, not yet watched by the loop."""
        self._starting = 0
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None

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
        """Fail the calls still waiting (CancelledError), let every worker finish and answer the calls it
        holds, and wait for the workers to end."""
        with self._lock:
            self._closed = True
            arrivals, self._arrivals = self._arrivals, []
        waiting = [*self._follow_ups, *self._waiting]
        self._waiting.clear()
        self._follow_ups.clear()
        for call in waiting:
            call.settle(None, asyncio.CancelledError())
        if self._starter is not None:
            self._starter.join()  # it ends the workers it starts from now on itself
        workers, self._workers = self._workers, []
        for worker in workers:
            self._unwatch(worker)
        for worker in [*workers, *arrivals]:
            worker.finish()

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    async def _run(self, url: str, failure: type[ExtractionError | FeedError], function: Callable[..., Any],
                   *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        if self._closed:
            raise failure(url, "the extraction processes are shut down")
        if loop is not self._loop:
            self._move_to(loop)
        call = _Call(url, failure, function, args, loop, loop.create_future())
        self._queue_for(call).append(call)
        self._dispatch()
        try:
            return await call.outcome
        except asyncio.CancelledError:
            call.abandoned = True  # not sent if still waiting; a call sent finishes unheard
            raise

    def _dispatch(self) -> None:
        """Hand waiting calls to the workers, idle ones first, up to `_CALLS_PER_WORKER` each; start the
        workers missing."""
        if self._arrivals:
            self._adopt()
            return  # which dispatches
        if (len(self._workers) < self._size and not self._starting and not self._closed
                and (self._follow_ups or self._waiting)):
            self._start(self._size - len(self._workers))
        for depth in range(1, _CALLS_PER_WORKER + 1):
            for worker in self._workers:
                while len(worker.unanswered) < depth and not worker.broken:
                    call = self._next_call()
                    if call is None:
                        return
                    self._send(worker, call)

    def _queue_for(self, call: _Call) -> deque[_Call]:
        return self._waiting if call.function in _FIRST_STAGE else self._follow_ups

    def _next_call(self) -> _Call | None:
        while self._follow_ups or self._waiting:
            call = (self._follow_ups or self._waiting).popleft()
            if not call.abandoned:
                return call
        return None

    def _send(self, worker: _Worker, call: _Call) -> None:
        try:
            message = pickle.dumps((call.function, call.args), pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 - an argument that cannot cross: this call fails alone
            call.settle(None, call.failure(call.url, f"cannot be handed to a worker ({error!r})"))
            return
        worker.unanswered.append(call)
        header = _HEADER.pack(len(message))
        if worker.unsent:
            worker.unsent += header
            worker.unsent += message
            return
        try:
            written = os.writev(worker.calls, [header, message])
        except BlockingIOError:
            written = 0
        except OSError:  # the worker is gone; its sentinel reports it
            worker.broken = True
            return
        if written < len(header) + len(message):
            worker.unsent = bytearray(header + message)[written:]
            self._loop.add_writer(worker.calls, self._write_rest, worker)

    def _write_rest(self, worker: _Worker) -> None:
        try:
            written = os.write(worker.calls, worker.unsent)
        except BlockingIOError:
            return
        except OSError:
            written = len(worker.unsent)
            worker.broken = True
        del worker.unsent[:written]
        if not worker.unsent:
            self._loop.remove_writer(worker.calls)

    def _read_results(self, worker: _Worker) -> None:
        try:
            data = os.read(worker.results, _READ_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost(worker)
            return
        worker.settle_answered(data)
        self._dispatch()

    def _lost(self, worker: _Worker) -> None:
        """The worker ended (its result pipe closed, or its sentinel fired): read the results it wrote, fail
        the call it was running, requeue the one behind it, start a replacement."""
        if worker not in self._workers:
            return
        self._workers.remove(worker)
        self._unwatch(worker)
        # Nothing to read (BlockingIOError) when it is alive after all: its sentinel fired as the forkserver died.
        while data := _read_or_nothing(worker.results):
            worker.settle_answered(data)
        status = worker.end()
        if worker.unanswered:
            running = worker.unanswered.popleft()
            running.settle(None, running.failure(
                running.url, f"the worker process died ({status}; out of memory or a parser crash)"))
        for call in reversed(worker.unanswered):
            self._queue_for(call).appendleft(call)
        worker.unanswered.clear()
        self._dispatch()

    def _start(self, count: int) -> None:
        with self._lock:
            self._starting = count
        self._starter = threading.Thread(target=self._start_workers, args=(count, self._loop),
                                         name="extraction-start", daemon=True)
        self._starter.start()

    def _start_workers(self, count: int, loop: asyncio.AbstractEventLoop) -> None:
        """In the starting thread: start `count` workers and hand them to the loop (`_adopt`)."""
        started: list[_Worker] = []
        error = None
        try:
            for _ in range(count):
                started.append(_Worker.start())
        except Exception as failure:  # noqa: BLE001 - no forkserver, no file descriptors: the calls fail
            error = failure
        with self._lock:
            closed = self._closed
            if not closed:
                self._arrivals.extend(started)
                self._start_error = error
                self._starting = 0
        if closed:
            for worker in started:
                worker.finish()
            return
        try:
            loop.call_soon_threadsafe(self._adopt)
        except RuntimeError:  # the loop is closed: the next call's loop adopts them
            pass

    def _adopt(self) -> None:
        with self._lock:
            arrivals, self._arrivals = self._arrivals, []
            error, self._start_error = self._start_error, None
        for worker in arrivals:
            self._workers.append(worker)
            self._watch(worker)
        if error is not None and not self._workers and not self._starting:
            failed = [*self._follow_ups, *self._waiting]
            self._follow_ups.clear()
            self._waiting.clear()
            for call in failed:
                call.settle(None, call.failure(call.url, f"the extraction processes are unavailable ({error})"))
        self._dispatch()

    def _move_to(self, loop: asyncio.AbstractEventLoop) -> None:
        for worker in self._workers:
            self._unwatch(worker)
        self._loop = loop
        for worker in self._workers:
            self._watch(worker)

    def _watch(self, worker: _Worker) -> None:
        self._loop.add_reader(worker.results, self._read_results, worker)
        self._loop.add_reader(worker.process.sentinel, self._lost, worker)
        if worker.unsent:
            self._loop.add_writer(worker.calls, self._write_rest, worker)

    def _unwatch(self, worker: _Worker) -> None:
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.remove_reader(worker.results)
        self._loop.remove_reader(worker.process.sentinel)
        self._loop.remove_writer(worker.calls)


class _Worker:
    """A worker process and the parent's ends of its pipes (non-blocking), with the calls it holds."""

    def __init__(self, process: multiprocessing.process.BaseProcess, calls: Connection, results: Connection):
        self.process, self._calls, self._results = process, calls, results
        self.calls, self.results = calls.fileno(), results.fileno()
        self.unanswered: deque[_Call] = deque()
        """Calls written to the worker, in order, without a result yet: the first is the one it runs."""
        self.unsent = bytearray()
        """The end of a call the pipe had no room for yet."""
        self.received = bytearray()
        """The start of a result not read in full yet."""
        self.broken = False
        """Its call pipe refused a write: the worker is gone, its sentinel will say so."""

    @classmethod
    def start(cls) -> _Worker:
        context = _forkserver_context()
        calls_in, calls_out = context.Pipe(duplex=False)
        results_in, results_out = context.Pipe(duplex=False)
        try:
            for pipe in (calls_out, results_out):
                try:
                    fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
                except OSError as error:
                    if error.errno != errno.EPERM:  # over the user's quota of pipe memory: the default size
                        raise
            process = context.Process(target=_serve, args=(calls_in, results_out, os.getpid()),
                                      name="extraction-worker", daemon=True)
            process.start()
        except BaseException:
            for connection in (calls_in, calls_out, results_in, results_out):
                connection.close()
            raise
        calls_in.close()  # the worker's ends, now in the worker: the parent must not keep its pipes open
        results_out.close()
        os.set_blocking(calls_out.fileno(), False)
        os.set_blocking(results_in.fileno(), False)
        worker = cls(process, calls_out, results_in)
        _running_workers.add(worker)
        return worker

    def settle_answered(self, data: bytes) -> None:
        """Settle the calls whose results `data`, after what was read before, completes."""
        if self.received:
            self.received += data
            data = self.received
        start = 0
        while len(data) - start >= _HEADER.size:
            (size,) = _HEADER.unpack_from(data, start)
            end = start + _HEADER.size + size
            if len(data) < end:
                break
            call = self.unanswered.popleft()
            try:
                ok, value, remote_traceback = pickle.loads(memoryview(data)[start + _HEADER.size:end])
            except Exception as error:  # noqa: BLE001 - a result this process cannot rebuild: the call fails
                ok, value, remote_traceback = False, call.failure(call.url, f"unreadable result ({error!r})"), None
            if remote_traceback is not None:
                value.__cause__ = _RemoteTraceback(remote_traceback)
            call.settle(value if ok else None, None if ok else value)
            start = end
        self.received = bytearray(memoryview(data)[start:])

    def finish(self) -> None:
        """Close the call pipe (the worker ends after the calls it holds), settle those calls as the results
        come, wait for the worker to end."""
        self._calls.close()
        os.set_blocking(self.results, True)
        while data := _read_or_nothing(self.results):
            self.settle_answered(data)
        for call in self.unanswered:
            call.settle(None, asyncio.CancelledError())
        self.unanswered.clear()
        self._results.close()
        self.process.join()
        self.process.close()
        _running_workers.discard(self)

    def end(self) -> str:
        """Kill the worker if it is somehow still alive; close its pipes; its exit status, in words."""
        self._calls.close()
        self._results.close()
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join(1.0)
        code = self.process.exitcode
        if code is None:
            return "status unknown"
        self.process.close()
        _running_workers.discard(self)
        return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


class _Call:
    """One call to a worker function, and the event-loop future its caller awaits."""

    __slots__ = ("url", "failure", "function", "args", "loop", "outcome", "abandoned")

    def __init__(self, url: str, failure: type[ExtractionError | FeedError], function: Callable[..., Any],
                 args: tuple, loop: asyncio.AbstractEventLoop, outcome: asyncio.Future):
        self.url, self.failure, self.function, self.args = url, failure, function, args
        self.loop, self.outcome = loop, outcome
        self.abandoned = False

    def settle(self, result: Any, error: BaseException | None) -> None:
        """Hand the outcome to the caller's loop: at once on that loop, else through it (`close()` may run
        after the loop has closed)."""
        def deliver() -> None:
            if self.outcome.done():
                return
            if isinstance(error, asyncio.CancelledError):
                self.outcome.cancel()
            elif error is not None:
                self.outcome.set_exception(error)
            else:
                self.outcome.set_result(result)

        if asyncio._get_running_loop() is self.loop:
            deliver()
            return
        try:
            self.loop.call_soon_threadsafe(deliver)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


class _RemoteTraceback(Exception):
    """The traceback of an unexpected exception in a worker, as its cause."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def _read_or_nothing(fd: int) -> bytes:
    try:
        return os.read(fd, _READ_BYTES)
    except OSError:
        return b""


_running_workers: set[_Worker] = set()
"""Every worker started and not yet ended, whatever became of its pool."""


@atexit.register
def _kill_running_workers() -> None:
    """At exit multiprocessing waits for every child to end, and a worker ends only when its pool closes (it
    ignores SIGTERM): a pool left open would hold the exit forever. Registered after multiprocessing's own
    exit handler, so run before it."""
    for worker in list(_running_workers):
        worker.process.kill()


def _forkserver_context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_WORKER_MODULES)
    return context  # type: ignore[return-value]


def boot_in_background() -> None:
    """Start the workers' forkserver now, in a thread: it takes a few seconds to load the extraction stack and
    jieba's dictionary, which a run that will surely extract (a backfill) can spend importing and opening its
    own modules, configuration and state instead of waiting for them after its first fetch."""
    from multiprocessing import forkserver

    _forkserver_context()
    threading.Thread(target=forkserver.ensure_running, name="forkserver-boot", daemon=True).start()


# The functions below run in the workers.


def _serve(calls: Connection, results: Connection, parent_pid: int) -> None:
    """A worker's life: run each call read from `calls`, write its outcome to `results`, until the parent
    closes the call pipe (the pool closed) or is gone."""
    _watch_parent(parent_pid)
    with open(calls.fileno(), "rb", closefd=False) as calls_in:
        while True:
            header = calls_in.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return
            (size,) = _HEADER.unpack(header)
            message = calls_in.read(size)
            if len(message) < size:
                return
            outcome = _outcome(message)
            answer = memoryview(_HEADER.pack(len(outcome)) + outcome)
            try:
                while answer:
                    answer = answer[os.write(results.fileno(), answer):]
            except BrokenPipeError:
                return


def _outcome(message: bytes) -> bytes:
    """Run the pickled call `message`: (True, its result, None), or (False, its exception, the traceback
    text of an exception other than the expected ExtractionError and FeedError), pickled."""
    try:
        function, args = pickle.loads(message)
        outcome = (True, function(*args), None)
    except BaseException as error:  # noqa: BLE001 - every failure is the caller's to see
        expected = isinstance(error, (ExtractionError, FeedError))
        outcome = (False, error, None if expected else "".join(traceback.format_exception(error)))
    try:
        return pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # noqa: BLE001 - an unpicklable result or exception
        return pickle.dumps((False, RuntimeError(f"the worker's answer cannot be pickled ({error!r})"), None),
                            pickle.HIGHEST_PROTOCOL)


def _watch_parent(parent_pid: int) -> None:
    """A worker outlives a parent killed with SIGKILL while it runs a long call (it notices the closed call
    pipe only after): a watchdog thread ends it once the parent is gone. (The forkserver, not the parent, is
    the worker's parent process, so the parent's pid is passed in.)"""

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


# The extraction functions import their modules in the workers, where the forkserver has already loaded them,
# so that pickling a reference to them does not pull trafilatura into the parent. Their ExtractionError /
# FeedError cross back to the parent as they are (crawler.errors makes them picklable).


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
