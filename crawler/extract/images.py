"""The article's images, put back into the Markdown body next to the paragraphs they sit by on the page.

trafilatura is asked for text only: with images on, it also keeps photo galleries, slideshow captions and
thumbnail lists, and even picks another part of the page as the article. Here the images come back: the
page is walked in document order, the paragraphs trafilatura kept are recognised by their first characters,
and each image goes before the kept paragraph that follows it. Images count only inside the article: between
its first and last paragraph, or above and below them within the element that holds them all; icons, logos,
avatars, QR codes and images in asides, navigation and share or "related" boxes are left out. A figure's
caption becomes the image's alt text when it has none, so the caption stays with the image but out of the
text.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from .boilerplate import plain_text
from .locate import INLINE_TAGS, MIN_KEY_CHARS, own_start, tail_start, text_key
from .page import IMAGE_SOURCES

# A kept line with this much text is prose: the elements holding such lines delimit the article.
_PROSE_CHARS = 20
# Images after the last paragraph are kept only until this much other text has come between.
_MAX_TRAILING_TEXT = 20
_MAX_TRAILING_IMAGES = 3
_MIN_IMAGE_SIDE = 50
_MAX_ALT_CHARS = 300

# The page's texts and images in document order; those in parts that hold no article (or, for figcaption,
# that `_caption` reads) are left out. The parts are few: selecting what lies inside them costs libxml2 a
# fraction of testing each text's ancestors for every tag.
_SKIPPED = ("script", "style", "noscript", "template", "aside", "nav", "footer", "button", "select", "textarea",
            "iframe", "svg", "figcaption")
_TEXTS_AND_IMAGES = etree.XPath(".//text()[normalize-space()] | .//img")
_SKIPPED_PARTS = "(" + " | ".join(f".//{tag}" for tag in _SKIPPED) + ")"
_SKIPPED_TEXTS_AND_IMAGES = etree.XPath(f"{_SKIPPED_PARTS}//text()[normalize-space()] | {_SKIPPED_PARTS}//img")
# File names and boxes of images that are page furniture or belong to something else than the article.
_NOT_CONTENT_FILE = re.compile(
    r"logo|icon|avatar|thumb|loader|1px|spacer|blank|pixel|1x1|loading|placeholder|qr_?code|erweima|emoji|smiley|"
    r"badge|sprite|button|btn|arrow|share|beacon|tracking|transparent|grey\.gif|gray\.gif", re.IGNORECASE)
_NOT_CONTENT_BOX = re.compile(
    r"(?:^|[\s_-])(?:ads?|advert\w*|banner|promo\w*|related|recommend\w*|share|sharing|social|comments?|sidebar|"
    r"author|avatar|logo|qr|qrcode|erweima|sponsor\w*|widget|toolbar|breadcrumbs?|more-?stories|newsletter|"
    r"subscribe)(?:$|[\s_-])", re.IGNORECASE)
_CAPTION_BOX = re.compile(r"(?:^|[\s_-])(?:fig)?caption(?:$|[\s_-])|(?:^|[\s_-])(?:img|pic|photo)_?(?:desc|title|note)",
                          re.IGNORECASE)
_STRUCTURED_LINE = re.compile(r"^\s*(?:[-*+]\s|\d{1,3}[.)]\s|\||>)")
_ALT_SPECIALS = re.compile(r"([\\\[\]])")


@dataclass(frozen=True, slots=True)
class PlacedImages:
    markdown: str
    line_starts: dict[str, HtmlElement]
    """Where each kept line starts on the page, by `locate.line_key` (for the article's header and footer)."""


@dataclass(frozen=True, slots=True)
class _Image:
    src: str
    alt: str
    element: HtmlElement


def place_images(markdown: str, tree: HtmlElement) -> PlacedImages:
    """`markdown` with the content images of `tree` (the tree it was extracted from) before the paragraphs
    that follow them on the page."""
    lines = markdown.split("\n")
    texts = _line_texts(lines)
    keys = _line_keys(texts)
    body = tree.find("body")
    if not keys or body is None:
        return PlacedImages(markdown, {})
    events = list(_walk(body, keys))
    matches = [(line, element) for kind, line, element in events if kind == "match"]
    starts: dict[str, HtmlElement] = {}
    for line, element in matches:
        starts.setdefault(text_key(texts[line]), element)
    if not matches:
        return PlacedImages(markdown, starts)
    prose = [element for line, element in matches if len(texts[line]) >= _PROSE_CHARS]
    container = _common_ancestor(prose or [element for _, element in matches])
    if container is not None and container.tag == "p":
        # All the prose is one paragraph (a flash item): the article is the block holding it, whose picture
        # sits beside the paragraph, not inside it, as it sits beside the paragraphs of a longer story.
        container = container.getparent()
    placed = _placements(events, container, tree)
    return PlacedImages(_insert(lines, placed) if placed else markdown, starts)


def _placements(events: list[tuple[str, int, object]], container: HtmlElement | None,
                tree: HtmlElement) -> dict[int, list[_Image]]:
    """Line index → images to put before it; -1 → images to put after the last line."""
    placed: dict[int, list[_Image]] = {}
    pending: list[_Image] = []
    last_line = -1
    trailing: list[_Image] = []
    seen: set[str] = set()
    inside = container is not None and container.tag not in ("body", "html")
    for kind, number, payload in events:
        if kind == "match":
            if pending and number >= last_line:
                placed.setdefault(number, []).extend(pending)
            pending, trailing = [], []
            last_line = max(last_line, number)
        else:
            image: _Image = payload  # type: ignore[assignment]
            text_since_match = number
            if image.src in seen or not _is_content_image(image, container, tree):
                continue
            in_container = inside and _is_descendant(image.element, container)
            if last_line < 0 and not in_container:
                continue  # above the article, outside it: header, logo, another story's picture
            seen.add(image.src)
            pending.append(image)
            if last_line >= 0 and in_container and text_since_match <= _MAX_TRAILING_TEXT:
                trailing.append(image)
    if trailing:
        placed.setdefault(-1, []).extend(trailing[:_MAX_TRAILING_IMAGES])
    return placed


def _insert(lines: list[str], placed: dict[int, list[_Image]]) -> str:
    out: list[str] = []
    starts = {_block_start(lines, index): images for index, images in placed.items() if index >= 0}
    for index, line in enumerate(lines):
        for image in starts.get(index, ()):
            if out and out[-1].strip():
                out.append("")
            out.extend([_markdown(image), ""])
        out.append(line)
    for image in placed.get(-1, ()):
        out.extend(["", _markdown(image)])
    return "\n".join(out)


def _block_start(lines: list[str], index: int) -> int:
    """Where an image can go before line `index`: not inside a list, table or quotation."""
    while index > 0 and _STRUCTURED_LINE.match(lines[index]) and _STRUCTURED_LINE.match(lines[index - 1]):
        index -= 1
    return index


def _markdown(image: _Image) -> str:
    alt = _ALT_SPECIALS.sub(r"\\\1", image.alt)
    src = image.src.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"![{alt}]({src})"


# --- the walk -------------------------------------------------------------------------------------------


def _walk(body: HtmlElement, keys: dict[str, list[int]]):
    """In document order: ("match", line, element) where an element starts a kept line, and ("image", text,
    _Image) for each image, `text` being how much text that starts no kept line came since the last match."""
    used: set[int] = set()
    unmatched = 0
    # Most texts on a page start no kept line: their first character tells, before any work is spent on them.
    firsts = {key[0] for key in keys}
    # Texts start with the same few characters (capitals, common Han characters): each is folded once.
    folded_firsts: dict[str, str] = {}
    skipped = {_text_position(node) if isinstance(node, str) else node
               for node in _SKIPPED_TEXTS_AND_IMAGES(body)}
    for node in _TEXTS_AND_IMAGES(body):
        if not isinstance(node, str):
            if node in skipped:
                continue
            image = _image(node)
            if image is not None:
                yield "image", unmatched, image
            continue
        if skipped and _text_position(node) in skipped:
            continue
        visible = node.lstrip()
        if not visible:  # no-break or ideographic spaces only
            continue
        first = visible[0]
        folded = folded_firsts.get(first)
        if folded is None:
            folded = folded_firsts[first] = unicodedata.normalize("NFKC", first).casefold()[:1]
        if folded not in firsts:
            unmatched += len(visible)
            continue
        text, holder = _line_from(node)
        key = text_key(text)
        candidates = keys.get(key, ()) if len(key) >= MIN_KEY_CHARS else ()
        line = next((line for line in candidates if line not in used), None)
        if line is None:
            unmatched += len(text)
        else:
            used.add(line)
            unmatched = 0
            yield "match", line, holder


def _text_position(node) -> tuple[HtmlElement, bool]:
    """Where a text node of an XPath result sits: the text of an element or the tail after it. The texts at one
    position are inside the same elements."""
    return node.getparent(), node.is_tail


def _line_from(node) -> tuple[str, HtmlElement]:
    """The line a text node begins, and the element it begins in: the text after an element (a `<br>`, say)
    begins a line in that element's parent; an element's own text, in the outermost element it opens
    (`<p><b>Bold</b> start…</p>` begins in the `<p>`)."""
    element = node.getparent()
    if node.is_tail:
        return tail_start(element), element.getparent()
    while element.tag in INLINE_TAGS and element.getprevious() is None:
        parent = element.getparent()
        if parent is None or parent.text and not parent.text.isspace():
            break
        element = parent
    return own_start(element), element


def _line_texts(lines: list[str]) -> dict[int, str]:
    """Line index → the line's plain text, but for table rows."""
    return {index: plain_text(line) for index, line in enumerate(lines) if not line.lstrip().startswith("|")}


def _line_keys(texts: dict[int, str]) -> dict[str, list[int]]:
    """`locate.line_key` → the indexes of the lines it recognises."""
    keys: dict[str, list[int]] = {}
    for index, text in texts.items():
        key = text_key(text)
        if len(key) >= MIN_KEY_CHARS:
            keys.setdefault(key, []).append(index)
    return keys


# --- images ---------------------------------------------------------------------------------------------


def _image(element: HtmlElement) -> _Image | None:
    src = next((value.strip() for name in IMAGE_SOURCES if (value := element.get(name)) and _usable_src(value)),
               None)
    if src is None:
        return None
    alt = " ".join((element.get("alt") or element.get("title") or "").split()) or _caption(element)
    return _Image(src, alt[:_MAX_ALT_CHARS], element)


def _usable_src(value: str) -> bool:
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _caption(element: HtmlElement) -> str:
    """The text of the image's caption: the figcaption of its figure, or a caption-like element next to the
    image or to the box holding it."""
    node = element
    for _ in range(3):
        parent = node.getparent()
        if parent is None:
            return ""
        if parent.tag == "figure":
            caption = next(parent.iter("figcaption"), None)
            return " ".join(caption.text_content().split()) if caption is not None else ""
        for sibling in (*node.itersiblings(preceding=True), *node.itersiblings()):
            if _is_caption(sibling):
                return " ".join(sibling.text_content().split())
        node = parent
    return ""


def _is_caption(element: HtmlElement) -> bool:
    if not isinstance(element.tag, str):
        return False
    marks = f"{element.get('class', '')} {element.get('id', '')}"
    return element.tag == "figcaption" or _CAPTION_BOX.search(marks) is not None


def _is_content_image(image: _Image, container: HtmlElement | None, tree: HtmlElement) -> bool:
    for side in ("width", "height"):
        digits = re.match(r"\s*(\d+)", image.element.get(side) or "")
        if digits and int(digits.group(1)) < _MIN_IMAGE_SIDE:
            return False
    if _NOT_CONTENT_FILE.search(urlsplit(image.src).path.rsplit("/", 1)[-1]):
        return False
    node = image.element.getparent()
    while node is not None and node is not container and node is not tree:
        if _NOT_CONTENT_BOX.search(f"{node.get('class', '')} {node.get('id', '')}"):
            return False
        node = node.getparent()
    return True


def _common_ancestor(elements: list[HtmlElement]) -> HtmlElement | None:
    if not elements:
        return None
    common = list(elements[0].iterancestors())[::-1] + [elements[0]]
    for element in elements[1:]:
        chain = list(element.iterancestors())[::-1] + [element]
        size = 0
        for mine, theirs in zip(common, chain):
            if mine is not theirs:
                break
            size += 1
        common = common[:size]
    return common[-1] if common else None


def _is_descendant(element: HtmlElement, ancestor: HtmlElement) -> bool:
    return any(node is ancestor for node in element.iterancestors())
