"""Title, author, publication time, lead image, canonical URL and tags from an article page.

Each field is taken from the most deliberate source there is: the site rule's selector first, then what the
page states for machines (JSON-LD, Open Graph and article meta tags, `<time datetime>`), then the visible
text of the article's header, between the title and the text (Chinese portals print "2020年08月31日 12:56"
and "作者：张三" there and nowhere else), the credits in and after the text ("（记者 张三）", "责任编辑：李四"),
then trafilatura's own guesses (htmldate for the date).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from ..dates import CHINA, parse_date, zone_for_text
from ..models import ExtractRules
from .bylines import (Credit, author_names, labelled_credits, looks_like_chinese_name, looks_like_name,
                      parse_credit_line, parse_posted_by)
from .locate import element_starting, line_key
from .page import IMAGE_SOURCES, compile_selector, document_base, text_sample

# As the metadata merge allows (crawler.metadata.CLOCK_SKEW): a date this far past the fetch is still taken.
CLOCK_SKEW = timedelta(minutes=10)
# htmldate's settings: the original date, searched hard, with the time of day kept.
DATE_EXTRACTION_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}

_PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished", "pubdate", "publishdate",
                   "publish-date", "publish_date", "ptime", "publication_date", "dc.date.issued", "dcterms.issued",
                   "parsely-pub-date", "sailthru.date", "article_date_original")
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified")
_AUTHOR_META = ("article:author", "og:article:author", "sailthru.author", "byl", "dc.creator", "dcterms.creator",
                "citation_author")
_SITE_NAME_META = ("og:site_name", "application-name", "apple-mobile-web-app-title")
_IMAGE_META = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
_TAG_META = ("keywords", "news_keywords", "article:tag", "og:article:tag")
_MAX_TAGS = 20
_MAX_TAG_LENGTH = 40
_TAG_SEPARATORS = re.compile(r"\s*[,，;；、|｜]\s*")
_ARTICLE_TYPES = frozenset({"BlogPosting", "LiveBlogPosting", "Report"})
_REFERENCED = ("author", "publisher", "image")

# A hyphen separates only with spaces around it ("A-share" is a word), or next to Chinese ("标题-新华网").
_TITLE_SEPARATOR = re.compile(r"\s*[_|｜–—»›]+\s*|\s+(?:-+|::)\s+|(?<=[^\x00-\x7f])-+|-+(?=[^\x00-\x7f])")
_TITLE_CLASS = re.compile(r"title|headline|heading", re.IGNORECASE)
# A title shown on the page without the site's name before it is this long at least.
_MIN_SHOWN_TITLE = 6
_GENERIC_HOST_LABELS = frozenset({"www", "m", "news", "com", "cn", "net", "org", "co", "uk", "gov", "edu", "hk"})

# How much of the page's text tells whether it is Chinese (dates without offset are then UTC+8).
_PAGE_SAMPLE_CHARS = 3000
_ZONE_SAMPLE_CHARS = 1000
# The article's header (byline, date, source): how many elements after the title and before the text to
# read, how many after the text (closing credits), and how long a line of it can be.
_HEADER_ELEMENTS = 40
_FOOTER_ELEMENTS = 15
_MAX_HEADER_TEXT = 120
_VISIBLE_DATE = (r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?!\d)\s*日?")
_VISIBLE_DATE_TIME = re.compile(
    _VISIBLE_DATE + r"\s*(?:T\s*)?(?:上午|下午|晚上|凌晨)?\s*"
    r"\d{1,2}\s*[:时]\s*\d{1,2}(?:\s*[:分]\s*\d{1,2}\s*秒?)?(?:\s*[AaPp]\.?[Mm]\b\.?)?"
    r"(?:\s*(?:[+-]\d{2}:?\d{2}|Z|UTC|GMT|CST)\b)?"
)
_VISIBLE_DAY = re.compile(_VISIBLE_DATE)
_DAY_MONTH_YEAR = re.compile(
    r"(?<![\d/.-])(?P<first>\d{1,2})[/.](?P<second>\d{1,2})[/.](?P<year>(?:19|20)\d{2})(?![\d/.-])")
# Words that say a date is the publication's ("发布时间：", "发表于", "Published").
_PUBLISHED_LABEL = re.compile(r"发布|发表|发稿|刊发|首发|出版|时间|日期|published|posted|\bon\b", re.IGNORECASE)
_CLAUSE = re.compile(r"[，。；！？,;!?]\s*\S")
_UPDATED_LABEL = re.compile(r"更新|修改|updated|modified", re.IGNORECASE)
# A link this wide (a CJK character counts 2) is a headline: a date next to it belongs to another story.
_HEADLINE_LINK_WIDTH = 20
# Elements that hold the byline, by their class, id or itemprop; not the author's picture or biography.
_BYLINE_MARK = re.compile(r"author|byline|writer|reporter|journalist|columnist", re.IGNORECASE)
_NOT_BYLINE_MARK = re.compile(r"avatar|photo|image|img|pic|bio|desc|about|follow|social|share|more", re.IGNORECASE)
_MAX_BYLINE_CHARS = 80
# The author's page: a name linked there is the byline ("/author/jane-doe", "?author=102", rel="author").
_AUTHOR_LINK = re.compile(r"/(?:authors?|byline|reporters?|columnists?|writers?|journalists?)/|[?&](?:author|uid)=",
                          re.IGNORECASE)


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
    first_line: str = ""
    """The body's first and last lines of prose: where the article starts and ends on the page."""
    last_line: str = ""
    line_starts: Mapping[str, HtmlElement] | None = None
    """Where the body's lines start on the page (by `locate.line_key`), when already known."""


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
    def page_sample(self) -> str:
        """The start of the page's visible text: what tells its language."""
        return text_sample(self.tree, _PAGE_SAMPLE_CHARS)

    @cached_property
    def own_texts(self) -> set[str]:
        """The text of each element of the body that has text of its own, comparable."""
        body = self.tree.find("body")
        return {_comparable(element.text) for element in (body.iter() if body is not None else ())
                if isinstance(element.tag, str) and element.text and element.text.strip()}

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
    """`title` without the segments that name the site: trailing ("_财经频道_凤凰网", " | Reuters") or, more
    rarely, leading ("江南博客 » 基建投资回升").

    A segment is a site name when the page says so (og:site_name, JSON-LD publisher, host name), or when the
    rest is the title the page shows elsewhere (og:title, h1, a heading-like line)."""
    confirmed = title
    separators = list(_TITLE_SEPARATOR.finditer(title))
    for separator in reversed(separators):
        prefix, tail = title[:separator.start()].strip(), title[separator.end():].strip()
        if not prefix:
            continue
        if _comparable(prefix) in _confirmed_titles(signals) or (
                len(prefix) >= _MIN_SHOWN_TITLE and _comparable(prefix) in signals.own_texts):
            return prefix
        if all(_is_site_name(part, signals) for part in _TITLE_SEPARATOR.split(tail) if part.strip()):
            confirmed = prefix
    if confirmed != title:
        return confirmed
    for separator in separators:
        rest = title[separator.end():].strip()
        if len(rest) >= _MIN_SHOWN_TITLE and _comparable(rest) in _confirmed_titles(signals) | signals.own_texts:
            return rest
    return title


