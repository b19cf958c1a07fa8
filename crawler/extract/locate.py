"""Where the extracted text sits on the page: a line of the body is recognised by its first characters.

trafilatura returns text, not the elements it came from. The images and the article's header (the byline
and date between the title and the text) are found by walking the page and recognising where a kept line
starts: its first characters, whitespace left out and full-width forms folded.
"""
from __future__ import annotations

import unicodedata
from typing import Iterable

from lxml.html import HtmlElement

from .boilerplate import plain_text

# How many characters of a paragraph's start recognise it, and the fewest that may.
KEY_CHARS = 16
MIN_KEY_CHARS = 5

INLINE_TAGS = frozenset({"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "dfn", "em", "font", "i", "kbd",
                         "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt",
                         "u", "var", "ins", "del", "label", "nobr"})


def text_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text[:KEY_CHARS * 4]).casefold()
    return "".join(folded.split())[:KEY_CHARS]


def line_key(markdown_line: str) -> str:
    return text_key(plain_text(markdown_line))


def leading_text(text: str | None, following: Iterable[HtmlElement]) -> str:
    """`text` and the inline elements after it, up to the first block element, image or line break: how a
    paragraph starts."""
    pieces = [text or ""]
    length = len(pieces[0].strip())
    for sibling in following:
        if length >= KEY_CHARS * 2 or not isinstance(sibling.tag, str) or sibling.tag not in INLINE_TAGS:
            break
        for piece in sibling.itertext():
            pieces.append(piece)
            length += len(piece.strip())
        pieces.append(sibling.tail or "")
        length += len((sibling.tail or "").strip())
    return "".join(pieces).strip()


def own_start(element: HtmlElement) -> str:
    """The text a line would start with at `element`'s beginning ("" if its first content is a block)."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if element.text and element.text.strip() or (tag not in INLINE_TAGS and len(element)):
        return leading_text(element.text, iter(element))
    return ""


def tail_start(element: HtmlElement) -> str:
    """The text a line would start with right after `element` (after a `<br>`, say), in its parent."""
    if element.tail and element.tail.strip():
        return leading_text(element.tail, element.itersiblings())
    return ""


def element_starting(tree: HtmlElement, markdown_line: str) -> HtmlElement | None:
    """The first element, in document order, in which the given line of the body starts."""
    key = line_key(markdown_line)
    body = tree.find("body")
    if len(key) < MIN_KEY_CHARS or body is None:
        return None
    for element in body.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style"):
            continue
        if text_key(own_start(element)) == key:
            return element
        if text_key(tail_start(element)) == key and element.getparent() is not None:
            return element.getparent()
    return None
