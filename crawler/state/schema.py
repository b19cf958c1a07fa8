"""Tables of the state database (SQLAlchemy Core, so another engine can replace SQLite by URL).

The archive files are the source of truth; this database is an index of them plus per-feed bookkeeping.
"""
from __future__ import annotations

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table,
                        Text)

SCHEMA_VERSION = 2
"""2: content hashes no longer unique (dedup policy `url` keeps copies apart); fingerprints; revisions."""

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
    Column("interval_seconds", Float, comment="the daemon's current adaptive interval"),
    Column("next_poll_at", String(40), comment="when the daemon polls next (UTC, ISO 8601)"),
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
    Column("feed", String(2048), comment="URL of the feed that brought it first (front matter `feed`)"),
    Column("guid", Text, comment="that feed's GUID for it (front matter `guid`)"),
    Column("feed_updated", String(40), comment="the feed's `updated` for it when last written: a later one is an edit"),
    Column("updated", String(40), comment="when its last revision was written (front matter `updated`)"),
    Column("revisions", Integer, default=0, comment="revisions written after the first version"),
)
Index("articles_content_hash", articles.c.content_hash)
Index("articles_published", articles.c.published)

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

backfill = Table(
    "backfill",
    metadata,
    # A source's own row has document ''; a sitemap source also has one row per sitemap document it led to
    # (its root, and what sitemap indexes listed), so a resumed run neither loses nor refetches them.
    Column("source", String(2100), primary_key=True, comment="'feed <url>', 'sitemap <url>' or 'urls <path>'"),
    Column("document", String(2048), primary_key=True, default=""),
    Column("seq", Integer, nullable=False, default=0, comment="order in which a source's documents are read"),
    Column("depth", Integer, nullable=False, default=0, comment="sitemap indexes above this document"),
    Column("status", String(8), nullable=False,
           comment="source: running, done or closed (its pass finished); document: pending or done"),
    Column("position", Integer, nullable=False, default=0, comment="feed pages, or entries, settled so far"),
    Column("next_url", String(2048), comment="feed: the first page not settled yet"),
    Column("digest", String(64), comment="hash of the entries settled so far: a list that changed starts over"),
    Column("lastmod", String(40), comment="document: lastmod given by the sitemap index that listed it"),
    Column("feed_url", String(2048), comment="feed whose category path the articles get; null: backfill defaults"),
    Column("reached", String(40), comment="feed: how far back its last finished pass went: 'end' or a date"),
    Column("updated_at", String(40), nullable=False),
)

article_tickers = Table(
    "article_tickers",
    metadata,
    # The securities an article names (front matter `tickers`), for `crawler grep --ticker`.
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("ticker", String(32), primary_key=True, comment="normal form: 600519.SH, 00700.HK, AAPL"),
)
Index("article_tickers_ticker", article_tickers.c.ticker)

article_fingerprints = Table(
    "article_fingerprints",
    metadata,
    # MinHash signature of the body (crawler.fingerprint); bodies too short for one have no row.
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("signature", LargeBinary, nullable=False),
)

article_bands = Table(
    "article_bands",
    metadata,
    # The signature's bands: a near-duplicate lookup reads the few articles sharing a band with the new body.
    Column("band", String(18), primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
)
Index("article_bands_article", article_bands.c.article_id)

pending_writes = Table(
    "pending_writes",
    metadata,
    # Committed before a new post's file is written and removed with the article row: after a crash between
    # the two, the next run writes the same story to the same path instead of a second file.
    Column("link", String(2048), primary_key=True),
    Column("path", String(4096), nullable=False, unique=True),
)
