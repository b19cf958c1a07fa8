"""Feed documents → `ParsedFeed`: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1.0/1.1 by hand.

XML goes to feedparser only after we have made it safe and unambiguous:

- the bytes are decoded here (`decode`: BOM, HTTP charset, declaration, then detection, with GBK read as
  GB18030), re-encoded as UTF-8 with the declaration saying so, and handed over as a stream with a UTF-8
  content type: feedparser never guesses an encoding, never fetches a URL, never opens a file;
- the DOCTYPE is removed, internal subset and all, and references to the entities it declared are dropped:
  no entity is ever expanded (billion laughs) or read from a file or URL (XXE). HTML named entities
  (`&nbsp;`), which feeds use without declaring, become character references so the strict parser does
  not give up on them;
- characters XML forbids (NUL, other C0 controls) are removed for the same reason.

A document feedparser can only read leniently (bozo: truncated, mismatched tags) keeps the entries it
yields, with a warning. Dates come from the raw strings through `parse_date`: feedparser's own parsed
dates read `CST` as US Central and mangle Chinese dates.

Entry rules:

- link: the entry's alternate link (Atom rel=alternate, preferring HTML; RSS `<link>`), else its guid when
  that is an absolute http(s) URL (RSS permalink guid, RSS 1.0 rdf:about, Atom id, JSON id); resolved
  against the feed URL. An entry with neither is skipped with a warning: nothing downstream can archive it.
- published: pubDate, Atom published, JSON date_published; in RSS also dc:date, the publication date of
  RSS 1.0, which feedparser files under "updated". An Atom `updated` stays in `updated` only: the caller
  may know a better publication date (the page's) than a modification date.
- content_html: the full text when the feed carries it: content:encoded, Atom content, JSON content_html or
  content_text (escaped into paragraphs), or an RSS description that is clearly the whole article (see
  `_is_full_article`).
- relative URLs in an entry's HTML are resolved against the entry's link (else the feed URL): the HTML was
  written for the article page, and feeds served by a proxy such as RSSHub live on another host.
- duplicate guids: the first entry is kept, with a warning.
"""
from __future__ import annotations

import html
import io
import json
import re
import xml.sax
from dataclasses import dataclass, field
from datetime import timezone, tzinfo
from html.entities import html5
from typing import Any, Iterable, Mapping
from urllib.parse import urljoin, urlsplit

import feedparser

from .dates import parse_date, zone_for_text
from .errors import FeedError
from .fetch.decode import decode
from .models import FeedEntry, ParsedFeed

_HTML_PAGE = "the server returned an HTML page, not a feed; check the feed URL"

_FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
_HTML_ROOTS = frozenset({"html", "head", "body", "title", "meta", "link", "script", "style", "div", "p", "br",
                         "b", "span", "a", "table", "center", "pre", "h1", "h2", "h3", "form", "iframe"})
# How far into a document with a stray start (PHP warnings, a blank line of junk) we look for the feed.
_JUNK_WINDOW = 65_536

_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_DOCTYPE_OPENING = re.compile(r"\s*<!DOCTYPE\s", re.IGNORECASE)
# Possessive quantifiers: an unterminated declaration fails in linear time instead of backtracking.
_DOCTYPE = re.compile(r"""
    \s*<!DOCTYPE\s+(?P<name>[\w.:-]*)(?:[^\[>"']++|"[^"]*+"|'[^']*+')*+
    (?P<subset>\[(?:[^\]"'<]++|"[^"]*+"|'[^']*+'|<!--.*?-->|<(?!!--))*+\])?
    \s*>""", re.IGNORECASE | re.DOTALL | re.VERBOSE)
_ENTITY_DECLARATION = re.compile(r"<!ENTITY\s+([^\s%][^\s\"'>]*)")
_ROOT = re.compile(r"\s*(?P<tag><(?P<qname>(?:[\w.-]+:)?(?P<local>[A-Za-z_][\w.-]*)))")
_FIRST_CHARACTER = re.compile(r"\s*(\S)")
_FEED_START = re.compile(r"<(?:[\w.-]+:)?(?:rss|feed|RDF)(?=[\s>/])")
_XML_DECLARATION = re.compile(r"<\?xml\s.*?\?>", re.DOTALL)
_UTF8_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FORBIDDEN_CHAR_REFS = re.compile(r"&#(?:0*(?:[0-8]|1[124-9]|2\d|3[01])|[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]));")
_NAMED_REF = re.compile(r"&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z_][\w.-]*);")

