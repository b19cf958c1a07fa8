"""poll(feed) → new entries → article jobs → extract → dedup → archive → state.

The one path every driver uses (`once`, the daemon, backfill): none of them fetches, extracts or writes by
itself. Feed polls put article jobs on a bounded queue; a fixed set of workers takes them, so a feed of
10,000 entries costs no more memory than one of 20. A feed's HTTP validators (ETag, Last-Modified) are
saved only once all its entries are settled: if an article failed, the next poll fetches the whole feed
again and the entry gets its retry.
"""
from __future__ import annotations

import asyncio
import copy
import gc
import logging
import time
from collections import Counter, deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from .archive.archiver import Archiver, NewPost
from .archive.writer import LOCK_NAME, ArchiveLock
from .archive.frontmatter import clean_title
from .config import FeedSpec, Settings
from .dedup import content_hash, guid_key, url_key
from .errors import (ArchiveError, BlockedAddress, BlockedByRobots, CrawlerError, ExtractionError, FeedError,
                     FetchError, UnsupportedScheme)
from .extract.pool import Analysis, ExtractionPool
from .extract.rules import SiteRules, configured_site_rules
from .fingerprint import Fingerprint
from .fetch import Fetcher
from .fetch.limits import origin
from .enrich import load_companies
from .metadata import assemble
from .jobqueue import HostFairQueue
from .metrics import Metrics
from .models import Article, Extracted, ExtractedFrom, ExtractRules, FeedEntry, Fetched, ParsedFeed
from .state.store import Store, StoredArticle

log = logging.getLogger("crawler")

# Failures no later run can cure: don't try them again.
_FINAL_ERRORS = (BlockedByRobots, BlockedAddress, UnsupportedScheme)
# A page that just failed is not fetched again for another feed listing it (a hanging page would cost a
# second deadline); after this long the daemon tries it again.
PAGE_FAILURE_MEMORY = 600.0
COMMIT_BATCH = 64
"""Articles checked and written in one turn of the committer (see `_commit_ready`)."""
JOBS_PER_HOST = 2
"""Article jobs of one host in progress at once, in multiples of network.per_host (which the fetcher applies
to the requests themselves): a job holds its place through extraction and writing too, so with one multiple
a host's request slots sat idle while its pages were extracted (8 jobs for 4 sites kept two extraction
workers busy half the time). A slow host still holds no more than this share of the workers."""


@dataclass
class RunStats:
    feeds_ok: int = 0
    feeds_failed: int = 0
    archived: int = 0
    known: int = 0
    duplicates: int = 0
    failed: int = 0
    given_up: int = 0
    write_errors: int = 0
    revised: int = 0

    def summary(self) -> str:
        return (f"{self.feeds_ok} feeds ok, {self.feeds_failed} failed; {self.archived} new articles, "
                + (f"{self.revised} revised, " if self.revised else "")
                + f"{self.duplicates} duplicates skipped, {self.failed} article failures"
                + (f", {self.write_errors} archive write errors" if self.write_errors else ""))


@dataclass
class FeedRun:
    """One poll of one feed, until every entry it produced is settled."""

    feed: FeedSpec
    pending: int = 0
    queued: int = 0
    failures: int = 0
    archived: int = 0
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    updates_mean_edits: bool = True
    """Whether an entry's `updated` says when it was edited (not when the feed was generated)."""

    def finish_one(self, *, failed: bool = False, archived: bool = False) -> None:
        self.failures += failed
        self.archived += archived
        self.pending -= 1
        if self.pending == 0:
            self.settled.set()


@dataclass(frozen=True)
class PollResult:
    """How one poll went; the daemon's scheduling reads it."""

    ok: bool
    error: FetchError | FeedError | None = None
    not_modified: bool = False
    entries: int = 0
    queued: int = 0
    """Entries not archived before: sent to the article workers."""
    archived: int = 0
    failures: int = 0
    ttl_seconds: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    feed: ParsedFeed | None = None


@dataclass(frozen=True)
class ArticleJob:
    run: FeedRun
    entry: FeedEntry
    keys: tuple[str, ...]
    revise: bool = False
    """The article is archived: fetch it again and rewrite it if it changed."""


