"""`crawler once`: poll every enabled feed one time, archive what is new, report, exit."""
from __future__ import annotations

import asyncio
from typing import Sequence

from .config import FeedSpec, Settings
from .pipeline import RunStats, open_pipeline


async def run_once(settings: Settings, feeds: Sequence[FeedSpec]) -> RunStats:
    async with open_pipeline(settings) as pipeline:
        await asyncio.gather(*(pipeline.poll(feed) for feed in feeds))
        return pipeline.stats
