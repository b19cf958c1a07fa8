"""The values the stages hand to each other: small, frozen, picklable (they cross into the extraction pool).

fetch ──Fetched──► feeds ──ParsedFeed/FeedEntry──► extract ──Extracted──► pipeline ──Article──► archive
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Mapping

CategoryPath = tuple[str, str, str]
"""(category, source, feed name): the archive's folders and the post's `categories` entry."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful HTTP response (200, or 304 for a conditional request), body already capped and decoded
    from its Content-Encoding."""

    url: str
    """Final URL, after redirects."""
    status: int
    headers: Mapping[str, str]
    """Lower-case header names."""
    body: bytes
    fetched_at: datetime
    """Aware UTC time the response arrived."""
    permanent_redirect: bool = False
    """Every redirect hop was permanent (301/308): callers may remember `url` instead of the one asked for."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed, with values as the feed gave them (links absolute, dates aware)."""

    guid: str | None
    link: str | None
    title: str | None
    published: datetime | None
    updated: datetime | None
    author: str | None
    summary_html: str | None
    content_html: str | None
    """Full text, when the feed carries it (content:encoded, Atom content, JSON Feed content_html, or a long
    RSS description)."""
    image: str | None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    link: str | None
    entries: tuple[FeedEntry, ...]
    next_url: str | None = None
    """RFC 5005 `next` / JSON Feed `next_url`, for paging back in time."""
    ttl_seconds: int | None = None
    warnings: tuple[str, ...] = ()
    """Recoverable problems (malformed XML, entities refused...): the entries that could be read are kept."""


@dataclass(frozen=True, slots=True)
class ExtractRules:
    """Refinements of article extraction for one page: a site rule's and the feed's, merged (`extract.rules`)."""

    article_selector: str | None = None
    """CSS selector of the node holding the article; the rest of the page is ignored."""
    drop_selectors: tuple[str, ...] = ()
    """CSS selectors of nodes removed before extraction (promo blocks, share bars...)."""
    date_selector: str | None = None
    """CSS selector of the element giving the publication date (its datetime/content attribute or text)."""
    author_selector: str | None = None
    """CSS selector of the element(s) naming the author; labels such as "作者：" and "By" are removed."""
    image_selector: str | None = None
    """CSS selector of the lead image (an <img>, a <meta> with content, or an element holding an <img>)."""
    encoding: str | None = None
    """Encoding of the page, overriding what the server and the page declare (for sites that lie)."""


@dataclass(frozen=True, slots=True)
class Extracted:
    """What extraction found on a page (or in a feed's content). Every field but `body` may be missing."""

    body: str
    """The article in Markdown, boilerplate removed."""
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    image: str | None = None
    canonical_url: str | None = None
    tags: tuple[str, ...] = ()


ExtractedFrom = Literal["page", "feed"]


@dataclass(frozen=True, slots=True)
class Article:
    """An article ready to archive: metadata merged (feed → page → heuristics), body final."""

    link: str
    """Canonical URL."""
    title: str
    published: datetime
    """Aware, in the publisher's UTC offset."""
    author: str | None
    source: str
    image: str | None
    body: str
    extracted_from: ExtractedFrom
    feed_url: str
    category_path: CategoryPath
    guid: str | None = None
    tags: tuple[str, ...] = ()
    urls: tuple[str, ...] = field(default=())
    """Every URL known to name this article (feed link variants, final URL after redirects, canonical)."""
    tickers: tuple[str, ...] = ()
    """Securities the title and body name, normalised (`600519.SH`, `00700.HK`, `AAPL`), sorted; see enrich."""
    companies: tuple[str, ...] = ()
    """Company names as the text wrote them, one per security found through the name table."""
