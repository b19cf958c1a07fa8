"""Fetcher against a real local HTTP server: statuses, retries, timeouts, bodies, redirects, limits, proxies."""
from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from datetime import datetime, timezone

import pytest

from crawler.errors import (
    BadResponse,
    BlockedAddress,
    BodyTooLarge,
    ConfigError,
    FetchTimeout,
    HTTPStatusError,
    TooManyRedirects,
    TransportError,
    UnsupportedScheme,
)
from crawler.fetch import Fetcher
from tests.support.network import TEST_USER_AGENT, fast_network_settings
from tests.support.server import Exchange, LocalServer, Reply, close_without_response, drip, hang, reset_connection

async def fetch_feed(server_url: str, **settings) -> object:
    async with Fetcher(fast_network_settings(**settings)) as fetcher:
        return await fetcher.fetch_feed(server_url)


# --- basics ---------------------------------------------------------------------------------------------


async def test_a_feed_comes_back_with_lower_case_headers_and_its_arrival_time(http_server: LocalServer):
    http_server.route(
        "/feed.xml",
        Reply(body=b"<rss/>", headers={"Content-Type": "application/rss+xml", "ETag": '"v1"', "X-Mixed-Case": "yes"}),
    )
    before = datetime.now(timezone.utc)
    async with Fetcher(fast_network_settings()) as fetcher:
        fetched = await fetcher.fetch_feed(http_server.url("/feed.xml"))

    assert (fetched.status, fetched.body, fetched.url) == (200, b"<rss/>", http_server.url("/feed.xml"))
    assert type(fetched.headers) is dict and fetched.headers["x-mixed-case"] == "yes"
    assert fetched.etag == '"v1"' and fetched.content_type == "application/rss+xml"
    assert before <= fetched.fetched_at <= datetime.now(timezone.utc)
    assert not fetched.permanent_redirect and not fetched.not_modified


async def test_every_request_carries_our_user_agent_and_only_encodings_we_can_bound(http_server: LocalServer):
    http_server.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n"))
    http_server.route("/page", Reply(503), Reply(body=b"<html></html>"))
    http_server.route("/feed", Reply(body=b"<rss/>"))
    async with Fetcher(fast_network_settings()) as fetcher:
        await fetcher.fetch_page(http_server.url("/page"))
        await fetcher.fetch_feed(http_server.url("/feed"))

    assert len(http_server.requests) == 4  # robots.txt, page twice, feed
    for request in http_server.requests:
        assert request.headers["user-agent"] == TEST_USER_AGENT
        assert request.headers["accept-encoding"] == "gzip, deflate"


async def test_one_client_keeps_connections_alive_across_requests(http_server: LocalServer):
    http_server.route("/feed", Reply(body=b"<rss/>"))
    http_server.route("/page", Reply.text("<html></html>"))
    http_server.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n"))
    async with Fetcher(fast_network_settings()) as fetcher:
        for _ in range(3):
            await fetcher.fetch_feed(http_server.url("/feed"))
            await fetcher.fetch_page(http_server.url("/page"))
    assert len({request.client_port for request in http_server.requests}) == 1


def test_an_unusable_proxy_is_a_configuration_error():
    with pytest.raises(ConfigError, match="proxy ftp://proxy.example:21"):
        Fetcher(fast_network_settings(proxy="ftp://proxy.example:21"))


async def test_a_conditional_request_sends_the_validators_and_accepts_304(http_server: LocalServer):
    http_server.route("/feed", Reply(304, headers={"ETag": '"v1"'}))
    async with Fetcher(fast_network_settings()) as fetcher:
        fetched = await fetcher.fetch_feed(
            http_server.url("/feed"), etag='"v1"', last_modified="Wed, 21 Oct 2015 07:28:00 GMT"
        )

    assert fetched.not_modified and fetched.body == b"" and fetched.etag == '"v1"'
    sent = http_server.requests_to("/feed")[0].headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "Wed, 21 Oct 2015 07:28:00 GMT"