@dataclass(frozen=True, slots=True)
class RuleValues:
    """What a site rule's selectors point at on the page: the values that come before the page's own."""

    author: str | None = None
    date: tuple[str, ...] = ()
    image: str | None = None


@dataclass(frozen=True, slots=True)
class ArticleFrame:
    """Short texts around the article: its header (title to text) and the lines right after the text."""

    header: list[str]
    footer: list[str]
    header_elements: list[HtmlElement]


def read_metadata(signals: PageSignals, title: str | None, hints: BodyHints, rules: ExtractRules = ExtractRules(),
                  *, now: datetime | None = None) -> PageMetadata:
    """The page's metadata, each field from its best source; dates after `now` (the fetch; default: the clock)
    are ignored, but for a publisher's clock running a little ahead. Dates without an offset are in China's
    time on Chinese pages, else in UTC."""
    now = (now or datetime.now(timezone.utc)) + CLOCK_SKEW
    fallback = _TrafilaturaGuesses(signals)
    title = title or clean_text(fallback.title or "") or None
    frame = _article_frame(signals.tree, title, hints)
    ruled = rule_values(signals, rules)
    zone = zone_for_text(f"{title or ''} {hints.sample_text} {signals.page_sample[:_ZONE_SAMPLE_CHARS]}",
                         timezone.utc)
    return PageMetadata(
        title=title,
        author=_author(signals, frame, hints, ruled, chinese=zone is CHINA),
        published=_published(signals, frame, hints, fallback, zone, now, ruled),
        image=_image(signals, hints, ruled),
        canonical_url=_canonical_url(signals),
        tags=_tags(signals, fallback),
    )


