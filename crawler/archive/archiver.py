"""Posts on disk and their rows in the state database, changed together.

A new post's path is committed first, as a pending write; then the file is written (atomically, in a thread:
its fsyncs must not stall the event loop), then its row is committed. If the write fails (disk full,
read-only archive) no row is added and the article is retried by the next run; if the process dies between
the file's rename and the row's commit, the file is there without its row, and the next run writes the story
to that same path (whichever feed brings it first) instead of creating a second file. Changes to existing
posts (appearances, revisions) run inside the transaction that also rewrites the file.

Every change is made under the archive's commit lock (`writer.CommitLock`), and so is the pipeline's
"is this story new?" check before it (`committing()`): processes sharing the archive (the daemon and a
backfill) take turns, and each sees what the other wrote.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from ..errors import ArchiveError
from ..fingerprint import Fingerprint
from ..models import Article, CategoryPath
from ..state.store import Store, StoredArticle
from .frontmatter import clean_title, local_time, parse_post, render_post, rewrite_post
from .paths import post_dir, slugify, unique_post_path, url_disambiguator
from .writer import CommitLock, write_all, write_atomic

log = logging.getLogger("crawler")


@dataclass(frozen=True, slots=True)
class NewPost:
    """A story found new by the pipeline's dedup check, to be written and indexed."""
    article: Article
    content_hash: str
    keys: Iterable[str]
    clear_failure: str | None = None
    """The failure record (its key) that this article's earlier, failed attempts left."""
    fingerprint: Fingerprint | None = None
    feed_updated: datetime | None = None
    """The feed entry's `updated`: a later one means the article was edited."""