async def test_a_non_ascii_etag_is_sent_back_as_utf8(http_server: LocalServer):
    http_server.route("/feed", Reply(304))
    async with Fetcher(fast_network_settings()) as fetcher:
        assert (await fetcher.fetch_feed(http_server.url("/feed"), etag='"été"')).not_modified
    # http.server reads header bytes as Latin-1
    assert http_server.requests[0].headers["if-none-match"] == '"été"'.encode().decode("latin-1")


async def test_304_to_an_unconditional_request_is_an_error(http_server: LocalServer):
    http_server.route("/feed", Reply(304))
    with pytest.raises(HTTPStatusError) as raised:
        await fetch_feed(http_server.url("/feed"))
    assert raised.value.status == 304
    assert "if-none-match" not in http_server.requests_to("/feed")[0].headers


@pytest.mark.parametrize("scheme_url", ["file:///etc/passwd", "ftp://example.com/feed", "data:text/plain,hi",
                                        "javascript:alert(1)", "/relative/feed.xml", "http://"])
async def test_only_http_and_https_urls_are_fetched(scheme_url: str):
    async with Fetcher(fast_network_settings()) as fetcher:
        with pytest.raises(UnsupportedScheme) as raised:
            await fetcher.fetch_feed(scheme_url)
        with pytest.raises(UnsupportedScheme):
            await fetcher.fetch_page(scheme_url)
    assert raised.value.permanent


async def test_a_server_sending_head_and_body_apart_costs_no_delayed_ack_per_request(http_server: LocalServer):
    # The test server writes the head, then the body, without TCP_NODELAY: under Nagle's algorithm the body
    # waits for the ACK of the head, which Linux delays by some 40 ms on a kept-alive connection unless the
    # client sends it at once. 20 requests would then take 0.8 s or more; unstalled they take a few ms each.
    http_server.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n"))
    http_server.route("/page", Reply(body=b"<html><body>" + b"x" * 3000 + b"</body></html>"))
    async with Fetcher(fast_network_settings(per_host=1, concurrency=1)) as fetcher:
        await fetcher.fetch_page(http_server.url("/page"))  # connection and robots.txt
        started = time.perf_counter()
        for _ in range(20):
            await fetcher.fetch_page(http_server.url("/page"))
        elapsed = time.perf_counter() - started

    assert len({request.client_port for request in http_server.requests}) == 1  # one kept-alive connection
    assert elapsed < 0.4, f"{elapsed:.2f} s for 20 requests: the body waited for a delayed ACK"


async def test_a_kept_alive_connection_the_server_closed_while_idle_is_not_reused(http_server: LocalServer):
    # The server answers without "Connection: close", then closes: the connection sits in the pool looking
    # alive. Before the next request the pool must notice the close (the stream's is_readable) and connect
    # anew; with a single attempt, sending on the dead connection would fail the fetch.
    def answer_then_hang_up(exchange: Exchange) -> None:
        exchange.send(Reply(body=b"<rss/>"))
        exchange.close()

    http_server.route("/feed", answer_then_hang_up)
    async with Fetcher(fast_network_settings(attempts=1, per_host=1, concurrency=1)) as fetcher:
        for _ in range(3):
            assert (await fetcher.fetch_feed(http_server.url("/feed"))).body == b"<rss/>"
            await asyncio.sleep(0.05)  # the FIN arrives

    assert len({request.client_port for request in http_server.requests}) == 3


async def test_a_connection_the_server_keeps_open_is_reused(http_server: LocalServer):
    http_server.route("/feed", Reply(body=b"<rss/>"))
    async with Fetcher(fast_network_settings(attempts=1, per_host=1, concurrency=1)) as fetcher:
        for _ in range(3):
            await fetcher.fetch_feed(http_server.url("/feed"))
            await asyncio.sleep(0.05)

    assert len({request.client_port for request in http_server.requests}) == 1


