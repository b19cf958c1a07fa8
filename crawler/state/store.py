"""The state database: which feeds were polled how, which articles are archived under which keys, which
entries failed. Synchronous and short: every call is one small transaction, or part of the caller's
(SQLite in WAL mode answers in well under a millisecond, so the event loop does not notice). What is not
short, copying the write-ahead log into the database and flushing both files, happens in a thread of the
store's own for the event loop's connection (`checkpoint_in_background`)."""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from sqlalchemy import create_engine, delete, event, func, insert, inspect, make_url, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..errors import StateError
from ..fingerprint import BANDS, Fingerprint
from ..models import CategoryPath
from . import schema
from .fastsql import Statement, run
from .schema import (article_bands, article_fingerprints, article_keys, article_tickers, articles, failures, feeds,
                     pending_writes)


log = logging.getLogger("crawler")

CHECKPOINT_DELAY = 0.5
"""Seconds from a commit on the event loop's connection to the checkpoint that follows it (commits in
between share it)."""

# The statements every new article runs (see fastsql: driver cursor, not SQLAlchemy's statement machinery).
_ARTICLE = ("a.id, a.link, a.path, a.title, a.published, a.content_hash, a.categories, a.syndicated, a.feed, a.guid, "
            "a.feed_updated, a.revisions")
_FIND_BY_KEYS = Statement(f'SELECT {_ARTICLE} FROM articles a JOIN article_keys k ON k.article_id = a.id '
                          f'WHERE k."key" IN :keys LIMIT 1', expanding=["keys"])
_FIND_BY_HASH = Statement(f"SELECT {_ARTICLE} FROM articles a WHERE a.content_hash = :hash ORDER BY a.id LIMIT 1")
NEAR_POSTINGS_PER_BAND = 200
"""A near-duplicate lookup reads at most this many articles (the newest) under each band of the new body."""
NEAR_MIN_SHARED_BANDS = 2
"""Articles sharing fewer bands with the new body are not compared at all."""
NEAR_CANDIDATES = 20
"""Articles compared signature by signature, those sharing the most bands first."""
_FIND_NEAR = Statement(
    f"SELECT {_ARTICLE}, f.signature, c.shared FROM articles a "
    "JOIN article_fingerprints f ON f.article_id = a.id JOIN ("
    "SELECT article_id, COUNT(*) AS shared FROM ("
    + " UNION ALL ".join(f"SELECT article_id FROM (SELECT article_id FROM article_bands WHERE band = :band{i} "
                         f"ORDER BY article_id DESC LIMIT {NEAR_POSTINGS_PER_BAND}) AS band{i}" for i in range(BANDS))
    + f") AS postings GROUP BY article_id HAVING COUNT(*) >= {NEAR_MIN_SHARED_BANDS} "
    f"ORDER BY COUNT(*) DESC, article_id DESC LIMIT {NEAR_CANDIDATES}"
    ") AS c ON c.article_id = a.id ORDER BY c.shared DESC, a.id DESC")
_KNOWN_KEYS = Statement('SELECT "key" FROM article_keys WHERE "key" IN :keys', expanding=["keys"])
_INSERT_KEY = Statement('INSERT INTO article_keys ("key", article_id) VALUES (:key, :article_id)')
_INSERT_ARTICLE = Statement(
    "INSERT INTO articles (link, path, title, published, content_hash, categories, syndicated, archived_at, feed, "
    "guid, feed_updated, updated, revisions) VALUES (:link, :path, :title, :published, :content_hash, :categories, "
    ":syndicated, :archived_at, :feed, :guid, :feed_updated, :updated, :revisions) RETURNING id")
_INSERT_SIGNATURE = Statement("INSERT INTO article_fingerprints (article_id, signature) "
                              "VALUES (:article_id, :signature)")