_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_TAG_WITH_ATTRIBUTES = re.compile(r"<[A-Za-z][^<>]*>")
# Patterns over markup never cross a `<` and tolerate a missing closing quote, so that hostile HTML ("<img "
# a million times, unclosed quotes) is scanned once, not once per start tag.
_URL_ATTRIBUTE = re.compile(
    r"""(\s(?:href|src|poster|data-src|data-original)\s*=\s*)(?:"([^"]*)"?|'([^']*)'?|([^\s"'>]+))""", re.IGNORECASE)
_IMAGE_EXTENSION = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)(?:[?#]|$)", re.IGNORECASE)
_IMG_TAG = re.compile(r"<img\b[^<>]*>", re.IGNORECASE)
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HTTP_URL = re.compile(r"https?://", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"</p\s*>|</div\s*>|(?:<br\s*/?>\s*){2,}|\n\s*\n", re.IGNORECASE)
_TRUNCATION_MARK = re.compile(r"(?:\.{3}|…|阅读全文|查看全文|全文链接|read more|continue reading)[\W_]*$", re.IGNORECASE)
_AUTHOR_PREFIX = re.compile(r"^(?:by\s+|(?:作者|撰文|文|记者)\s*[:：/|｜]\s*)", re.IGNORECASE)
_MAIL_THEN_NAME = re.compile(r"(?:mailto:)?[^\s@()<>]+@[^\s()<>]+\s*\((?P<name>[^()]*)\)$")
_NAME_THEN_MAIL = re.compile(r"(?P<name>[^<>()]*?)\s*[<(](?:mailto:)?[^\s@()<>]+@[^\s()<>]+[>)]$")
_BLANK_LINE = re.compile(r"\n\s*\n")

# An RSS description counts as the whole article when its text is this long, or when it holds this many
# paragraphs of at least `_PARAGRAPH_CHARS`, and does not end like a teaser ("…", "阅读全文"). Lengths are
# weighted: a CJK character counts as two, as it carries about as much as two or three Latin letters.
_FULL_ARTICLE_CHARS = 400
_FULL_ARTICLE_PARAGRAPHS = 2
_PARAGRAPH_CHARS = 80
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


@dataclass
class _Warnings:
    """Problems met while reading one feed, each reported once."""

    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)


def parse_feed(body: bytes, url: str, content_type: str | None = None,
               default_tz: tzinfo | None = None) -> ParsedFeed:
    """Parse an RSS, Atom or JSON Feed document; raise `FeedError` when it is not one we can read.

    `default_tz` is the zone of dates written without offset; by default China's for a feed written mostly
    in Chinese, else UTC.
    """
    if not body or body.isspace():
        raise FeedError(url, "the server returned an empty body, not a feed")
    text, _ = decode(body, content_type)
    if _is_json(text, content_type):
        return _parse_json_feed(text, url, default_tz)
    return _parse_xml_feed(text, url, default_tz)


def _is_json(text: str, content_type: str | None) -> bool:
    first = _FIRST_CHARACTER.match(text)
    start = first[1] if first else ""
    return start == "{" or (start != "<" and "json" in (content_type or "").lower())


# --- XML feeds ------------------------------------------------------------------------------------------


def _parse_xml_feed(text: str, url: str, default_tz: tzinfo | None) -> ParsedFeed:
    warnings = _Warnings()
    xml_text = _safe_xml(text, url, warnings)
    # sanitize_html=False: feedparser's sanitizer drops lazy-loading attributes (data-src) and rewrites the
    # markup; scripts are removed where the HTML becomes Markdown. resolve_relative_uris=False: we resolve
    # against the entry's link, which is right for feeds served from another host (RSSHub). No
    # Content-Location either: feedparser would resolve bare guids against it ("12345" becoming
    # "https://host/rss/12345", a link to nothing and an identity that changes with the feed URL).
    try:
        result = feedparser.parse(io.BytesIO(xml_text.encode("utf-8")),
                                  response_headers={"content-type": "application/xml; charset=utf-8"},
                                  sanitize_html=False, resolve_relative_uris=False)
    except Exception as error:  # feedparser's handlers crash on some malformed input (a GeoRSS end tag alone)
        raise FeedError(url, f"the feed is too malformed to read ({type(error).__name__}: {error})") from error
    if not result.get("version") and not result.entries:
        raise FeedError(url, "the document is XML but holds no RSS or Atom feed")
    if result.bozo:
        warnings.add(f"the feed is not well-formed XML ({_describe(result.bozo_exception)}); "
                     f"read it leniently and kept the {_count(len(result.entries), 'entry')} found")
    feed = result.feed
    titles = [feed.get("title") or ""] + [entry.get("title") or "" for entry in result.entries[:50]]
    zone = default_tz or zone_for_text(" ".join(titles), timezone.utc)
    is_rss = (result.get("version") or "").startswith("rss")
    entries = _usable_entries((_xml_entry(entry, url, zone, is_rss) for entry in result.entries), warnings)
    return ParsedFeed(
        title=_plain_text(feed.get("title")),
        link=_absolute_http(feed.get("link"), url),
        entries=entries,
        next_url=_next_url(feed.get("links") or [], url),
        ttl_seconds=_ttl_seconds(feed.get("ttl")),
        warnings=tuple(warnings.messages),
    )


def _safe_xml(text: str, url: str, warnings: _Warnings) -> str:
    """The document as UTF-8-declared XML that names no DTD, declares no entity and holds no character XML
    forbids."""
    text, doctype, root = _locate_feed(text, url, warnings)
    prolog, body = text[:root.start("tag")], text[root.start("tag"):]
    if doctype is not None:
        prolog = prolog[:doctype.start()] + prolog[doctype.end():]
        body = _without_declared_entities(body, doctype, warnings)
    # The original declaration goes wherever it was (even after a comment, where expat rejects it): the
    # text is re-encoded as UTF-8 and must say so.
    text = _UTF8_DECLARATION + _XML_DECLARATION.sub("", prolog) + body
    text, removed = _FORBIDDEN_CHARS.subn("", text)
    text, removed_refs = _FORBIDDEN_CHAR_REFS.subn("", text)
    if removed or removed_refs:
        warnings.add(f"removed {_count(removed + removed_refs, 'control character')} that XML does not allow")
    return _NAMED_REF.sub(_html_entity_as_reference, text)


def _read_prolog(text: str, url: str) -> tuple[re.Match[str] | None, re.Match[str] | None]:
    """(DOCTYPE declaration, root element start tag) of a document; the root is None when something
    other than XML comes first."""
    position, doctype = 0, None
    while True:
        item = _PROLOG_ITEM.match(text, position)
        if item:
            position = item.end()
            continue
        if _DOCTYPE_OPENING.match(text, position):
            doctype = _DOCTYPE.match(text, position)
            if doctype is None:
                raise FeedError(url, "the document's DOCTYPE declaration is malformed; it cannot be read safely")
            position = doctype.end()
            continue
        return doctype, _ROOT.match(text, position)


def _locate_feed(text: str, url: str, warnings: _Warnings) -> tuple[str, re.Match[str] | None, re.Match[str]]:
    """(text, DOCTYPE, root start tag) of the feed, stray text before it (a PHP warning printed before the
    XML) dropped; FeedError when the document is no feed."""
    doctype, root = _read_prolog(text, url)
    if root is not None and root["local"].lower() in _FEED_ROOTS:
        return text, doctype, root
    root_name = root["local"].lower() if root else None
    is_html = root_name == "html" or bool(doctype and doctype["name"].lower() == "html")
    start = None if is_html else _FEED_START.search(text, 0, _JUNK_WINDOW)
    if start:
        warnings.add(f"ignored {_count(start.start(), 'character')} of stray text before the feed")
        return _locate_feed(text[start.start():], url, warnings)
    if is_html or root_name in _HTML_ROOTS:
        raise FeedError(url, _HTML_PAGE)
    if root:
        raise FeedError(url, f"the document is XML but not a feed (root element <{root['qname']}>)")
    raise FeedError(url, "the document holds neither XML nor JSON; it is not a feed")


def _without_declared_entities(body: str, doctype: re.Match[str], warnings: _Warnings) -> str:
    subset = doctype["subset"] or ""
    declared = frozenset(_ENTITY_DECLARATION.findall(subset))
    if not declared:
        return body
    names = ", ".join(sorted(declared)[:5]) + (", ..." if len(declared) > 5 else "")
    warnings.add(f"the feed's DOCTYPE declares entities ({names}); they were removed and their references "
                 "dropped unexpanded")
    return re.sub(r"&([A-Za-z_][\w.-]*);", lambda m: "" if m[1] in declared else m[0], body)


def _html_entity_as_reference(m: re.Match[str]) -> str:
    chars = html5.get(m[1] + ";")
    return "".join(f"&#{ord(c)};" for c in chars) if chars else m[0]


def _describe(error: Exception) -> str:
    if isinstance(error, xml.sax.SAXParseException):
        return f"line {error.getLineNumber()}: {error.getMessage()}"
    return str(error) or type(error).__name__


def _xml_entry(entry: dict[str, Any], feed_url: str, zone: tzinfo, is_rss: bool) -> FeedEntry:
    guid = _clean(entry.get("id"))
    link = _alternate_link(entry.get("links") or [], feed_url) or _guid_link(guid, feed_url)
    base = link or feed_url
    # Without summary_detail the summary is feedparser's copy of the content, not something the feed said.
    detail = entry.get("summary_detail")
    summary = _entry_html(detail.get("value"), detail.get("type"), base) if detail else None
    content = _xml_content(entry.get("content") or [], base)
    if content is None and summary and _is_full_article(summary):
        content = summary
    # dict.get: FeedParserDict maps a missing "updated" to "published" behind our back.
    updated = parse_date(dict.get(entry, "updated"), zone)
    published = parse_date(dict.get(entry, "published"), zone) or (updated if is_rss else None)
    return FeedEntry(
        guid=guid,
        link=link,
        title=_plain_text(entry.get("title")),
        published=published,
        updated=updated,
        author=_xml_author(entry),
        summary_html=summary,
        content_html=content,
        image=_xml_image(entry, base) or _first_image(content or summary, base),
        tags=_unique(tag.get("term") or tag.get("label") for tag in entry.get("tags") or []),
    )


def _xml_author(entry: Mapping[str, Any]) -> str | None:
    """Every author's name. A single author comes from the raw string: feedparser splits `mail (Name)` with
    an e-mail pattern that stops at four-letter top-level domains."""
    people = entry.get("authors") or []
    if len(people) > 1:
        return _join_authors(person.get("name") or person.get("email") for person in people)
    return _author(entry.get("author"))


def _alternate_link(links: Iterable[Mapping[str, Any]], base: str) -> str | None:
    """The entry's rel=alternate link, an HTML one first."""
    alternates = [link for link in links if link.get("rel", "alternate") == "alternate" and link.get("href")]
    alternates.sort(key=lambda link: "html" not in (link.get("type") or "text/html"))  # stable: order kept
    for link in alternates:
        absolute = _absolute_http(link["href"], base)
        if absolute:
            return absolute
    return None


def _xml_content(contents: list[Mapping[str, Any]], base: str) -> str | None:
    """content:encoded or Atom content, an HTML one before a plain-text one."""
    ranked = sorted(contents, key=lambda c: "html" not in (c.get("type") or ""))
    for content in ranked:
        value = _entry_html(content.get("value"), content.get("type"), base)
        if value:
            return value
    return None


def _entry_html(value: str | None, content_type: str | None, base: str) -> str | None:
    if not value or not value.strip():
        return None
    if content_type == "text/plain":
        return _text_to_html(value)
    return _absolute_urls_in_html(value.strip(), base)


def _xml_image(entry: Mapping[str, Any], base: str) -> str | None:
    """media:content (an image), media:thumbnail, then an image enclosure."""
    candidates = [media.get("url") for media in entry.get("media_content") or [] if _is_image(media)]
    candidates += [thumbnail.get("url") for thumbnail in entry.get("media_thumbnail") or []]
    candidates += [link.get("href") for link in entry.get("links") or []
                   if link.get("rel") == "enclosure" and (link.get("type") or "").startswith("image/")]
    return next(filter(None, (_absolute_http(candidate, base) for candidate in candidates)), None)


def _is_image(media: Mapping[str, Any]) -> bool:
    medium, media_type = media.get("medium"), media.get("type") or ""
    if medium or media_type:
        return medium == "image" or media_type.startswith("image/")
    return bool(_IMAGE_EXTENSION.search(media.get("url") or ""))


def _next_url(links: Iterable[Mapping[str, Any]], base: str) -> str | None:
    """RFC 5005 paging: `next`, else `prev-archive` (archived feeds point back in time)."""
    by_rel = {}
    for link in links:
        by_rel.setdefault(link.get("rel"), link.get("href"))
    return _absolute_http(by_rel.get("next"), base) or _absolute_http(by_rel.get("prev-archive"), base)


def _ttl_seconds(ttl: str | None) -> int | None:
    try:
        minutes = int((ttl or "").strip())
    except ValueError:
        return None
    return minutes * 60 if minutes > 0 else None


# --- JSON Feed ------------------------------------------------------------------------------------------


def _parse_json_feed(text: str, url: str, default_tz: tzinfo | None) -> ParsedFeed:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        reason = f"the JSON is not valid (line {error.lineno}: {error.msg}); it is not a feed"
        raise FeedError(url, reason) from None
    except RecursionError:
        raise FeedError(url, "the JSON is nested too deeply to read; it is not a feed") from None
    if not isinstance(document, dict) or "jsonfeed.org/version/" not in str(document.get("version", "")):
        raise FeedError(url, "the JSON document is not a JSON Feed (no https://jsonfeed.org/version/ version)")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError(url, "the JSON Feed has no items list")
    warnings = _Warnings()
    objects = [item for item in items if isinstance(item, dict)]
    if len(objects) < len(items):
        warnings.add(f"skipped {_count(len(items) - len(objects), 'JSON Feed item')} that are not objects")
    titles = [_string(document.get("title")) or ""] + [_string(item.get("title")) or "" for item in objects[:50]]
    zone = default_tz or zone_for_text(" ".join(titles), timezone.utc)
    feed_authors = _json_authors(document)
    entries = _usable_entries((_json_entry(item, url, zone, feed_authors) for item in objects), warnings)
    return ParsedFeed(
        title=_plain_text(_string(document.get("title"))),
        link=_absolute_http(_string(document.get("home_page_url")), url),
        entries=entries,
        next_url=_absolute_http(_string(document.get("next_url")), url),
        warnings=tuple(warnings.messages),
    )


def _json_entry(item: Mapping[str, Any], feed_url: str, zone: tzinfo, feed_authors: str | None) -> FeedEntry:
    guid = _string(item.get("id")) if not isinstance(item.get("id"), bool) else None
    link = (_absolute_http(_string(item.get("url")), feed_url)
            or _absolute_http(_string(item.get("external_url")), feed_url) or _guid_link(guid, feed_url))
    base = link or feed_url
    content = (_entry_html(_string(item.get("content_html")), "text/html", base)
               or _text_to_html(_string(item.get("content_text"))))
    summary = _text_to_html(_string(item.get("summary")))
    images = (_absolute_http(_string(item.get(key)), base) for key in ("image", "banner_image"))
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    updated = parse_date(_string(item.get("date_modified")), zone)
    return FeedEntry(
        guid=guid,
        link=link,
        title=_plain_text(_string(item.get("title"))),
        published=parse_date(_string(item.get("date_published")), zone),
        updated=updated,
        author=_json_authors(item) or feed_authors,
        summary_html=summary,
        content_html=content,
        image=next(filter(None, images), None) or _first_image(content, base),
        tags=_unique(_string(tag) for tag in tags),
    )


def _json_authors(holder: Mapping[str, Any]) -> str | None:
    """JSON Feed 1.1 `authors`, or 1.0 `author`."""
    people = holder.get("authors")
    if not isinstance(people, list):
        people = [holder.get("author")]
    return _join_authors(_string(person.get("name")) for person in people if isinstance(person, dict))


def _string(value: Any) -> str | None:
    """A JSON value as text, without the control characters and lone surrogates JSON escapes can carry."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = _FORBIDDEN_CHARS.sub("", value).encode("utf-8", "replace").decode("utf-8").strip()
    return value or None


# --- shared by both formats -----------------------------------------------------------------------------


def _usable_entries(entries: Iterable[FeedEntry], warnings: _Warnings) -> tuple[FeedEntry, ...]:
    """Entries with a link, the first of each guid."""
    kept: list[FeedEntry] = []
    seen_guids: set[str] = set()
    without_link = duplicates = 0
    for entry in entries:
        if entry.link is None:
            without_link += 1
        elif entry.guid is not None and entry.guid in seen_guids:
            duplicates += 1
        else:
            if entry.guid is not None:
                seen_guids.add(entry.guid)
            kept.append(entry)
    if without_link:
        warnings.add(f"skipped {_count(without_link, 'entry')} with neither a link nor a URL as guid")
    if duplicates:
        warnings.add(f"skipped {_count(duplicates, 'entry')} whose guid repeats an earlier entry's")
    return tuple(kept)


def _count(number: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{number} {noun if number == 1 else plural}"


def _guid_link(guid: str | None, base: str) -> str | None:
    """The guid as the entry's link when it is an absolute http(s) URL: a permalink, rdf:about, an Atom id."""
    return _absolute_http(guid, base) if guid and _HTTP_URL.match(guid) else None


def _absolute_http(href: str | None, base: str) -> str | None:
    """`href` resolved against `base` when the result is an http(s) URL, else None."""
    if not href or not href.strip():
        return None
    try:
        absolute = urljoin(base, href.strip())
        parts = urlsplit(absolute)
    except ValueError:  # an unclosed IPv6 bracket
        return None
    return absolute if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _absolute_urls_in_html(markup: str, base: str) -> str:
    """Relative href/src/poster/data-src URLs made absolute; absolute ones, fragments and data: untouched."""

    def resolve_attribute(m: re.Match[str]) -> str:
        value = next(v for v in m.groups()[1:] if v is not None)
        stripped = value.strip()
        if not stripped or stripped.startswith("#") or _HAS_SCHEME.match(stripped):
            return m[0]
        try:
            absolute = urljoin(base, stripped)
        except ValueError:  # an unclosed IPv6 bracket: left for the HTML converter to drop
            return m[0]
        return f'{m[1]}"{absolute.replace(chr(34), "&quot;")}"'

    return _TAG_WITH_ATTRIBUTES.sub(lambda tag: _URL_ATTRIBUTE.sub(resolve_attribute, tag[0]), markup)


def _first_image(markup: str | None, base: str) -> str | None:
    """The first <img> of the HTML with a usable URL, preferring its lazy-loading source."""
    for tag in _IMG_TAG.finditer(markup or ""):
        sources = dict((name.lower(), value) for name, value in re.findall(
            r"""\s(data-original|data-src|src)\s*=\s*["']?([^"'\s>]+)""", tag[0], re.IGNORECASE))
        for name in ("data-original", "data-src", "src"):
            image = _absolute_http(html.unescape(sources.get(name, "")), base)
            if image:
                return image
    return None


def _is_full_article(markup: str) -> bool:
    """Whether an RSS description is the whole article rather than a teaser.

    Yes when its text is at least `_FULL_ARTICLE_CHARS` characters, or it has `_FULL_ARTICLE_PARAGRAPHS`
    paragraphs of `_PARAGRAPH_CHARS` characters or more; no when it ends like a teaser ("…", "阅读全文").
    Weighted characters, not words (see `_weighted_length`).
    """
    text = _plain_text(markup) or ""
    if _TRUNCATION_MARK.search(text[-40:]):
        return False
    if _weighted_length(text) >= _FULL_ARTICLE_CHARS:
        return True
    paragraphs = (_plain_text(block) or "" for block in _PARAGRAPH_BREAK.split(markup))
    long_ones = sum(_weighted_length(paragraph) >= _PARAGRAPH_CHARS for paragraph in paragraphs)
    return long_ones >= _FULL_ARTICLE_PARAGRAPHS


def _weighted_length(text: str) -> int:
    return len(text) + len(_CJK.findall(text))


def _text_to_html(text: str | None) -> str | None:
    """Plain text as HTML paragraphs, escaped; single line breaks kept as <br>."""
    if not text or not text.strip():
        return None
    paragraphs = (block.strip() for block in _BLANK_LINE.split(text.strip()))
    return "".join(f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>" for block in paragraphs if block)


def _plain_text(value: str | None) -> str | None:
    """Tags stripped, entities decoded, whitespace collapsed; None when nothing is left."""
    if not value:
        return None
    text = _TAG.sub("", html.unescape(_TAG.sub("", value)))
    return " ".join(text.split()) or None


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _author(text: str | None) -> str | None:
    """A person's name from `Name`, `作者：Name`, `By Name`, `mail (Name)` or `Name <mail>`."""
    text = _plain_text(text)
    if not text:
        return None
    person = _MAIL_THEN_NAME.match(text) or _NAME_THEN_MAIL.match(text)
    name = person["name"] if person and person["name"].strip() else text
    return _AUTHOR_PREFIX.sub("", name.strip()).strip() or None


def _join_authors(names: Iterable[str | None]) -> str | None:
    return ", ".join(_unique(_author(name) for name in names)) or None


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """Non-empty stripped values, first occurrence kept, order kept."""
    return tuple(dict.fromkeys(value.strip() for value in values if value and value.strip()))
