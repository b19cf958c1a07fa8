"""Backfill: the history behind feeds, sitemaps and URL lists, archived through the same pipeline as `once`.

Each source is read as a sequence of batches of FeedEntry, and each batch goes to `Pipeline.archive_entries`
(same fetcher, extraction, dedup and archive as `once`):

- a paged feed, one batch per page: RFC 5005 `next` / `prev-archive` links and JSON Feed `next_url` (read by
  `feeds.py` into `ParsedFeed.next_url`), else the feed's `page_url` template. The walk ends at the last page,
  at `--pages`, at a page wholly older than `--since`, at an empty page or one repeating the page before
  (a server ignoring the page parameter), and at a page whose every entry is already archived, once an
  earlier finished pass of the feed went back at least as far as this one must: the first backfill of a feed
  goes past the pages that `once` or the daemon archived, a later one stops where the history is known;
- a sitemap (index, urlset, gzip, text, or a feed offered as one), in slices of `CHUNK` URLs; an index's
  sitemaps are queued in the state database, depth and count bounded; `--since/--until` are applied to an
  index's `lastmod` and each URL's publication date (Google News) or `lastmod` before anything is fetched;
- a URL list (a file, or standard input), in slices of `CHUNK` lines.

Resuming: a feed has at most `FEED_PAGES_IN_FLIGHT` pages, a sitemap or list `SLICES_IN_FLIGHT` slices, not
yet settled in the pipeline (and at most `MAX_BATCHES` batches, settled or not, are held); a batch's
checkpoint (table `backfill`) is saved once it and every batch before it are settled. A restarted run skips the sources the interrupted one finished and continues
each other one at its first batch not settled: the feed page after the last settled one, the first
unsettled entry of a sitemap or list (if the list still starts with the entries settled: a digest of them is
kept), the sitemaps an index listed. Only what was in flight at the interruption is fetched again. A run
that ends without interruption closes its finished sources: the next run is a new pass.

Memory stays flat: a source holds one feed page or one sitemap document (at most 50,000 URLs) and its
batches in flight; a URL list is read as it is consumed; the pipeline's queue is bounded.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, TextIO
from urllib.parse import urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from .config import BackfillSettings, FeedSpec, Settings
from .errors import CrawlerError, FeedError, FetchError
from .extract.pool import ExtractionPool
from .fetch import Fetcher
from .fetch.limits import origin
from .models import FeedEntry, Fetched
from .pipeline import Pipeline, entry_keys, feed_label
from .sitemaps import SitemapError, SitemapUrl, inflate, parse_sitemap
from .state.store import BackfillCheckpoint, Store

log = logging.getLogger("crawler")

CHUNK = 25
"""Sitemap or list entries per batch: the granularity of their checkpoints."""
FEED_PAGES_IN_FLIGHT = 2
"""Pages of a feed whose entries are not all settled: one being archived, the next one read. Each of them is
read again if the run is interrupted, so few; a page that hangs stalls its feed for a while, not the run."""
SLICES_IN_FLIGHT = 4
"""Slices of a sitemap or list not yet settled: more, as a resumed run skips the settled entries of any slice."""
MAX_BATCHES = 64
"""Batches of one source held at once, settled or not: a page that hangs holds its checkpoint back, not the
work behind it, until this many batches wait on it."""
HOST_BUDGET = 2
"""Entries of one host in the pipeline at once, in multiples of network.per_host: enough to keep the host's
slots busy while pages are extracted, few enough that a host whose pages hang cannot take every article
worker (they would all wait for its slots, and every other site with them)."""
MAX_SITEMAP_DEPTH = 3
"""Sitemap indexes followed below the one named (the protocol allows none; real sites nest a few)."""
MAX_SITEMAPS = 10_000
"""Sitemap documents read for one source, indexes included."""


# --- what to backfill -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """--since / --until, inclusive; an entry without any date is always inside."""

    since: datetime | None = None
    until: datetime | None = None

    def admits(self, when: datetime | None) -> bool:
        if when is None:
            return True
        return (self.since is None or when >= self.since) and (self.until is None or when <= self.until)

    def before(self, when: datetime | None) -> bool:
        """`when` is older than the window."""
        return when is not None and self.since is not None and when < self.since


@dataclass(frozen=True)
class Plan:
    feeds: tuple[FeedSpec, ...] = ()
    """Feeds whose pages are walked."""
    sitemaps: tuple[str, ...] = ()
    url_lists: tuple[str, ...] = ()
    """Paths of URL lists; "-" is standard input."""
    assign_to: FeedSpec | None = None
    """The feed whose category path the sitemaps' and lists' articles get; None: the `backfill` defaults."""
    discover_sitemaps: bool = False
    """Also read the sitemaps that the robots.txt of each walked feed's site lists (filed under that feed)."""
    window: Window = Window()
    max_pages: int | None = None
    dry_run: bool = False
    rate_interval: float | None = None
    """Seconds between two requests to one host (--rate)."""