# --- statuses and retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
async def test_client_errors_fail_at_once(http_server: LocalServer, status: int):
    http_server.route("/feed", Reply(status))
    with pytest.raises(HTTPStatusError) as raised:
        await fetch_feed(http_server.url("/feed"))
    assert raised.value.status == status and not raised.value.retryable
    assert raised.value.permanent == (status in (404, 410))
    assert http_server.hits("/feed") == 1


async def test_server_errors_and_rate_limits_are_retried(http_server: LocalServer):
    http_server.route("/feed", Reply(503), Reply(500), Reply(429), Reply(body=b"<rss/>"))
    fetched = await fetch_feed(http_server.url("/feed"), attempts=4)
    assert fetched.body == b"<rss/>" and http_server.hits("/feed") == 4


async def test_retries_stop_after_the_configured_number_of_attempts(http_server: LocalServer):
    http_server.route("/feed", Reply(502))
    with pytest.raises(HTTPStatusError) as raised:
        await fetch_feed(http_server.url("/feed"), attempts=3)
    assert raised.value.status == 502 and raised.value.retryable and not raised.value.permanent
    assert http_server.hits("/feed") == 3


async def test_retry_after_is_obeyed_even_when_backoff_is_shorter(http_server: LocalServer):
    http_server.route("/feed", Reply(503, headers={"Retry-After": "1"}), Reply(body=b"<rss/>"))
    fetched = await fetch_feed(http_server.url("/feed"), backoff=0.01, max_backoff=5)
    first, second = http_server.requests_to("/feed")
    assert fetched.body == b"<rss/>"
    assert second.time - first.time >= 0.95


async def test_a_retry_after_longer_than_max_backoff_gives_up_at_once(http_server: LocalServer):
    http_server.route("/feed", Reply(429, headers={"Retry-After": "3600"}), Reply(body=b"<rss/>"))
    started = time.monotonic()
    with pytest.raises(HTTPStatusError) as raised:
        await fetch_feed(http_server.url("/feed"), max_backoff=2)
    assert raised.value.status == 429 and raised.value.retry_after == 3600
    assert http_server.hits("/feed") == 1 and time.monotonic() - started < 1.5


# --- misbehaving servers --------------------------------------------------------------------------------


async def test_a_connection_reset_mid_body_is_retried(http_server: LocalServer):
    http_server.route("/feed", reset_connection(after=b"<rss><item>"), Reply(body=b"<rss/>"))
    fetched = await fetch_feed(http_server.url("/feed"))
    assert fetched.body == b"<rss/>" and http_server.hits("/feed") == 2


async def test_a_connection_reset_every_time_ends_in_a_transport_error(http_server: LocalServer):
    http_server.route("/feed", reset_connection(after=b"<rss>"))
    with pytest.raises(TransportError) as raised:
        await fetch_feed(http_server.url("/feed"), attempts=2)
    assert "reset" in str(raised.value).lower() and raised.value.retryable
    assert http_server.hits("/feed") == 2


async def test_a_server_closing_without_any_response_is_retried(http_server: LocalServer):
    http_server.route("/feed", close_without_response(), Reply(body=b"<rss/>"))
    assert (await fetch_feed(http_server.url("/feed"))).body == b"<rss/>"

    http_server.route("/never", close_without_response())
    with pytest.raises(TransportError, match="without sending a response"):
        await fetch_feed(http_server.url("/never"), attempts=2)


async def test_a_server_that_never_answers_times_out(http_server: LocalServer):
    http_server.route("/feed", hang())
    started = time.monotonic()
    with pytest.raises(FetchTimeout) as raised:
        await fetch_feed(http_server.url("/feed"), attempts=1, read_timeout=0.3, total_timeout=10)
    assert "network.read_timeout" in str(raised.value) and raised.value.retryable
    assert time.monotonic() - started < 5


async def test_a_server_dripping_bytes_is_cut_off_by_the_total_deadline(http_server: LocalServer):
    # Each byte arrives well within the read timeout; only the per-attempt deadline can stop this.
    http_server.route("/feed", drip(b"<rss>" * 100, interval=0.05))
    started = time.monotonic()
    with pytest.raises(FetchTimeout) as raised:
        await fetch_feed(http_server.url("/feed"), attempts=1, read_timeout=2, total_timeout=0.5)
    assert "network.total_timeout" in str(raised.value)
    assert time.monotonic() - started < 5


