"""`crawler backfill` over paged feeds, end to end: a real local server, a real SQLite file, real files.

RFC 5005 links (`next`, `prev-archive`) in RSS and Atom, JSON Feed `next_url`, `page_url` templates; the
bounds of a walk (--pages, --since/--until, the end, a page archived already); and `once` and `backfill`
over the same articles."""
from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from crawler.archive import parse_post
from crawler.cli import main
from tests.support.crawler_process import check_archive, run_crawler
from tests.support.history import History, Reply
from tests.support.site import FeedConfig, state_db, write_config


def posts(root: Path) -> dict[str, dict]:
    """link → front matter of every post; fails on two posts for one link."""
    out: dict[str, dict] = {}
    for path in root.rglob("*.md"):
        front, _ = parse_post(path.read_text(encoding="utf-8"))
        assert front["link"] not in out, f"two posts for {front['link']}"
        out[front["link"]] = front
    return out


def backfill(config: Path, *args: str) -> int:
    return main(["backfill", "-c", str(config), *args])


@pytest.fixture
def site(http_server) -> History:
    return History(http_server, 12)


def feed_config(tmp_path: Path, url: str, **extra) -> Path:
    return write_config(tmp_path, [FeedConfig(url, "财经网－要闻", extra=tuple(extra.items()))])


def test_rss_next_links_are_walked_to_the_end(tmp_path, site, capsys):
    site.rss("/feed.xml", per_page=5)
    config = feed_config(tmp_path, site.url("/feed.xml"))
    assert backfill(config, "--all") == 0
    archive = posts(tmp_path / "archive")
    assert set(archive) == {site.url(s) for s in site.stories}
    assert site.targets("/feed.xml") == ["/feed.xml", "/feed.xml?page=2", "/feed.xml?page=3"]
    assert set(site.story_hits().values()) == {1}
    story = site.stories[7]
    front = archive[site.url(story)]
    assert front["published"] == story.published.isoformat()  # from the feed: the page has no date
    assert front["categories"] == ["金融", "财经网", "财经网－要闻"]
    assert "crawler backfill: 1 sources ok, 0 failed; 3 feed pages, 0 sitemaps read; 12 new articles" in \
        capsys.readouterr().out


def test_atom_prev_archive_links(tmp_path, site):
    site.atom("/feed.atom", per_page=4, rel="prev-archive")
    config = feed_config(tmp_path, site.url("/feed.atom"))
    assert backfill(config, "--feed", "财经网－要闻") == 0
    assert len(posts(tmp_path / "archive")) == 12
    assert site.targets("/feed.atom") == ["/feed.atom", "/feed.atom?page=2", "/feed.atom?page=3"]


def test_json_feed_next_url(tmp_path, site):
    site.json_feed("/feed.json", per_page=5)
    config = feed_config(tmp_path, site.url("/feed.json"))
    assert backfill(config, "--all") == 0
    assert len(posts(tmp_path / "archive")) == 12
    assert site.targets("/feed.json") == ["/feed.json", "/feed.json?page=2", "/feed.json?page=3"]


def test_page_url_template_for_a_feed_without_links(tmp_path, site):
    site.rss("/list.xml", per_page=5, rel=None)
    config = feed_config(tmp_path, site.url("/list.xml"), page_url="?page={n}")
    assert backfill(config, "--all") == 0
    assert len(posts(tmp_path / "archive")) == 12
    # the fourth page is empty: the walk ends there
    assert site.targets("/list.xml") == ["/list.xml", "/list.xml?page=2", "/list.xml?page=3", "/list.xml?page=4"]


def test_a_server_that_ignores_the_page_parameter_is_not_walked_forever(tmp_path, site, caplog):
    site.rss("/list.xml", per_page=5, rel=None, pages=1)  # ?page=N gets the first page again
    config = feed_config(tmp_path, site.url("/list.xml"), page_url="?page={n}")
    with caplog.at_level(logging.WARNING, logger="crawler"):
        assert backfill(config, "--all") == 0
    assert site.targets("/list.xml") == ["/list.xml", "/list.xml?page=2"]
    assert any("repeats page 1" in r.getMessage() and "page_url" in r.getMessage() for r in caplog.records)
    assert len(posts(tmp_path / "archive")) == 5


def test_pages_bounds_the_walk(tmp_path, site):
    site.rss("/feed.xml", per_page=5)
    config = feed_config(tmp_path, site.url("/feed.xml"))
    assert backfill(config, "--all", "--pages", "2") == 0
    assert site.targets("/feed.xml") == ["/feed.xml", "/feed.xml?page=2"]
    assert len(posts(tmp_path / "archive")) == 10


