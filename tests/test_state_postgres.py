"""The state database on PostgreSQL (`state.url: postgresql://…`): the same store, the same runs.

Needs a PostgreSQL server on 127.0.0.1:5432 that lets `postgres` into database `test` (override with
CRAWLER_TEST_POSTGRES, a URL); skipped with the reason when none answers. Each test gets a schema of its own,
dropped afterwards.
"""
from __future__ import annotations

import os
import secrets

import pytest
import yaml

from crawler.cli import main
from crawler.fingerprint import fingerprint
from crawler.state.store import Store
from tests.support.server import Reply
from tests.support.site import FeedConfig, Item, article_page, rss, write_config
from tests.support.stories import company_story, with_source_line

psycopg = pytest.importorskip("psycopg")

SERVER = os.environ.get("CRAWLER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
CATS = (("金融", "A报", "A－要闻"),)


def _server_answers() -> str | None:
    try:
        psycopg.connect(SERVER, connect_timeout=2).close()
    except psycopg.Error as e:
        return f"no PostgreSQL at {SERVER} ({str(e).strip().splitlines()[0]})"
    return None


_unavailable = _server_answers()
pytestmark = pytest.mark.skipif(_unavailable is not None, reason=_unavailable or "")


@pytest.fixture
def pg_url():
    schema = f"crawler_test_{secrets.token_hex(4)}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_the_store_indexes_finds_and_revises_on_postgresql(pg_url):
    store = Store(pg_url)
    try:
        body = company_story(1)
        with store.transaction() as conn:
            article_id = store.insert_article(
                conn, link="https://a.example/1", path="a/1.md", title="t", published="2022-02-09T11:10:19+08:00",
                content_hash="h1", categories=CATS, keys=["url:https://a.example/1", "guid:https://a.example/f 1"],
                fingerprint=fingerprint(body), feed="https://a.example/f", guid="1")
            store.add_tickers(conn, article_id, ["600519.SH"])
        assert store.find_article(["guid:https://a.example/f 1"]).id == article_id
        assert store.find_by_hash("h1").link == "https://a.example/1"
        found, score = store.find_near(fingerprint(with_source_line(body)), 0.9)
        assert found.id == article_id and score >= 0.9
        assert store.find_near(fingerprint(company_story(2)), 0.9) is None
        with store.transaction() as conn:
            store.revise_article(conn, article_id, title="t2", content_hash="h2", fingerprint=fingerprint(body),
                                 feed_updated=None, updated="2022-02-10T08:00:00+08:00", tickers=[])
        assert store.article(article_id).revisions == 1
        assert store.articles_with_ticker("600519.SH") == []
    finally:
        store.close()


def test_once_reindex_and_verify_with_state_on_postgresql(tmp_path, http_server, pg_url, capsys):
    items = []
    for n in range(3):
        http_server.route(f"/a/{n}.html", Reply.text(article_page(f"第{n}条", company_story(40 + n).split("\n\n"))))
        items.append(Item(f"第{n}条", http_server.url(f"/a/{n}.html"), guid=f"a-{n}"))
    http_server.route("/a.xml", Reply(body=rss("A", items), headers={"Content-Type": "application/rss+xml"}))
    config = write_config(tmp_path, [FeedConfig(http_server.url("/a.xml"), "A－要闻", "A报")])
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["state"] = {"url": pg_url}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    assert main(["once", "-c", str(config)]) == 0
    assert "3 new articles" in capsys.readouterr().out
    assert main(["reindex", "-c", str(config)]) == 0
    assert "3 posts indexed" in capsys.readouterr().out
    assert main(["once", "-c", str(config)]) == 0
    assert "0 new articles" in capsys.readouterr().out
    assert main(["verify", "-c", str(config)]) == 0
    assert len(list((tmp_path / "archive").rglob("*.md"))) == 3
    assert not (tmp_path / "state").exists()  # no SQLite file on the side


def test_polls_are_recorded_on_postgresql(pg_url):
    store = Store(pg_url)
    try:
        feed = "https://a.example/feed.xml"
        store.record_poll(feed, error=None, etag='"v1"', last_modified="Wed, 01 May 2024 08:00:00 GMT", archived=2)
        store.record_poll(feed, error="HTTP 503", archived=0)
        failed = store.feed_state(feed)
        assert (failed.fetch_url, failed.etag, failed.error_count, failed.last_error) == (feed, '"v1"', 1, "HTTP 503")
        store.record_poll(feed, error=None, fetch_url="https://b.example/feed.xml", etag=None, archived=1)
        moved = store.feed_state(feed)
        assert (moved.fetch_url, moved.etag, moved.error_count, moved.last_error) == (
            "https://b.example/feed.xml", None, 0, None)
        assert moved.articles_archived == 3
        store.record_poll(feed, error=None)  # no new address: the moved one stays
        assert store.feed_state(feed).fetch_url == "https://b.example/feed.xml"
    finally:
        store.close()
