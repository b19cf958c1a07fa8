"""`crawler daemon`: every feed on its own adaptive schedule, for months without attention.

APScheduler 3 (AsyncIOScheduler, on the same event loop as the fetcher) fires one job per feed, with
`max_instances=1` (two polls of a feed never overlap) and `coalesce` (a poll missed during a suspend or a slow
poll runs once, late, not once per missed interval). After each poll the job is rescheduled with the interval
`schedule.next_interval` computes, and that interval and the next poll time are written to state, so a restart
resumes the schedule instead of polling every feed at once.

Signals: SIGTERM/SIGINT stop new polls, let in-flight articles finish for `daemon.shutdown_grace`, drop the
queued ones (their feeds are fetched in full on the next start), write state and exit 0. SIGHUP reloads the
configuration: feeds added, removed and changed are applied at once; a broken file is refused and the running
configuration stays.
"""
from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .config import FeedSpec, Settings, load_config
from .errors import ConfigError, HTTPStatusError
from .metrics import Metrics
from .pipeline import Pipeline, feed_label
from .schedule import Bounds, PollOutcome, jitter_for, next_interval, startup_delay

log = logging.getLogger("crawler")

# Sections that the running daemon cannot swap (its HTTP client, database and archive are open).
_RESTART_SECTIONS = ("archive", "state", "network", "extract", "daemon", "dedup", "enrich")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Daemon:
    def __init__(self, settings: Settings, config_path: Path, pipeline: Pipeline, metrics: Metrics):
        self.settings = settings
        self.config_path = config_path
        self.pipeline = pipeline
        self.metrics = metrics
        self.feeds: dict[str, FeedSpec] = {f.url: f for f in settings.feeds if f.enabled}
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc, job_defaults={
            "max_instances": 1, "coalesce": True, "misfire_grace_time": None})
        self._polls: set[asyncio.Task] = set()
        self._stop = asyncio.Event()
        self._stopping = False

    # --- lifecycle --------------------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        self.scheduler.start()
        self._schedule_all(list(self.feeds.values()))
        log.info("daemon started: %d feeds; SIGTERM/SIGINT stop, SIGHUP reloads %s", len(self.feeds),
                 self.config_path)
        try:
            await self._stop.wait()
            await self._shutdown()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)

    def request_stop(self, why: str = "stop requested") -> None:
        if not self._stop.is_set():
            log.info("%s: stopping", why)
            self._stop.set()

    async def _shutdown(self) -> None:
        self._stopping = True
        self.metrics.healthy = False
        self.scheduler.pause()  # no new polls; running ones are our tasks, not the scheduler's to cancel
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.daemon.shutdown_grace
        if self._polls:
            _, late = await asyncio.wait(set(self._polls), timeout=self.settings.daemon.shutdown_grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self.pipeline.drain()
        if not await self.pipeline.wait_settled(timeout=max(0.0, deadline - loop.time())):
            log.warning("articles still in flight after %gs; they are left for the next start",
                        self.settings.daemon.shutdown_grace)
        self.scheduler.shutdown(wait=False)
        log.info("daemon stopped: %s", self.pipeline.stats.summary())

    # --- scheduling -------------------------------------------------------------------------------------

    def _bounds(self, feed: FeedSpec) -> Bounds:
        d = self.settings.daemon
        return Bounds.for_feed(feed.interval, d.min_interval, d.max_interval)

    def _schedule_all(self, feeds: list[FeedSpec]) -> None:
        """Jobs for `feeds`: at the time state says they are due, staggered when that is already past."""
        now = _utc_now()
        states = {s.url: s for s in self.pipeline.store.all_feed_states()}
        due_now = []
        for feed in feeds:
            state = states.get(feed.url)
            interval = self._bounds(feed).clamp(state.interval_seconds or feed.interval) if state else feed.interval
            due = datetime.fromisoformat(state.next_poll_at) if state and state.next_poll_at else None
            if due is None or due <= now:
                due_now.append((feed, interval))
            else:
                self._add_job(feed, interval, due)
        for i, (feed, interval) in enumerate(due_now):
            delay = startup_delay(i, len(due_now), interval, self.settings.daemon.startup_spread)
            self._add_job(feed, interval, now + timedelta(seconds=delay))

    def _trigger(self, interval: float) -> IntervalTrigger:
        return IntervalTrigger(seconds=interval, jitter=jitter_for(interval, self.settings.daemon.jitter),
                               timezone=timezone.utc)

    def _add_job(self, feed: FeedSpec, interval: float, first_run: datetime) -> None:
        # Only the URL goes into the job (picklable, as a persistent job store would need); the spec is looked
        # up at run time, so a reload that changes a feed needs no new job.
        self.scheduler.add_job(self._poll_job, self._trigger(interval), args=[feed.url], id=feed.url,
                               name=feed.name, next_run_time=first_run, replace_existing=True)

    async def _poll_job(self, url: str) -> None:
        feed = self.feeds.get(url)
        if feed is None or self._stopping:
            return
        task = asyncio.current_task()
        self._polls.add(task)
        try:
            before = self.pipeline.store.feed_state(url)
            result = await self.pipeline.poll(feed, wait=False)
            after = self.pipeline.store.feed_state(url)
            retry_after = result.error.retry_after if isinstance(result.error, HTTPStatusError) else None
            outcome = PollOutcome(ok=result.ok, new_articles=result.queued, failures_in_a_row=after.error_count,
                                  ttl_seconds=result.ttl_seconds, headers=result.headers, retry_after=retry_after)
            interval = next_interval(before.interval_seconds or feed.interval, feed.interval, self._bounds(feed),
                                     outcome, failed_before=before.error_count > 0)
            if self._stopping or url not in self.feeds:
                return
            job = self.scheduler.reschedule_job(url, trigger=self._trigger(interval))
            self.pipeline.store.record_schedule(url, interval_seconds=interval,
                                                next_poll_at=job.next_run_time.isoformat(timespec="seconds"))
            log.debug("%s: next poll in %.0fs", feed_label(feed), interval)
        except asyncio.CancelledError:
            return  # cut off by shutdown after its grace period: nothing was half-written, the feed is polled next start
        finally:
            self._polls.discard(task)

    # --- reload -----------------------------------------------------------------------------------------

    def reload(self) -> None:
        try:
            new = load_config(self.config_path)
        except ConfigError as e:
            log.error("configuration reload refused, the running configuration stays: %s", e)
            return
        changed_sections = [s for s in _RESTART_SECTIONS if getattr(new, s) != getattr(self.settings, s)]
        if changed_sections:
            log.warning("configuration reload: %s changed; restart the daemon to apply that (feeds are applied now)",
                        ", ".join(changed_sections))
        wanted = {f.url: f for f in new.feeds if f.enabled}
        removed = [url for url in self.feeds if url not in wanted]
        added = [f for url, f in wanted.items() if url not in self.feeds]
        changed = [f for url, f in wanted.items() if url in self.feeds and f != self.feeds[url]]
        for url in removed:
            self.scheduler.remove_job(url)
            del self.feeds[url]
        for feed in changed:
            old = self.feeds[feed.url]
            self.feeds[feed.url] = feed
            if feed.interval != old.interval:
                self.scheduler.reschedule_job(feed.url, trigger=self._trigger(feed.interval))
        for feed in added:
            self.feeds[feed.url] = feed
        self._schedule_all(added)
        self.settings = self.settings.model_copy(update={"feeds": new.feeds})
        log.info("configuration reloaded from %s: %d feeds added, %d removed, %d changed", self.config_path,
                 len(added), len(removed), len(changed))
