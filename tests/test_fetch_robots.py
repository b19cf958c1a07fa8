"""robots.txt: rules, caching, unavailable and unreachable files, Crawl-delay, size cap."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import httpx
import pytest

from crawler.errors import BlockedByRobots, HTTPStatusError, TransportError
from crawler.fetch import Fetcher
from crawler.fetch.robots import ROBOTS_TTL, UNREACHABLE_TTL, RobotsCache
from crawler.models import Fetched
from tests.support.network import TEST_USER_AGENT, fast_network_settings
from tests.support.server import LocalServer, Reply, reset_connection

PAGE = Reply.text("<html><body>article</body></html>")


def robots(text: str) -> Reply:
    return Reply(body=text.encode(), headers={"Content-Type": "text/plain"})


async def test_a_disallowed_page_is_never_requested(http_server: LocalServer):
    http_server.route("/robots.txt", robots("User-agent: *\nDisallow: /private/\n"))
    http_server.route("/private/a", PAGE)
    http_server.route("/public/a", PAGE)
    async with Fetcher(fast_network_settings()) as fetcher:
        with pytest.raises(BlockedByRobots) as raised:
            await fetcher.fetch_page(http_server.url("/private/a"))
        assert (await fetcher.fetch_page(http_server.url("/public/a"))).status == 200
    assert raised.value.permanent and "robots.txt disallows" in str(raised.value)
    assert http_server.hits("/private/a") == 0


async def test_the_group_for_our_user_agent_applies(http_server: LocalServer):
    token = TEST_USER_AGENT.split("/")[0]
    rules = f"User-agent: otherbot\nDisallow: /\n\nUser-agent: {token}\nDisallow: /x\n"
    http_server.route("/robots.txt", robots(rules))
    http_server.route("/page", PAGE)
    async with Fetcher(fast_network_settings()) as fetcher:
        assert (await fetcher.fetch_page(http_server.url("/page"))).status == 200
        with pytest.raises(BlockedByRobots):
            await fetcher.fetch_page(http_server.url("/x"))


async def test_robots_txt_is_fetched_once_per_origin(http_server: LocalServer):
    http_server.route("/robots.txt", robots("User-agent: *\nDisallow: /private/\n"))
    http_server.route("/page", PAGE)
    async with Fetcher(fast_network_settings(per_host=4)) as fetcher:
        await asyncio.gather(*(fetcher.fetch_page(http_server.url(f"/page?n={n}")) for n in range(6)))
        await fetcher.fetch_page(http_server.url("/page", host="localhost"))  # another origin
    assert http_server.hits("/robots.txt") == 2
    assert {r.host for r in http_server.requests_to("/robots.txt")} == {"127.0.0.1", "localhost"}


@pytest.mark.parametrize("status", [401, 403, 404, 410])
async def test_an_unavailable_robots_txt_allows_everything(http_server: LocalServer, status: int):
    http_server.route("/robots.txt", Reply(status))
    http_server.route("/page", PAGE)
    async with Fetcher(fast_network_settings()) as fetcher:
        assert (await fetcher.fetch_page(http_server.url("/page"))).status == 200


async def test_a_robots_txt_redirect_loop_counts_as_unavailable(http_server: LocalServer):
    http_server.route("/robots.txt", Reply(301, headers={"Location": "/robots.txt"}))
    http_server.route("/page", PAGE)
    async with Fetcher(fast_network_settings()) as fetcher:
        assert (await fetcher.fetch_page(http_server.url("/page"))).status == 200


@pytest.mark.parametrize("failure", [Reply(503), Reply(429), reset_connection()], ids=["503", "429", "reset"])
async def test_an_unreachable_robots_txt_closes_the_host_for_now(http_server: LocalServer, failure):
    http_server.route("/robots.txt", failure)
    http_server.route("/page", PAGE)
    async with Fetcher(fast_network_settings(attempts=2)) as fetcher:
        with pytest.raises(TransportError, match="robots.txt could not be read") as raised:
            await fetcher.fetch_page(http_server.url("/page"))
        with pytest.raises(TransportError):  # remembered: not asked again at once
            await fetcher.fetch_page(http_server.url("/page"))
    assert raised.value.retryable and not raised.value.permanent
    assert http_server.hits("/page") == 0 and http_server.hits("/robots.txt") == 2  # one fetch, retried once


async def test_feeds_are_not_checked_against_robots_txt(http_server: LocalServer):
    http_server.route("/robots.txt", robots("User-agent: *\nDisallow: /\n"))
    http_server.route("/feed.xml", Reply(body=b"<rss/>"))
    async with Fetcher(fast_network_settings()) as fetcher:
        assert (await fetcher.fetch_feed(http_server.url("/feed.xml"))).body == b"<rss/>"
    assert http_server.hits("/robots.txt") == 0


async def test_obey_robots_false_skips_robots_txt(http_server: LocalServer):
    http_server.route("/robots.txt", robots("User-agent: *\nDisallow: /\n"))
    http_server.route("/page", PAGE)
    async with Fetcher(fast_network_settings(obey_robots=False)) as fetcher:
        assert (await fetcher.fetch_page(http_server.url("/page"))).status == 200
    assert http_server.hits("/robots.txt") == 0


async def test_a_redirect_into_a_disallowed_path_is_blocked(http_server: LocalServer):
    http_server.route("/robots.txt", robots("User-agent: *\nDisallow: /private/\n"))
    http_server.route("/short", Reply(302, headers={"Location": "/private/page"}))
    http_server.route("/private/page", PAGE)
    async with Fetcher(fast_network_settings()) as fetcher:
        with pytest.raises(BlockedByRobots):
            await fetcher.fetch_page(http_server.url("/short"))
    assert http_server.hits("/private/page") == 0


async def test_crawl_delay_spaces_the_requests_to_a_host(http_server: LocalServer):
    http_server.route("/robots.txt", robots("User-agent: *\nCrawl-delay: 0.3\n"))
    http_server.route("/page", PAGE)
    async with Fetcher(fast_network_settings(per_host=2)) as fetcher:
        await fetcher.fetch_page(http_server.url("/page?n=0"))
        await asyncio.gather(*(fetcher.fetch_page(http_server.url(f"/page?n={n}")) for n in range(1, 4)))
    starts = [r.time for r in http_server.requests_to("/page")]
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    # Arrival times are taken on the server's threads: allow for their scheduling, not for a missing delay.
    assert len(gaps) == 3 and min(gaps) >= 0.2


async def test_only_the_first_500_kib_of_robots_txt_count(http_server: LocalServer):
    padding = "# " + "x" * 98 + "\n"
    text = "User-agent: *\nDisallow: /early\n" + padding * 6000 + "Disallow: /late\n"  # ~600 kB
    http_server.route("/robots.txt", robots(text))
    http_server.route("/late", PAGE)
    async with Fetcher(fast_network_settings()) as fetcher:
        with pytest.raises(BlockedByRobots):
            await fetcher.fetch_page(http_server.url("/early"))
        assert (await fetcher.fetch_page(http_server.url("/late"))).status == 200


# --- the cache on its own, with a fake clock --------------------------------------------------------------


class FakeLoader:
    def __init__(self, *outcomes: bytes | Exception):
        self.outcomes = list(outcomes)
        self.calls: list[str] = []

    async def __call__(self, url: str) -> Fetched:
        self.calls.append(url)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return Fetched(url, 200, {}, outcome, datetime.now(timezone.utc))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


PAGE_URL = httpx.URL("https://news.example.com/a/1.html")


async def test_rules_are_kept_for_a_day_then_fetched_again():
    loader, clock, delays = FakeLoader(b"User-agent: *\nDisallow: /a/\n", b""), Clock(), []
    cache = RobotsCache(TEST_USER_AGENT, loader, lambda host, delay: delays.append((host, delay)), clock)
    with pytest.raises(BlockedByRobots):
        await cache.check(PAGE_URL)
    clock.now += ROBOTS_TTL - 1
    with pytest.raises(BlockedByRobots):
        await cache.check(PAGE_URL)
    clock.now += 2
    await cache.check(PAGE_URL)  # the new robots.txt allows everything
    assert loader.calls == ["https://news.example.com/robots.txt"] * 2
    assert delays == [("https://news.example.com:443", 0.0)] * 2


async def test_an_unreachable_robots_txt_is_asked_again_after_a_short_while():
    loader, clock = FakeLoader(HTTPStatusError("https://news.example.com/robots.txt", 503), b""), Clock()
    cache = RobotsCache(TEST_USER_AGENT, loader, lambda host, delay: None, clock)
    with pytest.raises(TransportError):
        await cache.check(PAGE_URL)
    clock.now += UNREACHABLE_TTL + 1
    await cache.check(PAGE_URL)
    assert len(loader.calls) == 2


async def test_crawl_delay_is_reported_for_the_host():
    loader, delays = FakeLoader(b"User-agent: *\nCrawl-delay: 7\n"), []
    cache = RobotsCache(TEST_USER_AGENT, loader, lambda host, delay: delays.append((host, delay)))
    await cache.check(PAGE_URL)
    assert delays == [("https://news.example.com:443", 7.0)]  # per origin (RFC 9309)