_INSERT_BAND = Statement("INSERT INTO article_bands (band, article_id) VALUES (:band, :article_id)")
_INSERT_TICKER = Statement("INSERT INTO article_tickers (article_id, ticker) VALUES (:article_id, :ticker)")
_TICKERS_OF = Statement("SELECT ticker FROM article_tickers WHERE article_id = :article_id")
_FAILURE = Statement('SELECT "key", attempts, given_up, last_error FROM failures WHERE "key" = :key')
_CLEAR_FAILURES = Statement('DELETE FROM failures WHERE "key" IN :keys', expanding=["keys"])
_PENDING_PATH = Statement("SELECT path FROM pending_writes WHERE link = :link")
_CLEAR_PENDING = Statement("DELETE FROM pending_writes WHERE link = :link")
_ANNOUNCE = Statement("INSERT INTO pending_writes (link, path) VALUES (:link, :path)")
# A `crawler once` over hundreds of feeds records every poll (the daemon, every schedule): these statements
# too skip SQLAlchemy's machinery.
_FEED_KNOWN = Statement("SELECT url FROM feeds WHERE url = :url")
_ADD_FEED = Statement("INSERT INTO feeds (url, fetch_url, error_count, articles_archived) VALUES (:url, :url, 0, 0)")
_POLL_SUCCEEDED = Statement(
    "UPDATE feeds SET last_polled_at = :now, articles_archived = articles_archived + :archived, "
    "last_success_at = :now, last_error = NULL, error_count = 0, etag = :etag, last_modified = :last_modified, "
    "fetch_url = COALESCE(:fetch_url, fetch_url) WHERE url = :url")
_POLL_FAILED = Statement(
    "UPDATE feeds SET last_polled_at = :now, articles_archived = articles_archived + :archived, "
    "last_error = :error, error_count = error_count + 1 WHERE url = :url")
_PATH_OWNERS = Statement("SELECT link, 1 AS indexed FROM articles WHERE path = :path "
                         "UNION ALL SELECT link, 0 AS indexed FROM pending_writes WHERE path = :path")


_SCHEMA_ATTEMPTS = 3


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
    interval_seconds: float | None = None
    next_poll_at: str | None = None

    @classmethod
    def from_row(cls, row) -> "FeedState":
        values = {k: v for k, v in row._mapping.items() if k in cls.__dataclass_fields__}
        return cls(**values | {"fetch_url": row.fetch_url or row.url})


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: int
    link: str
    path: str
    title: str
    content_hash: str
    categories: tuple[CategoryPath, ...]
    syndicated: tuple[str, ...]
    published: str = ""
    feed: str | None = None
    guid: str | None = None
    feed_updated: str | None = None
    revisions: int = 0


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
    if url.startswith(("postgresql://", "postgres://")):  # the driver we ship, not SQLAlchemy's psycopg2 default
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        # A server may drop idle connections (PostgreSQL behind a proxy): check them on checkout. A file needs not.
        engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite:"))
    except (SQLAlchemyError, ImportError, ValueError) as e:
        raise StateError(f"state database {shown_url(url)}: {e}; check state.url") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def shown_url(url: str) -> str:
    """The URL for messages and logs: a password in it is masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def database_missing(url: str) -> bool:
    """Whether `url` names a SQLite file that does not exist (commands that only read must not create it)."""
    return url.startswith("sqlite:///") and url != "sqlite:///:memory:" and \
        not Path(url.removeprefix("sqlite:///")).exists()


def _ensure_feed(conn: Connection, url: str) -> None:
    """The feed's row, created if this is its first poll or schedule."""
    if not run(conn, _FEED_KNOWN, {"url": url}).first():
        run(conn, _ADD_FEED, {"url": url})


def _row_to_article(row) -> StoredArticle:
    return StoredArticle(
        id=row.id, link=row.link, path=row.path, title=row.title, content_hash=row.content_hash,
        categories=tuple(tuple(c) for c in json.loads(row.categories)),
        syndicated=tuple(json.loads(row.syndicated)), published=row.published, feed=row.feed, guid=row.guid,
        feed_updated=row.feed_updated, revisions=row.revisions or 0,
    )


def _migrate(conn: Connection, version: int) -> None:
    if version < 2:  # schema 1 refused two articles with one body; the `url` dedup policy needs them
        conn.execute(text("DROP INDEX IF EXISTS articles_content_hash"))
        conn.execute(text("CREATE INDEX articles_content_hash ON articles (content_hash)"))


