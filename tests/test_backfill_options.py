"""The pieces of `crawler backfill` around the driver: --since/--until and --rate values, the date window, the
progress display, the per-host rate floor and robots.txt sitemap discovery."""
from __future__ import annotations

import asyncio
import io
import logging
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crawler.backfill import Progress, Window
from crawler.commands.backfill import parse_rate, parse_when
from crawler.config import NetworkSettings
from crawler.errors import ConfigError, TransportError
from crawler.fetch import Fetcher
from crawler.fetch.limits import HostLimiter
from tests.support.server import Reply

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, end_of_day, expected", [
    ("30d", False, NOW - timedelta(days=30)),
    ("12h", True, NOW - timedelta(hours=12)),
    ("2024-01-31", False, datetime(2024, 1, 31, tzinfo=SHANGHAI)),
    ("2024-01-31", True, datetime.combine(datetime(2024, 1, 31).date(), time.max, tzinfo=SHANGHAI)),
    ("2024-01-31T08:30", True, datetime(2024, 1, 31, 8, 30, tzinfo=SHANGHAI)),
    ("2024-01-31T08:30:00+00:00", False, datetime(2024, 1, 31, 8, 30, tzinfo=timezone.utc)),
])
def test_when(text, end_of_day, expected):
    assert parse_when(text, SHANGHAI, NOW, end_of_day=end_of_day) == expected


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "-3d", ""])
def test_when_refuses_what_it_cannot_read(text):
    with pytest.raises(ConfigError, match="neither a date"):
        parse_when(text, SHANGHAI, NOW, end_of_day=False)


@pytest.mark.parametrize("text, interval", [
    ("1/s", 1.0), ("2/s", 0.5), ("30/m", 2.0), ("30/min", 2.0), ("1/5s", 5.0), ("0.5", 2.0), ("120/h", 30.0)])
def test_rate(text, interval):
    assert parse_rate(text) == pytest.approx(interval)


@pytest.mark.parametrize("text", ["fast", "0/s", "1/0s", "1/fortnight", "/s"])
def test_rate_refuses_what_it_cannot_read(text):
    with pytest.raises(ConfigError, match="--rate"):
        parse_rate(text)


def test_window():
    day = datetime(2024, 1, 31, tzinfo=timezone.utc)
    window = Window(since=day, until=day + timedelta(days=1))
    assert window.admits(day) and window.admits(day + timedelta(days=1)) and window.admits(None)
    assert not window.admits(day - timedelta(seconds=1)) and not window.admits(day + timedelta(days=2))
    assert window.before(day - timedelta(seconds=1)) and not window.before(None) and not Window().before(day)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_line():
    clock, settled = Clock(), [0, 0]
    progress = Progress(found=0, sources=3, counts=lambda: tuple(settled), clock=clock)
    progress.found = 200
    assert progress.line() == "backfill: 0/200+ articles, 0.0/s, 0 failed, 0/3 sources done"
    clock.now, settled[:] = 110.0, [50, 2]
    progress.sources_finished = 1
    assert progress.line() == "backfill: 50/200+ articles, 5.0/s, 2 failed, 1/3 sources done"
    clock.now, settled[:] = 120.0, [100, 2]
    progress.sources_finished = 3  # every source read: the total is known, and with it the ETA
    assert progress.line() == "backfill: 100/200 articles, 5.0/s, ETA 20s, 2 failed, 3/3 sources done"


async def test_progress_on_a_terminal_is_one_line_that_log_lines_clear():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    progress = Progress(tty=True, stream=stream, found=10, sources=1, counts=lambda: (4, 1))
    task = asyncio.create_task(progress.run())
    try:
        await asyncio.sleep(0.05)
        logging.getLogger("crawler").warning("a log line")
        await asyncio.sleep(1.2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        progress.finish()
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    line = "backfill: 4/10+ articles"
    assert text.startswith("\r\x1b[K" + line)
    assert "\r\x1b[Ka log line\n\r\x1b[K" + line in text  # cleared, logged, drawn again
    assert text.endswith("\r\x1b[K") and "\n" + line not in text


async def test_progress_elsewhere_is_a_log_line_every_interval(caplog):
    progress = Progress(tty=False, interval=0.05, found=10, sources=1, counts=lambda: (4, 0))
    with caplog.at_level(logging.INFO, logger="crawler"):
        task = asyncio.create_task(progress.run())
        await asyncio.sleep(0.3)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("backfill: 4/10+")]
    assert 1 <= len(lines) <= 6


async def test_rate_floor_spaces_starts_and_a_longer_crawl_delay_wins():
    limiter = HostLimiter(concurrency=8, per_host=4)
    limiter.set_min_interval(0.1)
    limiter.set_crawl_delay("slow.example", 0.25)
    loop = asyncio.get_running_loop()
    starts: dict[str, list[float]] = {"a.example": [], "slow.example": []}

    async def request(host: str) -> None:
        async with limiter.slot(host):
            starts[host].append(loop.time())

    await asyncio.gather(*(request(host) for host in starts for _ in range(3)))
    for host, floor in (("a.example", 0.1), ("slow.example", 0.25)):
        gaps = [b - a for a, b in zip(starts[host], starts[host][1:])]
        assert min(gaps) >= floor * 0.95, (host, gaps)


async def test_sitemaps_listed_in_robots_txt(http_server):
    http_server.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /x\nSitemap: /sitemap.xml\n"
                                                b"Sitemap: https://cdn.example/news.xml.gz\nSitemap: /sitemap.xml\n"))
    async with Fetcher(NetworkSettings(allow_private=True)) as fetcher:
        assert await fetcher.sitemaps_listed(http_server.url("/feed.xml")) == (
            http_server.url("/sitemap.xml"), "https://cdn.example/news.xml.gz")
        await fetcher.sitemaps_listed(http_server.url("/other"))
    assert http_server.hits("/robots.txt") == 1  # the robots.txt cache: once per origin


async def test_unreachable_robots_txt_is_a_transport_error(http_server):
    http_server.route("/robots.txt", Reply(503))
    async with Fetcher(NetworkSettings(allow_private=True, attempts=1)) as fetcher:
        with pytest.raises(TransportError, match="robots.txt could not be read"):
            await fetcher.sitemaps_listed(http_server.url("/feed.xml"))