@dataclass(frozen=True)
class Batch:
    """Entries to archive, grouped by the feed whose category path they get, and the checkpoint to save once
    they and every batch before them are settled."""

    groups: tuple[tuple[FeedSpec, tuple[FeedEntry, ...]], ...]
    checkpoint: BackfillCheckpoint

    @property
    def size(self) -> int:
        return sum(len(entries) for _, entries in self.groups)


@dataclass
class BackfillStats:
    sources_ok: int = 0
    sources_failed: int = 0
    pages: int = 0
    sitemaps: int = 0
    document_failures: int = 0
    """Sitemaps of a source that could not be read (the rest of the source was)."""
    already_archived: int = 0
    """Entries not handed to the pipeline because their article is archived (sources without a feed)."""
    listed: int = 0
    """Dry run: articles that would be fetched."""


# --- the driver -----------------------------------------------------------------------------------------


class Backfill:
    """Runs a Plan: see the module docstring. `pipeline` None is a dry run: entries that would be fetched
    are printed (URL, date, category path, tab-separated) on `out`, and no checkpoint reaches `store`."""

    def __init__(self, settings: Settings, plan: Plan, store: Store, fetcher: Fetcher, pool: ExtractionPool,
                 pipeline: Pipeline | None, checkpoints: Store, progress: Progress | None = None,
                 out: TextIO | None = None):
        self.settings = settings
        self.plan = plan
        self.store = store
        self.fetcher = fetcher
        self.pool = pool
        self.pipeline = pipeline
        self.checkpoints = checkpoints
        self.progress = progress or Progress(enabled=False)
        self.out = out or sys.stdout
        self.stats = BackfillStats()
        self._finished: list[str] = []
        self._claimed_sitemaps: set[str] = set()
        self._tasks: asyncio.TaskGroup | None = None
        self._host_budget = _HostBudget(HOST_BUDGET * settings.network.per_host)

    async def run(self) -> BackfillStats:
        if self.plan.rate_interval:
            self.fetcher.limit_rate(self.plan.rate_interval)
        self.progress.counts = self._counts
        ticker = asyncio.create_task(self.progress.run(), name="backfill-progress")
        try:
            async with asyncio.TaskGroup() as self._tasks:
                for feed in self.plan.feeds:
                    self._start(f"feed {feed.url}", feed_label(feed), feed.url,
                                lambda cp, feed=feed: self._feed_batches(feed, cp), FEED_PAGES_IN_FLIGHT)
                for url in self.plan.sitemaps:
                    self._start_sitemap(url, self.plan.assign_to)
                for path in self.plan.url_lists:
                    label = "standard input" if path == "-" else f"URL list {path}"
                    self._start(f"urls {path if path == '-' else Path(path).resolve()}", label, self._assigned_url,
                                lambda cp, path=path: self._list_batches(path, cp), SLICES_IN_FLIGHT)
                if self.plan.discover_sitemaps:
                    self._resume_discovered()
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            self.progress.finish()
        if self.pipeline is not None:
            self.checkpoints.close_backfill(self._finished)
        return self.stats

    @property
    def _assigned_url(self) -> str | None:
        return self.plan.assign_to.url if self.plan.assign_to else None

    def _counts(self) -> tuple[int, int]:
        """(entries settled, of which failed) for the progress display."""
        done = self.stats.already_archived + self.stats.listed
        failed = 0
        if self.pipeline is not None:
            s = self.pipeline.stats
            failed = s.failed + s.given_up + s.write_errors
            done += s.archived + s.known + s.duplicates + failed
        return done, failed

    # --- sources ----------------------------------------------------------------------------------------

    def _start(self, key: str, label: str, feed_url: str | None,
               batches: Callable[[BackfillCheckpoint], AsyncIterator[Batch]], in_flight: int) -> None:
        assert self._tasks is not None
        self.progress.sources += 1
        self._tasks.create_task(self._drain(key, label, feed_url, batches, in_flight), name=f"backfill {key}")

    def _start_sitemap(self, url: str, assign_to: FeedSpec | None) -> None:
        if url in self._claimed_sitemaps:
            return
        self._claimed_sitemaps.add(url)
        self._start(f"sitemap {url}", f"sitemap {url}", assign_to.url if assign_to else None,
                    lambda cp: self._sitemap_batches(url, assign_to, cp), SLICES_IN_FLIGHT)

    def _begin(self, key: str, label: str, feed_url: str | None) -> BackfillCheckpoint | None:
        """The source's checkpoint: resumed, or a new pass; None if the interrupted run finished it."""
        if self.pipeline is None:  # a dry run starts from what a real run would find, in its own copy
            for row in self.store.backfill_checkpoints(key):
                self.checkpoints.save_backfill_checkpoint(row)
        checkpoint = self.checkpoints.backfill_checkpoint(key)
        if checkpoint is None or checkpoint.status == "closed":
            return self.checkpoints.start_backfill_pass(key, feed_url)
        if checkpoint.status == "done":
            log.info("%s: finished by the interrupted run; nothing left to do", label)
            return None
        log.info("%s: resuming where the interrupted run stopped", label)
        return replace(checkpoint, feed_url=feed_url)

    async def _drain(self, key: str, label: str, feed_url: str | None,
                     batches: Callable[[BackfillCheckpoint], AsyncIterator[Batch]], in_flight: int) -> None:
        """Feed a source's batches to the pipeline, at most `in_flight` of them unsettled, saving each
        checkpoint in order once its batch and every earlier one are settled."""
        checkpoint = self._begin(key, label, feed_url)
        if checkpoint is None:
            self._finished.append(key)
            self.stats.sources_ok += 1
            self.progress.source_done()
            return
        pending: deque[tuple[asyncio.Task, Batch]] = deque()
        failure: str | None = None
        try:
            async for batch in batches(checkpoint):
                pending.append((asyncio.create_task(self._settle(batch)), batch))
                while pending and (pending[0][0].done() or len(pending) > MAX_BATCHES
                                   or sum(not task.done() for task, _ in pending) >= in_flight):
                    await self._commit(pending.popleft())
        except (CrawlerError, OSError) as e:
            failure = str(e)
        except asyncio.CancelledError:
            for task, _ in pending:
                task.cancel()
            raise
        except Exception as e:  # noqa: BLE001 - a bug must cost one source, not the run
            log.debug("traceback", exc_info=True)
            failure = f"internal error: {type(e).__name__}: {e} (run with -v for details)"
        while pending:
            await self._commit(pending.popleft())
        self.progress.source_done()
        if failure:
            log.error("%s: %s; the next backfill resumes here", label, failure)
            self.stats.sources_failed += 1
            return
        self._finished.append(key)
        self.stats.sources_ok += 1

    async def _commit(self, item: tuple[asyncio.Task, Batch]) -> None:
        task, batch = item
        await task
        self.checkpoints.save_backfill_checkpoint(batch.checkpoint)

    async def _settle(self, batch: Batch) -> None:
        if self.pipeline is None:
            for feed, entries in batch.groups:
                for entry in entries:
                    self._list_entry(feed, entry)
            return
        await asyncio.gather(*(self._archive(feed, entry) for feed, entries in batch.groups for entry in entries))

    async def _archive(self, feed: FeedSpec, entry: FeedEntry) -> None:
        assert self.pipeline is not None
        async with self._host_budget.hold(origin(entry.link or feed.url)):
            await self.pipeline.archive_entries(feed, (entry,))

    def _list_entry(self, feed: FeedSpec, entry: FeedEntry) -> None:
        if self._archived(feed, entry):
            self.stats.already_archived += 1
            return
        when = _entry_date(entry)
        print(f"{entry.link or entry.guid}\t{when.isoformat() if when else ''}\t{'/'.join(feed.category_path)}",
              file=self.out)
        self.stats.listed += 1

    def _archived(self, feed: FeedSpec, entry: FeedEntry, *, given_up_too: bool = False) -> bool:
        keys = entry_keys(feed, entry)
        if not keys:
            return False
        if self.store.find_article(keys) is not None:
            return True
        if given_up_too:
            failure = self.store.failure(keys[0])
            return failure is not None and failure.given_up
        return False

    # --- paged feeds ------------------------------------------------------------------------------------

    async def _feed_batches(self, feed: FeedSpec, checkpoint: BackfillCheckpoint) -> AsyncIterator[Batch]:
        label = feed_label(feed)
        window, max_pages = self.plan.window, self.plan.max_pages
        first_page = self.store.feed_state(feed.url).fetch_url
        url, page = checkpoint.next_url or first_page, checkpoint.position + 1
        may_stop_at_archived = _reach_covers(checkpoint.reached, window)
        zone = ZoneInfo(feed.timezone) if feed.timezone else None
        seen, previous_keys, oldest = {url}, None, None
        moved: dict[str, str] = {}
        while True:
            if max_pages and page > max_pages:
                yield Batch((), self._feed_done(checkpoint, checkpoint.position, "pages", oldest))
                return
            try:
                fetched = await self._fetch_feed_page(url, moved, feed.proxy)
                parsed = await self.pool.parse_feed(fetched.body, fetched.url, fetched.content_type, zone)
            except (FetchError, FeedError) as e:
                raise CrawlerError(f"page {page} ({e.url}): {e.reason}" if page > 1 else e.reason) from e
            self.stats.pages += 1
            for warning in parsed.warnings:
                log.warning("%s: page %d: %s", label, page, warning)
            if page == 1 and self.plan.discover_sitemaps:
                await self._discover(feed, parsed.link)
            entries = parsed.entries
            keys = frozenset(k[0] for e in entries if (k := entry_keys(feed, e)))
            dates = [d for e in entries if (d := _entry_date(e)) is not None]
            oldest = min([*dates, oldest] if oldest else dates, default=None)
            next_url = parsed.next_url or _template_url(feed, first_page, page + 1)
            stop: str | None = None
            admitted: list[FeedEntry] = []
            if not entries:
                stop = "end"
            elif keys == previous_keys:
                log.warning("%s: page %d (%s) repeats page %d: the server ignores the page parameter "
                            "(check page_url)", label, page, url, page - 1)
                stop = "end"
            else:
                admitted = [e for e in entries if window.admits(_entry_date(e))]
                if len(dates) == len(entries) and all(window.before(d) for d in dates):
                    stop = "since"
                elif may_stop_at_archived and all(self._archived(feed, e, given_up_too=True) for e in entries):
                    log.info("%s: page %d is archived already, like the history behind it", label, page)
                    stop = "archived"
                elif next_url is None or next_url in seen:
                    stop = "end"
                elif max_pages and page >= max_pages:
                    stop = "pages"
            log.info("%s: page %d (%s): %d entries, %d to archive", label, page, url, len(entries), len(admitted))
            self.progress.found += len(admitted)
            if stop:
                yield Batch(((feed, tuple(admitted)),), self._feed_done(checkpoint, page, stop, oldest))
                return
            assert next_url is not None
            checkpoint = replace(checkpoint, position=page, next_url=next_url)
            yield Batch(((feed, tuple(admitted)),), checkpoint)
            seen.add(next_url)
            previous_keys, url, page = keys, next_url, page + 1

    def _feed_done(self, checkpoint: BackfillCheckpoint, page: int, stop: str, oldest: datetime | None
                   ) -> BackfillCheckpoint:
        """The checkpoint of a finished walk, with how far back it went (see `_reach_covers`)."""
        window = self.plan.window
        if stop == "archived":
            reached = checkpoint.reached
        elif window.until is not None:  # the newest part of the feed was left out: nothing to build on
            reached = None
        elif stop == "end":
            reached = "end"
        elif stop == "since":
            reached = window.since.isoformat() if window.since else None
        else:
            reached = oldest.isoformat() if oldest else None
        return replace(checkpoint, status="done", position=page, next_url=None, reached=reached)

    async def _fetch_feed_page(self, url: str, moved: dict[str, str], proxy: str | None) -> Fetched:
        """A page of a feed. A feed that moved permanently often still links its pages at the old address,
        and the old address's redirect often drops the query, which would hand us the first page again:
        `moved` remembers old → new addresses (without query) to ask the new one directly, and a redirect
        that dropped the query is asked again with it."""
        asked = urlsplit(url)
        base = urlunsplit(asked._replace(query="", fragment=""))
        if base in moved:
            url = urlunsplit(urlsplit(moved[base])._replace(query=asked.query))
        fetcher = self.fetcher.via(proxy)  # the feed's own proxy, as when it is polled
        fetched = await fetcher.fetch_feed(url)
        landed = urlsplit(fetched.url)
        if fetched.permanent_redirect:
            moved[base] = urlunsplit(landed._replace(query="", fragment=""))
        if asked.query and not landed.query and fetched.url != url:
            fetched = await fetcher.fetch_feed(urlunsplit(landed._replace(query=asked.query)))
        return fetched

    async def _discover(self, feed: FeedSpec, home: str | None) -> None:
        site = home if home and urlsplit(home).scheme in ("http", "https") else feed.url
        try:
            listed = await self.fetcher.via(feed.proxy).sitemaps_listed(site)
        except FetchError as e:
            log.warning("%s: no sitemaps from robots.txt: %s", feed_label(feed), e)
            return
        if not listed:
            log.info("%s: the robots.txt of %s lists no sitemap", feed_label(feed), site)
        for url in listed:
            self._start_sitemap(url, feed)

    def _resume_discovered(self) -> None:
        """Sitemaps found in robots.txt by an interrupted run: their feeds' walks may be past page 1."""
        feeds = {feed.url: feed for feed in self.plan.feeds}
        for checkpoint in self.store.unfinished_backfill_sources(list(feeds)):
            if checkpoint.source.startswith("sitemap ") and checkpoint.feed_url in feeds:
                self._start_sitemap(checkpoint.source.removeprefix("sitemap "), feeds[checkpoint.feed_url])

    # --- sitemaps ---------------------------------------------------------------------------------------

    async def _sitemap_batches(self, url: str, assign_to: FeedSpec | None, checkpoint: BackfillCheckpoint
                               ) -> AsyncIterator[Batch]:
        self.checkpoints.add_backfill_documents(checkpoint.source, [(url, 0, None)], MAX_SITEMAPS)
        after, unreachable = 0, 0
        while (document := self.checkpoints.next_backfill_document(checkpoint.source, after)) is not None:
            after = document.seq
            try:
                async for batch in self._document_batches(document, assign_to):
                    yield batch
            except FetchError as e:  # not for good (those are settled in _document_batches): left pending
                log.error("sitemap %s: %s", document.document, e.reason)
                unreachable += 1
        if unreachable:
            raise CrawlerError(f"{unreachable} of its sitemaps could not be fetched (see above)")
        yield Batch((), replace(checkpoint, status="done"))

    async def _document_batches(self, document: BackfillCheckpoint, assign_to: FeedSpec | None
                                ) -> AsyncIterator[Batch]:
        url, window = document.document, self.plan.window
        label = f"sitemap {url}"
        done = replace(document, status="done")
        if window.before(_iso(document.lastmod)):
            log.info("%s: last modified %s, before --since; not read", label, document.lastmod)
            self.checkpoints.save_backfill_checkpoint(done)
            return
        cap = self.settings.backfill.max_sitemap_bytes
        try:
            fetched = await self.fetcher.fetch_sitemap(url, cap)
            sitemap = await asyncio.to_thread(parse_sitemap, fetched.body, fetched.url, cap)
        except (FetchError, SitemapError) as e:
            if isinstance(e, FetchError) and not e.permanent:
                raise
            log.error("%s", e)
            self.stats.document_failures += 1
            self.checkpoints.save_backfill_checkpoint(done)
            return
        self.stats.sitemaps += 1
        for warning in sitemap.warnings:
            log.warning("%s: %s", label, warning)
        if sitemap.kind == "index":
            if document.depth >= MAX_SITEMAP_DEPTH:
                log.warning("%s: a sitemap index %d levels down; not followed", label, document.depth)
                self.checkpoints.save_backfill_checkpoint(done)
                return
            refs = [r for r in sitemap.sitemaps if not window.before(r.lastmod)]
            added = self.checkpoints.add_backfill_documents(
                document.source, ((r.url, document.depth + 1, r.lastmod.isoformat() if r.lastmod else None)
                                  for r in refs), MAX_SITEMAPS, expanded=done)
            log.info("%s: index of %d sitemaps, %d to read", label, len(sitemap.sitemaps), added)
            if added < len(refs) and len(refs) > 0:
                log.info("%s: %d sitemaps already queued or beyond the limit of %d", label, len(refs) - added,
                         MAX_SITEMAPS)
            return
        if sitemap.kind == "feed":
            parsed = await self.pool.parse_feed(inflate(fetched.body, url, cap), fetched.url, fetched.content_type)
            items = [(entry, None) for entry in parsed.entries]
        else:
            items = [(_sitemap_entry(item), item.publication) for item in sitemap.urls]
        async for batch in self._slices(items, document, assign_to, label, url):
            yield batch

    async def _slices(self, items: list[tuple[FeedEntry, str | None]], document: BackfillCheckpoint,
                      assign_to: FeedSpec | None, label: str, feed_url: str) -> AsyncIterator[Batch]:
        hasher = hashlib.sha256()
        start = 0
        if document.position:
            for entry, _ in items[:document.position]:
                hasher.update(_line_bytes(entry.link))
            if document.position <= len(items) and hasher.hexdigest() == document.digest:
                start = document.position
            else:
                log.info("%s: changed since the interrupted run; read from its first entry again", label)
                hasher, start = hashlib.sha256(), 0
        window = self.plan.window
        admitted = sum(1 for entry, _ in items[start:] if window.admits(_entry_date(entry)))
        log.info("%s: %d URLs, %d in the window%s", label, len(items), admitted,
                 f", {start} settled before the interruption" if start else "")
        self.progress.found += admitted
        for first in range(start, len(items), CHUNK):
            chunk = items[first:first + CHUNK]
            for entry, _ in chunk:
                hasher.update(_line_bytes(entry.link))
            inside = [(entry, publication) for entry, publication in chunk if window.admits(_entry_date(entry))]
            checkpoint = replace(document, position=first + len(chunk), digest=hasher.hexdigest())
            yield Batch(self._groups(inside, assign_to, feed_url), checkpoint)
        yield Batch((), replace(document, status="done", position=len(items), digest=hasher.hexdigest()))

    def _groups(self, items: Iterable[tuple[FeedEntry, str | None]], assign_to: FeedSpec | None,
                feed_url: str | None) -> tuple[tuple[FeedSpec, tuple[FeedEntry, ...]], ...]:
        """Entries by the feed whose category path they get: the assigned one, else the `backfill` defaults
        (and then entries whose article is archived already are left out: the defaults' category path would
        be added to a post that has a real one)."""
        groups: dict[FeedSpec, list[FeedEntry]] = {}
        with self.store.shared_transaction():  # a chunk's lookups in one transaction, not one each
            for entry, publication in items:
                if assign_to is not None:
                    groups.setdefault(assign_to, []).append(entry)
                    continue
                assert entry.link is not None
                parts = urlsplit(entry.link)
                feed = _default_feed(self.settings.backfill, parts.scheme, parts.netloc, publication, feed_url)
                if self._archived(feed, entry):
                    self.stats.already_archived += 1
                    continue
                groups.setdefault(feed, []).append(entry)
        return tuple((feed, tuple(entries)) for feed, entries in groups.items())

    # --- URL lists --------------------------------------------------------------------------------------

    async def _list_batches(self, path: str, checkpoint: BackfillCheckpoint) -> AsyncIterator[Batch]:
        label = "standard input" if path == "-" else f"URL list {path}"
        handle: IO[str] = sys.stdin if path == "-" else open(path, encoding="utf-8-sig", errors="replace")
        try:
            reader = _LineReader(handle)
            hasher, number = hashlib.sha256(), 0
            if checkpoint.position:
                hasher, number = await self._skip_settled(reader, checkpoint, label)
            if path != "-":
                self.progress.found += await asyncio.to_thread(_count_urls, path, number)
            invalid = 0
            while lines := await reader.read(CHUNK):
                entries: list[tuple[FeedEntry, None]] = []
                for line in lines:
                    number += 1
                    hasher.update(_line_bytes(line))
                    if not line or line.startswith("#"):
                        continue
                    if _http_url(line) is None:
                        invalid += 1
                        if invalid <= 10:
                            log.warning("%s:%d: %r is not an http(s) URL; skipped", label, number, line[:200])
                        continue
                    entries.append((_url_entry(line), None))
                if path == "-":
                    self.progress.found += len(entries)
                checkpoint = replace(checkpoint, position=number, digest=hasher.hexdigest())
                yield Batch(self._groups(entries, self.plan.assign_to, None), checkpoint)
            if invalid > 10:
                log.warning("%s: %d lines in all are not http(s) URLs", label, invalid)
            yield Batch((), replace(checkpoint, status="done"))
        finally:
            if handle is not sys.stdin:
                handle.close()

    async def _skip_settled(self, reader: _LineReader, checkpoint: BackfillCheckpoint, label: str
                            ) -> tuple[hashlib._Hash, int]:
        """Read past the lines an interrupted run settled, if they are the same lines; else put them back."""
        hasher = hashlib.sha256()
        skipped = tempfile.TemporaryFile("w+", encoding="utf-8")  # on disk: the skip may be millions of lines
        number = 0
        while number < checkpoint.position and (lines := await reader.read(min(1000, checkpoint.position - number))):
            for line in lines:
                hasher.update(_line_bytes(line))
                skipped.write(line + "\n")
            number += len(lines)
        if number == checkpoint.position and hasher.hexdigest() == checkpoint.digest:
            skipped.close()
            log.info("%s: %d lines settled by the interrupted run skipped", label, number)
            return hasher, number
        log.info("%s: not the list the interrupted run read; reading it from the start", label)
        skipped.seek(0)
        reader.put_back(skipped)
        return hashlib.sha256(), 0


