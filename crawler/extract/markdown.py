"""Finishing touches on the Markdown body: no repeated title, safe for Hexo to publish as is."""
from __future__ import annotations

import re
from typing import Iterable

from .boilerplate import plain_text

# Menu items and logo text a short page's extraction may keep above the title.
_MAX_CHROME_LINES = 8
_MAX_CHROME_CHARS = 10
_FENCE = re.compile(r"^\s*(?:```|~~~)")
# Spans whose `<` must stay as it is: code spans (rendered literally anyway) and link/image destinations.
_PROTECTED = re.compile(r"(`+)(?:(?!\1).)+?\1|\]\((?:<[^>\n]*>|[^)\s]*)(?:\s+\"[^\"\n]*\")?\)")
_ANGLE = re.compile(r"(\\*)<")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_IMAGE_URL = re.compile(r"!\[(?:\\.|[^\]\\])*\]\(<?([^)\s>]+)>?")


def drop_title_line(markdown: str, titles: Iterable[str]) -> str:
    """The body without the line that repeats the title (Hexo shows the title itself), when it is the first
    line or comes after nothing but a few short lines of page chrome (logo, menu items), which go too."""
    known = {_comparable(title) for title in titles if title}
    lines = markdown.splitlines()
    filled = [index for index, line in enumerate(lines) if line.strip()]
    for index in filled[:_MAX_CHROME_LINES + 1]:
        text = plain_text(lines[index])
        if _comparable(text) in known:
            return "\n".join(lines[index + 1:]).strip("\n")
        if not text or len(text) > _MAX_CHROME_CHARS:
            break
    return markdown


def escape_for_hexo(markdown: str) -> str:
    """Markdown whose text cannot turn into live HTML: `<` in text becomes `&lt;`, and `&` before what would
    read as an entity becomes `&amp;`. Code, image and link targets are left alone, and so are `{{ }}` and
    `{% %}` (posts disable Nunjucks)."""
    out: list[str] = []
    in_fence = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
        elif in_fence:
            out.append(line)
        else:
            out.append(_escape_line(line))
    return "\n".join(out)


def first_image(markdown: str) -> str | None:
    match = _IMAGE_URL.search(markdown)
    return match.group(1) if match else None


def _escape_line(line: str) -> str:
    pieces: list[str] = []
    position = 0
    for match in _PROTECTED.finditer(line):
        pieces.append(_escape_text(line[position:match.start()]))
        pieces.append(match.group())
        position = match.end()
    pieces.append(_escape_text(line[position:]))
    return "".join(pieces)


def _escape_text(text: str) -> str:
    text = _ENTITY.sub("&amp;", text)
    # An odd run of backslashes ends in one that escapes the `<`: the entity replaces that escape.
    return _ANGLE.sub(lambda m: "\\" * (len(m.group(1)) // 2 * 2) + "&lt;", text)


def _comparable(text: str) -> str:
    return " ".join(text.split()).casefold()
