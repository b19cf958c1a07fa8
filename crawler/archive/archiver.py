"""Posts on disk and their rows in the state database, changed together.

Each change runs inside one database transaction that also writes the file: if the write fails (disk full,
read-only archive) the row is rolled back and the article is retried by the next run. A new post's path is
committed first, as a pending write: if the process dies between the file's rename and the row's commit, the
file is there without its row, and the next run writes the story to that same path (whichever feed brings it
first) instead of creating a second file.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable
from zoneinfo import ZoneInfo

from ..errors import ArchiveError
from ..models import Article, CategoryPath
from ..state.store import Store, StoredArticle
from .frontmatter import clean_title, local_time, parse_post, render_post, rewrite_post
from .paths import post_dir, slugify, unique_post_path, url_disambiguator
from .writer import write_atomic

log = logging.getLogger("crawler")


class Archiver:
    def __init__(self, root: Path, zone: ZoneInfo, store: Store):
        self.root = Path(root)
        self.zone = zone
        self.store = store

    def add(self, article: Article, content_hash: str, keys: Iterable[str], clear_failure: str | None = None) -> str:
        """Write a new post and index it; returns its path relative to the archive root."""
        rel_path = self.store.pending_path(article.link)
        if rel_path is None:  # else a crashed run chose this path, and may have written the file
            directory = post_dir(self.root, article.category_path, local_time(article.published, self.zone))
            path = unique_post_path(directory, slugify(clean_title(article.title)),
                                    lambda p: self._taken_by_another(p, article.link),
                                    url_disambiguator(article.link))
            rel_path = path.relative_to(self.root).as_posix()
            self.store.announce_write(article.link, rel_path)
        path = self.root / rel_path
        text = render_post(article, [article.category_path], self.zone)
        with self.store.transaction() as conn:
            self.store.clear_pending(conn, article.link)
            article_id = self.store.insert_article(
                conn, link=article.link, path=rel_path, title=clean_title(article.title),
                published=article.published.isoformat(timespec="seconds"), content_hash=content_hash,
                categories=[article.category_path], keys=keys,
            )
            self.store.add_tickers(conn, article_id, article.tickers)
            if clear_failure:
                self.store.clear_failure(conn, [clear_failure])
            write_atomic(path, text)
        return rel_path

    def add_appearance(self, stored: StoredArticle, category_path: CategoryPath, other_url: str | None,
                       keys: Iterable[str]) -> bool:
        """Record that an archived story was found again: in another feed (its category path is added to the
        post) and/or at another URL (added under `syndicated`). Returns whether the post changed."""
        categories = list(stored.categories)
        syndicated = list(stored.syndicated)
        if category_path not in categories:
            categories.append(category_path)
        if other_url and other_url != stored.link and other_url not in syndicated:
            syndicated.append(other_url)
        if categories == list(stored.categories) and syndicated == list(stored.syndicated):
            self.store.add_keys(stored.id, keys)
            return False
        path = self.root / stored.path
        with self.store.transaction() as conn:
            self.store.update_article(conn, stored.id, categories=categories, syndicated=syndicated, keys=keys)
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                log.warning("%s is indexed but missing from the archive; its categories are kept in state only",
                            path)
                return True
            except OSError as e:
                raise ArchiveError(f"cannot read {path}: {e.strerror}") from None
            write_atomic(path, rewrite_post(text, categories, syndicated))
        return True

    def _taken_by_another(self, path: Path, link: str) -> bool:
        rel_path = path.relative_to(self.root).as_posix()
        if self.store.path_taken(rel_path) or self.store.path_pending_for_another(rel_path, link):
            return True
        if not path.exists():
            return False
        try:
            front, _ = parse_post(path.read_text(encoding="utf-8"))
        except (ArchiveError, OSError, UnicodeDecodeError):
            return True  # not ours to overwrite
        return front.get("link") != link
