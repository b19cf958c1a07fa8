"""Title, author, publication time, lead image, canonical URL and tags from an article page.

Each field is taken from the most deliberate source the page offers: Open Graph and article meta tags, JSON-LD,
`<time datetime>`, then visible text next to the title (Chinese portals print "2020年08月31日 12:56" and
"作者：张三" there and nowhere else), then trafilatura's own guesses (htmldate for the date).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from ..dates import parse_date, zone_for_text
from .bylines import Credit, author_names, parse_credit_line
from .page import document_base, text_sample

# htmldate's settings: the original date, searched hard, with the time of day kept.
DATE_EXTRACTION_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}

_PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished", "pubdate", "publishdate",
                   "publish-date", "publish_date", "ptime", "publication_date", "dc.date.issued", "dcterms.issued",
                   "parsely-pub-date", "sailthru.date", "article_date_original")
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified")
_AUTHOR_META = ("article:author", "og:article:author")
_SITE_NAME_META = ("og:site_name", "application-name", "apple-mobile-web-app-title")
_IMAGE_META = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
_TAG_META = ("keywords", "news_keywords", "article:tag", "og:article:tag")
_MAX_TAGS = 20
_MAX_TAG_LENGTH = 40
_TAG_SEPARATORS = re.compile(r"\s*[,，;；、|｜]\s*")
_ARTICLE_TYPES = frozenset({"BlogPosting", "LiveBlogPosting", "Report"})

# A hyphen separates only with spaces around it ("A-share" is a word), or next to Chinese ("标题-新华网").
_TITLE_SEPARATOR = re.compile(r"\s*[_|｜–—]+\s*|\s+-+\s+|(?<=[^\x00-\x7f])-+|-+(?=[^\x00-\x7f])")
_HEADING_TAGS = frozenset({"h1", "h2", "h3"})
_TITLE_CLASS = re.compile(r"title|headline|heading", re.IGNORECASE)
_GENERIC_HOST_LABELS = frozenset({"www", "m", "news", "com", "cn", "net", "org", "co", "uk", "gov", "edu", "hk"})

# How much of the page's text tells whether it is Chinese (dates without offset are then UTC+8).
_ZONE_SAMPLE_CHARS = 1000
# The byline and date next to the title: how far past the title to look, and how long a line can be.
_NEAR_TITLE_ELEMENTS = 40
_MAX_NEAR_TITLE_TEXT = 120
_VISIBLE_DATE_TIME = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*(?:T\s*)?(?:上午|下午|晚上|凌晨)?\s*"
    r"\d{1,2}\s*[:时]\s*\d{1,2}(?:\s*[:分]\s*\d{1,2}\s*秒?)?(?:\s*(?:[+-]\d{2}:?\d{2}|Z|UTC|GMT|CST)\b)?"
)


@dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str | None
    author: str | None
    published: datetime | None
    image: str | None
    canonical_url: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BodyHints:
    """What the extracted body tells about the metadata: the fallbacks of last resort."""

    credits: tuple[Credit, ...] = ()
    first_image: str | None = None
    sample_text: str = ""


@dataclass
class PageSignals:
    """Everything the page says about itself, gathered in one pass over the tree."""

    tree: HtmlElement
    url: str
    base: str
    meta: dict[str, list[str]]
    articles: list[dict[str, Any]]
    html_title: str | None
    headings: list[str]
    heading_texts: set[str] = field(repr=False)

    @cached_property
    def site_names(self) -> set[str]:
        names = {_comparable(value) for key in _SITE_NAME_META for value in self.meta.get(key, ())}
        names |= {_comparable(name) for article in self.articles for name in _names(article.get("publisher"))}
        host = urlsplit(self.url).hostname or ""
        labels = [label for label in host.split(".") if label not in _GENERIC_HOST_LABELS and not label.isdigit()]
        names |= {_compact(label) for label in labels}
        return {name for name in names if name}

    @cached_property
    def stated_titles(self) -> list[str]:
        """Titles the page states for sharing and search (Open Graph, JSON-LD, Twitter), best first."""
        sources = [*self.meta.get("og:title", ()), *(str(a["headline"]) for a in self.articles if a.get("headline")),
                   *self.meta.get("twitter:title", ())]
        return [clean_text(source) for source in sources if clean_text(source)]


def gather(tree: HtmlElement, url: str) -> PageSignals:
    return PageSignals(
        tree=tree,
        url=url,
        base=document_base(tree, url),
        meta=_meta_values(tree),
        articles=list(_json_ld_articles(tree)),
        html_title=clean_text(tree.findtext(".//title") or "") or None,
        headings=[clean_text(h.text_content()) for h in tree.iter("h1") if clean_text(h.text_content())],
        heading_texts=_heading_texts(tree),
    )


def page_title(signals: PageSignals) -> str | None:
    """The article's title, without the site name that `<title>` (and sometimes og:title) appends."""
    # <title> before <h1>: pages put their logo or section name in an <h1> too, never in <title>.
    for candidate in [*signals.stated_titles, signals.html_title, *signals.headings]:
        if candidate:
            title = strip_site_suffix(candidate, signals)
            if title and _comparable(title) not in signals.site_names:
                return title
    return None


