"""`crawler daemon`: the scheduler against a real local server whose feeds change while it runs."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from html import escape
from pathlib import Path

import httpx
import pytest
import yaml

from crawler.archive import parse_post
from crawler.config import load_config
from crawler.daemon import Daemon
from crawler.metrics import Metrics, MetricsServer
from crawler.pipeline import open_pipeline
from crawler.state.store import Store
from tests.support.server import Exchange, LocalServer, Reply

PARA = "央行今日开展逆回购操作，市场流动性保持合理充裕，资金面整体平稳，短端利率小幅下行。"


class LiveFeed:
    """An RSS feed whose items the test adds while the daemon runs; counts polls in flight at once."""

    def __init__(self, server: LocalServer, path: str = "/feed.xml", delay: float = 0.0):
        self.server = server
        self.path = path
        self.delay = delay
        self.items: list[tuple[str, str]] = []
        self.failing = False
        self.in_flight = 0
        self.max_in_flight = 0
        self.polls = 0
        self._lock = threading.Lock()
        server.route(path, self._answer)

    def add(self, n: int, delay: float = 0.0) -> str:
        link = self.server.url(f"/news/{self.path.strip('/').replace('.', '-')}-{n}.html")
        page = (f"<html><head><title>第{n}条新闻</title></head><body><article><h1>第{n}条新闻</h1>"
                + "".join(f"<p>{PARA}（{self.path} {n}-{i}）</p>" for i in range(4)) + "</article></body></html>")
        self.server.route(link.removeprefix(self.server.url("/")[:-1]), Reply.text(page, delay=delay))
        self.items.append((f"第{n}条新闻", link))
        return link

    def _answer(self, exchange: Exchange) -> None:
        with self._lock:
            self.polls += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                exchange.wait(self.delay)
            if self.failing:
                exchange.send(Reply(500, b"down for maintenance"))
                return
            items = "".join(f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid>{escape(u)}</guid>"
                            f"<pubDate>Wed, 09 Feb 2022 11:10:19 +0800</pubDate></item>" for t, u in self.items)
            body = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>{items}' \
                   f"</channel></rss>"
            exchange.send(Reply(body=body.encode(), headers={"Content-Type": "application/rss+xml"}))
        finally:
            with self._lock:
                self.in_flight -= 1


def write_config(tmp_path: Path, feeds: list[tuple[str, str]], interval: str = "1s", **daemon) -> Path:
    cfg = {
        "archive": {"dir": str(tmp_path / "archive")},
        "state": {"url": f"sqlite:///{tmp_path}/state.sqlite3"},
        "network": {"allow_private": True, "attempts": 1, "backoff": "50ms", "total_timeout": "10s"},
        "extract": {"workers": 1},
        "daemon": {"min_interval": "1s", "max_interval": "4s", "jitter": 0, "startup_spread": "300ms",
                   "shutdown_grace": "2s", **daemon},
        "feeds": [{"url": url, "name": name, "source": "测试", "category": "金融", "interval": interval}
                  for url, name in feeds],
    }
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def archived_links(root: Path) -> set[str]:
    return {parse_post(p.read_text(encoding="utf-8"))[0]["link"] for p in root.rglob("*.md")} if root.exists() else set()


async def wait_until(condition, timeout: float, step: float = 0.05) -> float:
    """Seconds it took for `condition()` to hold; fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout}s")
        await asyncio.sleep(step)
    return time.monotonic() - started


class RunningDaemon:
    """The daemon in this process, on the test's event loop."""

    def __init__(self, config: Path, metrics_port: int | None = None):
        self.config = config
        self.settings = load_config(config)
        self.metrics = Metrics()
        self.metrics_port = metrics_port

    async def __aenter__(self) -> "RunningDaemon":
        self._pipeline_cm = open_pipeline(self.settings, self.metrics)
        self.pipeline = await self._pipeline_cm.__aenter__()
        self.server = None
        if self.metrics_port is not None:
            self.server = await MetricsServer(self.metrics, "127.0.0.1", self.metrics_port).__aenter__()
        self.daemon = Daemon(self.settings, self.config, self.pipeline, self.metrics)
        self.task = asyncio.create_task(self.daemon.run())
        return self

    async def __aexit__(self, *exc) -> None:
        self.daemon.request_stop("test over")
        await asyncio.wait_for(self.task, 10)
        if self.server:
            await self.server.__aexit__(None, None, None)
        await self._pipeline_cm.__aexit__(None, None, None)


