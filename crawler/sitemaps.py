"""Sitemaps (sitemaps.org) → the sitemaps an index lists, or the article URLs a urlset lists, with their dates
and Google News fields (`news:title`, `news:publication_date`, `news:publication/news:name`).

Pure functions over the bytes we fetched, made for documents nobody checked:

- gzip files (`sitemap.xml.gz`, served as application/gzip rather than with a Content-Encoding) are inflated
  here, never beyond the cap: like `fetch/body.py`, we ask zlib for at most one byte more than fits;
- XML goes to lxml without DTD loading, entity expansion or network access: a billion-laughs document stays
  small and an external entity is never read; element names are matched without their namespace, as many
  sitemaps get it wrong;
- a truncated or malformed sitemap keeps the entries that could be read whole, with a warning;
- at most `MAX_ENTRIES` entries per document (the protocol's limit) and only http(s) URLs of at most
  `MAX_URL_LENGTH` characters; the rest is skipped with a warning;
- a plain-text sitemap (one URL a line) is read too; a feed offered as a sitemap (the protocol allows RSS and
  Atom) comes back as kind "feed" for the caller's feed parser.
"""
from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Iterator, Literal
from urllib.parse import urljoin, urlsplit

from lxml import etree

from .dates import parse_date, zone_for_text
from .errors import CrawlerError

MAX_ENTRIES = 50_000
"""Entries read from one sitemap document: the sitemap protocol's limit."""
MAX_URL_LENGTH = 2048
"""Longest URL the sitemap protocol allows."""

_FEED_ROOTS = frozenset({"rss", "feed", "RDF"})
_GZIP_MAGIC = b"\x1f\x8b"
_SPACE = re.compile(r"\s+")
_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|&#(?:0*(?:[0-8]|1[124-9]|2\d|3[01])|[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]));")
_ROOT_END = re.compile(rb"</(?:[\w.-]+:)?(?:urlset|sitemapindex)\s*>\s*$")

Kind = Literal["index", "urlset", "text", "feed"]


class SitemapError(CrawlerError):
    """The document is no sitemap we can read (an HTML page, a corrupt gzip file, an empty body...)."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SitemapRef:
    """A sitemap that an index lists."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True, slots=True)
class SitemapUrl:
    """A page that a urlset lists."""

    url: str
    lastmod: datetime | None = None
    title: str | None = None
    """news:title."""
    published: datetime | None = None
    """news:publication_date."""
    publication: str | None = None
    """news:publication/news:name: the publisher."""

    @property
    def date(self) -> datetime | None:
        """The date a --since/--until window is applied to: publication, else last modification."""
        return self.published or self.lastmod


@dataclass(frozen=True, slots=True)
class Sitemap:
    kind: Kind
    sitemaps: tuple[SitemapRef, ...] = ()
    urls: tuple[SitemapUrl, ...] = ()
    warnings: tuple[str, ...] = ()