@dataclass(eq=False)
class ReadyArticle:
    """An article extracted and analysed, waiting for the dedup check and, if new, its write."""

    job: ArticleJob
    article: Article
    digest: str
    fingerprint: Fingerprint | None
    keys: set[str]
    source: ExtractedFrom
    outcome: asyncio.Future[str]

    def settle(self, outcome: str = "", error: Exception | None = None) -> None:
        if self.outcome.done():  # the job waiting for it was cancelled
            return
        if error is not None:
            self.outcome.set_exception(error)
        else:
            self.outcome.set_result(outcome)


@dataclass(frozen=True)
class Extraction:
    """What `_extract` got for an entry: an article body, or the problem that prevented it."""

    extracted: Extracted | None
    source: ExtractedFrom
    final_url: str | None
    fetched_at: datetime
    problem: CrawlerError | None = None
    problem_seen_earlier: bool = False
    """The page failed for another job moments ago and was not fetched again."""
    analysis: Analysis | None = None
    """Made by the extraction call, for the feed entry's title (else the page's) and the extracted body."""


def entry_keys(feed: FeedSpec, entry: FeedEntry) -> tuple[str, ...]:
    keys = []
    if entry.link:
        keys.append(url_key(entry.link))
    if entry.guid:
        keys.append(guid_key(feed.url, entry.guid))
    return tuple(keys)


def updated_is_generation_time(entries: Sequence[FeedEntry]) -> bool:
    """Some generators stamp every entry with the time the feed was built: one `updated` shared by all of
    several entries says nothing about edits (following it would refetch the whole feed on every poll)."""
    stamps = {entry.updated for entry in entries}
    return len(entries) >= 3 and len(stamps) == 1 and None not in stamps


def feed_label(feed: FeedSpec) -> str:
    return f"feed {feed.name!r} ({feed.url})"