async def test_new_entries_are_archived_within_an_interval_and_polls_never_overlap(tmp_path, http_server):
    feed = LiveFeed(http_server, delay=0.3)  # a slow feed: the trigger fires while a poll is still running
    first = feed.add(1)
    config = write_config(tmp_path, [(http_server.url("/feed.xml"), "快讯")], interval="1s")
    root = tmp_path / "archive"
    async with RunningDaemon(config):
        await wait_until(lambda: first in archived_links(root), timeout=10)
        for n in (2, 3):
            link = feed.add(n)
            took = await wait_until(lambda: link in archived_links(root), timeout=10)
            assert took < 4.5, f"{took:.1f}s: more than an interval (≤ 4 s, the maximum) plus the poll"
        await asyncio.sleep(2.5)
    assert feed.max_in_flight == 1
    assert feed.polls >= 4


async def test_failing_feed_backs_off_and_recovers_by_itself(tmp_path, http_server):
    feed = LiveFeed(http_server)
    link = feed.add(1)
    feed.failing = True
    url = http_server.url("/feed.xml")
    config = write_config(tmp_path, [(url, "维护中")], interval="1s")
    async with RunningDaemon(config) as running:
        store = running.pipeline.store
        await wait_until(lambda: store.feed_state(url).error_count >= 2, timeout=10)
        state = store.feed_state(url)
        assert state.last_error == "HTTP 500" and state.interval_seconds >= 2
        feed.failing = False
        await wait_until(lambda: link in archived_links(tmp_path / "archive"), timeout=12)
        await wait_until(lambda: store.feed_state(url).error_count == 0, timeout=5)
    assert store.feed_state(url).last_error is None


async def test_restart_resumes_without_refetching_and_staggers_first_polls(tmp_path, http_server):
    feeds = [LiveFeed(http_server, f"/feed-{i}.xml") for i in range(3)]
    links = [f.add(1) for f in feeds]
    config = write_config(tmp_path, [(http_server.url(f.path), f"feed {i}") for i, f in enumerate(feeds)],
                          interval="3s", startup_spread="900ms")
    root = tmp_path / "archive"
    async with RunningDaemon(config):
        await wait_until(lambda: set(links) <= archived_links(root), timeout=15)
    await asyncio.sleep(3.5)  # every feed is overdue when the daemon starts again
    before = len(http_server.requests)
    async with RunningDaemon(config):
        await wait_until(lambda: all(f.polls >= 2 for f in feeds), timeout=10)
    again = http_server.requests[before:]
    assert not [r for r in again if r.target.startswith("/news/")], "an archived page was fetched again"
    first_poll = sorted(min(r.time for r in again if r.target == f.path) for f in feeds)
    assert first_poll[2] - first_poll[0] >= 0.4, "all feeds polled at once on start"


async def test_metrics_and_health_check(tmp_path, http_server):
    feed = LiveFeed(http_server)
    link = feed.add(1)
    config = write_config(tmp_path, [(http_server.url("/feed.xml"), "快讯")])
    async with RunningDaemon(config, metrics_port=0) as running:
        await wait_until(lambda: link in archived_links(tmp_path / "archive"), timeout=10)
        base = f"http://127.0.0.1:{running.server.port}"
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(base + "/metrics")).text
            health = await client.get(base + "/healthz")
    assert health.status_code == 200
    assert 'crawler_polls_total{feed="快讯",outcome="ok"}' in metrics
    assert 'crawler_articles_total{outcome="archived"} 1.0' in metrics
    assert "crawler_fetch_seconds_bucket" in metrics and "crawler_queue_depth" in metrics


# --- the real command, with real signals ------------------------------------------------------------------


