"""The state database: which feeds were polled how, which articles are archived under which keys, which
entries failed. Synchronous and short: every call is one small transaction (SQLite in WAL mode answers in
well under a millisecond, so the event loop does not notice)."""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from sqlalchemy import create_engine, event, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StateError
from ..models import CategoryPath
from . import schema
from .schema import article_keys, articles, failures, feeds


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class FeedState:
    url: str
    fetch_url: str
    etag: str | None = None
    last_modified: str | None = None
    last_polled_at: str | None = None
    last_success_at: str | None = None
    last_error: str | None = None
    error_count: int = 0
    articles_archived: int = 0


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: int
    link: str
    path: str
    title: str
    content_hash: str
    categories: tuple[CategoryPath, ...]
    syndicated: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Failure:
    key: str
    attempts: int
    given_up: bool
    last_error: str | None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers (`crawler status`) never block the writer; NORMAL sync is crash-safe in WAL mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_state_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StateError(f"cannot create the state directory {path.parent}: {e.strerror}") from None
    try:
        engine = create_engine(url, future=True)
    except (SQLAlchemyError, ImportError, ValueError) as e:
        raise StateError(f"state database {url}: {e}; check state.url") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _row_to_article(row) -> StoredArticle:
    return StoredArticle(
        id=row.id, link=row.link, path=row.path, title=row.title, content_hash=row.content_hash,
        categories=tuple(tuple(c) for c in json.loads(row.categories)),
        syndicated=tuple(json.loads(row.syndicated)),
    )