def title_variants(signals: PageSignals, title: str | None) -> list[str]:
    """Every way the page writes its title, for recognising a body line that repeats it."""
    return [value for value in (title, signals.html_title, *signals.stated_titles, *signals.headings) if value]


def strip_site_suffix(title: str, signals: PageSignals) -> str:
    """`title` without trailing segments that name the site ("_财经频道_凤凰网", " | Reuters").

    A trailing segment is a site name when the page says so (og:site_name, JSON-LD publisher, host name), or
    when what precedes it is the title the page shows elsewhere (og:title, h1, a heading-like line)."""
    confirmed = title
    for separator in reversed(list(_TITLE_SEPARATOR.finditer(title))):
        prefix, tail = title[:separator.start()].strip(), title[separator.end():].strip()
        if not prefix:
            continue
        if _comparable(prefix) in _confirmed_titles(signals):
            return prefix
        if all(_is_site_name(part, signals) for part in _TITLE_SEPARATOR.split(tail) if part.strip()):
            confirmed = prefix
    return confirmed


def read_metadata(signals: PageSignals, title: str | None, hints: BodyHints, *,
                  now: datetime | None = None) -> PageMetadata:
    """The page's metadata, each field from its best source; dates after `now` (default: the clock) are
    ignored. Dates without an offset are in China's time on Chinese pages, else in UTC."""
    now = now or datetime.now(timezone.utc)
    fallback = _TrafilaturaGuesses(signals)
    title = title or clean_text(fallback.document.title or "") or None
    near_title = _near_title_lines(signals.tree, title)
    zone = zone_for_text(f"{title or ''} {hints.sample_text} {text_sample(signals.tree, _ZONE_SAMPLE_CHARS)}",
                         timezone.utc)
    return PageMetadata(
        title=title,
        author=_author(signals, near_title, hints, fallback),
        published=_published(signals, near_title, fallback, zone, now),
        image=_image(signals, hints),
        canonical_url=_canonical_url(signals),
        tags=_tags(signals, fallback),
    )


def clean_text(text: str) -> str:
    return " ".join(text.split())


# --- fields ---------------------------------------------------------------------------------------------


def _author(signals: PageSignals, near_title: list[str], hints: BodyHints,
            fallback: _TrafilaturaGuesses) -> str | None:
    byline_credits = [credit for line in near_title for credit in parse_credit_line(line) or ()]
    candidates: list[Callable[[], Iterable[str]]] = [
        lambda: (name for article in signals.articles for name in _person_names(article.get("author"))),
        lambda: (value for key in _AUTHOR_META for value in signals.meta.get(key, ()) if "://" not in value),
        lambda: (credit.value for credit in byline_credits if credit.kind == "author"),
        lambda: (credit.value for credit in hints.credits if credit.kind == "author"),
        # Chinese portals often put their own name in meta author: below the bylines.
        lambda: signals.meta.get("author", ()),
        lambda: [fallback.document.author or ""],
    ]
    for candidate in candidates:
        names = [name for value in candidate() for name in author_names(value) if not _names_the_site(name, signals)]
        if names:
            return ", ".join(dict.fromkeys(names))
    return None


def _published(signals: PageSignals, near_title: list[str], fallback: _TrafilaturaGuesses, zone: tzinfo,
               now: datetime) -> datetime | None:
    def candidates() -> Iterator[str | None]:
        yield from (str(article.get("datePublished") or "") for article in signals.articles)
        yield from (value for key in _PUBLISHED_META for value in signals.meta.get(key, ()))
        yield from _time_datetimes(signals.tree)
        yield from (match.group() for line in near_title for match in _VISIBLE_DATE_TIME.finditer(_folded(line)))
        yield from (str(article.get("dateModified") or "") for article in signals.articles)
        yield from (value for key in _MODIFIED_META for value in signals.meta.get(key, ()))

    for text in candidates():
        published = parse_date(text, zone) if text else None
        # A date in the future is a mistake of the page (a template's placeholder, a wrong zone): not the date.
        if published is not None and published <= now:
            return published
    day = parse_date(fallback.document.date, zone)
    if day is None or day > now:
        return None
    return _time_printed_on(signals.tree, day, zone, now) or day


