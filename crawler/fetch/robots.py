"""robots.txt (RFC 9309), read once per scheme, host and port and kept for a day.

What a robots.txt fetch ends in decides what we may fetch from its origin:
- a file: its rules for our user agent, and its Crawl-delay, which from then on spaces every request to the
  host (feeds included, though feeds are never checked against the rules);
- 4xx (but 429), a redirect loop, a redirect to another scheme: "unavailable", everything is allowed;
- 5xx, 429, a network failure: "unreachable", nothing is fetched for a while (RFC 9309 §2.3.1.4); the page
  fetch fails with a TransportError, retryable and not permanent, so a later run tries again.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from protego import Protego

from ..errors import (
    BlockedAddress,
    BlockedByRobots,
    FetchError,
    HTTPStatusError,
    TooManyRedirects,
    TransportError,
    UnsupportedScheme,
)
from ..models import Fetched
from .limits import origin

MAX_ROBOTS_BYTES = 500 * 1024
"""RFC 9309 asks parsers to read at least 500 KiB; what lies beyond is ignored."""
ROBOTS_TTL = 24 * 3600.0
UNREACHABLE_TTL = 10 * 60.0
"""How long an unreachable robots.txt keeps its host closed before we ask again."""

Loader = Callable[[str], Awaitable[Fetched]]
"""Fetches a robots.txt URL (following redirects, retrying, body cut at MAX_ROBOTS_BYTES)."""


@dataclass(frozen=True, slots=True)
class _Rules:
    parser: Protego | None
    """None: no robots.txt, everything is allowed."""
    failure: FetchError | None
    """Set when robots.txt was unreachable: nothing is allowed."""
    expires: float


class RobotsCache:
    def __init__(
        self,
        user_agent: str,
        load: Loader,
        on_crawl_delay: Callable[[str, float], None],
        clock: Callable[[], float] = time.monotonic,
    ):
        self._user_agent = user_agent
        self._load = load
        self._on_crawl_delay = on_crawl_delay
        self._clock = clock
        self._rules: dict[tuple[str, str, int | None], _Rules] = {}
        self._locks: dict[tuple[str, str, int | None], asyncio.Lock] = {}

    async def check(self, url: httpx.URL) -> None:
        """Return if robots.txt lets our user agent fetch `url`; raise BlockedByRobots if not, or a
        TransportError while the host's robots.txt is unreachable."""
        rules = await self._rules_for(url)
        if rules.failure is not None:
            if isinstance(rules.failure, BlockedAddress):
                raise BlockedAddress(str(url), rules.failure.reason)
            raise TransportError(
                str(url),
                f"robots.txt could not be read ({rules.failure.reason}); RFC 9309 says to fetch nothing from "
                "the host until it can, so this page waits for a later run",
            )
        if rules.parser is not None and not rules.parser.can_fetch(str(url), self._user_agent):
            raise BlockedByRobots(str(url), f"{_robots_url(url)} disallows this URL for our user agent")

    async def sitemaps(self, url: httpx.URL) -> tuple[str, ...]:
        """The `Sitemap:` URLs of the robots.txt of `url`'s origin, absolute; raise the TransportError of
        `check` while that robots.txt is unreachable."""
        rules = await self._rules_for(url)
        if rules.failure is not None:
            raise TransportError(_robots_url(url), f"robots.txt could not be read ({rules.failure.reason})")
        if rules.parser is None:
            return ()
        return tuple(dict.fromkeys(urljoin(str(url), s.strip()) for s in rules.parser.sitemaps if s.strip()))

    async def _rules_for(self, url: httpx.URL) -> _Rules:
        key = (url.scheme, url.host, url.port)
        # One fetch per origin, however many pages of it are asked for at once.
        async with self._locks.setdefault(key, asyncio.Lock()):
            rules = self._rules.get(key)
            if rules is None or rules.expires <= self._clock():
                rules = self._rules[key] = await self._fetch_rules(url)
            return rules

    async def _fetch_rules(self, url: httpx.URL) -> _Rules:
        now = self._clock()
        try:
            fetched = await self._load(_robots_url(url))
        except HTTPStatusError as e:
            if 400 <= e.status < 500 and e.status != 429:
                return _Rules(None, None, now + ROBOTS_TTL)
            return _Rules(None, e, now + UNREACHABLE_TTL)
        except (TooManyRedirects, UnsupportedScheme):
            return _Rules(None, None, now + ROBOTS_TTL)
        except FetchError as e:
            return _Rules(None, e, now + UNREACHABLE_TTL)
        body = fetched.body
        if len(body) >= MAX_ROBOTS_BYTES:
            body = body[: body.rfind(b"\n") + 1]  # a line cut in half could read as a different rule
        text = body.decode("utf-8", errors="replace").removeprefix("\ufeff")
        parser = Protego.parse(text)
        self._on_crawl_delay(origin(str(url)), parser.crawl_delay(self._user_agent) or 0.0)
        return _Rules(parser, None, now + ROBOTS_TTL)


def _robots_url(url: httpx.URL) -> str:
    return str(url.copy_with(path="/robots.txt", query=None, fragment=None))
