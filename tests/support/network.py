"""Network settings for tests: fast retries and short timeouts, 127.0.0.1 allowed."""
from __future__ import annotations

from typing import Any

from crawler.config import NetworkSettings

TEST_USER_AGENT = "finance-feed-archiver-tests/1.0 (+https://example.invalid/tests)"


def fast_network_settings(**overrides: Any) -> NetworkSettings:
    """Settings that reach the local test server (allow_private) and fail fast; override what a test needs."""
    values: dict[str, Any] = {
        "allow_private": True,
        "user_agent": TEST_USER_AGENT,
        "attempts": 3,
        "backoff": 0.01,
        "max_backoff": 0.05,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "total_timeout": 5.0,
        **overrides,
    }
    return NetworkSettings(**values)
