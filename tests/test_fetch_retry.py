"""Retry policy: what is retried, how long the waits are, Retry-After."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from tenacity import RetryCallState

from crawler.errors import (
    BadResponse,
    BlockedAddress,
    BlockedByRobots,
    BodyTooLarge,
    FetchTimeout,
    HTTPStatusError,
    TooManyRedirects,
    TransportError,
    UnsupportedScheme,
)
from crawler.fetch.retry import RetryPolicy, parse_retry_after

URL = "https://news.example.com/feed"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        ("Sat, 01 Mar 2025 12:00:30 GMT", 30.0),
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),  # already past
        ("Saturday, 01-Mar-25 12:01:00 GMT", 60.0),  # obsolete RFC 850 form, which recipients must accept
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_http_date(value: str | None, seconds: float | None):
    assert parse_retry_after(value, now=NOW) == seconds


POLICY = RetryPolicy(attempts=4, backoff=1.0, max_backoff=10.0)


@pytest.mark.parametrize(
    "error, retried",
    [
        (HTTPStatusError(URL, 500), True),
        (HTTPStatusError(URL, 503), True),
        (HTTPStatusError(URL, 429), True),
        (HTTPStatusError(URL, 503, retry_after=10), True),
        (HTTPStatusError(URL, 503, retry_after=11), False),  # longer than max_backoff: give up now
        (HTTPStatusError(URL, 400), False),
        (HTTPStatusError(URL, 403), False),
        (HTTPStatusError(URL, 404), False),
        (TransportError(URL, "connection reset"), True),
        (FetchTimeout(URL, "timed out"), True),
        (BadResponse(URL, "headers too large"), False),
        (BodyTooLarge(URL, "too big"), False),
        (BlockedAddress(URL, "loopback"), False),
        (BlockedByRobots(URL, "disallowed"), False),
        (TooManyRedirects(URL, "loop"), False),
        (UnsupportedScheme(URL, "ftp"), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_is_retried(error: Exception, retried: bool):
    assert POLICY.should_retry(error) is retried


def wait_after(attempt: int, error: Exception) -> float:
    retrying = POLICY.retrying()
    state = RetryCallState(retrying, None, (), {})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return retrying.wait(state)


def test_backoff_doubles_with_jitter_and_is_capped():
    error = TransportError(URL, "reset")
    for _ in range(50):
        assert 1.0 <= wait_after(1, error) <= 2.0
        assert 2.0 <= wait_after(2, error) <= 3.0
        assert 4.0 <= wait_after(3, error) <= 5.0
        assert wait_after(10, error) == 10.0


def test_retry_after_is_never_undercut():
    assert wait_after(1, HTTPStatusError(URL, 503, retry_after=7)) == 7.0
    assert 4.0 <= wait_after(3, HTTPStatusError(URL, 503, retry_after=0.5)) <= 5.0


def stops_after(attempt: int, error: Exception) -> bool:
    retrying = POLICY.retrying()
    state = RetryCallState(retrying, None, (), {})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return retrying.stop(state)


def test_a_timeout_is_tried_once_more_only():
    assert not stops_after(1, FetchTimeout(URL, "timed out"))
    assert stops_after(2, FetchTimeout(URL, "timed out"))
    assert not stops_after(2, TransportError(URL, "connection reset"))
    assert stops_after(POLICY.attempts, TransportError(URL, "connection reset"))
