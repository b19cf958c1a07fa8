"""Reading the archive back: every post file, what it says about itself, and what is wrong with it.

The files are the source of truth: `crawler reindex` rebuilds the state database from what this module reads,
and `crawler verify` compares the two. Walking is lazy (one post in memory at a time).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import ArchiveError
from ..models import CategoryPath
from .frontmatter import parse_post

_TEMP_FILE = re.compile(r"^\..+\.tmp-[0-9a-f]{8}$")
REQUIRED_KEYS = ("title", "date", "published", "categories", "link", "feed")


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A post file as read back: enough to index it."""

    rel_path: str
    link: str
    title: str
    date: str
    published: str
    feed: str
    guid: str | None
    categories: tuple[CategoryPath, ...]
    syndicated: tuple[str, ...]
    tickers: tuple[str, ...]
    body: str
    updated: str | None = None
    revisions: int = 0


@dataclass(frozen=True, slots=True)
class BrokenPost:
    rel_path: str
    problem: str


def post_files(root: Path) -> Iterator[Path]:
    """Every `.md` file Hexo would publish: no path component starting with `.` or `_` (temp files, lock)."""
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if name.endswith(".md") and not name.startswith((".", "_")):
                yield Path(directory, name)


def leftover_temp_files(root: Path) -> Iterator[Path]:
    """Temporary files of writes a killed process never renamed (`.name.md.tmp-XXXXXXXX`, see writer.py)."""
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if _TEMP_FILE.match(name):
                yield Path(directory, name)


def _categories(value) -> tuple[CategoryPath, ...]:
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        paths = value
    elif isinstance(value, list):
        paths = [value]
    else:
        raise ValueError("categories is not a list")
    out = []
    for path in paths:
        if len(path) != 3 or not all(isinstance(p, str) and p for p in path):
            raise ValueError(f"categories entry {path!r} is not [category, source, feed name]")
        out.append(tuple(path))
    return tuple(out)


def _strings(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"expected a list, found {type(value).__name__}")
    return tuple(str(v) for v in value)


def _count(value) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"revisions {value!r} is not a count")
    return value


def read_record(root: Path, path: Path) -> PostRecord | BrokenPost:
    rel_path = path.relative_to(root).as_posix()
    try:
        front, body = parse_post(path.read_text(encoding="utf-8"))
    except (ArchiveError, OSError, UnicodeDecodeError) as e:
        return BrokenPost(rel_path, str(e).removeprefix("malformed post: "))
    missing = [k for k in REQUIRED_KEYS if not front.get(k)]
    if missing:
        return BrokenPost(rel_path, f"front matter lacks {', '.join(missing)}")
    try:
        return PostRecord(
            rel_path=rel_path, link=str(front["link"]), title=str(front["title"]), date=str(front["date"]),
            published=str(front["published"]),
            feed=str(front["feed"]), guid=str(front["guid"]) if front.get("guid") else None,
            categories=_categories(front["categories"]), syndicated=_strings(front.get("syndicated")),
            tickers=_strings(front.get("tickers")), body=body,
            updated=str(front["updated"]) if front.get("updated") else None, revisions=_count(front.get("revisions")),
        )
    except ValueError as e:
        return BrokenPost(rel_path, str(e))
