"""Tables of the state database (SQLAlchemy Core, so another engine can replace SQLite by URL).

The archive files are the source of truth; this database is an index of them plus per-feed bookkeeping.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

feeds = Table(
    "feeds",
    metadata,
    Column("url", String(2048), primary_key=True, comment="as configured; permanent redirects go to fetch_url"),
    Column("fetch_url", String(2048)),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_polled_at", String(40)),
    Column("last_success_at", String(40)),
    Column("last_error", Text),
    Column("error_count", Integer, nullable=False, default=0),
    Column("articles_archived", Integer, nullable=False, default=0),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("link", String(2048), nullable=False, unique=True),
    Column("path", String(4096), nullable=False, unique=True, comment="relative to the archive root, / separated"),
    Column("title", Text, nullable=False),
    Column("published", String(40), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("categories", Text, nullable=False, comment="JSON list of [category, source, feed name] lists"),
    Column("syndicated", Text, nullable=False, default="[]", comment="JSON list of other URLs of the same story"),
    Column("archived_at", String(40), nullable=False),
)
Index("articles_content_hash", articles.c.content_hash, unique=True)

article_keys = Table(
    "article_keys",
    metadata,
    # `url:<canonical URL>` or `guid:<feed URL> <guid>`: everything that names an archived article.
    Column("key", String(2100), primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
)
Index("article_keys_article", article_keys.c.article_id)

failures = Table(
    "failures",
    metadata,
    Column("key", String(2100), primary_key=True, comment="the entry's first key, as in article_keys"),
    Column("feed_url", String(2048), nullable=False),
    Column("url", String(2048)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_attempt_at", String(40)),
    Column("given_up", Boolean, nullable=False, default=False),
)
