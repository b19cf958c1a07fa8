"""One article from what the feed said and what extraction found.

Precedence, field by field: the feed entry first (the publisher wrote it for machines: exact title, date
with offset, author), then the page's metadata and extraction heuristics (`Extracted`), then fallbacks.
The canonical link is the exception: the page's `rel=canonical` names the article better than a feed
link with tracking parameters, as long as it points at the same site.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from .archive.frontmatter import clean_title
from .config import FeedSpec
from .extract.bylines import clean_author
from .models import Article, Extracted, ExtractedFrom, FeedEntry
from .urls import canonical_url

# Publishers' clocks run a little ahead; beyond this a date "from the future" is wrong and the fetch time wins.
CLOCK_SKEW = timedelta(minutes=10)


def _site(host: str) -> str:
    host = (host or "").lower().split(":")[0]
    for prefix in ("www.", "m.", "wap.", "amp."):
        host = host.removeprefix(prefix)
    return host


def choose_link(page_canonical: str | None, final_url: str | None, entry_link: str | None) -> str:
    """rel=canonical when it names a real page on the same site (not the home page), else the URL we landed on."""
    landed = final_url or entry_link
    if page_canonical and landed:
        c, l = urlsplit(page_canonical), urlsplit(landed)
        if c.scheme in ("http", "https") and _site(c.netloc) == _site(l.netloc) and c.path not in ("", "/"):
            return canonical_url(page_canonical)
    if landed:
        return canonical_url(landed)
    raise ValueError("an article needs a URL")


def clamp_date(published: datetime | None, fetched_at: datetime) -> datetime | None:
    if published is None or published > fetched_at + CLOCK_SKEW:
        return None
    return published


def choose_title(feed_title: str | None, page_title: str | None) -> str | None:
    """The feed entry's title, else the page's. A title of nothing but control or bidi characters is no title:
    it would be empty in the post."""
    return next((t for t in (feed_title, page_title) if t and clean_title(t)), None)


def assemble(feed: FeedSpec, entry: FeedEntry, extracted: Extracted, *, extracted_from: ExtractedFrom,
             final_url: str | None, fetched_at: datetime) -> Article:
    link = choose_link(extracted.canonical_url if extracted_from == "page" else None, final_url, entry.link)
    published = (clamp_date(entry.published, fetched_at) or clamp_date(extracted.published, fetched_at)
                 or clamp_date(entry.updated, fetched_at) or fetched_at)
    urls = {canonical_url(u) for u in (entry.link, final_url, link) if u}
    return Article(
        link=link,
        title=choose_title(entry.title, extracted.title) or link,
        published=published,
        author=clean_author(entry.author) or extracted.author,
        source=feed.source,
        image=entry.image or extracted.image,
        body=extracted.body,
        extracted_from=extracted_from,
        feed_url=feed.url,
        category_path=feed.category_path,
        guid=entry.guid,
        tags=entry.tags,
        urls=tuple(sorted(urls)),
    )
