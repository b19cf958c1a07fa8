"""`crawler backfill` from sitemaps (index, gzip, Google News fields, robots.txt discovery), URL lists (file
and standard input), and --dry-run; end to end against a local server."""
from __future__ import annotations

import io
import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from crawler.cli import main
from tests.support.history import History, Reply
from tests.support.site import FeedConfig, state_db, write_config
from tests.test_backfill import backfill, posts


@pytest.fixture
def site(http_server) -> History:
    return History(http_server, 12)


@pytest.fixture
def config(tmp_path, site) -> Path:
    site.rss("/feed.xml", per_page=5)
    return write_config(tmp_path, [FeedConfig(site.url("/feed.xml"), "财经网－要闻")])


def test_sitemap_index_gzip_and_news_fields(tmp_path, site, config):
    titles = {s.n: f"新闻标题{s.n}：来自站点地图" for s in site.stories}
    site.sitemap("/sitemap-new.xml.gz", site.stories[:6], news=True, gzipped=True, titles=titles,
                 publication="财经日报")
    site.sitemap("/sitemap-old.xml", site.stories[6:])
    site.sitemap_index("/sitemap.xml", ["/sitemap-new.xml.gz", "/sitemap-old.xml"])
    assert backfill(config, "--sitemap", site.url("/sitemap.xml")) == 0
    archive = posts(tmp_path / "archive")
    assert set(archive) == {site.url(s) for s in site.stories}
    host = f"127.0.0.1"
    news = archive[site.url(site.stories[2])]
    assert news["title"] == titles[site.stories[2].n]  # news:title wins over the page's <title>
    assert news["published"] == site.stories[2].published.isoformat()  # news:publication_date; the page has none
    # not assigned to a feed: the `backfill` defaults, the publication named by the news sitemap, the host
    assert news["categories"] == ["Backfill", "财经日报", host]
    assert news["feed"] == site.url("/sitemap-new.xml.gz")
    plain = archive[site.url(site.stories[8])]
    assert plain["title"] == site.stories[8].title  # no news fields: the page's title
    assert plain["published"] == site.stories[8].published.isoformat()  # lastmod, for want of better
    assert plain["categories"] == ["Backfill", host, host]
    assert site.targets("/sitemap") == ["/sitemap.xml", "/sitemap-new.xml.gz", "/sitemap-old.xml"]
    assert set(site.story_hits().values()) == {1}


def test_since_skips_old_sitemaps_and_urls_before_fetching_them(tmp_path, site, config):
    site.sitemap("/sitemap-new.xml", site.stories[:6], news=True)
    site.sitemap("/sitemap-old.xml", site.stories[6:], news=True)
    newest = site.stories[0].published
    site.sitemap_index("/sitemap.xml", [("/sitemap-new.xml", newest),
                                        ("/sitemap-old.xml", site.stories[6].published)])
    since = (newest - timedelta(hours=13)).isoformat()  # stories 1 to 3
    assert backfill(config, "--sitemap", site.url("/sitemap.xml"), "--since", since) == 0
    assert site.targets("/sitemap") == ["/sitemap.xml", "/sitemap-new.xml"]
    assert [n for n, hits in site.story_hits().items() if hits] == [1, 2, 3]
    assert len(posts(tmp_path / "archive")) == 3


def test_sitemap_assigned_to_a_feed(tmp_path, site, config):
    site.sitemap("/sitemap.xml", site.stories, news=True)
    assert backfill(config, "--sitemap", site.url("/sitemap.xml"), "--feed", "财经网－要闻") == 0
    archive = posts(tmp_path / "archive")
    assert len(archive) == 12
    assert all(front["categories"] == ["金融", "财经网", "财经网－要闻"] for front in archive.values())
    assert site.targets("/feed.xml") == []  # assigning to a feed does not walk it


def test_articles_archived_from_a_feed_keep_their_category_path(tmp_path, site, config):
    assert backfill(config, "--all", "--pages", "1") == 0
    site.sitemap("/sitemap.xml", site.stories)
    assert backfill(config, "--sitemap", site.url("/sitemap.xml")) == 0
    archive = posts(tmp_path / "archive")
    assert len(archive) == 12
    for story in site.stories[:5]:
        assert archive[site.url(story)]["categories"] == ["金融", "财经网", "财经网－要闻"]
    assert set(site.story_hits().values()) == {1}


def test_sitemaps_listed_in_robots_txt(tmp_path, site, config):
    site.server.route("/robots.txt", Reply(body=f"User-agent: *\nDisallow: /private/\n"
                                                f"Sitemap: {site.url('/sitemap.xml')}\n".encode()))
    site.sitemap("/sitemap.xml", site.stories)
    assert backfill(config, "--feed", "财经网－要闻", "--pages", "1", "--sitemap", "auto") == 0
    archive = posts(tmp_path / "archive")
    assert len(archive) == 12  # five from the feed's first page, the rest from the sitemap
    assert all(front["categories"] == ["金融", "财经网", "财经网－要闻"] for front in archive.values())
    assert site.targets("/feed.xml") == ["/feed.xml"] and site.targets("/sitemap") == ["/sitemap.xml"]
    assert site.server.hits("/robots.txt") == 1