async def test_timeouts_are_retried(http_server: LocalServer):
    http_server.route("/feed", hang(), Reply(body=b"<rss/>"))
    fetched = await fetch_feed(http_server.url("/feed"), read_timeout=0.3)
    assert fetched.body == b"<rss/>" and http_server.hits("/feed") == 2


async def test_a_server_that_keeps_timing_out_is_tried_twice_whatever_the_attempts(http_server: LocalServer):
    http_server.route("/feed", hang())
    with pytest.raises(FetchTimeout):
        await fetch_feed(http_server.url("/feed"), attempts=4, read_timeout=0.2)
    assert http_server.hits("/feed") == 2


async def test_huge_response_headers_end_in_a_bad_response_without_retry(http_server: LocalServer):
    http_server.route("/feed", Reply(body=b"<rss/>", headers={"X-Padding": "a" * 200_000}))
    started = time.monotonic()
    with pytest.raises(BadResponse, match="headers exceed") as raised:
        await fetch_feed(http_server.url("/feed"))
    assert not raised.value.retryable
    assert http_server.hits("/feed") == 1 and time.monotonic() - started < 5


# --- bodies ---------------------------------------------------------------------------------------------

FEED = b"<rss>" + "<item>新闻</item>".encode() * 1000 + b"</rss>"


@pytest.mark.parametrize(
    "encoding, compressed",
    [
        ("gzip", gzip.compress(FEED)),
        ("x-gzip", gzip.compress(FEED)),
        ("deflate", zlib.compress(FEED)),
        ("deflate", zlib.compress(FEED)[2:-4]),  # raw deflate, as some servers send it
    ],
)
async def test_compressed_bodies_are_decoded(http_server: LocalServer, encoding: str, compressed: bytes):
    http_server.route("/feed", Reply(body=compressed, headers={"Content-Encoding": encoding}))
    assert (await fetch_feed(http_server.url("/feed"))).body == FEED


async def test_a_gzip_bomb_is_refused_at_the_cap_without_retry(http_server: LocalServer):
    http_server.route("/feed", Reply(body=gzip.compress(b"\0" * 50_000_000), headers={"Content-Encoding": "gzip"}))
    with pytest.raises(BodyTooLarge, match=r"1,000,000 bytes; raise network\.max_feed_bytes"):
        await fetch_feed(http_server.url("/feed"), max_feed_bytes=1_000_000)
    assert http_server.hits("/feed") == 1


