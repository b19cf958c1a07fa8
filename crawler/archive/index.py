"""The state index rebuilt from the archive (`crawler reindex`) and checked against it (`crawler verify`).

The files are the source of truth. Everything the dedup needs can be read back from a post: its link and
syndicated URLs (URL keys), its feed and GUID (GUID key), its body (content hash and fingerprint), its
categories and tickers. Reading and hashing a post costs one or two milliseconds of CPU (the fingerprint
and the front matter's values most), so files are read in worker processes, a bounded window at a time:
memory stays flat however large the archive.
"""
from __future__ import annotations

import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy.engine import Connection

from ..dedup import guid_key, url_key
from ..fingerprint import Fingerprint, hash_and_fingerprint
from ..state.store import Store, StoredArticle
from .scan import BrokenPost, PostRecord, leftover_temp_files, post_files, read_record

WINDOW = 256
"""Posts read ahead by the workers at any time."""
_NAIVE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@dataclass(frozen=True, slots=True)
class IndexedPost:
    """A post as the index stores it: its record (without the body), the body's hash and fingerprint."""

    record: PostRecord
    content_hash: str
    fingerprint: Fingerprint | None

    @property
    def keys(self) -> list[str]:
        keys = [url_key(self.record.link), *(url_key(u) for u in self.record.syndicated)]
        if self.record.guid:
            keys.append(guid_key(self.record.feed, self.record.guid))
        return keys


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    """Relative to the archive root."""
    problem: str
    fixed: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}" + (" (fixed)" if self.fixed else "")


@dataclass
class ReindexReport:
    indexed: int = 0
    problems: list[Problem] = field(default_factory=list)


def read_post(root: Path, path: Path, min_near_chars: int) -> IndexedPost | BrokenPost:
    """One post read back and hashed (runs in a worker process)."""
    record = read_record(root, path)
    if isinstance(record, BrokenPost):
        return record
    problem = _invalid_value(record)
    if problem:
        return BrokenPost(record.rel_path, problem)
    return IndexedPost(replace(record, body=""), *hash_and_fingerprint(record.body, min_near_chars))


def read_posts(root: Path, min_near_chars: int, workers: int) -> Iterator[IndexedPost | BrokenPost]:
    """Every post of the archive, in path order, read by `workers` processes a window at a time."""
    paths = post_files(root)
    if workers <= 1:
        for path in paths:
            yield read_post(root, path, min_near_chars)
        return
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        while window := list(islice(paths, WINDOW)):
            yield from pool.map(read_post, [root] * len(window), window, [min_near_chars] * len(window),
                                chunksize=16)


def reindex(root: Path, store: Store, *, min_near_chars: int, workers: int,
            progress: Callable[[int], None] = lambda n: None) -> ReindexReport:
    """Replace the state's article index with one read from the archive's files, in one transaction: a
    failed reindex leaves the old index as it was."""
    report = ReindexReport()
    with store.transaction() as conn:
        store.clear_index(conn)
        for post in read_posts(root, min_near_chars, workers):
            if isinstance(post, BrokenPost):
                report.problems.append(Problem(post.rel_path, f"{post.problem}; not indexed"))
                continue
            holder = store.find_article_in(conn, [url_key(post.record.link)])
            if holder is not None:
                report.problems.append(Problem(post.record.rel_path, f"same link as {holder.path}; not indexed "
                                               "(the two files hold one story: delete one, then reindex)"))
                continue
            _insert(store, conn, post)
            report.indexed += 1
            progress(report.indexed)
    return report


def verify(root: Path, store: Store | None, *, fix: bool, min_near_chars: int, workers: int) -> list[Problem]:
    """Problems of the files, and of the index against the files. With `fix`, what can be repaired without
    losing anything is: index rows of vanished files are dropped (the next run archives those stories
    again), files missing from the index are indexed, rows that disagree with their file are updated, and
    temporary files of interrupted writes are removed (the caller holds the archive's locks)."""
    problems: list[Problem] = []
    for temp in leftover_temp_files(root):
        if fix:
            temp.unlink(missing_ok=True)
        problems.append(Problem(temp.relative_to(root).as_posix(), "temporary file of an interrupted write",
                                fixed=fix))
    if store is not None:
        problems.extend(_stale_rows(root, store, fix))
    for post in read_posts(root, min_near_chars, workers):
        if isinstance(post, BrokenPost):
            problems.append(Problem(post.rel_path, post.problem))
        elif store is not None:
            problems.extend(_check_indexed(store, post, fix))
    return problems


def _stale_rows(root: Path, store: Store, fix: bool) -> Iterator[Problem]:
    stale: list[StoredArticle] = []
    for article in store.all_articles():
        if not (root / article.path).is_file():
            stale.append(article)
            if len(stale) >= WINDOW:
                yield from _drop_rows(store, stale, fix)
                stale = []
    yield from _drop_rows(store, stale, fix)


def _drop_rows(store: Store, rows: list[StoredArticle], fix: bool) -> Iterator[Problem]:
    if fix and rows:
        with store.transaction() as conn:
            for article in rows:
                store.delete_article(conn, article.id)
    for article in rows:
        yield Problem(article.path, f"indexed ({article.link}) but the file is missing", fixed=fix)


def _check_indexed(store: Store, post: IndexedPost, fix: bool) -> Iterator[Problem]:
    record = post.record
    stored = store.find_article([url_key(record.link)])
    if stored is None:
        if fix:
            with store.transaction() as conn:
                _insert(store, conn, post)
        yield Problem(record.rel_path, f"not in the index ({record.link})", fixed=fix)
        return
    if stored.path != record.rel_path:
        yield Problem(record.rel_path, f"same link as {stored.path} ({record.link}): two files hold one story; "
                      "delete one, then run crawler verify --fix")
        return
    differences = []
    if stored.content_hash != post.content_hash:
        differences.append("body")
    if stored.title != record.title:
        differences.append("title")
    if set(stored.categories) != set(record.categories):
        differences.append("categories")
    if set(stored.syndicated) != set(record.syndicated):
        differences.append("syndicated")
    if not differences:
        return
    if fix:
        with store.transaction() as conn:
            store.delete_article(conn, stored.id)
            _insert(store, conn, post)
    yield Problem(record.rel_path, f"{', '.join(differences)} differ(s) from the index (edited by hand?); "
                  "the file is right", fixed=fix)


def _insert(store: Store, conn: Connection, post: IndexedPost) -> None:
    record = post.record
    article_id = store.insert_article(
        conn, link=record.link, path=record.rel_path, title=record.title, published=record.published,
        content_hash=post.content_hash, categories=record.categories, keys=post.keys,
        fingerprint=post.fingerprint, syndicated=record.syndicated, feed=record.feed, guid=record.guid,
        updated=record.updated, revisions=record.revisions,
    )
    store.add_tickers(conn, article_id, record.tickers)


def _invalid_value(record: PostRecord) -> str | None:
    if not _NAIVE_DATE.match(record.date):
        return f"date {record.date!r} is not YYYY-MM-DD HH:MM:SS (Hexo would misread it)"
    try:
        published = datetime.fromisoformat(record.published)
    except ValueError:
        return f"published {record.published!r} is not an ISO 8601 time"
    if published.tzinfo is None:
        return f"published {record.published!r} has no UTC offset"
    if not record.link.startswith(("http://", "https://")):
        return f"link {record.link!r} is not an http(s) URL"
    return None

