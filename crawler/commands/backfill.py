"""`crawler backfill`: archive the history behind feeds (their older pages), sitemaps and URL lists, through
the same pipeline as `once`; resumable (see crawler/backfill.py)."""
from __future__ import annotations

import asyncio
import logging
import re
import sys
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator
from zoneinfo import ZoneInfo

from ..archive.writer import BACKFILL_LOCK_NAME
from ..backfill import Backfill, BackfillStats, Plan, Progress, Window
from ..config import Settings, parse_duration
from ..errors import ConfigError
from ..pipeline import RunStats, open_pipeline
from . import EXIT_FAILURES, EXIT_OK
from .common import parse_moment, select_feeds, settings_from

log = logging.getLogger("crawler")

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(\S+))?\s*$")
_RATE_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0,
               "hour": 3600.0}


def parse_when(text: str, zone: ZoneInfo, now: datetime, *, end_of_day: bool) -> datetime:
    """A --since/--until value: a duration back from now (`30d`, `12h`), a date (`2024-01-31`: its first
    second, or with `end_of_day` its last) or a date and time; without an offset, in `zone`."""
    text = text.strip()
    when = parse_moment(text, zone, now, end_of_day=end_of_day)
    if when is None:
        raise ConfigError(f"backfill: {text!r} is neither a date (2024-01-31), a date and time "
                          "(2024-01-31T08:00) nor a duration back from now (30d, 12h)")
    return when


def parse_rate(text: str) -> float:
    """Seconds between two requests to one host from `1/s`, `30/m`, `1/5s`, `0.5` (per second)."""
    m = _RATE.match(text)
    if m:
        unit = (m.group(2) or "s").lower()
        per = _RATE_UNITS.get(unit)
        if per is None:
            try:
                per = parse_duration(unit)
            except ValueError:
                per = 0.0
        count = float(m.group(1))
        if per > 0 and count > 0:
            return per / count
    raise ConfigError(f"backfill: --rate {text!r}: write it as requests per time, e.g. 1/s, 30/m or 1/5s")


def plan_from(args, settings: Settings) -> Plan:
    """The Plan the options describe; ConfigError (exit 2) for options that do not fit together."""
    explicit = [s for s in args.sitemap if s != "auto"]
    discover = "auto" in args.sitemap
    if args.all and args.feed:
        raise ConfigError("backfill: --all and --feed exclude each other")
    if not (args.all or args.feed or args.sitemap or args.urls):
        raise ConfigError("backfill: say what to backfill: --all, --feed NAME, --sitemap URL or --urls FILE")
    if args.urls.count("-") > 1:
        raise ConfigError("backfill: standard input (--urls -) can be read once only")
    for path in args.urls:
        if path != "-" and not Path(path).is_file():
            raise ConfigError(f"backfill: --urls {path}: no such file")
    for url in explicit:
        if not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
            raise ConfigError(f"backfill: --sitemap {url!r} is not an http(s) URL (or 'auto')")
    assign_to = None
    if explicit or args.urls:
        if len(args.feed) > 1:
            raise ConfigError("backfill: with --urls or --sitemap URL, name one --feed: the feed their "
                              "articles are filed under")
        if args.feed:
            assign_to = select_feeds(settings, args.feed)[0]
    if args.all:
        feeds = select_feeds(settings, [])
    elif args.feed and not assign_to:
        feeds = select_feeds(settings, args.feed)
    else:
        feeds = []
    if discover and not feeds:
        raise ConfigError("backfill: --sitemap auto reads the sitemaps of the sites of the feeds walked: "
                          "add --all or --feed NAME (without --urls or another --sitemap)")
    zone, now = settings.archive.zone, datetime.now(timezone.utc)
    since = parse_when(args.since, zone, now, end_of_day=False) if args.since else None
    until = parse_when(args.until, zone, now, end_of_day=True) if args.until else None
    if since and until and since > until:
        raise ConfigError(f"backfill: --since {args.since} is after --until {args.until}")
    return Plan(feeds=tuple({feed.url: feed for feed in feeds}.values()), sitemaps=tuple(dict.fromkeys(explicit)),
                url_lists=tuple(dict.fromkeys(args.urls)),
                assign_to=assign_to, discover_sitemaps=discover, window=Window(since, until),
                max_pages=args.pages, dry_run=args.dry_run,
                rate_interval=parse_rate(args.rate) if args.rate else None)


@asynccontextmanager
async def _dry_run_backfill(settings: Settings, plan: Plan, progress: Progress) -> AsyncIterator[Backfill]:
    """Without the archive lock, pipeline or writes: the state is only read, checkpoints go to a scratch
    database in memory."""
    from ..extract.pool import ExtractionPool
    from ..fetch import Fetcher
    from ..state.store import Store, database_missing

    scratch = Store("sqlite:///:memory:")
    # No state yet: nothing is archived, and a dry run does not create the database.
    store = scratch if database_missing(settings.state.database_url) else Store(settings.state.database_url)
    try:
        with ExtractionPool(settings.extract.workers) as pool:
            async with Fetcher(settings.network) as fetcher:
                yield Backfill(settings, plan, store, fetcher, pool, None, scratch, progress)
    finally:
        scratch.close()
        store.close()


async def run_backfill(settings: Settings, plan: Plan, progress: Progress) -> tuple[BackfillStats, RunStats]:
    if plan.dry_run:
        async with _dry_run_backfill(settings, plan, progress) as backfill:
            return await backfill.run(), RunStats()
    async with open_pipeline(settings, lock_name=BACKFILL_LOCK_NAME) as pipeline:
        backfill = Backfill(settings, plan, pipeline.store, pipeline.fetcher, pipeline.pool, pipeline,
                            pipeline.store, progress)
        return await backfill.run(), pipeline.stats


def summary(stats: BackfillStats, articles: RunStats, dry_run: bool) -> str:
    sources = f"{stats.sources_ok} sources ok, {stats.sources_failed} failed"
    read = f"{stats.pages} feed pages, {stats.sitemaps} sitemaps read" + (
        f", {stats.document_failures} unreadable" if stats.document_failures else "")
    if dry_run:
        return (f"crawler backfill (dry run): {sources}; {read}; {stats.listed} articles would be fetched, "
                f"{stats.already_archived} already archived")
    return (f"crawler backfill: {sources}; {read}; {articles.archived} new articles, "
            f"{articles.known + stats.already_archived} already archived, {articles.duplicates} duplicates "
            f"skipped, {articles.failed} article failures"
            + (f", {articles.write_errors} archive write errors" if articles.write_errors else ""))


def run(args) -> int:
    settings = settings_from(args)
    plan = plan_from(args, settings)
    if not (plan.feeds or plan.sitemaps or plan.url_lists):
        log.warning("%s lists no enabled feeds; nothing to do", args.config)
        return EXIT_OK
    tty = sys.stderr.isatty() and args.log_format == "text"
    progress = Progress(enabled=not args.quiet, tty=tty)
    stats, articles = asyncio.run(run_backfill(settings, plan, progress))
    # A dry run's list is on stdout, for pipes: its summary goes with the log.
    print(summary(stats, articles, plan.dry_run), file=sys.stderr if plan.dry_run else sys.stdout, flush=True)
    failed = stats.sources_failed or stats.document_failures or articles.write_errors
    return EXIT_FAILURES if failed else EXIT_OK