def _add_missing_columns(conn: Connection) -> None:
    """Columns added to the schema since the database was created (always nullable or defaulted): SQLite
    and PostgreSQL both take `ALTER TABLE ... ADD COLUMN`, which is all our migrations need."""
    inspector = inspect(conn)
    for table in schema.metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


class Store:
    def __init__(self, url: str):
        self.url = shown_url(url)
        self.engine = create_state_engine(url)
        # SQLite: each thread keeps one connection open. A pool checkout and return per transaction cost more
        # than most of the statements in it (a new article takes some ten transactions). A server database
        # checks its connections out of the pool each time, where pool_pre_ping replaces dropped ones.
        self._keeps_connections = self.engine.dialect.name == "sqlite"
        self._thread_connection = threading.local()
        self._kept: list[Connection] = []
        self._kept_lock = threading.Lock()
        self._checkpointer: threading.Thread | None = None
        self._deferring_thread: int | None = None
        self._written = threading.Event()
        self._closing = threading.Event()
        # Two processes meeting a new database at once (the daemon and a backfill started together) race to
        # create its tables: the loser's CREATE fails; a second look finds them made.
        for attempt in range(_SCHEMA_ATTEMPTS):
            try:
                self._prepare_schema()
                return
            except SQLAlchemyError as e:
                if attempt == _SCHEMA_ATTEMPTS - 1:
                    raise StateError(f"state database {self.url} cannot be opened: {e.__class__.__name__}: "
                                     f"{str(e).splitlines()[0]}") from None
                time.sleep(0.05 * (attempt + 1))

    def _prepare_schema(self) -> None:
        schema.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            _add_missing_columns(conn)
            version = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == "schema")).scalar()
            if version is None:
                conn.execute(insert(schema.meta).values(key="schema", value=str(schema.SCHEMA_VERSION)))
            elif int(version) > schema.SCHEMA_VERSION:
                raise StateError(f"state database {self.url} was written by a newer crawler (schema {version}); "
                                 "upgrade the crawler or point state.url elsewhere")
            elif int(version) < schema.SCHEMA_VERSION:
                _migrate(conn, int(version))
                conn.execute(update(schema.meta).where(schema.meta.c.key == "schema")
                             .values(value=str(schema.SCHEMA_VERSION)))

    def close(self) -> None:
        if self._checkpointer is not None:
            self._closing.set()
            self._written.set()
            self._checkpointer.join()
            self._checkpointer = None
        with self._kept_lock:
            kept, self._kept = self._kept, []
        for conn in kept:
            conn.close()
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction; inside another of the same thread (SQLite), part of that one."""
        try:
            if not self._keeps_connections:
                with self.engine.begin() as conn:
                    yield conn
                return
            conn = getattr(self._thread_connection, "conn", None)
            if conn is None or conn.closed:
                conn = self._thread_connection.conn = self.engine.connect()
                with self._kept_lock:
                    self._kept.append(conn)
            if conn.in_transaction():
                yield conn
                return
            with conn.begin():
                yield conn
            if self._deferring_thread == threading.get_ident():
                self._written.set()
        except SQLAlchemyError as e:
            raise StateError(f"state database {self.url}: {str(e).splitlines()[0]}") from e

    @contextmanager
    def shared_transaction(self) -> Iterator[None]:
        """The store calls made inside share one transaction (SQLite): a run of lookups pays for one begin and
        commit instead of one each. A server database checks a connection out per call whatever the nesting,
        so there this opens nothing."""
        if not self._keeps_connections:
            yield
            return
        with self.transaction():
            yield

    def checkpoint_in_background(self, delay: float = CHECKPOINT_DELAY) -> None:
        """Take checkpoints off the calling thread's connection (the event loop's): SQLite runs one at the
        commit that brings the write-ahead log past 1,000 pages, copying them into the database and flushing
        both files, a few milliseconds on an SSD and tens on a slow disk or an SD card, all that time holding
        the thread. From now on that connection never checkpoints; a thread of the store's own does,
        `delay` seconds after this thread's commits (a daemon that only records polls checkpoints too, so the
        log stays bounded). A no-op for server databases, and for SQLite in memory."""
        if not self._keeps_connections or self._checkpointer is not None or not self.engine.url.database \
                or self.engine.url.database == ":memory:":
            return
        with self.transaction() as conn:
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        self._deferring_thread = threading.get_ident()
        self._checkpointer = threading.Thread(target=self._checkpoint_after_commits, args=(delay,),
                                              name="state-checkpoint", daemon=True)
        self._checkpointer.start()

    def _checkpoint_after_commits(self, delay: float) -> None:
        try:
            connection = self.engine.raw_connection()
        except SQLAlchemyError as error:  # the loop's own statements will say what is wrong with the database
            log.warning("state database %s: cannot open a connection for checkpoints (%s); the write-ahead log "
                        "grows until the run ends", self.url, str(error).splitlines()[0])
            return
        try:
            while True:
                self._written.wait()
                if self._closing.wait(delay):
                    return  # closing the last connection checkpoints what is left
                self._written.clear()
                try:
                    # PASSIVE: copies what it can without waiting for the loop's readers or writers.
                    connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # busy, or a disk error: the next commit brings another try
                    log.debug("state database %s: checkpoint failed: %s", self.url, error)
        finally:
            connection.close()

    # --- feeds ------------------------------------------------------------------------------------------

    def feed_state(self, url: str) -> FeedState:
        with self.transaction() as conn:
            row = conn.execute(select(feeds).where(feeds.c.url == url)).first()
        return FeedState.from_row(row) if row is not None else FeedState(url=url, fetch_url=url)

    def all_feed_states(self) -> list[FeedState]:
        with self.transaction() as conn:
            rows = conn.execute(select(feeds)).all()
        return [FeedState.from_row(r) for r in rows]

    def record_schedule(self, url: str, *, interval_seconds: float, next_poll_at: str) -> None:
        with self.transaction() as conn:
            _ensure_feed(conn, url)
            conn.execute(update(feeds).where(feeds.c.url == url).values(
                interval_seconds=interval_seconds, next_poll_at=next_poll_at))

    def record_poll(self, url: str, *, error: str | None, fetch_url: str | None = None, etag: str | None = None,
                    last_modified: str | None = None, archived: int = 0) -> None:
        now = utc_now()
        with self.transaction() as conn:
            _ensure_feed(conn, url)
            if error is None:
                run(conn, _POLL_SUCCEEDED, {"url": url, "now": now, "archived": archived, "etag": etag,
                                            "last_modified": last_modified, "fetch_url": fetch_url or None})
            else:
                run(conn, _POLL_FAILED, {"url": url, "now": now, "archived": archived, "error": error})

    # --- articles ---------------------------------------------------------------------------------------

    def find_article(self, keys: Iterable[str]) -> StoredArticle | None:
        with self.transaction() as conn:
            return self.find_article_in(conn, keys)

    @staticmethod
    def find_article_in(conn: Connection, keys: Iterable[str]) -> StoredArticle | None:
        keys = list(keys)
        if not keys:
            return None
        row = run(conn, _FIND_BY_KEYS, {"keys": keys}).first()
        return _row_to_article(row) if row else None

    def find_by_hash(self, content_hash: str) -> StoredArticle | None:
        with self.transaction() as conn:
            row = run(conn, _FIND_BY_HASH, {"hash": content_hash}).first()
        return _row_to_article(row) if row else None

    def find_near(self, fingerprint: Fingerprint, threshold: float) -> tuple[StoredArticle, float] | None:
        """The archived article whose body best contains (or is contained in) this one, if the estimated
        containment reaches `threshold`.

        Bounded whatever the archive's size: bodies written from one template (flash items, market wraps) can
        share a band with thousands of articles, so each band contributes only its newest
        `NEAR_POSTINGS_PER_BAND` articles, and only the `NEAR_CANDIDATES` sharing the most bands (at least
        `NEAR_MIN_SHARED_BANDS`) are compared. A copy (Jaccard ≥ 0.72) shares two bands or more with
        probability 0.9994, nine on average, and syndication happens within days: among the newest.
        """
        with self.transaction() as conn:
            bands = {f"band{i}": band for i, band in enumerate(fingerprint.bands())}
            rows = run(conn, _FIND_NEAR, bands).all()
        best: tuple[StoredArticle, float] | None = None
        for row in rows:
            score = fingerprint.similarity(Fingerprint.from_bytes(row.signature))
            if score >= threshold and (best is None or score > best[1]):
                best = (_row_to_article(row), score)
        return best

    def article(self, article_id: int) -> StoredArticle | None:
        with self.transaction() as conn:
            row = conn.execute(select(articles).where(articles.c.id == article_id)).first()
        return _row_to_article(row) if row else None

    def articles_published_since(self, earliest: str, batch: int = 500) -> Iterator[StoredArticle]:
        """Articles whose `published` text sorts at or after `earliest`, oldest id first, read in batches so a
        large archive is never all in memory."""
        last_id = 0
        while True:
            with self.transaction() as conn:
                rows = conn.execute(select(articles).where(articles.c.id > last_id, articles.c.published >= earliest)
                                    .order_by(articles.c.id).limit(batch)).all()
            if not rows:
                return
            for row in rows:
                yield _row_to_article(row)
            last_id = rows[-1].id

    def all_articles(self, batch: int = 500) -> Iterator[StoredArticle]:
        return self.articles_published_since("", batch)

    def path_taken(self, rel_path: str, link: str) -> bool:
        """Whether an archived article holds `rel_path`, or a write of another link announced it."""
        with self.transaction() as conn:
            owners = run(conn, _PATH_OWNERS, {"path": rel_path}).all()
        return any(row.indexed or row.link != link for row in owners)

    def count_articles(self) -> int:
        with self.transaction() as conn:
            return conn.execute(select(func.count()).select_from(articles)).scalar_one()

    @staticmethod
    def _add_keys(conn: Connection, article_id: int, keys: Iterable[str]) -> None:
        new = set(keys)
        if not new:
            return
        known = set(run(conn, _KNOWN_KEYS, {"keys": list(new)}).scalars())
        rows = [{"key": k, "article_id": article_id} for k in sorted(new - known)]
        if rows:
            run(conn, _INSERT_KEY, rows)

    def insert_article(self, conn: Connection, *, link: str, path: str, title: str, published: str,
                       content_hash: str, categories: Sequence[CategoryPath], keys: Iterable[str],
                       fingerprint: Fingerprint | None = None, syndicated: Sequence[str] = (),
                       feed: str | None = None, guid: str | None = None, feed_updated: str | None = None,
                       updated: str | None = None, revisions: int = 0) -> int:
        """Inside a `transaction()`, once the post's file is written (see `Archiver.add_many`)."""
        article_id = run(conn, _INSERT_ARTICLE, dict(
            link=link, path=path, title=title, published=published, content_hash=content_hash,
            categories=json.dumps([list(c) for c in categories], ensure_ascii=False),
            syndicated=json.dumps(list(syndicated), ensure_ascii=False), archived_at=utc_now(), feed=feed,
            guid=guid, feed_updated=feed_updated, updated=updated, revisions=revisions,
        )).scalar_one()
        self._add_keys(conn, article_id, keys)
        self._set_fingerprint(conn, article_id, fingerprint, replace=False)
        return article_id

    @staticmethod
    def _set_fingerprint(conn: Connection, article_id: int, fingerprint: Fingerprint | None,
                         replace: bool = True) -> None:
        if replace:
            conn.execute(delete(article_fingerprints).where(article_fingerprints.c.article_id == article_id))
            conn.execute(delete(article_bands).where(article_bands.c.article_id == article_id))
        if fingerprint is None:
            return
        run(conn, _INSERT_SIGNATURE, {"article_id": article_id, "signature": fingerprint.to_bytes()})
        bands = dict.fromkeys(fingerprint.bands())
        run(conn, _INSERT_BAND, [{"band": band, "article_id": article_id} for band in bands])

    def revise_article(self, conn: Connection, article_id: int, *, title: str, content_hash: str,
                       fingerprint: Fingerprint | None, feed_updated: str | None, updated: str,
                       tickers: Iterable[str]) -> None:
        """A new version of an archived article, inside the `transaction()` that rewrites its file."""
        conn.execute(update(articles).where(articles.c.id == article_id).values(
            title=title, content_hash=content_hash, feed_updated=feed_updated, updated=updated,
            revisions=func.coalesce(articles.c.revisions, 0) + 1,
        ))
        self._set_fingerprint(conn, article_id, fingerprint)
        conn.execute(delete(article_tickers).where(article_tickers.c.article_id == article_id))
        self.add_tickers(conn, article_id, tickers)

    def note_feed_updated(self, article_id: int, feed_updated: str | None) -> None:
        """The feed's `updated` moved but the article did not change: remember it, so it is not fetched again."""
        with self.transaction() as conn:
            conn.execute(update(articles).where(articles.c.id == article_id).values(feed_updated=feed_updated))

    def delete_article(self, conn: Connection, article_id: int) -> None:
        conn.execute(delete(articles).where(articles.c.id == article_id))

    def clear_index(self, conn: Connection) -> None:
        """Forget every archived article (reindex rebuilds them from the files); feeds and backfill progress
        are kept."""
        for table in (article_bands, article_fingerprints, article_tickers, article_keys, pending_writes):
            conn.execute(delete(table))
        conn.execute(delete(articles))

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
            row = run(conn, _FAILURE, {"key": key}).first()
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
        run(conn, _CLEAR_FAILURES, {"keys": list(keys)})

    # --- backfill checkpoints ---------------------------------------------------------------------------

    def backfill_checkpoint(self, source: str, document: str = "") -> BackfillCheckpoint | None:
        table = schema.backfill
        with self.transaction() as conn:
            row = conn.execute(select(table).where(table.c.source == source, table.c.document == document)).first()
        return BackfillCheckpoint.from_row(row) if row else None

    def backfill_checkpoints(self, source: str) -> list[BackfillCheckpoint]:
        """A source's own row, then its documents in reading order."""
        table = schema.backfill
        with self.transaction() as conn:
            rows = conn.execute(select(table).where(table.c.source == source).order_by(table.c.seq)).all()
        return [BackfillCheckpoint.from_row(r) for r in rows]

    def save_backfill_checkpoint(self, checkpoint: BackfillCheckpoint) -> None:
        with self.transaction() as conn:
            self._save_backfill_checkpoint(conn, checkpoint)

    @staticmethod
    def _save_backfill_checkpoint(conn: Connection, checkpoint: BackfillCheckpoint) -> None:
        table = schema.backfill
        values = checkpoint.values() | {"updated_at": utc_now()}
        key = (table.c.source == checkpoint.source, table.c.document == checkpoint.document)
        if conn.execute(update(table).where(*key).values(**values)).rowcount == 0:
            conn.execute(insert(table).values(**values))

    def start_backfill_pass(self, source: str, feed_url: str | None) -> BackfillCheckpoint:
        """A new pass over `source`: its documents are forgotten, its position reset; `reached` is kept, as
        the previous pass's reach decides where the new one may stop."""
        previous = self.backfill_checkpoint(source)
        checkpoint = BackfillCheckpoint(source, feed_url=feed_url, reached=previous.reached if previous else None)
        table = schema.backfill
        with self.transaction() as conn:
            conn.execute(table.delete().where(table.c.source == source))
            self._save_backfill_checkpoint(conn, checkpoint)
        return checkpoint

    def add_backfill_documents(self, source: str, documents: Iterable[tuple[str, int, str | None]], limit: int,
                               expanded: BackfillCheckpoint | None = None) -> int:
        """Queue (url, depth, lastmod) documents of `source` not queued before, up to `limit` documents in all,
        and save `expanded` (the index that listed them) in the same transaction. Returns how many were added."""
        table = schema.backfill
        added = 0
        with self.transaction() as conn:
            known_rows = conn.execute(select(func.count(), func.max(table.c.seq))
                                      .where(table.c.source == source, table.c.document != "")).first()
            count, seq = known_rows[0], known_rows[1] or 0
            for url, depth, lastmod in documents:
                if count >= limit:
                    break
                if conn.execute(select(table.c.seq).where(table.c.source == source, table.c.document == url)).first():
                    continue
                count, seq, added = count + 1, seq + 1, added + 1
                conn.execute(insert(table).values(source=source, document=url, seq=seq, depth=depth,
                                                  status="pending", position=0, lastmod=lastmod,
                                                  updated_at=utc_now()))
            if expanded is not None:
                self._save_backfill_checkpoint(conn, expanded)
        return added

    def next_backfill_document(self, source: str, after_seq: int = 0) -> BackfillCheckpoint | None:
        """The first document of `source` still pending, after the one numbered `after_seq`."""
        table = schema.backfill
        with self.transaction() as conn:
            row = conn.execute(select(table).where(table.c.source == source, table.c.document != "",
                                                   table.c.status == "pending", table.c.seq > after_seq)
                               .order_by(table.c.seq).limit(1)).first()
        return BackfillCheckpoint.from_row(row) if row else None

    def unfinished_backfill_sources(self, feed_urls: Iterable[str]) -> list[BackfillCheckpoint]:
        """Sources assigned to these feeds that a run left unfinished (a sitemap found in robots.txt)."""
        table = schema.backfill
        with self.transaction() as conn:
            rows = conn.execute(select(table).where(table.c.document == "", table.c.status != "closed",
                                                    table.c.feed_url.in_(list(feed_urls)))).all()
        return [BackfillCheckpoint.from_row(r) for r in rows]

    def close_backfill(self, sources: Iterable[str]) -> None:
        """The run that finished these sources is over: their next run is a new pass."""
        table = schema.backfill
        sources = list(sources)
        with self.transaction() as conn:
            for source in sources:
                done = (table.c.source == source, table.c.document == "", table.c.status == "done")
                if conn.execute(update(table).where(*done).values(status="closed", updated_at=utc_now())).rowcount:
                    conn.execute(table.delete().where(table.c.source == source, table.c.document != ""))

    # --- securities (crawler grep --ticker) -------------------------------------------------------------

    @staticmethod
    def add_tickers(conn: Connection, article_id: int, tickers: Iterable[str]) -> None:
        """Inside the `transaction()` that inserts the article."""
        rows = [{"article_id": article_id, "ticker": ticker} for ticker in sorted(set(tickers))]
        if rows:
            run(conn, _INSERT_TICKER, rows)

    def tickers(self, article_id: int) -> set[str]:
        """The securities an archived article names, as indexed."""
        with self.transaction() as conn:
            return set(run(conn, _TICKERS_OF, {"article_id": article_id}).scalars())

    def articles_with_ticker(self, ticker: str) -> list[tuple[str, str, str]]:
        """(path, title, published) of every archived article that names `ticker` (normal form)."""
        table = schema.article_tickers
        with self.transaction() as conn:
            rows = conn.execute(
                select(articles.c.path, articles.c.title, articles.c.published)
                .join(table, table.c.article_id == articles.c.id).where(table.c.ticker == ticker)
            ).all()
        return [tuple(row) for row in rows]


    # --- writes in progress -----------------------------------------------------------------------------

    def pending_path(self, link: str) -> str | None:
        with self.transaction() as conn:
            return run(conn, _PENDING_PATH, {"link": link}).scalar()

    def announce_writes(self, writes: Sequence[tuple[str, str]]) -> None:
        """Commit (link, path) pairs as pending writes, before their files are written."""
        if not writes:
            return
        with self.transaction() as conn:
            run(conn, _CLEAR_PENDING, [{"link": link} for link, _ in writes])
            run(conn, _ANNOUNCE, [{"link": link, "path": path} for link, path in writes])

    @staticmethod
    def clear_pending(conn: Connection, link: str) -> None:
        run(conn, _CLEAR_PENDING, {"link": link})

@dataclass(frozen=True, slots=True)
class BackfillCheckpoint:
    """Where a backfill source (document '') or one of its sitemap documents stands; see schema.backfill."""

    source: str
    document: str = ""
    status: str = "running"
    position: int = 0
    next_url: str | None = None
    digest: str | None = None
    seq: int = 0
    depth: int = 0
    lastmod: str | None = None
    feed_url: str | None = None
    reached: str | None = None

    @classmethod
    def from_row(cls, row) -> "BackfillCheckpoint":
        return cls(**{k: v for k, v in row._mapping.items() if k in cls.__dataclass_fields__})

    def values(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