def test_since_and_until_are_applied_before_any_page_is_fetched(tmp_path, site):
    site.rss("/feed.xml", per_page=4)  # stories six hours apart: pages of a day each
    config = feed_config(tmp_path, site.url("/feed.xml"))
    newest = site.stories[0].published
    since = (newest - timedelta(hours=27)).isoformat()  # stories 1 to 5
    until = (newest - timedelta(hours=3)).isoformat()  # not story 1
    assert backfill(config, "--all", "--since", since, "--until", until) == 0
    assert set(posts(tmp_path / "archive")) == {site.url(s) for s in site.stories[1:5]}
    assert [n for n, hits in site.story_hits().items() if hits] == [2, 3, 4, 5]
    # page 2 still holds stories of the window; page 3 is wholly older: nothing after it is read
    assert site.targets("/feed.xml") == ["/feed.xml", "/feed.xml?page=2", "/feed.xml?page=3"]


def test_a_feed_that_moved_keeps_its_pages(tmp_path, site):
    """The old address redirects to the new one without the query (and the new pages still link to the old
    address): page 2 must not turn into page 1 again."""
    site.rss("/v2/feed.xml", per_page=5, link_path="/feed.xml")
    site.server.route("/feed.xml", Reply(301, headers={"Location": site.url("/v2/feed.xml")}))
    config = feed_config(tmp_path, site.url("/feed.xml"))
    assert backfill(config, "--all") == 0
    assert len(posts(tmp_path / "archive")) == 12
    assert site.targets("/v2/feed.xml") == ["/v2/feed.xml", "/v2/feed.xml?page=2", "/v2/feed.xml?page=3"]


def test_first_backfill_goes_past_what_once_archived(tmp_path, site):
    site.rss("/feed.xml", per_page=5)
    config = feed_config(tmp_path, site.url("/feed.xml"))
    assert main(["once", "-c", str(config)]) == 0
    assert len(posts(tmp_path / "archive")) == 5
    assert backfill(config, "--all") == 0
    assert len(posts(tmp_path / "archive")) == 12
    assert set(site.story_hits().values()) == {1}  # the five `once` archived are not fetched again
    assert site.targets("/feed.xml") == ["/feed.xml", "/feed.xml", "/feed.xml?page=2", "/feed.xml?page=3"]


def test_a_later_backfill_stops_at_the_first_archived_page(tmp_path, site):
    site.rss("/feed.xml", per_page=5)
    config = feed_config(tmp_path, site.url("/feed.xml"))
    assert backfill(config, "--all") == 0
    site.add(6, first=101, newer=True)  # six stories since: the old ones move down a page and more
    site.rss("/feed.xml", per_page=5)
    before = len(site.server.requests)
    assert backfill(config, "--all") == 0
    assert len(posts(tmp_path / "archive")) == 18
    walked = [r.target for r in site.server.requests[before:] if r.target.startswith("/feed.xml")]
    # page 1: new; page 2: one new story, four archived; page 3: all archived, and so is what lies behind it
    assert walked == ["/feed.xml", "/feed.xml?page=2", "/feed.xml?page=3"]
    assert set(site.story_hits().values()) == {1}


def test_a_wider_window_walks_further_than_the_last_pass(tmp_path, site):
    site.rss("/feed.xml", per_page=4)
    config = feed_config(tmp_path, site.url("/feed.xml"))
    newest = site.stories[0].published
    assert backfill(config, "--all", "--since", (newest - timedelta(hours=20)).isoformat()) == 0
    assert len(posts(tmp_path / "archive")) == 4
    # page 1 is archived, but the last pass did not go back this far: the walk goes on
    assert backfill(config, "--all", "--since", (newest - timedelta(days=30)).isoformat()) == 0
    assert len(posts(tmp_path / "archive")) == 12


def test_once_and_backfill_over_the_same_articles_never_duplicate(tmp_path, site):
    site.rss("/feed.xml", per_page=5)
    site.atom("/feed.atom", per_page=6)  # a second feed listing the same stories
    config = write_config(tmp_path, [FeedConfig(site.url("/feed.xml"), "财经网－要闻"),
                                     FeedConfig(site.url("/feed.atom"), "财经网－滚动")])
    assert backfill(config, "--all") == 0
    assert main(["once", "-c", str(config)]) == 0
    assert backfill(config, "--all") == 0
    archive = posts(tmp_path / "archive")
    assert len(archive) == 12 and len(list((tmp_path / "archive").rglob("*.md"))) == 12
    assert set(site.story_hits().values()) == {1}
    for front in archive.values():  # each story is in both feeds: both category paths, one file
        assert sorted(front["categories"]) == [["金融", "财经网", "财经网－滚动"], ["金融", "财经网", "财经网－要闻"]]
    db = sqlite3.connect(state_db(tmp_path))
    assert db.execute("SELECT count(*) FROM articles").fetchone() == (12,)