def _time_printed_on(tree: HtmlElement, day: datetime, zone: tzinfo, now: datetime) -> datetime | None:
    """The first date and time the page prints for `day`: htmldate finds the day, often not the time."""
    body = tree.find("body")
    text = _folded(" ".join(body.itertext())) if body is not None else ""
    for match in _VISIBLE_DATE_TIME.finditer(text):
        printed = parse_date(match.group(), zone)
        if printed is not None and printed.date() == day.date() and printed <= now:
            return printed
    return None


def _image(signals: PageSignals, hints: BodyHints) -> str | None:
    candidates = [*(value for key in _IMAGE_META for value in signals.meta.get(key, ())),
                  *(url for article in signals.articles for url in _image_urls(article.get("image"))),
                  hints.first_image]
    for candidate in candidates:
        url = _absolute_http(signals.base, candidate)
        if url:
            return url
    return None


def _canonical_url(signals: PageSignals) -> str | None:
    links = signals.tree.xpath("//link[contains(concat(' ', normalize-space(translate(@rel, 'CANONICAL', "
                               "'canonical')), ' '), ' canonical ')]/@href")
    for candidate in [*links, *signals.meta.get("og:url", ())]:
        url = _absolute_http(signals.base, candidate)
        if url:
            return url
    return None


def _tags(signals: PageSignals, fallback: _TrafilaturaGuesses) -> tuple[str, ...]:
    values = [value for key in _TAG_META for value in signals.meta.get(key, ())]
    for article in signals.articles:
        keywords = article.get("keywords")
        values.extend(keywords if isinstance(keywords, list) else [keywords] if keywords else [])
    if not values:
        # trafilatura gives its tags as one comma-joined string
        values = list(fallback.document.tags or ())
    return _split_tags(str(value) for value in values)


def _split_tags(values: Iterable[str]) -> tuple[str, ...]:
    tags: dict[str, str] = {}
    for value in values:
        for tag in _TAG_SEPARATORS.split(value):
            tag = clean_text(tag)
            if tag and len(tag) <= _MAX_TAG_LENGTH:
                tags.setdefault(tag.casefold(), tag)
    return tuple(tags.values())[:_MAX_TAGS]


# --- page signals ---------------------------------------------------------------------------------------


def _meta_values(tree: HtmlElement) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        content = clean_text(element.get("content") or "")
        if key and content:
            values.setdefault(key.strip().lower(), []).append(content)
    for element in tree.xpath("//*[@itemprop='datePublished' and not(self::meta)]"):
        value = element.get("datetime") or element.get("content") or element.text_content()
        if clean_text(value):
            values.setdefault("datepublished", []).append(clean_text(value))
    return values