def test_a_sitemap_that_is_an_html_page_fails_clearly(tmp_path, site, config, caplog):
    site.server.route("/sitemap.xml", Reply.text("<html><body><h1>Welcome</h1></body></html>"))
    with caplog.at_level(logging.ERROR, logger="crawler"):
        assert backfill(config, "--sitemap", site.url("/sitemap.xml")) == 1
    (error,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert site.url("/sitemap.xml") in error and "HTML page, not a sitemap" in error


def test_unreachable_child_sitemap_is_tried_again_by_the_next_run(tmp_path, site, config, caplog):
    site.sitemap("/sitemap-1.xml", site.stories[:6])
    site.server.route("/sitemap-2.xml", Reply(503))
    site.sitemap_index("/sitemap.xml", ["/sitemap-1.xml", "/sitemap-2.xml"])
    with caplog.at_level(logging.ERROR, logger="crawler"):
        assert backfill(config, "--sitemap", site.url("/sitemap.xml")) == 1
    assert len(posts(tmp_path / "archive")) == 6
    assert any("/sitemap-2.xml" in r.getMessage() and "503" in r.getMessage() for r in caplog.records)
    site.sitemap("/sitemap-2.xml", site.stories[6:])
    before = len(site.server.requests)
    assert backfill(config, "--sitemap", site.url("/sitemap.xml")) == 0
    assert [r.target for r in site.server.requests[before:] if r.target.startswith("/sitemap")] == ["/sitemap-2.xml"]
    assert len(posts(tmp_path / "archive")) == 12
    assert set(site.story_hits().values()) == {1}


def test_url_list_from_a_file(tmp_path, site, config, caplog):
    urls = tmp_path / "urls.txt"
    urls.write_text("# stories to archive\n" + "\n".join(site.url(s) for s in site.stories[:4])
                    + "\n\nnot a url\n" + site.url(site.stories[4]) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="crawler"):
        assert backfill(config, "--urls", str(urls)) == 0
    archive = posts(tmp_path / "archive")
    assert set(archive) == {site.url(s) for s in site.stories[:5]}
    assert archive[site.url(site.stories[0])]["categories"] == ["Backfill", "127.0.0.1", "127.0.0.1"]
    assert any(f"{urls}:7: 'not a url' is not an http(s) URL" in r.getMessage() for r in caplog.records)


def test_url_list_from_standard_input_filed_under_a_feed(tmp_path, site, config, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(site.url(s) + "\n" for s in site.stories[5:])))
    assert backfill(config, "--urls", "-", "--feed", "财经网－要闻") == 0
    archive = posts(tmp_path / "archive")
    assert set(archive) == {site.url(s) for s in site.stories[5:]}
    assert all(front["categories"] == ["金融", "财经网", "财经网－要闻"] for front in archive.values())


def test_default_category_path_is_configurable(tmp_path, site):
    site.sitemap("/sitemap.xml", site.stories[:2], news=True, publication="财经日报")
    config = write_config(tmp_path, [])
    config.write_text(config.read_text(encoding="utf-8") + "backfill:\n  category: 历史\n  name: 站点地图\n",
                      encoding="utf-8")
    assert backfill(config, "--sitemap", site.url("/sitemap.xml")) == 0
    assert {tuple(f["categories"]) for f in posts(tmp_path / "archive").values()} == {("历史", "财经日报", "站点地图")}


def test_dry_run_lists_what_would_be_fetched_and_fetches_none_of_it(tmp_path, site, config, capsys):
    assert main(["once", "-c", str(config)]) == 0  # the first page's five stories are archived
    capsys.readouterr()
    site.sitemap("/sitemap.xml", site.stories[8:], news=True)
    before = len(site.server.requests)
    assert backfill(config, "--all", "--sitemap", site.url("/sitemap.xml"), "--dry-run") == 0
    out, err = capsys.readouterr()
    lines = sorted(line.split("\t") for line in out.splitlines())
    expected = {s.n: s for s in site.stories[5:]}
    assert len(lines) == 7 + 4  # stories 6 to 12 from the feed, 9 to 12 from the sitemap too
    for url, when, path in lines:
        story = expected[int(url.rsplit("/", 1)[1].removesuffix(".html"))]
        assert url == site.url(story) and when == story.published.isoformat()
        assert path in ("金融/财经网/财经网－要闻", "Backfill/财经网/127.0.0.1")
    assert "crawler backfill (dry run): 2 sources ok, 0 failed; 3 feed pages, 1 sitemaps read; " \
           "11 articles would be fetched, 5 already archived" in err
    fetched = [r.target for r in site.server.requests[before:]]
    assert all(t.startswith(("/feed.xml", "/sitemap")) for t in fetched), fetched
    assert len(posts(tmp_path / "archive")) == 5
    assert sqlite3.connect(state_db(tmp_path)).execute("SELECT count(*) FROM backfill").fetchone() == (0,)


def test_dry_run_on_a_new_archive_creates_no_state_and_no_archive(tmp_path, site, config, capsys):
    assert backfill(config, "--all", "--dry-run") == 0
    assert len(capsys.readouterr().out.splitlines()) == 12
    assert not state_db(tmp_path).exists() and not (tmp_path / "archive").exists()