def rule_values(signals: PageSignals, rules: ExtractRules) -> RuleValues:
    """The author, date and image the rule's selectors find; a selector that finds nothing gives nothing."""
    tree = signals.tree
    author = date = image = None
    if rules.author_selector:
        texts = [clean_text(element.text_content()) or element.get("content", "")
                 for element in compile_selector(rules.author_selector)(tree)]
        # Whatever the label ("来源：", "编辑："), the element the rule points at names the author.
        values = [credit.value for text in texts for credit in parse_credit_line(text) or [Credit("author", text)]]
        author = ", ".join(value for value in values if value) or None
    if rules.date_selector:
        date = tuple(value for element in compile_selector(rules.date_selector)(tree)
                     for value in (*_date_attributes(element), clean_text(element.text_content())) if value)
    if rules.image_selector:
        image = next((url for element in compile_selector(rules.image_selector)(tree)
                      if (url := _image_of(element, signals.base))), None)
    return RuleValues(author, date or (), image)


def _date_attributes(element: HtmlElement) -> list[str]:
    """datetime, content and attributes named for a time or date ("data-article-publish-time": 1644376219)."""
    return [value for name, value in element.attrib.items()
            if name in ("datetime", "content") or "time" in name or "date" in name]


def clean_text(text: str) -> str:
    return " ".join(text.split())


# --- fields ---------------------------------------------------------------------------------------------


def _author(signals: PageSignals, frame: ArticleFrame, hints: BodyHints, ruled: RuleValues, *,
            chinese: bool) -> str | None:
    header_credits = [credit for line in frame.header
                      for credit in parse_credit_line(line) or parse_posted_by(line) or labelled_credits(line)]
    footer_credits = [credit for line in frame.footer
                      for credit in parse_credit_line(line) or parse_posted_by(line) or ()]
    credits = [*header_credits, *hints.credits, *footer_credits]
    candidates: list[Callable[[], Iterable[str]]] = [
        lambda: [ruled.author or ""],
        lambda: _stated_authors(signals),
        lambda: _baidu_marked(signals.tree, "author_baidu"),
        lambda: (credit.value for credit in header_credits if credit.kind == "author"),
        lambda: _byline_elements(frame),
        lambda: (credit.value for credit in hints.credits if credit.kind == "author"),
        lambda: _linked_authors(frame, signals),
        lambda: (credit.value for credit in footer_credits if credit.kind == "author"),
        # A name alone under the title ("周立文"), with nothing to say it is one: a common surname must, and it
        # must not be a link (tags and people's pages are).
        lambda: (text for text in _unlinked_texts(frame.header_elements[:_NAME_LINE_REACH])
                 if chinese and looks_like_chinese_name(text)),
        # Chinese portals often put their own name in meta author: below the bylines.
        lambda: signals.meta.get("author", ()),
        # Last resorts: a person named as the source ("来源：尹小雨"), the editor in charge ("责任编辑：孙雨桐").
        lambda: (credit.value for credit in credits
                 if chinese and credit.kind == "source" and looks_like_chinese_name(credit.value)),
        lambda: (credit.value for credit in credits if credit.kind == "editor"),
    ]
    for candidate in candidates:
        names = [name for value in candidate() for name in author_names(value) if not _names_the_site(name, signals)]
        if names:
            return ", ".join(dict.fromkeys(names))
    return None


# How many header lines under the title a lone name may be found in.
_NAME_LINE_REACH = 4


def _stated_authors(signals: PageSignals) -> list[str]:
    """Authors the page states for machines: JSON-LD persons, article:author, and a meta author that is a
    person's name. The first source that names someone wins; a later one that names the same people and more
    (meta author listing every co-author when JSON-LD has the first) completes it."""
    sources = [
        [name for article in signals.articles for name in _person_names(article.get("author"))],
        [value for key in _AUTHOR_META for value in signals.meta.get(key, ()) if "://" not in value],
        [value for value in signals.meta.get("author", ()) if _is_person(value, signals)],
    ]
    chosen: list[str] = []
    for values in sources:
        names = [name for value in values for name in author_names(value) if not _names_the_site(name, signals)]
        if not chosen:
            chosen = names
        elif set(map(_compact, chosen)) < set(map(_compact, names)):
            chosen = names
    return chosen