def _json_ld_articles(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.xpath("//script[translate(@type, 'LDJSON', 'ldjson')='application/ld+json']"):
        text = (script.text or "").strip().removeprefix("<!--").removesuffix("-->")
        try:
            data = json.loads(text, strict=False)
        except ValueError:
            continue  # broken JSON-LD is common; the page has other sources
        yield from _article_objects(data)


def _article_objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _article_objects(item)
    elif isinstance(data, dict):
        types = data.get("@type")
        type_names = types if isinstance(types, list) else [types]
        if any(isinstance(name, str) and (name.endswith("Article") or name in _ARTICLE_TYPES) for name in type_names):
            yield data
        yield from _article_objects(data.get("@graph"))


def _person_names(value: Any) -> list[str]:
    """Names in a JSON-LD author value; organisations are publishers, not authors."""
    if isinstance(value, list):
        return [name for item in value for name in _person_names(item)]
    if isinstance(value, dict):
        return [] if value.get("@type") == "Organization" else _names(value)
    return [value] if isinstance(value, str) else []


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    if isinstance(value, dict):
        return _names(value.get("name"))
    return [value] if isinstance(value, str) and value.strip() else []


def _image_urls(value: Any) -> list[str]:
    if isinstance(value, list):
        return [url for item in value for url in _image_urls(item)]
    if isinstance(value, dict):
        return _image_urls(value.get("url") or value.get("contentUrl"))
    return [value] if isinstance(value, str) else []


def _time_datetimes(tree: HtmlElement) -> list[str]:
    in_article = tree.xpath("(//article//time[@datetime])[1]/@datetime")
    return [*in_article, *tree.xpath("(//time[@datetime])[1]/@datetime")]


def _heading_texts(tree: HtmlElement) -> set[str]:
    """Texts of headings and of elements named as titles ("article-title", "headline"): where a page shows
    its title when it has no <h1>."""
    body = tree.find("body")
    if body is None:
        return set()
    texts = set()
    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in _HEADING_TAGS or _TITLE_CLASS.search(f"{element.get('class', '')} {element.get('id', '')}"):
            text = _comparable(element.text_content())
            if 0 < len(text) <= 300:
                texts.add(text)
    return texts


def _near_title_lines(tree: HtmlElement, title: str | None) -> list[str]:
    """Short texts of the elements that follow the title's element: where bylines and dates sit."""
    anchor = _title_element(tree, title)
    if anchor is None:
        return []
    lines: list[str] = []
    for count, element in enumerate(_following_elements(anchor)):
        if count >= _NEAR_TITLE_ELEMENTS:
            break
        if element.tag in ("script", "style"):
            continue
        text = clean_text(" ".join(element.itertext()))
        if text and len(text) <= _MAX_NEAR_TITLE_TEXT:
            lines.append(text)
    return lines


def _following_elements(anchor: HtmlElement) -> Iterator[HtmlElement]:
    """Elements after `anchor` in document order (its own descendants excluded)."""
    node: HtmlElement | None = anchor
    while node is not None:
        for sibling in node.itersiblings():
            if isinstance(sibling.tag, str):
                yield sibling
                yield from (child for child in sibling.iterdescendants() if isinstance(child.tag, str))
        node = node.getparent()


def _title_element(tree: HtmlElement, title: str | None) -> HtmlElement | None:
    body = tree.find("body")
    if body is None:
        return None
    wanted = _comparable(title or "")
    headings = list(body.iter("h1", "h2"))
    if wanted:
        for heading in headings:
            if _comparable(heading.text_content()) == wanted:
                return heading
        # Titles in a styled <div>: comparing each element's own text keeps this linear in the page size.
        for element in body.iter():
            if isinstance(element.tag, str) and element.text and _comparable(element.text) == wanted:
                return element
    return next(iter(body.iter("h1")), None)


class _TrafilaturaGuesses:
    """trafilatura's metadata, computed only if a field has no better source (htmldate's search is slow)."""

    def __init__(self, signals: PageSignals):
        self._signals = signals

    @cached_property
    def document(self) -> Any:
        from trafilatura.metadata import extract_metadata

        return extract_metadata(self._signals.tree, self._signals.url, date_config=dict(DATE_EXTRACTION_PARAMS))


# --- small helpers --------------------------------------------------------------------------------------


def _confirmed_titles(signals: PageSignals) -> set[str]:
    titles = [*signals.stated_titles, *signals.headings]
    return {_comparable(source) for source in titles} | signals.heading_texts


def _names_the_site(name: str, signals: PageSignals) -> bool:
    """Whether an author name is the site itself: "CNN", or, in Chinese where outlet names nest, "网易" on a
    page titled "…_网易新闻" and "凤凰财经-自媒体" on one titled "…_凤凰财经_凤凰网"."""
    key = _compact(name)
    site_keys = {_compact(site) for site in signals.site_names} | {_compact(tail) for tail in _title_tails(signals)}
    if key in site_keys:
        return True
    return _has_han(name) and any(len(site) >= 2 and (site in key or key in site) for site in site_keys)


def _title_tails(signals: PageSignals) -> list[str]:
    """The segments `<title>` adds after the title ("财经频道", "凤凰网" in "…_财经频道_凤凰网")."""
    parts = _TITLE_SEPARATOR.split(signals.html_title or "")
    return [part.strip() for part in parts[1:] if part.strip()]


def _is_site_name(text: str, signals: PageSignals) -> bool:
    return _comparable(text) in signals.site_names or _compact(text) in signals.site_names


def _absolute_http(base: str, value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    url = urljoin(base, value.strip())
    return url if urlsplit(url).scheme in ("http", "https") else None


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _comparable(text: str) -> str:
    return " ".join(text.split()).casefold()


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()