async def test_an_unknown_content_encoding_is_a_bad_response(http_server: LocalServer):
    http_server.route("/feed", Reply(body=b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"}))
    with pytest.raises(BadResponse, match="unsupported Content-Encoding 'br'"):
        await fetch_feed(http_server.url("/feed"))


async def test_feeds_and_pages_have_their_own_caps(http_server: LocalServer):
    http_server.route("/big", Reply(body=b"x" * 1_500_000))
    http_server.route("/robots.txt", Reply(404))
    async with Fetcher(fast_network_settings(max_feed_bytes=2_000_000, max_page_bytes=1_000_000)) as fetcher:
        assert len((await fetcher.fetch_feed(http_server.url("/big"))).body) == 1_500_000
        with pytest.raises(BodyTooLarge, match=r"network\.max_page_bytes"):
            await fetcher.fetch_page(http_server.url("/big"))


async def test_a_body_without_content_length_is_cut_at_the_cap(http_server: LocalServer):
    def endless_until_close(exchange: Exchange) -> None:
        exchange.send_head(200, {"Connection": "close"})
        exchange.write(b"x" * 3_000_000)
        exchange.close()

    http_server.route("/feed", endless_until_close)
    with pytest.raises(BodyTooLarge, match="the body exceeds 1,000,000 bytes"):
        await fetch_feed(http_server.url("/feed"), max_feed_bytes=1_000_000)


async def test_a_declared_content_length_over_the_cap_is_refused_before_reading(http_server: LocalServer):
    # The server announces far more than it sends: reading would wait for the read timeout.
    http_server.route("/feed", Reply(body=b"<rss/>", headers={"Content-Length": "999999999"}))
    started = time.monotonic()
    with pytest.raises(BodyTooLarge, match="declared Content-Length"):
        await fetch_feed(http_server.url("/feed"), read_timeout=5, max_feed_bytes=1_000_000)
    assert time.monotonic() - started < 2


# --- redirects ------------------------------------------------------------------------------------------


async def test_permanent_redirects_are_followed_and_reported(http_server: LocalServer):
    http_server.route("/old", Reply(301, headers={"Location": http_server.url("/older")}))
    http_server.route("/older", Reply(308, headers={"Location": "/new?page=1"}))  # relative
    http_server.route("/new", Reply(body=b"<rss/>"))
    fetched = await fetch_feed(http_server.url("/old"))
    assert fetched.body == b"<rss/>" and fetched.url == http_server.url("/new?page=1")
    assert fetched.permanent_redirect


async def test_one_temporary_hop_makes_the_redirect_temporary(http_server: LocalServer):
    http_server.route("/old", Reply(301, headers={"Location": "/moved"}))
    http_server.route("/moved", Reply(302, headers={"Location": "/new"}))
    http_server.route("/new", Reply(body=b"<rss/>"))
    fetched = await fetch_feed(http_server.url("/old"))
    assert fetched.url == http_server.url("/new") and not fetched.permanent_redirect


async def test_a_redirect_loop_is_detected(http_server: LocalServer):
    http_server.route("/a", Reply(302, headers={"Location": "/b"}))
    http_server.route("/b", Reply(302, headers={"Location": "/a"}))
    with pytest.raises(TooManyRedirects, match="redirect loop"):
        await fetch_feed(http_server.url("/a"), max_redirects=10)
    assert http_server.hits("/a") == 1 and http_server.hits("/b") == 1


async def test_redirects_stop_at_max_redirects(http_server: LocalServer):
    for i in range(4):
        http_server.route(f"/r{i}", Reply(301, headers={"Location": f"/r{i + 1}"}))
    http_server.route("/r4", Reply(body=b"<rss/>"))
    assert (await fetch_feed(http_server.url("/r2"), max_redirects=2)).body == b"<rss/>"
    with pytest.raises(TooManyRedirects, match=r"more than 2 redirects \(network\.max_redirects\)"):
        await fetch_feed(http_server.url("/r0"), max_redirects=2)
    with pytest.raises(TooManyRedirects):
        await fetch_feed(http_server.url("/r3"), max_redirects=0)


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://example.com/feed", "data:text/plain,hi",
                                      "gopher://example.com/"])
async def test_a_redirect_to_another_scheme_is_refused(http_server: LocalServer, location: str):
    http_server.route("/feed", Reply(302, headers={"Location": location}))
    with pytest.raises(UnsupportedScheme, match="only http and https"):
        await fetch_feed(http_server.url("/feed"))


async def test_a_redirect_without_location_is_a_bad_response(http_server: LocalServer):
    http_server.route("/feed", Reply(301))
    with pytest.raises(BadResponse, match="without a Location"):
        await fetch_feed(http_server.url("/feed"))


# --- limits ---------------------------------------------------------------------------------------------


async def test_a_host_never_sees_more_requests_than_its_limit(http_server: LocalServer):
    http_server.route("/slow", Reply(body=b"ok", delay=0.15))
    async with Fetcher(fast_network_settings(per_host=2, concurrency=16)) as fetcher:
        await asyncio.gather(
            *(fetcher.fetch_feed(http_server.url("/slow", host=host)) for host in ["127.0.0.1", "localhost"] * 5)
        )
    assert http_server.max_in_flight("127.0.0.1") <= 2 and http_server.max_in_flight("localhost") <= 2
    assert http_server.max_in_flight() > 2  # the two hosts are limited separately