# --- helpers ----------------------------------------------------------------------------------------------


class _HostBudget:
    """At most `size` entries of one host in the pipeline at once (see HOST_BUDGET); a host with none in it
    or waiting is forgotten, so a list of a million sites costs no more than one of ten."""

    def __init__(self, size: int):
        self._size = size
        self._hosts: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        semaphore, users = self._hosts.setdefault(host, (asyncio.Semaphore(self._size), [0]))
        users[0] += 1
        try:
            async with semaphore:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._hosts[host]


class _LineReader:
    """Lines of a text stream, read in a thread (standard input may block), stripped; put-back files first."""

    def __init__(self, handle: IO[str]):
        self._handles: list[IO[str]] = [handle]

    def put_back(self, handle: IO[str]) -> None:
        self._handles.insert(0, handle)

    async def read(self, count: int) -> list[str]:
        lines: list[str] = []
        while self._handles and len(lines) < count:
            got = await asyncio.to_thread(_read_lines, self._handles[0], count - len(lines))
            if not got:
                finished = self._handles.pop(0)
                if self._handles:  # a put-back file, not the source itself
                    finished.close()
            lines += got
        return lines


def _read_lines(handle: IO[str], count: int) -> list[str]:
    lines = []
    for _ in range(count):
        line = handle.readline()
        if not line:
            break
        lines.append(line.strip())
    return lines


