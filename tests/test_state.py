import sqlite3

import pytest

from crawler import fingerprint as fingerprints
from crawler.errors import StateError
from crawler.fingerprint import fingerprint
from crawler.state.store import NEAR_CANDIDATES, Store
from tests.support.stories import company_story, market_wrap, with_source_line

CATS = (("金融", "新浪财经", "新浪财经－国內"),)


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path}/state/crawler.sqlite3")
    yield s
    s.close()


def add(store, link="https://a.example/1", digest="h1", keys=("url:https://a.example/1",), path="a/1.md"):
    with store.transaction() as conn:
        return store.insert_article(conn, link=link, path=path, title="t", published="2022-02-09T11:10:19+08:00",
                                    content_hash=digest, categories=CATS, keys=keys)


def test_creates_the_database_file_and_its_directory(tmp_path, store):
    assert (tmp_path / "state" / "crawler.sqlite3").exists()
    mode = sqlite3.connect(tmp_path / "state" / "crawler.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_articles_are_found_by_any_key_and_by_hash(store):
    article_id = add(store, keys=("url:https://a.example/1", "guid:https://a.example/feed 1"))
    assert store.find_article(["guid:https://a.example/feed 1"]).id == article_id
    assert store.find_article(["url:https://other/", "url:https://a.example/1"]).categories == CATS
    assert store.find_article(["url:https://other/"]) is None
    assert store.find_by_hash("h1").link == "https://a.example/1"
    assert store.path_taken("a/1.md", "https://a.example/1") and not store.path_taken("a/2.md", "https://x/")
    store.announce_writes([("https://b.example/2", "b/2.md")])
    assert store.path_taken("b/2.md", "https://c.example/3") and not store.path_taken("b/2.md", "https://b.example/2")


def test_a_second_article_with_the_same_link_is_refused(store):
    add(store)
    with pytest.raises(StateError):
        add(store, keys=("url:https://b.example/2",), path="b/2.md")
    # the failed transaction left nothing behind
    assert store.find_article(["url:https://b.example/2"]) is None
    assert store.count_articles() == 1


def test_two_articles_may_share_a_body_and_the_first_is_found_by_it(store):
    # dedup policy `url` keeps copies at other URLs as articles of their own
    first = add(store)
    add(store, link="https://b.example/2", keys=("url:https://b.example/2",), path="b/2.md")
    assert store.count_articles() == 2
    assert store.find_by_hash("h1").id == first


def test_a_schema_1_database_is_migrated_to_non_unique_hashes(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = Store(f"sqlite:///{path}")
    old.close()
    db = sqlite3.connect(path)
    db.execute("DROP INDEX articles_content_hash")
    db.execute("CREATE UNIQUE INDEX articles_content_hash ON articles (content_hash)")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    db.commit()
    db.close()
    store = Store(f"sqlite:///{path}")
    try:
        add(store)
        add(store, link="https://b.example/2", keys=("url:https://b.example/2",), path="b/2.md")
        assert store.count_articles() == 2
    finally:
        store.close()
    assert sqlite3.connect(path).execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "2"


def test_update_adds_categories_syndication_and_keys(store):
    article_id = add(store)
    cats = CATS + (("金融", "新浪财经", "新浪财经－宏观"),)
    with store.transaction() as conn:
        store.update_article(conn, article_id, categories=cats, syndicated=["https://copy.example/9"],
                             keys=["url:https://copy.example/9", "url:https://a.example/1"])
    found = store.find_article(["url:https://copy.example/9"])
    assert found.categories == cats and found.syndicated == ("https://copy.example/9",)


def test_feed_validators_and_errors(store):
    url = "https://feeds.example/rss"
    assert store.feed_state(url).fetch_url == url
    store.record_poll(url, error=None, etag='"abc"', last_modified="Wed, 09 Feb 2022 03:10:19 GMT", archived=3)
    store.record_poll(url, error="HTTP 503")
    store.record_poll(url, error="HTTP 503")
    state = store.feed_state(url)
    assert (state.etag, state.error_count, state.last_error, state.articles_archived) == ('"abc"', 2, "HTTP 503", 3)
    store.record_poll(url, error=None, fetch_url="https://feeds.example/new")
    state = store.feed_state(url)
    assert state.error_count == 0 and state.last_error is None and state.fetch_url == "https://feeds.example/new"
    assert state.etag is None  # a full response without validators clears the old ones


def test_failures_count_up_and_give_up(store):
    for attempt in (1, 2):
        f = store.record_failure("url:x", feed_url="f", url="x", error="HTTP 500", max_attempts=3)
        assert f.attempts == attempt and not f.given_up
    assert store.record_failure("url:x", feed_url="f", url="x", error="HTTP 500", max_attempts=3).given_up
    assert store.failure("url:x").given_up
    with store.transaction() as conn:
        store.clear_failure(conn, ["url:x"])
    assert store.failure("url:x") is None


def test_unopenable_database_is_a_clear_error(tmp_path):
    (tmp_path / "db").mkdir()
    with pytest.raises(StateError, match="cannot be opened"):
        Store(f"sqlite:///{tmp_path}/db")


def test_columns_added_since_the_database_was_made_are_added(tmp_path):
    db = tmp_path / "old.sqlite3"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE feeds (url VARCHAR(2048) PRIMARY KEY, fetch_url VARCHAR(2048), etag TEXT, "
                "last_modified TEXT, last_polled_at VARCHAR(40), last_success_at VARCHAR(40), last_error TEXT, "
                "error_count INTEGER NOT NULL, articles_archived INTEGER NOT NULL)")
    con.execute("INSERT INTO feeds VALUES ('https://f/rss', NULL, '\"e\"', NULL, NULL, NULL, NULL, 0, 7)")
    con.commit()
    con.close()
    store = Store(f"sqlite:///{db}")
    store.record_schedule("https://f/rss", interval_seconds=90.0, next_poll_at="2026-01-01T00:00:00+00:00")
    state = store.feed_state("https://f/rss")
    assert (state.etag, state.articles_archived, state.interval_seconds) == ('"e"', 7, 90.0)
    store.close()


@pytest.mark.parametrize("through", ["driver cursor", "SQLAlchemy text()"])
def test_the_hot_statements_work_through_the_driver_and_through_sqlalchemy(tmp_path, monkeypatch, through):
    """fastsql runs them on sqlite3's cursor; a database it has no fast path for gets SQLAlchemy's."""
    from crawler.state import fastsql

    if through != "driver cursor":
        monkeypatch.setattr(fastsql, "FAST_DIALECTS", frozenset())
    store = Store(f"sqlite:///{tmp_path}/state.sqlite3")
    try:
        article_id = add(store, keys=("url:https://a.example/1", "guid:https://a.example/feed 1"))
        add(store, link="https://b.example/2", digest="h2", keys=("url:https://b.example/2",), path="b/2.md")
        assert store.find_article(["url:none", "guid:https://a.example/feed 1"]).id == article_id
        assert store.find_by_hash("h2").link == "https://b.example/2"
        assert store.path_taken("a/1.md", "https://x/") and store.pending_path("https://a.example/1") is None
        store.record_failure("url:https://c.example/3", feed_url="f", url=None, error="e", max_attempts=1)
        assert store.failure("url:https://c.example/3").given_up
        with pytest.raises(StateError):  # a driver error is a StateError either way
            add(store)
    finally:
        store.close()


def test_a_near_duplicate_lookup_compares_a_bounded_number_of_articles(store, monkeypatch):
    """Market wraps from one template share bands with each other: the lookup must not read them all."""
    def add_body(n: int, body: str) -> int:
        with store.transaction() as conn:
            return store.insert_article(
                conn, link=f"https://a.example/{n}", path=f"a/{n}.md", title="t", published="2022-02-09T11:10:19+08:00",
                content_hash=f"h{n}", categories=CATS, keys=[f"url:https://a.example/{n}"], fingerprint=fingerprint(body))

    story_id = add_body(0, company_story(1))
    wrap_ids = [add_body(n, market_wrap(n)) for n in range(1, 301)]
    compared = []
    unpack = fingerprints.Fingerprint.from_bytes
    monkeypatch.setattr(fingerprints.Fingerprint, "from_bytes",
                        classmethod(lambda cls, data: compared.append(1) or unpack(data)))

    found, score = store.find_near(fingerprint(with_source_line(company_story(1))), 0.9)
    assert found.id == story_id and score >= 0.9
    found, score = store.find_near(fingerprint(with_source_line(market_wrap(300))), 0.9)
    assert found.id == wrap_ids[-1] and score >= 0.9
    assert store.find_near(fingerprint(market_wrap(301)), 0.9) is None
    assert len(compared) <= 3 * NEAR_CANDIDATES


def _open_and_close(url: str, start: float) -> None:
    import time

    time.sleep(max(0.0, start - time.time()))
    Store(url).close()


def test_processes_meeting_a_new_database_at_once_all_open_it(tmp_path):
    """The daemon and a backfill started together both create the schema: the loser must not fail."""
    import multiprocessing
    import time

    context = multiprocessing.get_context("fork")
    for round_ in range(5):
        url = f"sqlite:///{tmp_path}/race{round_}/state.sqlite3"
        start = time.time() + 0.3
        workers = [context.Process(target=_open_and_close, args=(url, start)) for _ in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        assert [w.exitcode for w in workers] == [0] * 6


def _commit_writes(store: Store, commits: int) -> None:
    """`commits` commits of 100 pending writes each (some 38 pages of write-ahead log per commit)."""
    for batch in range(commits):
        store.announce_writes([(f"https://a.example/{batch}/{n}", f"a/{batch}/{n}-" + "x" * 300 + ".md")
                               for n in range(100)])


def _wal_pages(path) -> int:
    return path.with_name(path.name + "-wal").stat().st_size // 4096


def test_the_committing_thread_leaves_checkpoints_to_the_stores_own(tmp_path):
    # SQLite checkpoints at the commit that takes the log past 1,000 pages (about 4 MB): the log file then
    # starts over and never grows much past that. Here the committing thread must not checkpoint at all.
    path = tmp_path / "state.sqlite3"
    deferred = Store(f"sqlite:///{path}")
    try:
        deferred.checkpoint_in_background(delay=3600)  # the store's own thread waits: nobody checkpoints
        _commit_writes(deferred, 100)
        assert _wal_pages(path) > 2000
    finally:
        deferred.close()

    path = tmp_path / "default.sqlite3"
    default = Store(f"sqlite:///{path}")
    try:
        _commit_writes(default, 100)
        assert _wal_pages(path) < 1500  # SQLite's own checkpoints, on the committing thread
    finally:
        default.close()


def test_the_stores_thread_checkpoints_soon_after_commits(tmp_path):
    # Bursts of 50 commits (some 1,900 pages) with pauses between them: checkpointed in each pause, the log
    # starts over at the next burst and stays near one burst long; without checkpoints it would hold all six.
    import threading
    import time

    path = tmp_path / "state.sqlite3"
    store = Store(f"sqlite:///{path}")
    try:
        store.checkpoint_in_background(delay=0.05)
        for _ in range(6):
            _commit_writes(store, 50)
            time.sleep(0.4)
        assert _wal_pages(path) < 4000
        assert store.pending_path("https://a.example/0/0") == "a/0/0-" + "x" * 300 + ".md"
    finally:
        store.close()
    assert not [thread for thread in threading.enumerate() if thread.name == "state-checkpoint"]