class Archiver:
    def __init__(self, root: Path, zone: ZoneInfo, store: Store):
        self.root = Path(root)
        # Once, not per post: were the root a link retargeted mid-run, post_dir would refuse, not escape.
        self._resolved_root = self.root.resolve()
        self.zone = zone
        self.store = store
        self.commit_lock = CommitLock(self.root)

    def committing(self) -> AbstractAsyncContextManager[None]:
        """Hold the commit lock for dedup checks and the writes they decide."""
        return self.commit_lock.held_async()

    def close(self) -> None:
        self.commit_lock.close()

    async def add(self, article: Article, content_hash: str, keys: Iterable[str], clear_failure: str | None = None,
                  *, fingerprint: Fingerprint | None = None, feed_updated: datetime | None = None) -> str:
        """Write one new post and index it; returns its path relative to the archive root (see `add_many`)."""
        added, = await self.add_many([NewPost(article, content_hash, tuple(keys), clear_failure, fingerprint,
                                              feed_updated)])
        if isinstance(added, ArchiveError):
            raise added
        return added

    async def add_many(self, posts: Sequence[NewPost]) -> list[str | ArchiveError]:
        """Write new posts and index them; returns, per post, its path relative to the archive root or the
        ArchiveError that kept it out (the others are written all the same). Call it inside `committing()`.

        Three steps for the whole batch: every path is announced (one transaction), every file written (one
        trip to a thread), every written post indexed (one transaction). A batch costs about what one post
        cost, in commits and in hand-overs between the event loop and the writing thread."""
        rel_paths: list[str] = []
        announcements: list[tuple[str, str]] = []
        with self.store.shared_transaction():  # committed, announcements included, before any file is written
            for post in posts:
                link = post.article.link
                rel_path = self.store.pending_path(link)
                if rel_path is None:  # else a crashed run chose this path, and may have written the file
                    directory = post_dir(self.root, post.article.category_path,
                                         local_time(post.article.published, self.zone),
                                         resolved_root=self._resolved_root)
                    path = unique_post_path(
                        directory, slugify(clean_title(post.article.title)),
                        lambda p, link=link: (p.relative_to(self.root).as_posix() in rel_paths
                                              or self._taken_by_another(p, link)),
                        url_disambiguator(link))
                    rel_path = path.relative_to(self.root).as_posix()
                    announcements.append((link, rel_path))
                rel_paths.append(rel_path)
            self.store.announce_writes(announcements)
        files = [(self.root / rel_path, render_post(post.article, [post.article.category_path], self.zone))
                 for post, rel_path in zip(posts, rel_paths)]
        problems = await asyncio.to_thread(write_all, files)
        with self.store.transaction() as conn:
            for post, rel_path, problem in zip(posts, rel_paths, problems):
                if problem is not None:
                    continue
                article = post.article
                self.store.clear_pending(conn, article.link)
                article_id = self.store.insert_article(
                    conn, link=article.link, path=rel_path, title=clean_title(article.title),
                    published=article.published.isoformat(timespec="seconds"), content_hash=post.content_hash,
                    categories=[article.category_path], keys=post.keys, fingerprint=post.fingerprint,
                    feed=article.feed_url, guid=article.guid, feed_updated=_iso(post.feed_updated),
                )
                self.store.add_tickers(conn, article_id, article.tickers)
                if post.clear_failure:
                    self.store.clear_failure(conn, [post.clear_failure])
        return [problem or rel_path for rel_path, problem in zip(rel_paths, problems)]

    def add_appearance(self, stored: StoredArticle, category_path: CategoryPath, other_url: str | None,
                       keys: Iterable[str], tickers: Sequence[str] = (), companies: Sequence[str] = ()) -> bool:
        """Record that an archived story was found again: in another feed (its category path is added to the
        post) and/or at another URL (added under `syndicated`), in a copy that may name securities the post
        does not (`tickers` and `companies` of the copy: codes new to the post are added, with the copy's
        names). Returns whether the post changed."""
        with self.commit_lock.held():
            # Another process may have changed the row since `stored` was read.
            return self._add_appearance(self.store.article(stored.id) or stored, category_path, other_url, keys,
                                        tickers, companies)

    def _add_appearance(self, stored: StoredArticle, category_path: CategoryPath, other_url: str | None,
                        keys: Iterable[str], tickers: Sequence[str], companies: Sequence[str]) -> bool:
        categories = list(stored.categories)
        syndicated = list(stored.syndicated)
        if category_path not in categories:
            categories.append(category_path)
        if other_url and other_url != stored.link and other_url not in syndicated:
            syndicated.append(other_url)
        # Securities are merged so that a story's tickers do not depend on which of its copies came first
        # (the first copy's body is kept: a later, longer one would otherwise lose what its extra paragraph names).
        new_tickers = set(tickers) - self.store.tickers(stored.id) if tickers else set()
        if categories == list(stored.categories) and syndicated == list(stored.syndicated) and not new_tickers:
            self.store.add_keys(stored.id, keys)
            return False
        path = self.root / stored.path
        with self.store.transaction() as conn:
            self.store.update_article(conn, stored.id, categories=categories, syndicated=syndicated, keys=keys)
            self.store.add_tickers(conn, stored.id, new_tickers)
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                log.warning("%s is indexed but missing from the archive; the new appearance is kept in state only",
                            path)
                return True
            except OSError as e:
                raise ArchiveError(f"cannot read {path}: {e.strerror}") from None
            write_atomic(path, rewrite_post(text, categories, syndicated, new_tickers,
                                            companies if new_tickers else ()))
        return True

    def revise(self, stored: StoredArticle, article: Article, content_hash: str, *,
               fingerprint: Fingerprint | None, feed_updated: datetime | None, revised_at: datetime) -> None:
        """Rewrite an archived post in place with a new version of its article: same path, link, categories
        and syndicated URLs; `updated` set to `revised_at` and `revisions` counted."""
        article = replace(article, link=stored.link, guid=stored.guid or article.guid,
                          feed_url=stored.feed or article.feed_url)
        revisions = stored.revisions + 1
        text = render_post(article, stored.categories, self.zone, stored.syndicated,
                           extra={"updated": revised_at, "revisions": revisions})
        with self.commit_lock.held(), self.store.transaction() as conn:
            self.store.revise_article(conn, stored.id, title=clean_title(article.title), content_hash=content_hash,
                                      fingerprint=fingerprint, feed_updated=_iso(feed_updated),
                                      updated=_iso(revised_at), tickers=article.tickers)
            write_atomic(self.root / stored.path, text)

    def _taken_by_another(self, path: Path, link: str) -> bool:
        rel_path = path.relative_to(self.root).as_posix()
        if self.store.path_taken(rel_path, link):
            return True
        if not path.exists():
            return False
        try:
            front, _ = parse_post(path.read_text(encoding="utf-8"))
        except (ArchiveError, OSError, UnicodeDecodeError):
            return True  # not ours to overwrite
        return front.get("link") != link


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