class Store:
    def __init__(self, url: str):
        self.url = url
        self.engine = create_state_engine(url)
        try:
            schema.metadata.create_all(self.engine)
            with self.engine.begin() as conn:
                version = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == "schema")).scalar()
                if version is None:
                    conn.execute(insert(schema.meta).values(key="schema", value=str(schema.SCHEMA_VERSION)))
                elif int(version) > schema.SCHEMA_VERSION:
                    raise StateError(f"state database {url} was written by a newer crawler (schema {version}); "
                                     "upgrade the crawler or point state.url elsewhere")
        except SQLAlchemyError as e:
            raise StateError(f"state database {url} cannot be opened: {e.__class__.__name__}: "
                             f"{str(e).splitlines()[0]}") from None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as e:
            raise StateError(f"state database {self.url}: {str(e).splitlines()[0]}") from e

    # --- feeds ------------------------------------------------------------------------------------------

    def feed_state(self, url: str) -> FeedState:
        with self.transaction() as conn:
            row = conn.execute(select(feeds).where(feeds.c.url == url)).first()
        if row is None:
            return FeedState(url=url, fetch_url=url)
        return FeedState(**{k: v for k, v in row._mapping.items()} | {"fetch_url": row.fetch_url or url})

    def all_feed_states(self) -> list[FeedState]:
        with self.transaction() as conn:
            rows = conn.execute(select(feeds)).all()
        return [FeedState(**{k: v for k, v in r._mapping.items()} | {"fetch_url": r.fetch_url or r.url}) for r in rows]

    def record_poll(self, url: str, *, error: str | None, fetch_url: str | None = None, etag: str | None = None,
                    last_modified: str | None = None, archived: int = 0) -> None:
        now = utc_now()
        with self.transaction() as conn:
            exists = conn.execute(select(feeds.c.url).where(feeds.c.url == url)).first()
            if not exists:
                conn.execute(insert(feeds).values(url=url, fetch_url=url, error_count=0, articles_archived=0))
            values: dict = {"last_polled_at": now, "articles_archived": feeds.c.articles_archived + archived}
            if error is None:
                values.update(last_success_at=now, last_error=None, error_count=0, etag=etag,
                              last_modified=last_modified)
                if fetch_url:
                    values["fetch_url"] = fetch_url
            else:
                values.update(last_error=error, error_count=feeds.c.error_count + 1)
            conn.execute(update(feeds).where(feeds.c.url == url).values(**values))

    # --- articles ---------------------------------------------------------------------------------------

    def find_article(self, keys: Iterable[str]) -> StoredArticle | None:
        keys = list(keys)
        if not keys:
            return None
        with self.transaction() as conn:
            row = conn.execute(
                select(articles).join(article_keys, article_keys.c.article_id == articles.c.id)
                .where(article_keys.c.key.in_(keys)).limit(1)
            ).first()
        return _row_to_article(row) if row else None

    def find_by_hash(self, content_hash: str) -> StoredArticle | None:
        with self.transaction() as conn:
            row = conn.execute(select(articles).where(articles.c.content_hash == content_hash)).first()
        return _row_to_article(row) if row else None

    def path_taken(self, rel_path: str) -> bool:
        with self.transaction() as conn:
            return conn.execute(select(articles.c.id).where(articles.c.path == rel_path)).first() is not None

    def count_articles(self) -> int:
        with self.transaction() as conn:
            return conn.execute(select(func.count()).select_from(articles)).scalar_one()

    @staticmethod
    def _add_keys(conn: Connection, article_id: int, keys: Iterable[str]) -> None:
        new = set(keys)
        if not new:
            return
        known = set(conn.execute(select(article_keys.c.key).where(article_keys.c.key.in_(new))).scalars())
        rows = [{"key": k, "article_id": article_id} for k in sorted(new - known)]
        if rows:
            conn.execute(insert(article_keys), rows)

    def insert_article(self, conn: Connection, *, link: str, path: str, title: str, published: str,
                       content_hash: str, categories: Sequence[CategoryPath], keys: Iterable[str]) -> int:
        """Inside a `transaction()` that also writes the file, so neither exists without the other."""
        article_id = conn.execute(insert(articles).values(
            link=link, path=path, title=title, published=published, content_hash=content_hash,
            categories=json.dumps([list(c) for c in categories], ensure_ascii=False), syndicated="[]",
            archived_at=utc_now(),
        )).inserted_primary_key[0]
        self._add_keys(conn, article_id, keys)
        return article_id

    def update_article(self, conn: Connection, article_id: int, *, categories: Sequence[CategoryPath],
                       syndicated: Sequence[str], keys: Iterable[str]) -> None:
        conn.execute(update(articles).where(articles.c.id == article_id).values(
            categories=json.dumps([list(c) for c in categories], ensure_ascii=False),
            syndicated=json.dumps(list(syndicated), ensure_ascii=False),
        ))
        self._add_keys(conn, article_id, keys)

    def add_keys(self, article_id: int, keys: Iterable[str]) -> None:
        with self.transaction() as conn:
            self._add_keys(conn, article_id, keys)

    # --- failures ---------------------------------------------------------------------------------------

    def failure(self, key: str) -> Failure | None:
        with self.transaction() as conn:
            row = conn.execute(select(failures).where(failures.c.key == key)).first()
        return Failure(row.key, row.attempts, bool(row.given_up), row.last_error) if row else None

    def record_failure(self, key: str, *, feed_url: str, url: str | None, error: str, max_attempts: int) -> Failure:
        with self.transaction() as conn:
            row = conn.execute(select(failures.c.attempts).where(failures.c.key == key)).first()
            attempts = (row.attempts if row else 0) + 1
            values = dict(feed_url=feed_url, url=url, attempts=attempts, last_error=error,
                          last_attempt_at=utc_now(), given_up=attempts >= max_attempts)
            if row:
                conn.execute(update(failures).where(failures.c.key == key).values(**values))
            else:
                conn.execute(insert(failures).values(key=key, **values))
        return Failure(key, attempts, attempts >= max_attempts, error)

    def clear_failure(self, conn: Connection, keys: Iterable[str]) -> None:
        conn.execute(failures.delete().where(failures.c.key.in_(list(keys))))
