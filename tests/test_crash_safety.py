"""Kill -9 at the worst moments, then run again: nothing partial, nothing twice, nothing lost, database intact.

A real `crawler once` process is killed by tests/support/faults.py at a chosen point of its run (the
crawler's code knows nothing about it); a second, undisturbed run must then leave exactly the archive an
uninterrupted run would have written.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from crawler.archive.writer import LOCK_FILES
from tests.support.crawler_process import (PROJECT_ROOT, check_archive, hidden_files, indexed_links,
                                            run_crawler)
from tests.support.server import LocalServer, Reply
from tests.support.site import FeedConfig, Item, article_page, paragraphs, rss, state_db, write_config

TEMP_FILE = re.compile(r"^\..+\.md\.tmp-[0-9a-f]{8}$")


class CrashSite:
    """Two feeds, eight articles; one article is in both feeds, so its post is rewritten with a second
    category path. Pages are large enough to arrive in several pieces."""

    def __init__(self, server: LocalServer):
        self.links: dict[str, list[str]] = {}
        self.titles: dict[str, str] = {}
        self.paras: dict[str, list[str]] = {}
        feeds = {"markets": range(0, 5), "macro": range(4, 8)}  # article 4 is in both
        for name, numbers in feeds.items():
            items = []
            for n in numbers:
                path = f"/news/{n}.html"
                link = server.url(path)
                self.titles[link] = f"第{n}号：经济数据发布"
                # Filler after the article text makes the page big enough to arrive in several reads.
                self.paras[link] = paragraphs(n)
                page = article_page(self.titles[link], paragraphs(n)) + "<!--" + "填充" * 40_000 + "-->"
                server.route(path, Reply.text(page))
                items.append(Item(self.titles[link], link, guid=f"{name}-{n}", description="摘要。"))
            server.route(f"/feeds/{name}.xml", Reply(body=rss(name, items),
                                                     headers={"Content-Type": "application/rss+xml"}))
            self.links[name] = [server.url(f"/news/{n}.html") for n in numbers]
        self.feeds = [FeedConfig(server.url(f"/feeds/{name}.xml"), name) for name in feeds]
        self.all_links = {link for links in self.links.values() for link in links}
        self.shared = server.url("/news/4.html")


@pytest.mark.parametrize("fault", [
    "kill-mid-download:3",
    "kill-mid-extraction:3",
    "kill-before-rename:2",
    "kill-before-index:2",
    "kill-before-feed-record:1",
])
def test_a_killed_run_is_completed_by_the_next_one(tmp_path, http_server, fault):
    site = CrashSite(http_server)
    config = write_config(tmp_path, site.feeds)
    root, database = tmp_path / "archive", state_db(tmp_path)

    killed = run_crawler(["once", "-c", str(config)], fault=fault)
    assert killed.returncode == -9, killed.stderr
    assert killed.survivors == [], "extraction processes outlived the killed crawler"
    before = check_archive(root, database)  # whatever was in place when it died is whole and consistent
    assert set(before) <= site.all_links

    again = run_crawler(["once", "-c", str(config)])
    assert again.returncode == 0, again.stderr
    assert again.errors() == []
    posts = check_archive(root, database)
    assert set(posts) == site.all_links == indexed_links(database)
    for link, post in posts.items():
        assert post.front["title"] == site.titles[link]
        for paragraph in site.paras[link]:
            assert paragraph in post.body, f"{post.path}: text lost"
    shared = posts[site.shared].front["categories"]
    assert sorted(shared) == [["金融", "财经网", "macro"], ["金融", "财经网", "markets"]]
    for leftover in hidden_files(root):  # Hexo skips hidden files; only the lock and killed temporaries
        assert leftover.name in LOCK_FILES or TEMP_FILE.match(leftover.name), leftover


def test_a_post_in_place_without_its_index_row_is_adopted_not_duplicated(tmp_path, http_server):
    site = CrashSite(http_server)
    config = write_config(tmp_path, site.feeds)
    root, database = tmp_path / "archive", state_db(tmp_path)

    killed = run_crawler(["once", "-c", str(config)], fault="kill-before-index:1")
    assert killed.returncode == -9
    [orphan] = [p for p in root.rglob("*.md")]
    assert indexed_links(database) == set()

    assert run_crawler(["once", "-c", str(config)]).returncode == 0
    posts = check_archive(root, database)
    assert len(list(root.rglob("*.md"))) == len(site.all_links)
    assert any(post.path == orphan for post in posts.values())  # the same name: written over, not beside


def test_a_second_run_on_the_same_archive_exits_3_and_fetches_nothing(tmp_path, http_server):
    """A cron `once` while another crawler (a long `once`, the daemon) works on the archive: the archive lock
    keeps it out, even when it reaches the archive through a symbolic link and keeps its own state file."""
    site = CrashSite(http_server)
    slow_link = site.links["markets"][0]
    slow = slow_link.removeprefix(http_server.url(""))
    released = threading.Event()
    page = Reply.text(article_page(site.titles[slow_link], site.paras[slow_link]))
    http_server.route(slow, lambda exchange: (released.wait(30), exchange.send(page)))
    timeouts = {"read_timeout": "40s", "total_timeout": "60s"}
    config = write_config(tmp_path, site.feeds, **timeouts)
    other = tmp_path / "other"
    other.mkdir()
    (other / "archive").symlink_to(tmp_path / "archive")
    other_config = write_config(other, site.feeds, **timeouts)

    first: dict = {}
    thread = threading.Thread(target=lambda: first.update(run=run_crawler(["once", "-c", str(config)])))
    thread.start()
    try:
        while not http_server.hits(slow):  # the first run is inside its pipeline, lock held
            thread.join(0.05)
            assert thread.is_alive(), first["run"].stderr
        second = run_crawler(["once", "-c", str(other_config)], env={"CRAWLER_NETWORK_USER_AGENT": "second-run"})
    finally:
        released.set()
        thread.join()
    assert second.returncode == 3
    assert len(second.log_lines) == 1 and "another crawler (pid " in second.log_lines[0]
    assert not [r for r in http_server.requests if r.headers.get("user-agent") == "second-run"]
    assert first["run"].returncode == 0
    posts = check_archive(tmp_path / "archive", state_db(tmp_path))
    assert set(posts) == site.all_links


def test_a_cron_run_while_the_daemon_works_exits_3(tmp_path, http_server):
    """The daemon takes the same archive lock as `once`: the cron job leaves the archive to it."""
    site = CrashSite(http_server)
    config = write_config(tmp_path, site.feeds)
    lock = tmp_path / "archive" / ".crawler.lock"
    daemon = subprocess.Popen([sys.executable, "-m", "crawler", "daemon", "-c", str(config)], cwd=PROJECT_ROOT,
                              env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().strip() == str(daemon.pid)):
            assert daemon.poll() is None and time.monotonic() < deadline, "the daemon did not take the lock"
            time.sleep(0.05)
        cron = run_crawler(["once", "-c", str(config)], env={"CRAWLER_NETWORK_USER_AGENT": "cron-run"})
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=60)
    assert cron.returncode == 3
    assert len(cron.log_lines) == 1 and f"another crawler (pid {daemon.pid})" in cron.log_lines[0]
    assert not [r for r in http_server.requests if r.headers.get("user-agent") == "cron-run"]
    assert daemon.returncode == 0, stderr.decode()
    check_archive(tmp_path / "archive", state_db(tmp_path))
