import asyncio

import pytest

from crawler.jobqueue import HostFairQueue
from crawler.schedule import Bounds, PollOutcome, jitter_for, next_interval, server_hint, startup_delay

B = Bounds.for_feed(600, min_interval=60, max_interval=3600)


def test_bounds_keep_a_feed_configured_outside_them():
    assert Bounds.for_feed(5, 60, 3600) == Bounds(5, 3600)
    assert Bounds.for_feed(7200, 60, 3600) == Bounds(60, 7200)


def test_busy_feed_is_polled_closer_to_the_minimum():
    interval = 600
    for _ in range(10):
        interval = next_interval(interval, 600, B, PollOutcome(ok=True, new_articles=3))
    assert interval == 60


def test_quiet_feed_backs_off_to_the_maximum():
    interval = 600
    for _ in range(30):
        interval = next_interval(interval, 600, B, PollOutcome(ok=True))
    assert interval == 3600
    assert next_interval(600, 600, B, PollOutcome(ok=True)) == 750


def test_failures_back_off_exponentially_and_recovery_restarts_from_the_configured_interval():
    assert [next_interval(600, 600, B, PollOutcome(ok=False, failures_in_a_row=n)) for n in (1, 2, 3)] == \
        [1200, 2400, 3600]
    recovered = next_interval(3600, 600, B, PollOutcome(ok=True, new_articles=1), failed_before=True)
    assert recovered == 300


@pytest.mark.parametrize("outcome,hint", [
    (PollOutcome(ok=True, ttl_seconds=1800), 1800),
    (PollOutcome(ok=True, headers={"cache-control": "public, max-age=900"}), 900),
    (PollOutcome(ok=True, headers={"cache-control": "no-cache, max-age=900"}), None),
    (PollOutcome(ok=False, retry_after=120, ttl_seconds=60), 120),
    (PollOutcome(ok=True), None),
])
def test_server_hints(outcome, hint):
    assert server_hint(outcome) == hint


def test_server_hints_are_lower_bounds_capped_at_the_maximum():
    busy = PollOutcome(ok=True, new_articles=5, headers={"cache-control": "max-age=900"})
    assert next_interval(600, 600, B, busy) == 900  # would have halved to 300
    assert next_interval(600, 600, B, PollOutcome(ok=True, ttl_seconds=86400)) == 3600


def test_jitter_and_startup_spread():
    assert jitter_for(600, 0.1) == 60 and jitter_for(3600, 0.1) == 60 and jitter_for(30, 0.1) == 3
    delays = [startup_delay(i, 4, 600, 60) for i in range(4)]
    assert delays == [0, 15, 30, 45]
    assert startup_delay(1, 2, 5, 60) == 2.5  # never spread beyond the feed's own interval


# --- the article job queue ------------------------------------------------------------------------------


async def test_a_slow_host_holds_at_most_its_per_host_share_of_workers():
    queue: HostFairQueue[str] = HostFairQueue(maxsize=10, per_host=2)
    for i in range(5):
        await queue.put("slow.example", f"slow-{i}")
    await queue.put("fast.example", "fast-0")
    taken = [await queue.get() for _ in range(3)]
    assert [host for host, _ in taken] == ["slow.example", "fast.example", "slow.example"]
    with pytest.raises(asyncio.TimeoutError):  # both slow slots busy, no other host waiting
        await asyncio.wait_for(queue.get(), 0.05)
    await queue.done("slow.example")
    assert await queue.get() == ("slow.example", "slow-2")


async def test_the_bound_is_per_host():
    queue: HostFairQueue[int] = HostFairQueue(maxsize=2, per_host=1)
    await queue.put("a", 1)
    await queue.put("a", 2)
    blocked = asyncio.create_task(queue.put("a", 3))
    await asyncio.sleep(0.01)
    assert not blocked.done()
    await asyncio.wait_for(queue.put("b", 1), 0.5)  # another host is not held up by a's backlog
    assert queue.qsize() == 3
    await queue.get()
    await asyncio.wait_for(blocked, 0.5)
    assert queue.qsize() == 3