def inflate(body: bytes, url: str, max_bytes: int) -> bytes:
    """`body`, gunzipped when it is a gzip file; at most `max_bytes` (raise SitemapError beyond)."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as e:
        raise SitemapError(url, f"corrupt gzip file ({e})") from None
    if len(out) > max_bytes:
        raise SitemapError(url, f"inflates to more than {max_bytes:,} bytes; raise backfill.max_sitemap_bytes "
                                "if this is expected")
    if not inflater.eof:
        raise SitemapError(url, "the gzip file is truncated")
    return out


def parse_sitemap(body: bytes, url: str, max_bytes: int, default_tz: tzinfo = timezone.utc) -> Sitemap:
    """Read a sitemap index, urlset or text sitemap (gzipped or not). `default_tz` is the zone of dates
    written without one (a news title in Chinese makes it China's)."""
    body = inflate(body, url, max_bytes)
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        raise SitemapError(url, "the server returned an empty body, not a sitemap")
    if not start.startswith(b"<"):
        return _text_sitemap(start, url)
    return _xml_sitemap(body, url, default_tz)


# --- XML ------------------------------------------------------------------------------------------------


def _local(tag: object) -> str | None:
    """Element name without namespace; None for comments and processing instructions."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else None


def _xml_sitemap(body: bytes, url: str, default_tz: tzinfo) -> Sitemap:
    # Characters XML forbids (a NUL in a title) would send the parser into recovery, which mangles what
    # follows (it drops `&quot;`): they go first. Bytes below 0x20 are never part of a multi-byte character
    # in UTF-8, GBK or GB18030.
    body, removed = _FORBIDDEN.subn(b"", body)
    events = etree.iterparse(io.BytesIO(body), events=("start", "end"), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False, recover=True, remove_comments=True, remove_pis=True)
    reader = _Reader(url, default_tz)
    if removed:
        reader.warnings.append(f"removed {_count(removed, 'control character', 'control characters')} that XML "
                               "does not allow")
    kind: Kind | None = None
    root = None
    try:
        for event, element in events:
            if root is None:
                root, name = element, _local(element.tag)
                if name in _FEED_ROOTS:
                    return Sitemap("feed")
                if name not in ("urlset", "sitemapindex"):
                    raise SitemapError(url, _not_a_sitemap(name))
                kind = "index" if name == "sitemapindex" else "urlset"
                continue
            if event != "end" or element.getparent() is not root:
                continue
            reader.read(element)
            # Free what was read: memory stays that of one entry, however long the document.
            element.clear()
            while element.getprevious() is not None:
                del root[0]
            if reader.full:
                break
    except etree.XMLSyntaxError as e:
        if root is None:
            raise SitemapError(url, f"not XML we can read ({e.msg})") from None
        reader.warnings.append(f"malformed XML ({e.msg}); the entries before it are kept")
    if root is None or kind is None:
        raise SitemapError(url, "not XML we can read")
    fatal = [error for error in events.error_log if error.level_name == "FATAL"]
    if fatal:
        if not _ROOT_END.search(body[-256:]):  # cut off: the entry read last may end mid-URL
            reader.drop_last()
        first = fatal[0]
        reader.warnings.append(f"malformed or truncated XML (line {first.line}: {first.message.strip()}); "
                               "the entries read whole are kept")
    return reader.sitemap(kind)


def _not_a_sitemap(root: str | None) -> str:
    if root and root.lower() in ("html", "head", "body"):
        return "the server returned an HTML page, not a sitemap; check the sitemap URL"
    return f"not a sitemap: the document is <{root}>, not <urlset> or <sitemapindex>"


class _Reader:
    """Entries of one sitemap, as its elements end."""

    def __init__(self, url: str, default_tz: tzinfo):
        self.url = url
        self.default_tz = default_tz
        self.refs: list[SitemapRef] = []
        self.urls: list[SitemapUrl] = []
        self.warnings: list[str] = []
        self.skipped = 0
        self.full = False

    def read(self, element) -> None:
        name = _local(element.tag)
        if name not in ("url", "sitemap"):
            return
        fields = _fields(element)
        link = _http_url(fields.get("loc"), self.url)
        if link is None:
            self.skipped += 1
            return
        lastmod = parse_date(fields.get("lastmod"), self.default_tz)
        if name == "sitemap":
            self.refs.append(SitemapRef(link, lastmod))
        else:
            title = _clean(fields.get("title"))
            zone = zone_for_text(title, self.default_tz) if title else self.default_tz
            self.urls.append(SitemapUrl(link, lastmod, title, parse_date(fields.get("publication_date"), zone),
                                        _clean(fields.get("name"))))
        if len(self.refs) + len(self.urls) >= MAX_ENTRIES:
            self.full = True
            self.warnings.append(f"more than {MAX_ENTRIES:,} entries (the sitemap protocol's limit); "
                                 "the rest are ignored")

    def drop_last(self) -> None:
        if self.urls:
            self.urls.pop()
        elif self.refs:
            self.refs.pop()

    def sitemap(self, kind: Kind) -> Sitemap:
        if self.skipped:
            self.warnings.append(f"{_count(self.skipped, 'entry', 'entries')} skipped: no http(s) URL of at most "
                                 f"{MAX_URL_LENGTH} characters in <loc>")
        return Sitemap(kind, tuple(self.refs), tuple(self.urls), tuple(self.warnings))


def _fields(entry) -> dict[str, str]:
    """loc and lastmod of a <url>/<sitemap>, and the Google News fields under its <news:news>. An element
    holding child elements where text belongs (an unexpanded entity) counts as missing."""
    out: dict[str, str] = {}
    for child in entry:
        name = _local(child.tag)
        if name in ("loc", "lastmod") and len(child) == 0:
            out[name] = child.text or ""
        elif name == "news":
            for item in child.iter():
                item_name = _local(item.tag)
                if item_name in ("title", "publication_date", "name") and len(item) == 0:
                    out.setdefault(item_name, item.text or "")
    return out


def _http_url(raw: str | None, base: str) -> str | None:
    raw = (raw or "").strip()
    if not raw or len(raw) > MAX_URL_LENGTH:
        return None
    url = urljoin(base, raw)
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def _clean(text: str | None) -> str | None:
    return (_SPACE.sub(" ", text).strip() or None) if text else None


# --- text -----------------------------------------------------------------------------------------------


def _text_sitemap(body: bytes, url: str) -> Sitemap:
    urls: list[SitemapUrl] = []
    warnings: list[str] = []
    skipped = 0
    for number, line in enumerate(_lines(body), 1):
        link = _http_url(line, url) if "://" in line else None
        if link is None:
            if number == 1:
                raise SitemapError(url, "neither XML nor a list of URLs, so not a sitemap; check the sitemap URL")
            skipped += 1
            continue
        urls.append(SitemapUrl(link))
        if len(urls) >= MAX_ENTRIES:
            warnings.append(f"more than {MAX_ENTRIES:,} URLs (the sitemap protocol's limit); the rest are ignored")
            break
    if skipped:
        warnings.append(f"{_count(skipped, 'line', 'lines')} skipped: not an http(s) URL")
    return Sitemap("text", urls=tuple(urls), warnings=tuple(warnings))


def _lines(body: bytes) -> Iterator[str]:
    for raw in body.decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if line:
            yield line