async def test_no_more_requests_than_the_global_limit_are_in_flight(http_server: LocalServer):
    http_server.route("/slow", Reply(body=b"ok", delay=0.1))
    async with Fetcher(fast_network_settings(per_host=8, concurrency=3)) as fetcher:
        await asyncio.gather(
            *(fetcher.fetch_feed(http_server.url("/slow", host=host)) for host in ["127.0.0.1", "localhost"] * 5)
        )
    assert http_server.max_in_flight() == 3


async def test_limits_are_not_held_while_waiting_to_retry(http_server: LocalServer):
    http_server.route("/flaky", Reply(503, headers={"Retry-After": "1"}), Reply(body=b"ok"))
    http_server.route("/quick", Reply(body=b"ok"))
    async with Fetcher(fast_network_settings(per_host=1, concurrency=1, max_backoff=5)) as fetcher:
        flaky = asyncio.create_task(fetcher.fetch_feed(http_server.url("/flaky")))
        while not http_server.hits("/flaky"):
            await asyncio.sleep(0.01)
        await fetcher.fetch_feed(http_server.url("/quick"))
        quick_done = time.monotonic()
        await flaky
    retried = http_server.requests_to("/flaky")[1]
    assert quick_done < retried.time


# --- proxies --------------------------------------------------------------------------------------------
# The test server plays the proxy: it receives the absolute URL as request target. The target, 127.0.0.2:9,
# is on the loopback network and closed: a request that wrongly went direct would fail, never leave the host.
PROXIED = "http://127.0.0.2:9/feed.xml"


async def test_the_configured_proxy_carries_every_request_and_is_trusted(http_server: LocalServer):
    # The proxy's own address is private, and allowed: only the target is checked.
    http_server.route(PROXIED, Reply(body=b"<rss/>"))
    settings = fast_network_settings(allow_private=False, allowed_hosts=("127.0.0.2",), proxy=http_server.url(""))
    async with Fetcher(settings) as fetcher:
        fetched = await fetcher.fetch_feed(PROXIED)
    assert fetched.body == b"<rss/>" and fetched.url == PROXIED
    assert http_server.requests[0].headers["user-agent"] == TEST_USER_AGENT


async def test_the_proxy_from_the_environment_is_used(http_server: LocalServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HTTP_PROXY", http_server.url(""))
    http_server.route(PROXIED, Reply(body=b"<rss/>"))
    async with Fetcher(fast_network_settings(allow_private=False, allowed_hosts=("127.0.0.2",))) as fetcher:
        assert (await fetcher.fetch_feed(PROXIED)).body == b"<rss/>"


async def test_no_proxy_from_the_environment_is_respected(http_server: LocalServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.2:9")  # closed: using it would fail
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    http_server.route("/feed.xml", Reply(body=b"<rss/>"))
    assert (await fetch_feed(http_server.url("/feed.xml"))).body == b"<rss/>"
    assert http_server.requests[0].target == "/feed.xml"


async def test_a_proxied_request_to_a_private_address_is_refused(http_server: LocalServer):
    async with Fetcher(fast_network_settings(allow_private=False, proxy=http_server.url(""))) as fetcher:
        with pytest.raises(BlockedAddress, match="127.0.0.2, a loopback address"):
            await fetcher.fetch_feed(PROXIED)
    assert http_server.requests == []


async def test_a_refused_connection_says_what_to_check():
    with pytest.raises(TransportError, match="connection refused; is the server .* running"):
        await fetch_feed("http://127.0.0.1:9/feed.xml", attempts=1)


async def test_an_unresolvable_host_says_to_check_the_url(monkeypatch: pytest.MonkeyPatch):
    import socket

    def no_dns(*args, **kwargs):  # no real lookup: tests never leave 127.0.0.1
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(TransportError, match="cannot resolve the host name .*check the URL and the network"):
        await fetch_feed("http://feeds.example.invalid/feed.xml", attempts=1)
