"""From response bytes to a parsed, bounded HTML tree; refusing what is not an HTML page."""
from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Callable
from urllib.parse import urljoin

import lxml.html
from lxml.etree import ParserError
from lxml.html import HtmlElement

from ..errors import ExtractionError
from ..fetch.decode import decode
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
_CONTROL_BYTES = frozenset(set(range(0x00, 0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B})
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# trafilatura takes an image from src or any data-src* attribute (lazy loading).
_LAZY_IMAGE_ATTRIBUTE = re.compile(r"^data-src")


def decode_page(body: bytes, content_type: str | None, url: str) -> str:
    """The page as text; ExtractionError when it is empty, binary or not HTML."""
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
    text, _ = decode(body, content_type)
    return text


# Characters XML forbids: libxml2 stops at NUL, and trafilatura's XML stage silently returns nothing when a
# title holds a BEL or a lone surrogate.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def parse_html(text: str, url: str) -> HtmlElement:
    """A bounded tree with absolute image and link URLs."""
    text = _XML_INVALID.sub("", _XML_DECLARATION.sub("", text, count=1))
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        tree = lxml.html.document_fromstring(text, parser=parser)
    except ParserError as error:
        raise ExtractionError(url, "no article text found") from error
    cut_after(tree, MAX_ELEMENTS)
    base = document_base(tree, url)
    tree.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
    _absolutize_lazy_images(tree, base)
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
    return sum(1 for _ in tree.iter())


def text_sample(tree: HtmlElement, size: int) -> str:
    """The first `size` characters of the page's visible text, without joining all of it."""
    body = tree.find("body")
    pieces: list[str] = []
    length = 0
    for piece in body.itertext() if body is not None else ():
        pieces.append(piece)
        length += len(piece)
        if length >= size:
            break
    return "".join(pieces)[:size]


def cut_after(tree: HtmlElement, limit: int) -> None:
    """Remove every element after the first `limit` ones in document order."""
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
    controls = sum(1 for byte in head if byte in _CONTROL_BYTES)
    return controls > len(head) * _MAX_CONTROL_SHARE


def _absolutize_lazy_images(tree: HtmlElement, base: str) -> None:
    # make_links_absolute resolves src, not the data-src* attributes of lazy-loaded images.
    for image in tree.iter("img"):
        for name, value in image.attrib.items():
            if _LAZY_IMAGE_ATTRIBUTE.match(name) and value.strip():
                image.set(name, urljoin(base, value.strip()))
