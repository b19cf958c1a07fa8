"""`crawler once`: poll every enabled feed one time, archive what is new, report, exit."""
from __future__ import annotations

import asyncio
import logging
from typing import Sequence

from ..config import FeedSpec, Settings
from ..pipeline import RunStats, open_pipeline
from . import EXIT_FAILURES, EXIT_OK
from .common import select_feeds, settings_from

log = logging.getLogger("crawler")


async def run_once(settings: Settings, feeds: Sequence[FeedSpec]) -> RunStats:
    async with open_pipeline(settings) as pipeline:
        await asyncio.gather(*(pipeline.poll(feed) for feed in feeds))
        return pipeline.stats


def run(args) -> int:
    settings = settings_from(args)
    feeds = select_feeds(settings, args.feed)
    if not feeds:
        log.warning("%s lists no enabled feeds; nothing to do", args.config)
        return EXIT_OK
    stats = asyncio.run(run_once(settings, feeds))
    print(f"crawler once: {stats.summary()}", flush=True)
    return EXIT_FAILURES if stats.feeds_failed or stats.write_errors else EXIT_OK