def start_daemon(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crawler", "daemon", "-c", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"not within {timeout}s"
        time.sleep(0.05)


def test_sigterm_during_a_download_exits_0_quickly_and_leaves_no_partial_file(tmp_path, http_server):
    feed = LiveFeed(http_server)
    done = feed.add(1)
    slow = feed.add(2, delay=30)
    config = write_config(tmp_path, [(http_server.url("/feed.xml"), "快讯")], shutdown_grace="2s")
    daemon = start_daemon(config)
    try:
        wait_for(lambda: http_server.hits(slow.removeprefix(http_server.url("/")[:-1])) >= 1, timeout=20)
        wait_for(lambda: done in archived_links(tmp_path / "archive"), timeout=10)
        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        rc = daemon.wait(timeout=10)
        took = time.monotonic() - started
    finally:
        daemon.kill()
        _, err = daemon.communicate()
    assert rc == 0 and took < 10, err[-2000:]
    root = tmp_path / "archive"
    assert not [p for p in root.rglob("*") if ".tmp-" in p.name]
    assert archived_links(root) == {done}
    assert "Traceback" not in err


def test_sighup_applies_a_changed_feed_list_and_refuses_a_broken_one(tmp_path, http_server):
    one, two = LiveFeed(http_server, "/one.xml"), LiveFeed(http_server, "/two.xml")
    first, second = one.add(1), two.add(1)
    config = write_config(tmp_path, [(http_server.url("/one.xml"), "一")])
    daemon = start_daemon(config)
    try:
        wait_for(lambda: first in archived_links(tmp_path / "archive"), timeout=20)
        good = config.read_text(encoding="utf-8")
        config.write_text(good + "  - oops: [\n", encoding="utf-8")
        daemon.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        assert daemon.poll() is None, "a broken configuration stopped the daemon"
        polls_of_one = one.polls
        write_config(tmp_path, [(http_server.url("/two.xml"), "二")])
        daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: second in archived_links(tmp_path / "archive"), timeout=10)
        time.sleep(2.5)
        assert one.polls <= polls_of_one + 1, "a removed feed is still polled"
        status = subprocess.run([sys.executable, "-m", "crawler", "status", "--json", "-c", str(config)],
                                capture_output=True, text=True, timeout=30)
        rows = json.loads(status.stdout)
        assert [r["name"] for r in rows] == ["二"] and rows[0]["next_poll_at"] and rows[0]["articles_archived"] == 1
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    finally:
        daemon.kill()
        _, err = daemon.communicate()
    assert "configuration reload refused" in err and "not valid YAML" in err
    assert "configuration reloaded" in err and "1 feeds added, 1 removed" in err


def test_status_table_reads_state_without_creating_it(tmp_path, http_server):
    config = write_config(tmp_path, [(http_server.url("/feed.xml"), "新浪财经－国內")])
    out = subprocess.run([sys.executable, "-m", "crawler", "status", "-c", str(config)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert out.stdout.splitlines()[0].split()[:3] == ["FEED", "LAST", "SUCCESS"]
    assert "新浪财经－国內" in out.stdout and "never" in out.stdout
    assert not (tmp_path / "state.sqlite3").exists()
    store = Store(f"sqlite:///{tmp_path}/state.sqlite3")
    store.record_poll(http_server.url("/feed.xml"), error="HTTP 503")
    store.close()
    out = subprocess.run([sys.executable, "-m", "crawler", "status", "-c", str(config)],
                         capture_output=True, text=True, timeout=30)
    assert "HTTP 503" in out.stdout and " 1 " in out.stdout


def test_status_does_not_load_the_extraction_stack(tmp_path):
    config = write_config(tmp_path, [("https://example.com/feed.xml", "x")])
    code = ("import sys; from crawler.cli import main; main(['status', '-c', sys.argv[1]]); "
            "assert 'trafilatura' not in sys.modules and 'httpx' not in sys.modules, 'heavy imports'")
    out = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True, timeout=30,
                         env={**os.environ})
    assert out.returncode == 0, out.stderr