class Pipeline:
    def __init__(self, settings: Settings, store: Store, fetcher: Fetcher, pool: ExtractionPool,
                 metrics: Metrics | None = None):
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.store = store
        self.fetcher = fetcher
        self.pool = pool
        self.archiver = Archiver(settings.archive.dir, settings.archive.zone, store)
        self.companies = load_companies(settings.enrich.companies)
        self.site_rules = configured_site_rules(settings.extract.sites)
        self.stats = RunStats()
        self._queue: HostFairQueue[ArticleJob] = HostFairQueue(
            maxsize=2 * settings.network.concurrency, per_host=JOBS_PER_HOST * settings.network.per_host)
        self._workers: list[asyncio.Task] = []
        self._in_flight: dict[str, asyncio.Event] = {}
        self._page_failures: dict[str, tuple[float, FetchError | ExtractionError]] = {}
        # Dedup checks and writes happen in one task, in turns: two copies of a story must not both look new.
        self._ready: deque[ReadyArticle] = deque()
        self._committer: asyncio.Task | None = None
        self.metrics.watch_queue(self._queue.qsize)
        self._draining = False
        self._queued: Counter[tuple[str, str]] = Counter()
        self._settling: set[asyncio.Task] = set()

    # --- lifecycle --------------------------------------------------------------------------------------

    async def __aenter__(self) -> "Pipeline":
        self._workers = [asyncio.create_task(self._worker(), name=f"article-worker-{i}")
                         for i in range(self.settings.network.concurrency)]
        return self

    async def __aexit__(self, *exc) -> None:
        # Settlements still open belong to articles cut off by shutdown: their feeds keep their old validators.
        tasks = self._workers + list(self._settling) + ([self._committer] if self._committer else [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.archiver.close()

    # --- feeds ------------------------------------------------------------------------------------------

    async def poll(self, feed: FeedSpec, *, wait: bool = True) -> PollResult:
        """Fetch a feed and queue its new entries. With `wait`, return once every entry is settled; without
        (the daemon), return once they are queued and settle in the background (`wait_settled`), so a slow
        article does not delay the feed's next poll."""
        state = self.store.feed_state(feed.url)
        try:
            with self.metrics.fetch_seconds.labels("feed").time():
                fetched = await self.fetcher.via(feed.proxy).fetch_feed(
                    state.fetch_url, etag=state.etag, last_modified=state.last_modified)
            if fetched.not_modified:
                self.store.record_poll(feed.url, error=None, etag=state.etag, last_modified=state.last_modified)
                log.info("%s: not modified", feed_label(feed))
                self.stats.feeds_ok += 1
                self.metrics.polls.labels(feed.name, "not_modified").inc()
                return PollResult(ok=True, not_modified=True, headers=fetched.headers)
            zone = ZoneInfo(feed.timezone) if feed.timezone else None
            parsed = await self.pool.parse_feed(fetched.body, fetched.url, fetched.content_type, zone)
        except (FetchError, FeedError) as e:
            return self._feed_failed(feed, e)
        if fetched.permanent_redirect and fetched.url != state.fetch_url:
            log.warning("%s moved permanently to %s; polling the new address (update the config)",
                        feed_label(feed), fetched.url)
        for warning in parsed.warnings:
            log.warning("%s: %s", feed_label(feed), warning)
        self.stats.feeds_ok += 1
        self.metrics.polls.labels(feed.name, "ok").inc()

        run = FeedRun(feed, updates_mean_edits=not updated_is_generation_time(parsed.entries))
        await self._submit_all(run, parsed.entries)
        settle = self._record_settled(run, fetched, len(parsed.entries))
        if wait:
            await settle
        else:
            task = asyncio.create_task(settle, name=f"settle {feed.url}")
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
        return PollResult(ok=True, entries=len(parsed.entries), queued=run.queued, archived=run.archived,
                          failures=run.failures, ttl_seconds=parsed.ttl_seconds, headers=fetched.headers,
                          feed=parsed)

    async def _record_settled(self, run: FeedRun, fetched: Fetched, entries: int) -> None:
        await run.settled.wait()
        complete = run.failures == 0
        self.store.record_poll(
            run.feed.url, error=None, archived=run.archived,
            fetch_url=fetched.url if fetched.permanent_redirect else None,
            # Without validators the next poll gets the whole feed back, and with it the failed entries.
            etag=fetched.etag if complete else None, last_modified=fetched.last_modified if complete else None,
        )
        log.info("%s: %d entries, %d new articles%s", feed_label(run.feed), entries, run.archived,
                 f", {run.failures} failed (retried next run)" if run.failures else "")

    async def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait for the background settlements of `poll(wait=False)`; False if some were still open."""
        if not self._settling:
            return True
        _, late = await asyncio.wait(set(self._settling), timeout=timeout)
        return not late

    async def archive_entries(self, feed: FeedSpec, entries: Iterable[FeedEntry] | AsyncIterable[FeedEntry],
                              *, refresh: bool = False) -> FeedRun:
        """Queue each entry as an article job and wait until every one is settled (archived, known, failed).
        The queue is bounded: a long (async) iterable is consumed only as fast as the workers take jobs.
        With `refresh`, archived articles are fetched again and rewritten if they changed."""
        run = FeedRun(feed)
        await self._submit_all(run, entries, refresh=refresh)
        await run.settled.wait()
        return run

    async def _submit_all(self, run: FeedRun, entries: Iterable[FeedEntry] | AsyncIterable[FeedEntry],
                          refresh: bool = False) -> None:
        run.pending = 1  # the submission itself, so `settled` cannot fire before every entry is queued
        if isinstance(entries, AsyncIterable):
            async for entry in entries:
                await self._submit(run, entry, refresh)
        else:
            for entry in entries:
                await self._submit(run, entry, refresh)
        run.finish_one()

    async def _submit(self, run: FeedRun, entry: FeedEntry, refresh: bool = False) -> None:
        keys = entry_keys(run.feed, entry)
        if not keys or (run.feed.url, keys[0]) in self._queued:
            return  # nothing to name it by, or this feed's previous poll is still on it
        known = self.store.find_article(keys)
        edited = run.updates_mean_edits and known is not None and self._edited_since_archived(known, entry)
        revise = known is not None and (refresh or edited)
        if known and not revise:  # the common case on a busy feed: settled here, without a worker
            self._seen_again(known, run.feed, keys)
            return
        run.pending += 1
        run.queued += 1
        self._queued[(run.feed.url, keys[0])] += 1
        page_origin = origin(entry.link) if run.feed.fetch_pages and entry.link else ""
        await self._queue.put(page_origin, ArticleJob(run, entry, keys, revise))

    def _edited_since_archived(self, known: StoredArticle, entry: FeedEntry) -> bool:
        """The feed says the entry was updated after the version archived (dedup.follow_updates)."""
        if not self.settings.dedup.follow_updates or entry.updated is None:
            return False
        if known.feed_updated is None:  # archived without one (or by another feed): this one is the baseline
            self.store.note_feed_updated(known.id, entry.updated.isoformat(timespec="seconds"))
            return False
        return entry.updated > datetime.fromisoformat(known.feed_updated)

    def _feed_failed(self, feed: FeedSpec, error: FetchError | FeedError) -> PollResult:
        self.store.record_poll(feed.url, error=error.reason)
        log.error("%s: %s; will retry on the next run", feed_label(feed), error.reason)
        self.stats.feeds_failed += 1
        self.metrics.polls.labels(feed.name, "failed").inc()
        self.metrics.failure(error)
        return PollResult(ok=False, error=error)

    # --- articles ---------------------------------------------------------------------------------------

    def drain(self) -> None:
        """Stop taking queued article jobs (shutdown): jobs already running finish, the queued ones settle as
        failed at once, so their feeds keep no validators and are fetched in full next time."""
        self._draining = True

    async def _worker(self) -> None:
        while True:
            host, job = await self._queue.get()
            if self._draining:
                await self._queue.done(host)
                self._unqueue(job)
                job.run.finish_one(failed=True)
                continue
            try:
                outcome = await self._process(job)
            except ArchiveError as e:
                log.error("%s", e)
                self.metrics.failure(e)
                self.stats.write_errors += 1
                outcome = "failed"
            except Exception as e:  # noqa: BLE001 - a bug must cost one article, not the run
                log.error("internal error on %s: %s: %s (run with -v for details)",
                          job.entry.link or job.entry.guid, type(e).__name__, e)
                log.debug("traceback", exc_info=True)
                outcome = "failed"
            finally:
                await self._queue.done(host)
                self._unqueue(job)
            self.metrics.articles.labels(outcome).inc()
            job.run.finish_one(failed=outcome == "failed", archived=outcome == "archived")

    def _unqueue(self, job: ArticleJob) -> None:
        slot = (job.run.feed.url, job.keys[0])
        self._queued[slot] -= 1
        if self._queued[slot] <= 0:
            del self._queued[slot]

    @asynccontextmanager
    async def _claim(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """One job per article at a time: the same story from two feeds is fetched once."""
        keys = list(keys)
        while busy := [self._in_flight[k] for k in keys if k in self._in_flight]:
            await busy[0].wait()
        done = asyncio.Event()
        for k in keys:
            self._in_flight[k] = done
        try:
            yield
        finally:
            for k in keys:
                self._in_flight.pop(k, None)
            done.set()

    async def _process(self, job: ArticleJob) -> str:
        feed, entry = job.run.feed, job.entry
        async with self._claim(job.keys):
            with self.store.shared_transaction():
                known = self.store.find_article(job.keys)
                failure = None if known else self.store.failure(job.keys[0])
            if known and not job.revise:
                self._seen_again(known, feed, job.keys)
                return "known"
            if failure and failure.given_up:
                self.stats.given_up += 1
                return "given_up"

            got = await self._extract(feed, entry)
            if got.extracted is None:
                if known:  # an archived article that could not be fetched again: the archived version stands
                    log.warning("%s: %s: %s; the archived version is kept", feed.name, entry.link,
                                getattr(got.problem, "reason", got.problem))
                    self.stats.failed += 1
                    return "known"
                return self._article_failed(feed, entry, job.keys[0], got)
            source = got.source
            article = assemble(feed, entry, got.extracted, extracted_from=source, final_url=got.final_url,
                               fetched_at=got.fetched_at)
            article, digest, fingerprint = await self._analyse(article, feed.enrich, got.analysis)
            keys = set(job.keys) | {url_key(u) for u in article.urls}
            ready = ReadyArticle(job, article, digest, fingerprint, keys, source,
                                 asyncio.get_running_loop().create_future())
            self._ready.append(ready)
            if self._committer is None or self._committer.done():
                self._committer = asyncio.create_task(self._commit_ready(), name="committer")
            return await ready.outcome

    async def _commit_ready(self) -> None:
        """Check and write the ready articles, in batches: a batch takes the commit lock once, and its new
        posts are announced, written and indexed together (`Archiver.add_many`). An article that is the same
        story as a new post earlier in its batch (not yet in the state database) waits for the next batch,
        whose check then finds that post."""
        while self._ready:
            batch = [self._ready.popleft() for _ in range(min(COMMIT_BATCH, len(self._ready)))]
            later: list[ReadyArticle] = []
            try:
                async with self.archiver.committing():
                    new: list[ReadyArticle] = []
                    for ready in batch:
                        if ready.outcome.done():  # its job was cut off by shutdown
                            continue
                        if any(self._same_story(ready, other) for other in new):
                            later.append(ready)
                            continue
                        try:
                            outcome = self._check(ready)
                        except Exception as e:  # noqa: BLE001 - that article's failure, reported by its job
                            ready.settle(error=e)
                            continue
                        if outcome is None:
                            new.append(ready)
                        else:
                            ready.settle(outcome)
                    if new:
                        await self._write_new(new)
            except Exception as e:  # the state database or the commit lock failed: the whole batch did
                for ready in batch:
                    ready.settle(error=e)
                continue
            except BaseException:
                for ready in [*batch, *self._ready]:
                    ready.outcome.cancel()
                raise
            self._ready.extendleft(reversed(later))

    def _check(self, ready: ReadyArticle) -> str | None:
        """The outcome for an article found archived or copied (recording its new appearance or revision),
        None for a new story."""
        article, feed, entry = ready.article, ready.job.run.feed, ready.job.entry
        with self.store.shared_transaction():  # only the lookups: each change below commits with its file
            known = self.store.find_article(ready.keys)
            copy_of = None if known else self._copy_of(ready.digest, ready.fingerprint, article.link)
        if known and ready.job.revise:
            return self._revise(known, article, ready.digest, ready.fingerprint, entry)
        if known:  # a redirect or rel=canonical led to an article archived under another URL
            self._seen_again(known, feed, ready.keys)
            return "known"
        if copy_of:
            self.archiver.add_appearance(copy_of, feed.category_path, article.link, ready.keys, article.tickers,
                                         article.companies)
            log.info("duplicate of %s: %s (%s)", copy_of.path, article.link, feed.name)
            self.stats.duplicates += 1
            return "duplicate"
        return None

    def _same_story(self, ready: ReadyArticle, other: ReadyArticle) -> bool:
        """Whether the dedup check would find `other` as `ready`'s archived version, were it indexed."""
        policy = self.settings.dedup
        if ready.keys & other.keys:
            return True
        if policy.policy == "url":
            return False
        if ready.digest == other.digest:
            return True
        return (policy.policy == "near" and ready.fingerprint is not None and other.fingerprint is not None
                and ready.fingerprint.similarity(other.fingerprint) >= policy.near_threshold)

    async def _write_new(self, new: list[ReadyArticle]) -> None:
        posts = [NewPost(ready.article, ready.digest, ready.keys, clear_failure=ready.job.keys[0],
                         fingerprint=ready.fingerprint, feed_updated=ready.job.entry.updated) for ready in new]
        for ready, added in zip(new, await self.archiver.add_many(posts)):
            if isinstance(added, ArchiveError):
                ready.settle(error=added)
                continue
            log.info("archived %s (%s, from %s)", added, ready.job.run.feed.name, ready.source)
            self.stats.archived += 1
            ready.settle("archived")

    async def _analyse(self, article: Article, enrich: bool, made: Analysis | None
                       ) -> tuple[Article, str, Fingerprint | None]:
        """The article with the securities it names (when the feed enriches), its content hash and its
        fingerprint: as the extraction call `made` them when it analysed this title, else from one worker
        call; short bodies without enrichment need none."""
        min_chars = self.settings.dedup.min_near_chars
        if made is not None and made.title == article.title:
            found = made
        elif not enrich and len(article.body) < min_chars:  # flash items: nothing worth a round trip
            return article, content_hash(article.body), None
        else:
            try:
                found = await self.pool.analyse(article.title, article.body, self.companies if enrich else None,
                                                min_chars, article.link)
            except ExtractionError as e:
                log.warning("%s: %s; archived without tickers, only exact copies of it will be recognised",
                            article.link, e.reason)
                return article, content_hash(article.body), None
        if found.securities is not None:
            article = replace(article, tickers=found.securities.tickers, companies=found.securities.companies)
        return article, found.content_hash, found.fingerprint

    def _copy_of(self, digest: str, fingerprint: Fingerprint | None, link: str) -> StoredArticle | None:
        """An archived article with the same story, as the dedup policy defines it."""
        policy = self.settings.dedup
        if policy.policy == "url":
            return None
        if copy_of := self.store.find_by_hash(digest):
            return copy_of
        if policy.policy == "near" and fingerprint is not None:
            if near := self.store.find_near(fingerprint, policy.near_threshold):
                log.debug("%s contains %.0f%% of %s (or the reverse)", link, 100 * near[1], near[0].path)
                return near[0]
        return None

    def _revise(self, known: StoredArticle, article: Article, digest: str, fingerprint: Fingerprint | None,
                entry: FeedEntry) -> str:
        if digest == known.content_hash and clean_title(article.title) == known.title:
            if entry.updated:
                self.store.note_feed_updated(known.id, entry.updated.isoformat(timespec="seconds"))
            self.stats.known += 1
            return "known"
        revised_at = entry.updated or datetime.now(timezone.utc)
        self.archiver.revise(known, article, digest, fingerprint=fingerprint, feed_updated=entry.updated,
                             revised_at=revised_at)
        log.info("revised %s (revision %d): %s", known.path, known.revisions + 1, known.link)
        self.stats.revised += 1
        return "revised"

    def _seen_again(self, known: StoredArticle, feed: FeedSpec, keys: Iterable[str]) -> None:
        self.archiver.add_appearance(known, feed.category_path, None, keys)
        self.stats.known += 1

    async def _extract(self, feed: FeedSpec, entry: FeedEntry) -> Extraction:
        """The article from its page, else from the feed's full text. Never raises for the source's faults."""
        problem: FetchError | ExtractionError | None = None
        repeated = False
        if feed.fetch_pages and entry.link:
            problem = self._recent_page_failure(entry.link)
            repeated = problem is not None
            if problem is None:
                try:
                    with self.metrics.fetch_seconds.labels("page").time():
                        fetched = await self.fetcher.via(feed.proxy).fetch_page(entry.link)
                    extracted, analysis = await self.pool.extract_and_analyse(
                        fetched.body, fetched.content_type, fetched.url, page_rules(self.site_rules, feed, fetched),
                        now=fetched.fetched_at, feed_title=entry.title,
                        table=self.companies if feed.enrich else None,
                        min_near_chars=self.settings.dedup.min_near_chars)
                    return Extraction(extracted, "page", fetched.url, fetched.fetched_at, analysis=analysis)
                except (FetchError, ExtractionError) as e:
                    problem = e
                    self._remember_page_failure(entry.link, e)
        fetched_at = datetime.now(timezone.utc)
        # A feed whose pages are not fetched is its own article text, short as it may be (flash news).
        feed_text = entry.content_html or (None if feed.fetch_pages else entry.summary_html)
        if feed_text:
            try:
                body = await self.pool.extract_feed_content(feed_text, entry.link or feed.url)
            except ExtractionError as e:
                return Extraction(None, "feed", None, fetched_at, problem or e, repeated and problem is not None)
            if body.strip():
                if problem:
                    log.warning("%s: %s; archived from the feed's full text", entry.link, problem.reason)
                return Extraction(Extracted(body=body), "feed", None, fetched_at)
        if problem is None:
            problem = ExtractionError(entry.link or feed.url, "the page was not fetched and the feed carries no text")
        return Extraction(None, "feed", None, fetched_at, problem, repeated)

    def _recent_page_failure(self, url: str) -> FetchError | ExtractionError | None:
        seen = self._page_failures.get(url_key(url))
        if seen and time.monotonic() - seen[0] < PAGE_FAILURE_MEMORY:
            return seen[1]
        return None

    def _remember_page_failure(self, url: str, error: FetchError | ExtractionError) -> None:
        now = time.monotonic()
        if len(self._page_failures) > 10_000:  # a long-running daemon: forget what has expired
            self._page_failures = {k: v for k, v in self._page_failures.items() if now - v[0] < PAGE_FAILURE_MEMORY}
        # A copy (errors rebuild from their fields): the original's traceback would keep the failed request's
        # frames, response and client internals alive, some 25 kB per failed page for PAGE_FAILURE_MEMORY.
        self._page_failures[url_key(url)] = (now, copy.copy(error))

    def _article_failed(self, feed: FeedSpec, entry: FeedEntry, key: str, got: Extraction) -> str:
        reason = getattr(got.problem, "reason", str(got.problem))
        what = entry.link or entry.guid
        if got.problem_seen_earlier:  # the same failure another feed's job just recorded: not a new attempt
            log.info("%s: %s: %s (as for another feed moments ago)", feed.name, what, reason)
            return "failed"
        final = isinstance(got.problem, _FINAL_ERRORS)
        self.metrics.failure(got.problem)
        failure = self.store.record_failure(
            key, feed_url=feed.url, url=entry.link, error=reason,
            max_attempts=1 if final else self.settings.extract.max_entry_attempts)
        if failure.given_up:
            log.error("%s: %s: %s; given up after %d attempt(s)", feed.name, what, reason, failure.attempts)
            self.stats.given_up += 1
            return "given_up"
        log.error("%s: %s: %s; will retry on the next run (attempt %d of %d)", feed.name, what, reason,
                  failure.attempts, self.settings.extract.max_entry_attempts)
        self.stats.failed += 1
        return "failed"


@asynccontextmanager
async def open_pipeline(settings: Settings, metrics: Metrics | None = None, *, lock_name: str = LOCK_NAME
                        ) -> AsyncIterator[Pipeline]:
    """Everything a driver needs, opened in order and closed in reverse: archive lock (`lock_name`: the
    backfill has its own, so it can run beside the daemon), state, HTTP client, extraction processes, article
    workers."""
    with ArchiveLock(settings.archive.dir, lock_name):
        store = Store(settings.state.database_url)
        try:
            store.checkpoint_in_background()  # the event loop's commits never wait for the log to be copied
            with ExtractionPool(settings.extract.workers) as pool:
                async with Fetcher(settings.network) as fetcher, \
                        Pipeline(settings, store, fetcher, pool, metrics) as pipeline:
                    _settle_garbage_collector()
                    yield pipeline
        finally:
            store.close()


def _settle_garbage_collector() -> None:
    """Everything alive now (modules, the HTTP client, the state engine, the company table) lives as long as
    the run: frozen, the collector's older-generation passes stop walking it again and again (the collector
    took 7 % of the event loop's CPU in a backfill of 1,000 pages, 5 % with this). Garbage is collected first:
    frozen, it would never be."""
    gc.collect()
    gc.freeze()


async def extract_fetched_page(pool: ExtractionPool, site_rules: SiteRules, feed: FeedSpec, fetched: Fetched
                               ) -> Extracted:
    """The article on a fetched page, as the archiver extracts it (`crawler extract` runs this too): the site
    rules for the page's final URL under the feed's own keys, no date later than the fetch."""
    return await pool.extract_page(fetched.body, fetched.content_type, fetched.url,
                                   page_rules(site_rules, feed, fetched), now=fetched.fetched_at)


def page_rules(site_rules: SiteRules, feed: FeedSpec, fetched: Fetched) -> ExtractRules:
    """The site rules for the page's final URL, under the feed's own keys."""
    return site_rules.resolve(fetched.url, feed.rules, feed.name).rules
