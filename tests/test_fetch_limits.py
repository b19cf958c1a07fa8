"""HostLimiter on its own: per-host and global limits, crawl delay."""
from __future__ import annotations

import asyncio
from collections import Counter

from crawler.fetch.limits import MAX_CRAWL_DELAY, HostLimiter


class Tracker:
    def __init__(self) -> None:
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()

    async def request(self, limiter: HostLimiter, host: str, seconds: float = 0.02) -> None:
        async with limiter.slot(host):
            for key in (host, "all"):
                self.now[key] += 1
                self.peak[key] = max(self.peak[key], self.now[key])
            await asyncio.sleep(seconds)
            for key in (host, "all"):
                self.now[key] -= 1


async def test_per_host_and_global_limits_hold_whatever_the_number_of_callers():
    limiter, tracker = HostLimiter(concurrency=5, per_host=2), Tracker()
    await asyncio.gather(*(tracker.request(limiter, host) for host in ["a", "b", "c"] * 10))
    assert max(tracker.peak["a"], tracker.peak["b"], tracker.peak["c"]) == 2
    assert tracker.peak["all"] == 5


async def test_waiting_for_a_busy_host_does_not_hold_a_global_slot():
    limiter = HostLimiter(concurrency=2, per_host=1)
    busy = asyncio.Event()

    async def hold_a() -> None:
        async with limiter.slot("a"):
            busy.set()
            await asyncio.sleep(1.0)

    holder = asyncio.create_task(hold_a())
    await busy.wait()
    waiter = asyncio.create_task(Tracker().request(limiter, "a"))  # queues behind the holder
    await asyncio.sleep(0.01)
    # The one remaining global slot is still free for another host.
    await asyncio.wait_for(Tracker().request(limiter, "b"), timeout=0.8)
    await asyncio.gather(holder, waiter)


async def test_crawl_delay_spaces_starts_per_host_only():
    limiter = HostLimiter(concurrency=8, per_host=4)
    limiter.set_crawl_delay("a", 0.1)
    loop = asyncio.get_running_loop()
    starts: dict[str, list[float]] = {"a": [], "b": []}

    async def request(host: str) -> None:
        async with limiter.slot(host):
            starts[host].append(loop.time())

    await asyncio.gather(*(request(host) for host in ["a", "b"] * 4))
    a, b = sorted(starts["a"]), sorted(starts["b"])
    assert min(later - earlier for earlier, later in zip(a, a[1:])) >= 0.095
    assert b[-1] - b[0] < 0.15  # spaced by the delay, four starts would take 0.3 s


def test_crawl_delay_is_capped():
    limiter = HostLimiter(concurrency=1, per_host=1)
    limiter.set_crawl_delay("a", 3600)
    assert limiter.crawl_delay("a") == MAX_CRAWL_DELAY


def test_limits_apply_per_origin():
    from crawler.fetch.limits import origin

    assert origin("http://Example.com/a") == origin("http://example.com:80/b") == "http://example.com:80"
    assert origin("https://example.com/") == "https://example.com:443"
    assert origin("http://127.0.0.1:8001/x") != origin("http://127.0.0.1:8002/x")


async def test_a_crawl_delay_on_one_port_does_not_slow_a_site_on_another():
    import time as clock

    from crawler.fetch import Fetcher
    from tests.support.network import fast_network_settings
    from tests.support.server import LocalServer, Reply

    with LocalServer() as slow, LocalServer() as fast:
        slow.route("/robots.txt", Reply(body=b"User-agent: *\nCrawl-delay: 5\n"))
        fast.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n"))
        for server in (slow, fast):
            server.route("/p", Reply(body=b"<html><body>x</body></html>", headers={"Content-Type": "text/html"}))
        async with Fetcher(fast_network_settings()) as fetcher:
            await fetcher.fetch_page(slow.url("/p"))
            started = clock.monotonic()
            for _ in range(3):
                await fetcher.fetch_page(fast.url("/p"))
            assert clock.monotonic() - started < 2.5  # the other port's 5 s delay would need 10 s
