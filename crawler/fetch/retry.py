"""When to try a request again, and how long to wait first.

Retried: errors marked `retryable` (connection failures, timeouts, 5xx, 429). The wait is exponential
backoff with jitter, but never shorter than the server's Retry-After; a Retry-After longer than
`max_backoff` ends the request at once, since waiting that long would hold the run up (the next run tries).
A timeout is tried once more at most: a server that hung for a whole deadline usually hangs again, and
each attempt holds a worker for that deadline.
"""
from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential_jitter

from ..errors import FetchError, FetchTimeout, HTTPStatusError

TIMEOUT_ATTEMPTS = 2


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
    None when absent or unreadable; 0 for a date already past."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def _retry_after(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, HTTPStatusError) and error.retry_after is not None:
        return error.retry_after
    return 0.0


class _BackoffOrRetryAfter(wait_base):
    def __init__(self, backoff: float, max_backoff: float):
        self._backoff = wait_exponential_jitter(multiplier=backoff, max=max_backoff, jitter=backoff)

    def __call__(self, retry_state: RetryCallState) -> float:
        return max(self._backoff(retry_state), _retry_after(retry_state))


class _StopAfterSecondTimeout(stop_base):
    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        return isinstance(error, FetchTimeout) and retry_state.attempt_number >= TIMEOUT_ATTEMPTS


class RetryPolicy:
    def __init__(self, attempts: int, backoff: float, max_backoff: float):
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff

    def should_retry(self, error: BaseException) -> bool:
        if not isinstance(error, FetchError) or not error.retryable:
            return False
        if isinstance(error, HTTPStatusError) and error.retry_after is not None:
            return error.retry_after <= self.max_backoff
        return True

    def retrying(self) -> AsyncRetrying:
        """A fresh tenacity controller: `async for attempt in policy.retrying(): with attempt: ...`.
        The last error is re-raised as is when the attempts run out."""
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts) | _StopAfterSecondTimeout(),
            wait=_BackoffOrRetryAfter(self.backoff, self.max_backoff),
            retry=retry_if_exception(self.should_retry),
            reraise=True,
        )

