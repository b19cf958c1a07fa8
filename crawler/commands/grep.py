"""`crawler grep --ticker CODE [--since 7d] [--files] [--json]`: the archived articles that name a security.

From the state index (`article_tickers`, filled as articles are archived) when there is one, else by
reading the front matter of every post in the archive. Loads neither the HTTP nor the extraction stack and
never creates a state database.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from ..archive.frontmatter import parse_post
from ..archive.scan import post_files
from ..config import Settings
from ..enrich import load_companies, normalise_code
from ..errors import ArchiveError, ConfigError, StateError
from ..state.store import Store, database_missing
from . import EXIT_OK
from .common import parse_moment, settings_from

log = logging.getLogger("crawler")


@dataclass(frozen=True, slots=True)
class Match:
    date: str
    """Publication time in `archive.timezone`, `YYYY-MM-DD HH:MM:SS` (the post's `date`)."""
    title: str
    path: str
    """The file: the archive directory joined with the post's path."""
    published: str | None
    """ISO 8601 with the publisher's offset, as in the post."""


def resolve_ticker(text: str, settings: Settings) -> str:
    """The normal form of a code in any spelling, or the code of a company name in the name table."""
    code = normalise_code(text) or load_companies(settings.enrich.companies).code_of(text)
    if code is None:
        raise ConfigError(f"--ticker {text!r} is neither a security code nor a company name in the name table; "
                          "write it as 600519.SH, 00700.HK or AAPL")
    return code


def parse_since(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """A span back from `now` (`7d`, `12h`) or a date (`2024-05-01`: midnight in `zone` if it has no offset)."""
    moment = parse_moment(text, zone, now)
    if moment is None:
        raise ConfigError(f"--since {text!r} is neither a span (7d, 12h, 30m) nor a date (2024-05-01)")
    return moment


def matches_from_index(store: Store, ticker: str, root: Path, zone: ZoneInfo) -> Iterator[Match]:
    for path, title, published in store.articles_with_ticker(ticker):
        yield Match(_local(published, zone), title, str(root / path), published)


def matches_from_files(root: Path, ticker: str) -> Iterator[Match]:
    for file in post_files(root):
        try:
            front, _ = parse_post(file.read_text(encoding="utf-8"))
        except (ArchiveError, OSError, UnicodeDecodeError) as e:
            log.debug("%s: skipped (%s)", file, e)
            continue
        tickers = front.get("tickers")
        if not isinstance(tickers, list):
            continue
        if ticker in {normalise_code(str(t)) or str(t) for t in tickers}:
            published = front.get("published")
            yield Match(str(front.get("date", "")), str(front.get("title", "")), str(file),
                        str(published) if published else None)


def find(settings: Settings, ticker: str, *, since: datetime | None = None, files: bool = False) -> list[Match]:
    """Matching posts, newest first."""
    root = settings.archive.dir
    matches = None
    if not files:
        matches = _from_index(settings, ticker)
    if matches is None:
        matches = list(matches_from_files(root, ticker))
    if since is not None:
        matches = [m for m in matches if (moment := _moment(m.published)) is not None and moment >= since]
    return sorted(matches, key=lambda m: (_moment(m.published) or datetime.min.replace(tzinfo=timezone.utc)),
                  reverse=True)


def run(args) -> int:
    settings = settings_from(args)
    ticker = resolve_ticker(args.ticker, settings)
    since = parse_since(args.since, datetime.now(timezone.utc), settings.archive.zone) if args.since else None
    try:
        for match in find(settings, ticker, since=since, files=args.files):
            if args.json:
                print(json.dumps(asdict(match) | {"ticker": ticker}, ensure_ascii=False))
            else:
                print(f"{match.date}\t{match.title}\t{match.path}")
        sys.stdout.flush()
    except BrokenPipeError:  # `crawler grep ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit must not fail
    return EXIT_OK


def _from_index(settings: Settings, ticker: str) -> list[Match] | None:
    """None when there is no state database to ask (it is never created here) or it cannot be read."""
    url = settings.state.database_url
    if database_missing(url):
        return None
    try:
        store = Store(url)
    except StateError as e:
        log.warning("%s; reading the archive's front matter instead", e)
        return None
    try:
        return list(matches_from_index(store, ticker, settings.archive.dir, settings.archive.zone))
    finally:
        store.close()


def _local(published: str, zone: ZoneInfo) -> str:
    moment = _moment(published)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else published


def _moment(published: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(published) if published else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)