def _is_person(value: str, signals: PageSignals) -> bool:
    names = author_names(value)
    return bool(names) and all(
        (looks_like_chinese_name(name) if _has_han(name) else looks_like_name(name) and " " in name)
        and not _names_the_site(name, signals) for name in names)


def _unlinked_texts(elements: Iterable[HtmlElement]) -> Iterator[str]:
    for element in elements:
        linked = element.tag == "a" or next(element.iter("a"), None) is not None
        if not linked and next(element.iterancestors("a"), None) is None:
            yield clean_text(element.text_content())


def _byline_elements(frame: ArticleFrame) -> list[str]:
    """Names in the header's elements that say they hold the byline (class "author-name", itemprop "author")."""
    names = []
    for element in frame.header_elements:
        marks = " ".join(element.get(name, "") for name in ("class", "id", "itemprop", "rel"))
        if _BYLINE_MARK.search(marks) and not _NOT_BYLINE_MARK.search(marks):
            named = element.find(".//*[@itemprop='name']")
            text = clean_text((named if named is not None else element).text_content())
            if len(text) <= _MAX_BYLINE_CHARS:
                names.extend(name for name in author_names(text) if looks_like_name(name))
    return names


def _linked_authors(frame: ArticleFrame, signals: PageSignals) -> list[str]:
    """Names linked to an author's page ("/author/…", rel="author") in the article's header; elsewhere on the
    page (where teasers of other stories link their authors too) only a name that all such links agree on."""
    names = []
    for element in frame.header_elements:
        for link in element.iter("a"):
            if _is_author_link(link):
                names.append(clean_text(link.text_content()))
    if not names:
        # Elsewhere, only when every such link names the same person: a blog's owner, not a list of authors.
        found = {clean_text(link.text_content()) for link in signals.tree.iter("a") if _is_author_link(link)} - {""}
        names = list(found) if len(found) == 1 else []
    return [name for name in names if looks_like_name(name)]


def _is_author_link(link: HtmlElement) -> bool:
    return "author" in (link.get("rel") or "").lower().split() or bool(_AUTHOR_LINK.search(link.get("href") or ""))


def _published(signals: PageSignals, frame: ArticleFrame, hints: BodyHints, fallback: _TrafilaturaGuesses,
               zone: tzinfo, now: datetime, ruled: RuleValues) -> datetime | None:
    def candidates() -> Iterator[str | None]:
        yield from ruled.date
        yield from (str(article.get("datePublished") or "") for article in signals.articles)
        yield from (value for key in _PUBLISHED_META for value in signals.meta.get(key, ()))
        yield from _time_datetimes(signals.tree)
        yield from _baidu_marked(signals.tree, "pubtime_baidu")
        yield from _header_dates(frame)
        yield from (credit.value for credit in hints.credits if credit.kind == "date")
        yield from (str(article.get("dateModified") or "") for article in signals.articles)
        yield from (value for key in _MODIFIED_META for value in signals.meta.get(key, ()))

    for text in candidates():
        published = parse_date(text, zone) if text else None
        # A date in the future is a mistake of the page (a template's placeholder, a wrong zone): not the date.
        if published is not None and published <= now:
            return published
    day = parse_date(fallback.date, zone)
    if day is None or day > now:
        return None
    return _time_printed_on(signals.tree, day, zone, now) or day


def _header_dates(frame: ArticleFrame) -> Iterator[str]:
    """Dates printed in the article's header, best first: labelled as the publication's, then any with a
    time of day, then a day alone. "Updated" dates come last."""
    lines = [_year_first(_folded(line)) for line in frame.header]
    updated = [line for line in lines if _UPDATED_LABEL.search(line)]
    published = [line for line in lines if line not in updated]
    labelled = [line for line in published if _PUBLISHED_LABEL.search(line)]
    for group in (labelled, published):
        yield from (match.group() for line in group for match in _VISIBLE_DATE_TIME.finditer(line))
    # A day alone is a date line's ("2004-12-10 阅读10544次"), not a sentence's ("2019年3月5日，央行宣布降准。").
    for group in (labelled, published, updated):
        yield from (match.group() for line in group if not _CLAUSE.search(line)
                    for match in _VISIBLE_DAY.finditer(line))
    yield from (match.group() for line in updated for match in _VISIBLE_DATE_TIME.finditer(line))