def test_rate_spaces_requests_to_a_host(tmp_path, site):
    site.rss("/feed.xml", per_page=5)
    config = feed_config(tmp_path, site.url("/feed.xml"))
    assert backfill(config, "--all", "--pages", "1", "--rate", "5/s") == 0
    starts = [r.time for r in site.server.requests]
    assert len(starts) == 7  # the feed page, robots.txt, five stories
    # spaced 0.2 s apart as they leave; as they arrive, give or take the scheduling of a busy machine
    assert starts[-1] - starts[0] >= 6 * 0.2 - 0.05
    assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.1


def test_an_unreachable_page_fails_the_source_and_the_next_run_continues_there(tmp_path, site, caplog):
    site.rss("/feed.xml", per_page=5)
    site.server.route("/feed.xml?page=3", Reply(503))
    config = feed_config(tmp_path, site.url("/feed.xml"))
    with caplog.at_level(logging.ERROR, logger="crawler"):
        assert backfill(config, "--all") == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "/feed.xml?page=3" in errors[0] and "HTTP 503" in errors[0]
    assert errors[0].endswith("page 3 (" + site.url("/feed.xml?page=3") + "): HTTP 503; the next backfill resumes here")
    assert len(posts(tmp_path / "archive")) == 10
    site.rss("/feed.xml", per_page=5)
    before = len(site.server.requests)
    assert backfill(config, "--all") == 0
    assert [r.target for r in site.server.requests[before:] if r.target.startswith("/feed")] == ["/feed.xml?page=3"]
    assert len(posts(tmp_path / "archive")) == 12


@pytest.mark.parametrize("args, message", [
    ([], "say what to backfill"),
    (["--all", "--feed", "财经网－要闻"], "exclude each other"),
    (["--feed", "nope"], "no feed named 'nope'"),
    (["--all", "--since", "last tuesday"], "neither a date"),
    (["--all", "--rate", "fast"], "--rate 'fast'"),
    (["--all", "--since", "2022-02-10", "--until", "2022-02-01"], "is after --until"),
    (["--urls", "missing.txt"], "no such file"),
    (["--sitemap", "ftp://x/s.xml"], "not an http(s) URL"),
    (["--sitemap", "auto"], "--sitemap auto"),
])
def test_usage_errors_exit_2_before_any_request(tmp_path, http_server, caplog, args, message):
    config = feed_config(tmp_path, http_server.url("/feed.xml"))
    with caplog.at_level(logging.ERROR, logger="crawler"):
        assert backfill(config, *args) == 2
    assert any(message in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
    assert http_server.requests == []


def test_page_url_must_name_the_page_number(tmp_path, http_server, caplog):
    config = feed_config(tmp_path, http_server.url("/feed.xml"), page_url="?page=2")
    with caplog.at_level(logging.ERROR, logger="crawler"):
        assert backfill(config, "--all") == 2
    assert any("feeds[0].page_url" in r.getMessage() and "{n}" in r.getMessage() for r in caplog.records)


def test_backfill_runs_beside_the_daemon_and_nothing_is_duplicated(tmp_path, site):
    """The daemon holds the archive's run lock; a backfill has a lock of its own and shares the commit lock,
    so both archive the first page's stories at the same time without writing one twice."""
    site.rss("/feed.xml", per_page=5)
    config = write_config(tmp_path, [FeedConfig(site.url("/feed.xml"), "财经网－要闻", extra=(("interval", "1s"),))])
    daemon = subprocess.Popen([sys.executable, "-m", "crawler", "daemon", "-c", str(config)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run = run_crawler(["backfill", "--all", "-c", str(config)])
        deadline = time.monotonic() + 20
        while not site.story_hits() or len(posts(tmp_path / "archive")) < 12:
            assert time.monotonic() < deadline, "the daemon and the backfill did not archive the site"
            time.sleep(0.1)
        time.sleep(1.5)  # one more daemon poll over stories both know
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, daemon_log = daemon.communicate(timeout=30)
    assert run.returncode == 0, run.stderr
    assert daemon.returncode == 0, daemon_log
    archive = check_archive(tmp_path / "archive", state_db(tmp_path))
    assert set(archive) == {site.url(s) for s in site.stories}
