"""From response bytes to a parsed, bounded HTML tree; refusing what is not an HTML page."""
from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Callable, Iterator
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from lxml.etree import ParserError
from lxml.html import HtmlElement

from ..errors import ExtractionError
from ..fetch.decode import decode, normalize_encoding
from ..models import ExtractRules

# trafilatura has no time limit: trees are cut here so that no page costs much more than a large real one
# (a few seconds at most at this size). Real article pages hold a few thousand elements; what lies past
# this many is comments and listings.
MAX_ELEMENTS = 20_000

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Types servers put on HTML they did not label properly: accepted when the body looks like HTML.
_VAGUE_TYPES = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})
_HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|title|div|p)\b", re.IGNORECASE)
_MAGIC_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
)
_UNICODE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")
# Text in any ASCII-compatible encoding holds almost no C0 control bytes; binary data holds about 1 in 10.
_MAX_CONTROL_SHARE = 0.02
_CONTROL_BYTES = bytes(sorted(set(range(0x00, 0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}))
# What makes a table cell a piece of page layout rather than data (`unwrap_layout_tables`).
_LAYOUT_BLOCKS = ("table", "p", "div", "ul", "ol", "h1", "h2", "h3", "h4", "blockquote")
_LAYOUT_CELL_CHARS = 200
_LAYOUT_BLOCKS_CHARS = 60
_SENTENCE_INSIDE = re.compile(r"[。！？]|[.!?]\s")
_EMPHASIS_TAGS = ("b", "strong", "i", "em")
_INVISIBLE = frozenset({"script", "style", "noscript", "template"})
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Where pages keep an image's address: src, and the attributes of lazy loading scripts.
IMAGE_SOURCES = ("data-src", "data-original", "data-lazy-src", "data-actualsrc", "src")
_LAZY_IMAGE_ATTRIBUTE = re.compile(r"^data-(?:src|original|lazy-src|actualsrc)")


def decode_page(body: bytes, content_type: str | None, url: str, encoding: str | None = None) -> str:
    """The page as text; ExtractionError when it is empty, binary or not HTML. `encoding` (a site rule's)
    overrides what the server and the page declare."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if not body or body.isspace():
        raise ExtractionError(url, "empty page")
    sniffed = _sniff_binary_type(body)
    if sniffed or (media_type and media_type not in _HTML_TYPES | _VAGUE_TYPES):
        raise ExtractionError(url, f"not an HTML page ({sniffed or media_type})")
    if media_type not in _HTML_TYPES and not _HTML_TAG.search(body[:2048]):
        raise ExtractionError(url, f"not an HTML page ({media_type or 'no content type'})")
    if _looks_binary(body):
        raise ExtractionError(url, f"binary data served as {media_type or 'an unlabelled page'}")
    if encoding:
        return body.decode(normalize_encoding(encoding) or encoding, errors="replace").removeprefix("\ufeff")
    text, _ = decode(body, content_type)
    return text


# Characters XML forbids: libxml2 stops at NUL, and trafilatura's XML stage silently returns nothing when a
# title holds a BEL or a lone surrogate.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def parse_html(text: str, url: str) -> HtmlElement:
    """A bounded tree with absolute image URLs (links stay as they are: the body keeps none)."""
    text = _XML_INVALID.sub("", _XML_DECLARATION.sub("", text, count=1))
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)
    try:
        tree = lxml.html.document_fromstring(text, parser=parser)
    except ParserError as error:
        raise ExtractionError(url, "no article text found") from error
    cut_after(tree, MAX_ELEMENTS)
    base = document_base(tree, url)
    _absolutize_images(tree, base)
    return tree


def document_base(tree: HtmlElement, url: str) -> str:
    """The URL relative links resolve against: `<base href>` if the page has one, else its own URL."""
    href = tree.xpath("string((//base[@href])[1]/@href)").strip()
    return urljoin(url, href) if href else url


def fragment_tree(html: str, url: str) -> HtmlElement:
    """A feed's HTML content as a document whose body is one article element."""
    if re.search(r"<(?:html|body)\b", html[:2048], re.IGNORECASE):
        return parse_html(html, url)
    return parse_html(f"<html><body><article>{html}</article></body></html>", url)


def element_count(tree: HtmlElement) -> int:
    # Counted by libxml2: iterating would create a Python object per element.
    return int(tree.xpath("count(descendant-or-self::*)"))


def text_sample(tree: HtmlElement, size: int) -> str:
    """The first `size` characters of the page's visible text, without joining all of it."""
    body = tree.find("body")
    pieces: list[str] = []
    length = 0
    for piece in _visible_texts(body) if body is not None else ():
        pieces.append(piece)
        length += len(piece)
        if length >= size:
            break
    return "".join(pieces)[:size]


def _visible_texts(element: HtmlElement) -> Iterator[str]:
    """The texts of `element` in document order, without those of scripts and style sheets."""
    hidden = 0
    for event, node in etree.iterwalk(element, events=("start", "end")):
        invisible = node.tag in _INVISIBLE
        if event == "start":
            hidden += invisible
            if not hidden and node.text:
                yield node.text
        else:
            hidden -= invisible
            if not hidden and node.tail and node is not element:
                yield node.tail


def cut_after(tree: HtmlElement, limit: int) -> None:
    """Remove every element after the first `limit` ones in document order."""
    if element_count(tree) <= limit:
        return
    for index, element in enumerate(tree.iter()):
        if index == limit:
            break
    else:
        return
    node = element
    while (parent := node.getparent()) is not None:
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node = parent
    element.getparent().remove(element)


def content_tree(tree: HtmlElement, rules: ExtractRules, url: str) -> HtmlElement:
    """A copy of the page reduced to what the feed's rules say holds the article."""
    if not rules.article_selector and not rules.drop_selectors:
        return tree
    work = copy.deepcopy(tree)
    for selector in rules.drop_selectors:
        for element in _compiled(selector, url)(work):
            if element.getparent() is not None:
                element.drop_tree()
    if rules.article_selector:
        matches = _compiled(rules.article_selector, url)(work)
        # A selector that no longer matches (the site changed its template) must not lose the article.
        if matches:
            _keep_only(work, matches[0])
    return work


def unwrap_layout_tables(tree: HtmlElement) -> None:
    """Turn the tables that lay out a page into plain blocks, in place.

    Old portals build whole pages from nested tables; trafilatura would return the article as one Markdown
    table cell, its paragraphs run together. A table is layout, not data, when one of its own cells holds
    another table, several paragraphs, or a long run of prose."""
    for table in list(tree.iter("table")):
        rows = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
        cells = [cell for row in rows for cell in row if isinstance(cell.tag, str) and cell.tag in ("td", "th")]
        if any(_is_layout_cell(cell) for cell in cells):
            for element in (table, *table.xpath("./thead | ./tbody | ./tfoot"), *rows, *cells):
                element.tag = "div"


def _is_layout_cell(cell: HtmlElement) -> bool:
    blocks = 0
    for child in cell.iter(_LAYOUT_BLOCKS):
        if child.tag == "table":
            return True
        blocks += 1
    text = cell.text_content()
    # Data cells may wrap a figure and a note in paragraphs of their own, but hold no run of text.
    if blocks >= 2 and len(text) >= _LAYOUT_BLOCKS_CHARS:
        return True
    return len(text) >= _LAYOUT_CELL_CHARS and _SENTENCE_INSIDE.search(text) is not None


def prepare_inline_markup(tree: HtmlElement) -> None:
    """Inline markup made fit for Markdown, in place.

    Underline, superscript and subscript have no Markdown: trafilatura writes them as HTML tags, which the
    published post would show escaped ("m&lt;sup>2&lt;/sup>"); their text stays, plain. And `<b>Fed statement
    </b>to` becomes `<b>Fed statement</b> to`: emphasis cannot end (or start) with a space in Markdown, so
    trafilatura drops it, gluing the words together ("**Fed statement**to")."""
    etree.strip_tags(tree, "u", "sup", "sub")
    for element in reversed(list(tree.iter(_EMPHASIS_TAGS))):
        last = element[-1] if len(element) else None
        inner_end = last.tail if last is not None else element.text
        if inner_end and inner_end[-1:].isspace():
            if last is not None:
                last.tail = inner_end.rstrip()
            else:
                element.text = inner_end.rstrip()
            element.tail = " " + (element.tail or "").lstrip()
        if element.text and element.text[:1].isspace():
            element.text = element.text.lstrip()
            previous = element.getprevious()
            parent = element.getparent()
            if previous is not None:
                previous.tail = (previous.tail or "").rstrip() + " "
            elif parent is not None:
                parent.text = (parent.text or "").rstrip() + " "


def _keep_only(tree: HtmlElement, article: HtmlElement) -> None:
    body = tree.find("body")
    if body is None:
        body = lxml.html.Element("body")
        tree.append(body)
    article.tail = None
    for child in list(body):
        body.remove(child)
    body.text = None
    body.append(article)


def _compiled(selector: str, url: str) -> Callable[[HtmlElement], list[HtmlElement]]:
    try:
        return compile_selector(selector)
    except ValueError as error:
        raise ExtractionError(url, str(error)) from error


@lru_cache(maxsize=256)
def compile_selector(selector: str) -> Callable[[HtmlElement], list[HtmlElement]]:
    """A CSS selector as a function of a tree; ValueError if it is not valid CSS (for config validation)."""
    from cssselect import SelectorError  # only feeds with selectors need cssselect
    from lxml.cssselect import CSSSelector

    try:
        return CSSSelector(selector, translator="html")
    except SelectorError as error:
        raise ValueError(f"invalid CSS selector {selector!r}: {error}") from error


def _sniff_binary_type(body: bytes) -> str | None:
    head = body[:64].lstrip()
    return next((media_type for magic, media_type in _MAGIC_TYPES if head.startswith(magic)), None)


def _looks_binary(body: bytes) -> bool:
    if body.startswith(_UNICODE_BOMS):
        return False
    head = body[:4096]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))  # counted in C, not byte by byte
    return controls > len(head) * _MAX_CONTROL_SHARE


def _absolutize_images(tree: HtmlElement, base: str) -> None:
    # Only images: resolving every link of a page (lxml's make_links_absolute) costs a tenth of the extraction.
    for image in tree.iter("img"):
        for name, value in image.attrib.items():
            if (name == "src" or _LAZY_IMAGE_ATTRIBUTE.match(name)) and value.strip():
                try:
                    image.set(name, urljoin(base, value.strip()))
                except ValueError:  # an unparseable address (bad IPv6 literal...): not an image we can use
                    del image.attrib[name]
