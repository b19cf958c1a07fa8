"""`crawler extract URL|FILE`: one page through the archiver's own extraction, printed instead of archived.

How users check what the crawler makes of a site and write a site rule. A URL is fetched with the real
Fetcher and the configuration's network settings (robots.txt, limits, proxy); a file is read as if served
from `--url`. Then exactly what the archiver runs: the site rules for the final URL under the feed's keys,
extraction in a worker process, the metadata merge, the securities lookup, and the post as it would be
written (or, with --json, its fields and the rules that applied). Nothing is written to the archive or the
state database.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from ..archive.frontmatter import render_post
from ..config import FeedSpec, Settings
from ..enrich import load_companies
from ..errors import ConfigError, ExtractionError
from ..extract.pool import ExtractionPool
from ..extract.rules import ResolvedRules, configured_site_rules
from ..fetch import Fetcher
from ..metadata import assemble
from ..models import Article, FeedEntry, Fetched
from ..pipeline import extract_fetched_page
from . import EXIT_OK
from .common import select_feeds, settings_from

log = logging.getLogger("crawler")

# The category of a post previewed without --feed (a feed gives the real category path).
PREVIEW_CATEGORY = "Uncategorized"


def run(args) -> int:
    settings = settings_from(args)
    target = args.target
    is_url = urlsplit(target).scheme in ("http", "https")
    if is_url and args.url:
        raise ConfigError("--url names where a FILE was served from; give either a URL or a FILE with --url")
    url = target if is_url else args.url or Path(target).resolve().as_uri()
    feed = select_feeds(settings, [args.feed])[0] if args.feed else _preview_feed(url)
    article, applied = asyncio.run(_extract(settings, feed, target if is_url else None, Path(target), url))
    if args.json:
        print(json.dumps(_as_json(article, applied), ensure_ascii=False, indent=2))
    else:
        print(render_post(article, [article.category_path], settings.archive.zone), end="")
    return EXIT_OK


async def _extract(settings: Settings, feed: FeedSpec, page_url: str | None, file: Path, url: str
                   ) -> tuple[Article, ResolvedRules]:
    site_rules = configured_site_rules(settings.extract.sites)
    fetched = await _fetch(settings, feed, page_url) if page_url else _read(file, url)
    with ExtractionPool(1) as pool:
        extracted = await extract_fetched_page(pool, site_rules, feed, fetched)
        entry = FeedEntry(guid=None, link=page_url or url, title=None, published=None, updated=None, author=None,
                          summary_html=None, content_html=None, image=None)
        article = assemble(feed, entry, extracted, extracted_from="page", final_url=fetched.url,
                           fetched_at=fetched.fetched_at)
        if feed.enrich:
            article = await _with_securities(pool, settings, article)
    return article, site_rules.resolve(fetched.url, feed.rules, feed.name)


async def _fetch(settings: Settings, feed: FeedSpec, url: str) -> Fetched:
    async with Fetcher(settings.network) as fetcher:
        return await fetcher.via(feed.proxy).fetch_page(url)


def _read(file: Path, url: str) -> Fetched:
    try:
        body = file.read_bytes()
    except OSError as error:
        raise ConfigError(f"{file}: cannot read the page: {error.strerror or error} (give a URL or a file)") from None
    # Served as HTML without a charset: the page's own declaration and the bytes decide, as for a server that
    # names none.
    return Fetched(url=url, status=200, headers={"content-type": "text/html"}, body=body,
                   fetched_at=datetime.now(timezone.utc))


async def _with_securities(pool: ExtractionPool, settings: Settings, article: Article) -> Article:
    try:
        found = await pool.analyse(article.title, article.body, load_companies(settings.enrich.companies),
                                   settings.dedup.min_near_chars, article.link)
    except ExtractionError as error:
        log.warning("%s: securities not looked up (%s)", article.link, error.reason)
        return article
    return replace(article, tickers=found.securities.tickers, companies=found.securities.companies)


def _preview_feed(url: str) -> FeedSpec:
    """A stand-in for the feed when none is named: the page's site as source and feed name, the page as the
    feed (built as is: a file's URL is no feed URL the configuration would accept)."""
    host = urlsplit(url).hostname or Path(urlsplit(url).path).name
    return FeedSpec.model_construct(url=url, name=host, source=host, category=PREVIEW_CATEGORY)


def _as_json(article: Article, applied: ResolvedRules) -> dict:
    return {
        "title": article.title,
        "author": article.author,
        "published": article.published.isoformat(),
        "image": article.image,
        "tags": list(article.tags),
        "link": article.link,
        "extracted_from": article.extracted_from,
        "rules_applied": list(applied.applied),
        "body": article.body,
    }
