"""Resuming `crawler backfill`: interrupted with Ctrl-C part-way (a real process), the same command continues
where it stopped and fetches nothing twice but what was in flight."""
from __future__ import annotations

import hashlib
import io
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.state.store import BackfillCheckpoint, Store
from tests.support.history import History, Reply, story_page
from tests.support.server import hang
from tests.support.site import FeedConfig, state_db, write_config
from tests.test_backfill import backfill, posts

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def interrupt_when(config: Path, args: list[str], archive: Path, files: int, timeout: float = 60,
                   sig: signal.Signals = signal.SIGINT, ctrl_c_ignored: bool = False) -> int:
    """Run `crawler backfill` as its own process; send it `sig` (Ctrl-C's SIGINT unless told) once `files`
    posts are written. Returns its exit code. `ctrl_c_ignored`: started with SIGINT ignored, as a background
    job of a shell script is."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")} | {"PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "crawler", "backfill", "-c", str(config), *args],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True,
                               preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ctrl_c_ignored
                               else None)
    try:
        deadline = time.monotonic() + timeout
        while len(list(archive.rglob("*.md"))) < files:
            assert process.poll() is None, f"the backfill ended (exit {process.returncode}) before the interruption"
            assert time.monotonic() < deadline, "the backfill did not get far enough"
            time.sleep(0.05)
        time.sleep(0.3)  # let what is settled be checkpointed
        process.send_signal(sig)
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_backfill_continues_where_it_stopped(tmp_path, http_server, sig):
    site = History(http_server, 15)
    site.rss("/feed.xml", per_page=5)
    stuck = site.stories[7]  # on page 2: page 2 cannot be settled, nor page 3 checkpointed after it
    http_server.route(stuck.path, hang(), Reply.text(story_page(stuck)))
    other = History(http_server, 0)  # a second, quick source: finished by the interrupted run
    extra = other.add(4, first=201)
    other.rss("/other.xml", per_page=10)
    config = write_config(tmp_path, [FeedConfig(site.url("/feed.xml"), "财经网－要闻"),
                                     FeedConfig(site.url("/other.xml"), "财经网－快讯")],
                          read_timeout="60s", total_timeout="60s")
    archive = tmp_path / "archive"

    assert interrupt_when(config, ["--all"], archive, files=14 + 4, sig=sig) == 130
    assert len(posts(archive)) == 18
    first_run = len(http_server.requests)

    assert backfill(config, "--all") == 0
    archive_posts = posts(archive)
    assert len(archive_posts) == 19 and site.url(stuck) in archive_posts
    again = [r.target for r in http_server.requests[first_run:]]
    # the unsettled page and the one after it, whose checkpoint waited on it; not page 1, not the other feed
    assert [t for t in again if t.startswith(("/feed.xml", "/other.xml"))] == ["/feed.xml?page=2", "/feed.xml?page=3"]
    # of the stories, only the one whose page never came is asked for again
    assert [t for t in again if t.startswith("/news/")] == [stuck.path]
    assert {s.n: http_server.hits(s.path) for s in extra} == {201: 1, 202: 1, 203: 1, 204: 1}


def test_sigterm_ends_a_backfill_started_with_ctrl_c_ignored(tmp_path, http_server):
    """There SIGTERM cannot take Ctrl-C's way out: it keeps its default and ends the run on the spot."""
    site = History(http_server, 6)
    site.rss("/feed.xml", per_page=10)
    stuck = site.stories[3]
    http_server.route(stuck.path, hang(), Reply.text(story_page(stuck)))
    config = write_config(tmp_path, [FeedConfig(site.url("/feed.xml"), "财经网－要闻")],
                          read_timeout="60s", total_timeout="60s")

    assert interrupt_when(config, ["--all"], tmp_path / "archive", files=5, sig=signal.SIGTERM,
                          ctrl_c_ignored=True) == -signal.SIGTERM


