"""`crawler refresh --since 2d [--feed NAME]`: fetch recent archived articles again and rewrite those whose
title or body changed (each rewrite sets `updated` and counts a revision; an unchanged article is not
touched)."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Iterator, Sequence

from ..config import FeedSpec, Settings
from ..models import FeedEntry
from ..pipeline import RunStats, open_pipeline
from ..state.store import StoredArticle
from . import EXIT_FAILURES, EXIT_OK
from .common import select_feeds, settings_from
from .grep import parse_since

log = logging.getLogger("crawler")
# `published` is stored with the publisher's own offset, so its text sorts by local time: a window this much
# wider in text is then narrowed on the parsed times.
_WIDEST_OFFSET = timedelta(hours=14)


def entries_to_refresh(articles: Iterator[StoredArticle], feed: FeedSpec, since: datetime) -> Iterator[FeedEntry]:
    """The feed's articles published since `since`, as entries that name them by link and GUID. The archived
    title and date are kept (a page's title may be worded unlike the feed's): a refresh looks for edits of
    the body."""
    for article in articles:
        published = datetime.fromisoformat(article.published)
        if article.feed != feed.url or published < since:
            continue
        yield FeedEntry(guid=article.guid, link=article.link, title=article.title, published=published,
                        updated=None, author=None, summary_html=None, content_html=None, image=None)


async def refresh(settings: Settings, feeds: Sequence[FeedSpec], since: datetime) -> RunStats:
    earliest = (since - _WIDEST_OFFSET).isoformat(timespec="seconds")
    async with open_pipeline(settings) as pipeline:
        store = pipeline.store
        await asyncio.gather(*(
            pipeline.archive_entries(feed, entries_to_refresh(store.articles_published_since(earliest), feed, since),
                                     refresh=True)
            for feed in feeds if feed.fetch_pages
        ))
        return pipeline.stats


def run(args) -> int:
    settings = settings_from(args)
    feeds = select_feeds(settings, args.feed)
    since = parse_since(args.since, datetime.now(timezone.utc), settings.archive.zone)
    skipped = [f.name for f in feeds if not f.fetch_pages]
    if skipped:
        log.warning("not refreshed (their articles come from the feed's text, not pages): %s", ", ".join(skipped))
    stats = asyncio.run(refresh(settings, feeds, since))
    print(f"crawler refresh: {stats.revised} articles revised, {stats.known} unchanged, {stats.failed} failed",
          flush=True)
    return EXIT_FAILURES if stats.write_errors else EXIT_OK
