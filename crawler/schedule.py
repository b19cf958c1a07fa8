"""When to poll a feed next: the daemon's adaptive rule, as pure functions.

The rule (README.md, "Adaptive polling"):

- A feed's interval starts at its configured `interval` and stays within [low, high], where
  low = min(daemon.min_interval, interval) and high = max(daemon.max_interval, interval).
- A poll that archived something new halves the interval (the feed publishes often: poll it closer to low);
  a poll with nothing new (or a 304) lengthens it by a quarter (a quiet feed backs off towards high).
- Consecutive failures back off exponentially: interval × 2^failures, up to high; the first success after
  failures resumes from the configured interval.
- What the server says is a lower bound: RSS `<ttl>`, `Cache-Control: max-age` and, after a 429 or 503,
  `Retry-After` (all capped at high: `daemon.max_interval` is the user's promise of freshness).
- Every poll time gets jitter (± `jitter` of the interval, at most a minute), so feeds sharing a host do
  not fire together.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
GROWTH_WHEN_QUIET = 1.25
SHRINK_WHEN_BUSY = 0.5
MAX_JITTER_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Bounds:
    low: float
    high: float

    @classmethod
    def for_feed(cls, interval: float, min_interval: float, max_interval: float) -> "Bounds":
        return cls(min(min_interval, interval), max(max_interval, interval))

    def clamp(self, seconds: float) -> float:
        return min(self.high, max(self.low, seconds))


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What the schedule needs to know about a poll."""

    ok: bool
    new_articles: int = 0
    failures_in_a_row: int = 0
    """Consecutive failed polls, this one included (0 after a success)."""
    ttl_seconds: float | None = None
    headers: Mapping[str, str] | None = None
    retry_after: float | None = None


def server_hint(outcome: PollOutcome) -> float | None:
    """The longest lower bound the server gave: <ttl>, Cache-Control max-age, Retry-After."""
    hints = [outcome.ttl_seconds, outcome.retry_after]
    cache_control = (outcome.headers or {}).get("cache-control", "")
    if "no-store" not in cache_control and "no-cache" not in cache_control:
        m = _MAX_AGE.search(cache_control)
        if m:
            hints.append(float(m.group(1)))
    hints = [h for h in hints if h]
    return max(hints) if hints else None


def next_interval(current: float, configured: float, bounds: Bounds, outcome: PollOutcome,
                  failed_before: bool = False) -> float:
    """The interval until the next poll of a feed after `outcome`; `failed_before`: the previous poll failed
    (a recovering feed starts again from its configured interval)."""
    if failed_before and outcome.ok:
        current = configured
    if not outcome.ok:
        seconds = configured * 2 ** max(1, outcome.failures_in_a_row)
    elif outcome.new_articles:
        seconds = current * SHRINK_WHEN_BUSY
    else:
        seconds = current * GROWTH_WHEN_QUIET
    seconds = bounds.clamp(seconds)
    hint = server_hint(outcome)
    if hint:
        seconds = max(seconds, min(hint, bounds.high))
    return seconds


def jitter_for(interval: float, fraction: float) -> float:
    return min(MAX_JITTER_SECONDS, interval * fraction)


def startup_delay(index: int, count: int, interval: float, spread: float) -> float:
    """Delay of the `index`-th of `count` feeds due at start-up: first polls are spread evenly over
    min(spread, interval), so a restart does not poll every feed at once."""
    return min(spread, interval) * index / max(1, count)