def _year_first(line: str) -> str:
    """The line with a numeric day-month or month-day date ("9/17/2004 5:54:13 AM", "17.09.2004") rewritten
    year first, when the order is certain (one of the two is above 12); ambiguous ones are left alone."""
    def rewrite(match: re.Match[str]) -> str:
        first, second, year = int(match["first"]), int(match["second"]), match["year"]
        if first > 12 >= second:
            return f"{year}-{second:02d}-{first:02d}"
        if second > 12 >= first:
            return f"{year}-{first:02d}-{second:02d}"
        return match.group()

    return _DAY_MONTH_YEAR.sub(rewrite, line)


def _time_printed_on(tree: HtmlElement, day: datetime, zone: tzinfo, now: datetime) -> datetime | None:
    """The first date and time the page prints for `day`: htmldate finds the day, often not the time."""
    body = tree.find("body")
    text = _folded(" ".join(body.itertext())) if body is not None else ""
    for match in _VISIBLE_DATE_TIME.finditer(text):
        printed = parse_date(match.group(), zone)
        if printed is not None and printed.date() == day.date() and printed <= now:
            return printed
    return None


def _image(signals: PageSignals, hints: BodyHints, ruled: RuleValues) -> str | None:
    candidates = [ruled.image,
                  *(value for key in _IMAGE_META for value in signals.meta.get(key, ())),
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
        values = list(fallback.tags)
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
        # A @graph names its author, publisher and image once and refers to them by @id (Yoast SEO does).
        nodes = {node["@id"]: node for node in _objects(data) if isinstance(node.get("@id"), str) and len(node) > 1}
        for article in _article_objects(data):
            yield {**article, **{key: _resolved(article[key], nodes) for key in _REFERENCED if key in article}}


def _objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _objects(item)
    elif isinstance(data, dict):
        yield data
        for value in data.values():
            if isinstance(value, (list, dict)):
                yield from _objects(value)


def _resolved(value: Any, nodes: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, list):
        return [_resolved(item, nodes) for item in value]
    if isinstance(value, dict) and set(value) == {"@id"}:
        return nodes.get(value["@id"], value)
    return value


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


def _image_of(element: HtmlElement, base: str) -> str | None:
    """The image URL an element gives: its own (img src, meta content, a link's href) or its first <img>'s."""
    image = element if element.tag == "img" else next(element.iter("img"), None)
    if image is not None:
        for name in IMAGE_SOURCES:
            if url := _absolute_http(base, image.get(name)):
                return url
    return _absolute_http(base, element.get("content") or element.get("href"))


def _baidu_marked(tree: HtmlElement, name: str) -> list[str]:
    """The text of the element Baidu News' markup convention names ("pubtime_baidu", "author_baidu"), which
    Chinese news sites follow to be indexed there."""
    return [clean_text(element.text_content()) for element in tree.xpath(f"//*[@id='{name}']")[:1]]


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
    # Through the attribute values: a Python object for each element would cost more than the whole search.
    named = [value.getparent() for value in body.xpath(".//@class | .//@id") if _TITLE_CLASS.search(value)]
    for element in [*body.iter("h1", "h2", "h3"), *named]:
        text = _comparable(element.text_content())
        if 0 < len(text) <= 300:
            texts.add(text)
    return texts


def _article_frame(tree: HtmlElement, title: str | None, hints: BodyHints) -> ArticleFrame:
    """The article's header: the elements after the title's and before the text's first line (the last
    `_HEADER_ELEMENTS` before the text when the title is not found, the first ones after the title when the
    text is not); and its footer, the elements right after the text's last line.

    Positions are counted by libxml2: a Python object for every element of the page would cost more."""
    anchor = _title_element(tree, title)
    start, end = (_line_start(tree, line, hints.line_starts) for line in (hints.first_line, hints.last_line))
    if start is None:
        header = anchor.xpath(f"following::*[position() <= {_HEADER_ELEMENTS}]") if anchor is not None else []
    elif anchor is None:
        header = start.xpath(f"preceding::*[position() <= {_HEADER_ELEMENTS}]")
    else:
        title_at, text_at = _position(anchor), _position(start)
        if text_at - title_at <= 3 * _HEADER_ELEMENTS:
            header = _between(tree, title_at, text_at)
        else:  # far apart: what is right under the title matters as much as what is right above the text
            header = [*_between(tree, title_at, title_at + _HEADER_ELEMENTS + 1),
                      *_between(tree, text_at - _HEADER_ELEMENTS - 1, text_at)]
        around = set(start.iterancestors())
        header = [element for element in header if element not in around]
    footer = end.xpath(f"following::*[position() <= {_FOOTER_ELEMENTS}]") if end is not None else []
    near_headline_link = _HeadlineLinks()
    header = [element for element in header if not near_headline_link(element)]
    return ArticleFrame(_short_texts(header), _short_texts(footer), header)


def _position(element: HtmlElement) -> int:
    """The element's index among all the document's elements, in document order."""
    return int(element.xpath("count(preceding::*) + count(ancestor::*)"))


def _between(tree: HtmlElement, first: int, last: int) -> list[HtmlElement]:
    """The elements strictly between the elements at indexes `first` and `last`."""
    return tree.xpath(f"(//*)[position() > {first + 1} and position() <= {last}]")


def _line_start(tree: HtmlElement, line: str, known: Mapping[str, HtmlElement] | None) -> HtmlElement | None:
    if not line:
        return None
    return known.get(line_key(line)) if known is not None else element_starting(tree, line)


def _short_texts(elements: Iterable[HtmlElement]) -> list[str]:
    lines = []
    for element in elements:
        if element.tag in ("script", "style"):
            continue
        text = clean_text(" ".join(element.itertext()))
        if text and len(text) <= _MAX_HEADER_TEXT:
            lines.append(text)
    return lines


class _HeadlineLinks:
    """Whether an element is, or sits next to, a link long enough to be a headline (a list of other stories).
    The header's elements are mostly siblings: each subtree's links are read once, not once per sibling (a
    parent can hold the whole article and its list of related stories)."""

    def __init__(self) -> None:
        self._holds: dict[HtmlElement, bool] = {}

    def __call__(self, element: HtmlElement) -> bool:
        return any(self._holds_one(node) for node in (element, element.getparent()) if node is not None)

    def _holds_one(self, node: HtmlElement) -> bool:
        held = self._holds.get(node)
        if held is None:
            held = self._holds[node] = any(_is_headline(clean_text(link.text_content())) for link in node.iter("a"))
        return held


def _is_headline(text: str) -> bool:
    return _display_width(text) >= _HEADLINE_LINK_WIDTH and not looks_like_name(text)


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
            if (isinstance(element.tag, str) and element.tag != "title" and element.text
                    and _comparable(element.text) == wanted):
                return element
    return next(iter(body.iter("h1")), None)


class _TrafilaturaGuesses:
    """trafilatura's metadata, each field computed only if it has no better source (htmldate's search is slow,
    so the date is not searched for a missing title)."""

    def __init__(self, signals: PageSignals):
        self._signals = signals

    @cached_property
    def title(self) -> str | None:
        from trafilatura.metadata import extract_title

        return extract_title(self._signals.tree)

    @cached_property
    def date(self) -> str | None:
        from htmldate import find_date

        return find_date(self._signals.tree, url=self._signals.url, **DATE_EXTRACTION_PARAMS)

    @cached_property
    def tags(self) -> list[str]:
        from trafilatura.metadata import extract_catstags

        return extract_catstags("tag", self._signals.tree)


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
    """The site's name, or in Chinese part of it or it with more: "江南财经" on 江南财经网, "新浪财经" on 新浪网."""
    if _comparable(text) in signals.site_names or _compact(text) in signals.site_names:
        return True
    key = _compact(text)
    return _has_han(text) and len(key) >= 2 and any(
        _has_han(site) and len(site) >= 2 and (key in site or site in key) for site in signals.site_names)


def _absolute_http(base: str, value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    url = urljoin(base, value.strip())
    return url if urlsplit(url).scheme in ("http", "https") else None


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _comparable(text: str) -> str:
    return " ".join(text.split()).casefold()


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()