def _count_urls(path: str, after: int) -> int:
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        return sum(1 for number, raw in enumerate(handle, 1)
                   if number > after and (line := raw.strip()) and not line.startswith("#"))


def _line_bytes(text: str | None) -> bytes:
    return (text or "").encode("utf-8", errors="replace") + b"\n"


def _http_url(text: str) -> str | None:
    parts = urlsplit(text)
    return text if parts.scheme in ("http", "https") and parts.netloc and len(text) <= 2048 else None


def _entry_date(entry: FeedEntry) -> datetime | None:
    return entry.published or entry.updated


def _iso(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _reach_covers(reached: str | None, window: Window) -> bool:
    """A finished earlier pass went back at least as far as this one must (see the module docstring)."""
    if reached == "end":
        return True
    when = _iso(reached)
    return when is not None and window.since is not None and when <= window.since


def _template_url(feed: FeedSpec, first_page: str, n: int) -> str | None:
    return urljoin(first_page, feed.page_url.format(n=n)) if feed.page_url else None


def _url_entry(url: str) -> FeedEntry:
    return FeedEntry(guid=None, link=url, title=None, published=None, updated=None, author=None,
                     summary_html=None, content_html=None, image=None)


def _sitemap_entry(item: SitemapUrl) -> FeedEntry:
    return FeedEntry(guid=None, link=item.url, title=item.title, published=item.published, updated=item.lastmod,
                     author=None, summary_html=None, content_html=None, image=None)


@lru_cache(maxsize=1024)
def _default_feed(defaults: BackfillSettings, scheme: str, netloc: str, publication: str | None,
                  document_url: str | None) -> FeedSpec:
    """The feed an article of site `scheme://netloc` without one is filed under: category, source and name
    from the `backfill` settings, else the publication a Google News sitemap names and the site's host. Its
    URL (`feed` in the front matter) is the sitemap the article was found in, or the site's home page."""
    host = urlsplit(f"{scheme}://{netloc}/").hostname or netloc
    return FeedSpec(url=document_url or f"{scheme}://{netloc}/", category=defaults.category,
                    source=defaults.source or publication or host, name=defaults.name or host)


# --- progress -------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """Articles settled / found so far (with "+" while sources are still being read), rate, ETA, failures,
    sources done. On a terminal: one line on stderr, redrawn twice a second (log lines clear it first);
    otherwise a log line every `interval` seconds."""

    enabled: bool = True
    tty: bool = False
    interval: float = 10.0
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    found: int = 0
    sources: int = 0
    sources_finished: int = 0
    counts: Callable[[], tuple[int, int]] = lambda: (0, 0)
    clock: Callable[[], float] = time.monotonic
    _samples: deque = field(default_factory=lambda: deque(maxlen=120))
    _drawn: bool = False

    def source_done(self) -> None:
        self.sources_finished += 1

    def line(self) -> str:
        done, failed = self.counts()
        now = self.clock()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > 60:
            self._samples.popleft()
        (t0, d0) = self._samples[0]
        rate = (done - d0) / (now - t0) if now > t0 else 0.0
        reading = self.sources_finished < self.sources
        total = max(self.found, done)
        parts = [f"{done:,}/{total:,}{'+' if reading else ''} articles", f"{rate:.1f}/s"]
        if not reading and rate > 0 and total > done:
            parts.append(f"ETA {_duration((total - done) / rate)}")
        parts.append(f"{failed:,} failed")
        parts.append(f"{self.sources_finished}/{self.sources} sources done")
        return "backfill: " + ", ".join(parts)

    async def run(self) -> None:
        if not self.enabled:
            return
        if not self.tty:
            while True:
                await asyncio.sleep(self.interval)
                log.info("%s", self.line())
        handlers = logging.getLogger().handlers
        clear = _ClearLine(self)
        for handler in handlers:
            handler.addFilter(clear)
        try:
            while True:
                self.stream.write("\r\x1b[K" + self.line())
                self.stream.flush()
                self._drawn = True
                await asyncio.sleep(0.5)
        finally:
            for handler in handlers:
                handler.removeFilter(clear)

    def clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False

    def finish(self) -> None:
        self.clear()


class _ClearLine(logging.Filter):
    """Clears the progress line before a log line is written over it; the next redraw puts it back."""

    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear()
        return True


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
