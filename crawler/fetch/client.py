"""The network edge: every HTTP request the crawler makes goes through one `Fetcher`.

One request, from the caller's side: check the scheme; for pages, ask robots.txt; then up to
`network.attempts` attempts, each holding a per-host and a global slot and bounded by `total_timeout` from
the first byte sent to the last byte read; redirects are followed here, one hop at a time, so that every
hop gets the scheme check, robots.txt, the address guard and the limits.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from types import TracebackType

import httpx
from httpx._utils import URLPattern, get_environment_proxies

from ..config import NetworkSettings
from ..errors import (
    BadResponse,
    BlockedAddress,
    ConfigError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooManyRedirects,
    TransportError,
    UnsupportedScheme,
)
from ..models import Fetched
from .body import ACCEPT_ENCODING, Cap, read_body
from .connections import install_linear_pool
from .guard import AddressPolicy, install_guard
from .limits import HostLimiter, origin
from .retry import RetryPolicy, parse_retry_after
from .robots import MAX_ROBOTS_BYTES, RobotsCache
from .sockets import acknowledge_now, install_lean_streams

try:
    import sniffio  # noqa: F401
except ImportError:
    # httpcore runs `import sniffio` on every request (to tell asyncio from trio) and falls back to asyncio
    # when it is missing. A missing module is searched for on disk each time: some 0.3 ms of CPU per request.
    # A None entry makes the import fail at once, with the same ImportError.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, application/gzip;q=0.8, text/plain;q=0.5, */*;q=0.3"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})
_SCHEMES = ("http", "https")
Headers = Mapping[str, str | bytes]
Mounts = list[tuple[URLPattern, httpx.AsyncBaseTransport | None]]
_httpx_log = logging.getLogger("httpx")


@dataclasses.dataclass(frozen=True, slots=True)
class _Redirect:
    status: int
    location: str | None


class Fetcher:
    """Fetches feeds and pages politely and safely; see the module docstring. Use as `async with`."""

    def __init__(self, settings: NetworkSettings, *, limiter: HostLimiter | None = None):
        """`limiter`: share another Fetcher's per-host and global limits (see `via`)."""
        self._settings = settings
        self._policy = None if settings.allow_private else AddressPolicy(settings.allowed_hosts)
        # Requests go straight to the transports: httpx.AsyncClient's layers above them cost a sixth of a
        # page's fetching CPU, and of what they do we need only what `_request` and `_exchange` do (its
        # redirect handling even got in the way: see `_exchange`).
        self._direct, self._mounts = _build_transports(settings, self._policy)
        self._transports: dict[tuple[str, str, int | None], httpx.AsyncBaseTransport] = {}
        self._headers = _default_headers(settings)
        self._timeouts = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        ).as_dict()
        # Sites that check for a cookie set it on a redirect or a first page and expect it back.
        self._cookies = httpx.Cookies()
        # Through a proxy the connection-time guard never sees the target, so we look the name up first.
        self._check_host_first = self._policy is not None and any(t is not None for _, t in self._mounts)
        self._limiter = limiter or HostLimiter(settings.concurrency, settings.per_host)
        self._routes: dict[str, Fetcher] = {}
        self._retry = RetryPolicy(settings.attempts, settings.backoff, settings.max_backoff)
        self._robots = RobotsCache(settings.user_agent, self._load_robots, self._limiter.set_crawl_delay)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for routed in self._routes.values():
            await routed.aclose()
        await self._direct.aclose()
        for _, transport in self._mounts:
            if transport is not None:
                await transport.aclose()

    def via(self, proxy: str | None) -> Fetcher:
        """This Fetcher, sending every request through `proxy` (a feed's own `proxy:`, which replaces
        network.proxy and the *_PROXY variables for it); itself when `proxy` is None.

        The per-host and global limits are shared with this Fetcher; robots.txt is read through the proxy
        too, as the site may answer it differently there. The address guard checks each target before it
        goes to the proxy.
        """
        if proxy is None:
            return self
        routed = self._routes.get(proxy)
        if routed is None:
            settings = self._settings.model_copy(update={"proxy": proxy})
            routed = self._routes[proxy] = Fetcher(settings, limiter=self._limiter)
        return routed

    async def fetch_feed(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """GET a feed, conditionally when `etag` or `last_modified` is given: status 200, or 304 with an
        empty body. robots.txt is not consulted: feeds are published for programs to read."""
        headers: dict[str, str | bytes] = {"Accept": FEED_ACCEPT}
        # As bytes: httpx refuses non-ASCII str values, and a server's non-ASCII ETag is most likely UTF-8.
        if etag:
            headers["If-None-Match"] = etag.encode()
        if last_modified:
            headers["If-Modified-Since"] = last_modified.encode()
        return await self._fetch(url, headers, Cap(self._settings.max_feed_bytes, "network.max_feed_bytes"))

    async def fetch_page(self, url: str) -> Fetched:
        """GET an article page, if robots.txt allows it (when `network.obey_robots`)."""
        return await self._fetch(
            url,
            {"Accept": PAGE_ACCEPT},
            Cap(self._settings.max_page_bytes, "network.max_page_bytes"),
            obey_robots=self._settings.obey_robots,
        )

    async def fetch_sitemap(self, url: str, max_bytes: int) -> Fetched:
        """GET a sitemap (XML, gzip file or text), at most `max_bytes` (backfill.max_sitemap_bytes). Like feeds,
        sitemaps are published for programs: robots.txt is not consulted."""
        return await self._fetch(url, {"Accept": SITEMAP_ACCEPT}, Cap(max_bytes, "backfill.max_sitemap_bytes"))

    async def sitemaps_listed(self, url: str) -> tuple[str, ...]:
        """The sitemaps that the robots.txt of `url`'s site lists (read through the same robots.txt cache)."""
        return await self._robots.sitemaps(_http_url(url))

    def limit_rate(self, interval: float) -> None:
        """Start requests to any one host at least `interval` seconds apart, for the rest of this Fetcher's life."""
        self._limiter.set_min_interval(interval)

    async def _load_robots(self, robots_url: str) -> Fetched:
        cap = Cap(MAX_ROBOTS_BYTES, "robots.txt")
        return await self._fetch(robots_url, {"Accept": "text/plain"}, cap, truncate=True)

    async def _fetch(
        self, url: str, headers: Headers, cap: Cap, *, obey_robots: bool = False, truncate: bool = False
    ) -> Fetched:
        current = _http_url(url)
        visited = {str(current)}
        hops = 0
        every_hop_permanent = True
        while True:
            if obey_robots:
                await self._robots.check(current)
            outcome = await self._with_retries(current, headers, cap, truncate)
            if isinstance(outcome, Fetched):
                return dataclasses.replace(outcome, permanent_redirect=hops > 0 and every_hop_permanent)
            target = _redirect_target(current, outcome)
            if str(target) in visited:
                raise TooManyRedirects(url, f"redirect loop: {current} sends us back to {target}")
            if hops == self._settings.max_redirects:
                raise TooManyRedirects(
                    url, f"more than {hops} redirects (network.max_redirects); the next one goes to {target}"
                )
            visited.add(str(target))
            hops += 1
            every_hop_permanent = every_hop_permanent and outcome.status in _PERMANENT_REDIRECTS
            current = target

    async def _with_retries(self, url: httpx.URL, headers: Headers, cap: Cap, truncate: bool) -> Fetched | _Redirect:
        # Nearly every request succeeds at once: tenacity's controller, a tenth of a page's fetching CPU, is
        # set up only after a failure worth retrying, which it is handed as the outcome of its first attempt.
        try:
            return await self._attempt(url, headers, cap, truncate)
        except FetchError as error:
            if not self._retry.should_retry(error):
                raise
            first_failure: FetchError | None = error
        async for attempt in self._retry.retrying():
            with attempt:
                if first_failure is not None:
                    failure, first_failure = first_failure, None
                    raise failure
                return await self._attempt(url, headers, cap, truncate)
        raise AssertionError("unreachable: tenacity re-raises the last error when attempts run out")

    async def _attempt(self, url: httpx.URL, headers: Headers, cap: Cap, truncate: bool) -> Fetched | _Redirect:
        async with self._limiter.slot(origin(str(url))):
            try:
                # httpx's read timeout is per read: a server dripping a byte every few seconds never trips it.
                async with asyncio.timeout(self._settings.total_timeout):
                    if self._check_host_first:
                        assert self._policy is not None
                        await self._policy.check_host(url.host, _port(url))
                    return await self._exchange(url, headers, cap, truncate)
            except TimeoutError:
                reason = f"no complete response within {self._settings.total_timeout:g} s (network.total_timeout)"
                raise FetchTimeout(str(url), reason) from None
            except BlockedAddress as e:  # raised with the host name deep in the transport
                raise BlockedAddress(str(url), e.reason) from None
            except httpx.HTTPError as e:
                raise _fetch_error(str(url), e, self._settings) from e

    async def _exchange(self, url: httpx.URL, headers: Headers, cap: Cap, truncate: bool) -> Fetched | _Redirect:
        request = self._request(url, headers)
        response = await self._transport_for(url).handle_async_request(request)
        try:
            response.request = request
            # The jar parses every response it is given; only this header can change it.
            if "set-cookie" in response.headers:
                self._cookies.extract_cookies(response)
            if _httpx_log.isEnabledFor(logging.INFO):  # httpx.AsyncClient's line, for `--log-level debug`
                _httpx_log.info('HTTP Request: %s %s "%s %d %s"', request.method, request.url,
                                response.http_version, response.status_code, response.reason_phrase)
            # Redirects go back to `_fetch`, which checks each hop (httpx.AsyncClient, even told not to follow
            # them, built the next request from the Location and failed on ones it cannot parse, like data:).
            if response.status_code in _REDIRECTS:
                return _Redirect(response.status_code, response.headers.get("location"))
            conditional = "If-None-Match" in headers or "If-Modified-Since" in headers
            return await _fetched(url, response, cap, conditional, truncate)
        finally:
            await response.aclose()

    def _request(self, url: httpx.URL, headers: Headers) -> httpx.Request:
        """The request httpx.AsyncClient built: its headers with `headers` over them, the cookies of the jar
        that apply (httpx.Request picks them), the timeouts, and Basic authorization from credentials in the URL."""
        merged = httpx.Headers(self._headers)
        merged.update(headers)
        request = httpx.Request(
            "GET", url, headers=merged, cookies=self._cookies or None, extensions={"timeout": self._timeouts}
        )
        if url.username or url.password:
            request = next(httpx.BasicAuth(url.username, url.password).auth_flow(request))
        return request

    def _transport_for(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        """The proxy transport of the first mount pattern matching `url`, else the direct one, as
        httpx.AsyncClient chose (patterns match on scheme, host and port only, hence the cache)."""
        key = (url.scheme, url.host, url.port)
        transport = self._transports.get(key)
        if transport is None:
            mounted = next((mounted for pattern, mounted in self._mounts if pattern.matches(url)), None)
            transport = self._transports[key] = self._direct if mounted is None else mounted
        return transport


async def _fetched(url: httpx.URL, response: httpx.Response, cap: Cap, conditional: bool, truncate: bool) -> Fetched:
    arrived = datetime.now(timezone.utc)
    acknowledge_now(response)
    status = response.status_code
    if status == 304 and conditional:
        body = b""
    elif 200 <= status < 300:
        body = await read_body(response.aiter_raw(), response.headers, str(url), cap, truncate=truncate)
    else:
        raise HTTPStatusError(str(url), status, parse_retry_after(response.headers.get("retry-after")))
    return Fetched(url=str(url), status=status, headers=dict(response.headers.items()), body=body, fetched_at=arrived)


def _default_headers(settings: NetworkSettings) -> httpx.Headers:
    """The headers of every request, in httpx.AsyncClient's order: its defaults, then the ones we replaced."""
    return httpx.Headers({
        "Accept": "*/*",
        "Connection": "keep-alive",
        "User-Agent": settings.user_agent,
        "Accept-Encoding": ACCEPT_ENCODING,
    })


def _build_transports(settings: NetworkSettings, policy: AddressPolicy | None
                      ) -> tuple[httpx.AsyncHTTPTransport, Mounts]:
    """The direct transport, and the proxy mounts, most specific pattern first (None: the direct one)."""
    # Our semaphores bound the requests in flight; the pool only has to keep up with them.
    limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
    try:
        direct = httpx.AsyncHTTPTransport(limits=limits, trust_env=True)
    except OSError as e:  # ssl.SSLError, FileNotFoundError: SSL_CERT_FILE or SSL_CERT_DIR is unusable
        raise ConfigError(f"cannot set up TLS certificate checks ({e}); check SSL_CERT_FILE and SSL_CERT_DIR") from None
    if policy is not None:
        install_guard(direct, policy)
    install_lean_streams(direct)
    install_linear_pool(direct)
    try:
        mounts = _proxy_mounts(settings, limits)
    except (ImportError, ValueError) as e:  # a socks proxy without socksio, an unknown proxy scheme
        raise ConfigError(f"proxy {settings.proxy or '(from the environment)'}: {e}") from None
    # httpx has no public way to match its mount patterns; URLPattern is what AsyncClient sorts and matches
    # with (tests/test_fetch_requests.py fails if it changes).
    return direct, sorted(((URLPattern(pattern), transport) for pattern, transport in mounts.items()),
                          key=lambda mount: mount[0])


def _proxy_mounts(settings: NetworkSettings, limits: httpx.Limits) -> dict[str, httpx.AsyncBaseTransport | None]:
    """URL pattern → proxy transport (None: the direct one): network.proxy for everything, else what the
    environment says (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY).

    httpx reads the environment only when it builds its own transport, not when given one (ours carries
    the address guard), so we ask its helper for the mapping it would have used.
    """
    proxies = {"all://": settings.proxy} if settings.proxy else get_environment_proxies()
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    for pattern, url in proxies.items():
        if url is None:
            mounts[pattern] = None
            continue
        transport = mounts[pattern] = httpx.AsyncHTTPTransport(proxy=url, limits=limits, trust_env=True)
        install_lean_streams(transport)
        install_linear_pool(transport)
    return mounts


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _http_url(raw: str) -> httpx.URL:
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as e:
        raise UnsupportedScheme(raw, f"not a valid URL ({e})") from None
    if url.scheme not in _SCHEMES:
        raise UnsupportedScheme(raw, f"only http and https URLs are fetched, not {url.scheme or 'relative'} ones")
    if not url.host:
        raise UnsupportedScheme(raw, "the URL has no host")
    return url


def _redirect_target(current: httpx.URL, redirect: _Redirect) -> httpx.URL:
    if not redirect.location:
        raise BadResponse(str(current), f"HTTP {redirect.status} redirect without a Location header")
    try:
        target = current.join(redirect.location)
    except httpx.InvalidURL:
        reason = f"HTTP {redirect.status} redirect to an invalid URL {redirect.location!r}"
        raise BadResponse(str(current), reason) from None
    if target.scheme not in _SCHEMES or not target.host:
        reason = f"HTTP {redirect.status} redirect to {redirect.location!r}; only http and https URLs are fetched"
        raise UnsupportedScheme(str(current), reason)
    return target


def _causes(error: BaseException) -> list[BaseException]:
    """`error` and what it was raised from or during, outermost first (httpx → httpcore → h11/anyio → OS)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _headers_too_large(error: BaseException) -> bool:
    # h11 gives up on a response head over 100 KiB with error_status_hint 431; its message alone ("Receive
    # buffer too long"), which is all httpx passes on, is too vague to match on.
    return any(getattr(cause, "error_status_hint", None) == 431 for cause in _causes(error))


def _detail(error: BaseException) -> str:
    """The most specific message in the chain: httpx's ReadError says nothing, the OSError under it says
    "Connection reset by peer"."""
    messages = [str(cause) for cause in _causes(error) if str(cause)]
    return messages[-1] if messages else type(error).__name__


def _fetch_error(url: str, error: httpx.HTTPError, settings: NetworkSettings) -> FetchError:
    detail = _detail(error)
    if isinstance(error, httpx.ConnectTimeout):
        return FetchTimeout(url, f"no connection within {settings.connect_timeout:g} s (network.connect_timeout)")
    if isinstance(error, httpx.ReadTimeout):
        return FetchTimeout(url, f"the server sent nothing for {settings.read_timeout:g} s (network.read_timeout)")
    if isinstance(error, httpx.TimeoutException):
        return FetchTimeout(url, f"timed out: {detail}")
    if isinstance(error, httpx.RemoteProtocolError) and _headers_too_large(error):
        # Not retryable: another attempt would download the same oversized head again.
        return BadResponse(url, "the response headers exceed 100 KiB; the server is misbehaving")
    if isinstance(error, httpx.ProxyError):
        return TransportError(url, f"the proxy failed: {detail}")
    if isinstance(error, httpx.ConnectError):
        causes = list(_causes(error))
        if any(isinstance(cause, socket.gaierror) for cause in causes):
            return TransportError(url, f"cannot resolve the host name ({detail}); check the URL and the network")
        if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
            return TransportError(url, "connection refused; is the server (or your own RSSHub) running?")
        return TransportError(url, f"cannot connect: {detail}")
    if isinstance(error, httpx.RemoteProtocolError):
        return TransportError(url, f"the server broke off the exchange: {detail}")
    if isinstance(error, (httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return TransportError(url, f"the connection broke: {detail}")
    if isinstance(error, httpx.UnsupportedProtocol):
        return UnsupportedScheme(url, detail)
    return BadResponse(url, f"the request failed: {detail}")