def test_interrupted_sitemap_continues_at_its_first_unsettled_entry(tmp_path, http_server):
    site = History(http_server, 60)
    site.sitemap("/sitemap-1.xml", site.stories[:10])
    site.sitemap("/sitemap-2.xml", site.stories[10:])
    site.sitemap_index("/sitemap.xml", ["/sitemap-1.xml", "/sitemap-2.xml"])
    stuck = site.stories[40]  # the second slice of sitemap-2 (entries 25 to 49)
    http_server.route(stuck.path, hang(), Reply.text(story_page(stuck)))
    config = write_config(tmp_path, [], read_timeout="60s", total_timeout="60s")
    archive = tmp_path / "archive"

    assert interrupt_when(config, ["--sitemap", site.url("/sitemap.xml")], archive, files=59) == 130
    first_run = len(http_server.requests)
    assert backfill(config, "--sitemap", site.url("/sitemap.xml")) == 0
    assert len(posts(archive)) == 60
    again = [r.target for r in http_server.requests[first_run:]]
    # the index and the finished sitemap are not read again; the unfinished one is, and continues at entry 25
    assert [t for t in again if t.startswith("/sitemap")] == ["/sitemap-2.xml"]
    assert [t for t in again if t.startswith("/news/")] == [stuck.path]
    assert max(http_server.hits(s.path) for s in site.stories if s is not stuck) == 1


def _checkpoint(tmp_path: Path, source: str, lines: list[str]) -> None:
    digest = hashlib.sha256("".join(line + "\n" for line in lines).encode()).hexdigest()
    store = Store(f"sqlite:///{state_db(tmp_path)}")
    try:
        store.save_backfill_checkpoint(BackfillCheckpoint(source, position=len(lines), digest=digest))
    finally:
        store.close()


def test_a_resumed_url_list_skips_the_lines_settled_before(tmp_path, http_server, caplog):
    site = History(http_server, 6)
    urls = tmp_path / "urls.txt"
    lines = [site.url(s) for s in site.stories]
    urls.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = write_config(tmp_path, [])
    _checkpoint(tmp_path, f"urls {urls}", lines[:4])  # as an interrupted run leaves it
    with caplog.at_level(logging.INFO, logger="crawler"):
        assert backfill(config, "--urls", str(urls)) == 0
    assert any("4 lines settled by the interrupted run skipped" in r.getMessage() for r in caplog.records)
    assert [n for n, hits in site.story_hits().items() if hits] == [5, 6]


def test_a_list_that_changed_is_read_from_the_start(tmp_path, http_server, caplog, monkeypatch):
    site = History(http_server, 6)
    lines = [site.url(s) for s in site.stories]
    config = write_config(tmp_path, [])
    _checkpoint(tmp_path, "urls -", ["https://elsewhere.example/1", "https://elsewhere.example/2"])
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    with caplog.at_level(logging.INFO, logger="crawler"):
        assert backfill(config, "--urls", "-") == 0
    assert any("not the list the interrupted run read" in r.getMessage() for r in caplog.records)
    assert set(site.story_hits().values()) == {1}
    assert len(posts(tmp_path / "archive")) == 6


def test_a_sitemap_found_in_robots_txt_is_resumed_with_its_feed(tmp_path, http_server):
    """The interrupted run had finished walking the feed (so this one reads no page of it, and finds no
    sitemap there) but not the sitemap it had found in robots.txt."""
    site = History(http_server, 6)
    site.rss("/feed.xml", per_page=5)
    site.sitemap("/sitemap.xml", site.stories)
    feed_url = site.url("/feed.xml")
    config = write_config(tmp_path, [FeedConfig(feed_url, "财经网－要闻")])
    store = Store(f"sqlite:///{state_db(tmp_path)}")
    try:
        store.save_backfill_checkpoint(BackfillCheckpoint(f"feed {feed_url}", status="done", feed_url=feed_url))
        store.save_backfill_checkpoint(BackfillCheckpoint(f"sitemap {site.url('/sitemap.xml')}", feed_url=feed_url))
    finally:
        store.close()
    assert backfill(config, "--all", "--sitemap", "auto") == 0
    assert site.targets("/feed.xml") == [] and site.targets("/sitemap") == ["/sitemap.xml"]
    archive = posts(tmp_path / "archive")
    assert len(archive) == 6 and all(f["categories"] == ["金融", "财经网", "财经网－要闻"] for f in archive.values())
