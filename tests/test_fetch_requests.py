"""What a Fetcher puts on the wire besides the URL: the exact headers, cookies, credentials in the URL, and the
debug log line per request. These pin what httpx.AsyncClient did for us, so the Fetcher can do it itself."""
from __future__ import annotations

import base64
import logging

import httpx
import pytest

from crawler.errors import HTTPStatusError
from crawler.fetch import Fetcher
from crawler.fetch.body import ACCEPT_ENCODING
from crawler.fetch.client import FEED_ACCEPT, PAGE_ACCEPT
from tests.support.network import TEST_USER_AGENT, fast_network_settings
from tests.support.server import LocalServer, Reply

ALLOW_ALL = Reply(body=b"User-agent: *\nAllow: /\n")


async def test_a_page_request_carries_exactly_these_headers_in_this_order(http_server: LocalServer):
    http_server.route("/robots.txt", ALLOW_ALL)
    http_server.route("/page", Reply(body=b"<html></html>"))
    async with Fetcher(fast_network_settings()) as fetcher:
        await fetcher.fetch_page(http_server.url("/page"))
    host = http_server.url("").split("//")[1].rstrip("/")
    assert list(http_server.requests_to("/page")[0].headers.items()) == [
        ("host", host),
        ("connection", "keep-alive"),
        ("user-agent", TEST_USER_AGENT),
        ("accept-encoding", ACCEPT_ENCODING),
        ("accept", PAGE_ACCEPT),
    ]
    assert list(http_server.requests_to("/robots.txt")[0].headers)[-1] == "accept"


async def test_a_conditional_request_adds_its_validators_last(http_server: LocalServer):
    http_server.route("/feed", Reply(304))
    async with Fetcher(fast_network_settings()) as fetcher:
        await fetcher.fetch_feed(http_server.url("/feed"), etag='"v1"', last_modified="Mon, 04 Mar 2024 08:00:00 GMT")
    headers = list(http_server.requests[0].headers.items())
    assert [name for name, _ in headers] == [
        "host", "connection", "user-agent", "accept-encoding", "accept", "if-none-match", "if-modified-since"]
    assert headers[4:] == [("accept", FEED_ACCEPT), ("if-none-match", '"v1"'),
                           ("if-modified-since", "Mon, 04 Mar 2024 08:00:00 GMT")]


async def test_cookies_a_site_sets_are_sent_back_to_it(http_server: LocalServer):
    http_server.route("/first", Reply(body=b"<rss/>", headers={"Set-Cookie": "session=abc; Path=/"}))
    http_server.route("/second", Reply(body=b"<rss/>"))
    async with Fetcher(fast_network_settings()) as fetcher:
        await fetcher.fetch_feed(http_server.url("/first"))
        await fetcher.fetch_feed(http_server.url("/second"))
    assert "cookie" not in http_server.requests_to("/first")[0].headers
    assert http_server.requests_to("/second")[0].headers["cookie"] == "session=abc"


async def test_a_cookie_set_by_a_redirect_or_an_error_is_sent_on_the_next_request(http_server: LocalServer):
    # Sites that check for cookies redirect to a page that sets one and back; others set it with a 503.
    http_server.route("/article", Reply(302, headers={"Location": "/landing", "Set-Cookie": "seen=1; Path=/"}))
    http_server.route("/landing", Reply(body=b"<rss/>"))
    http_server.route("/busy", Reply(503, headers={"Set-Cookie": "queue=7; Path=/"}), Reply(body=b"<rss/>"))
    async with Fetcher(fast_network_settings()) as fetcher:
        await fetcher.fetch_feed(http_server.url("/article"))
        await fetcher.fetch_feed(http_server.url("/busy"))
    assert http_server.requests_to("/landing")[0].headers["cookie"] == "seen=1"
    assert [r.headers["cookie"] for r in http_server.requests_to("/busy")] == ["seen=1", "seen=1; queue=7"]


async def test_a_cookie_is_kept_to_its_own_host(http_server: LocalServer):
    http_server.route("/first", Reply(body=b"<rss/>", headers={"Set-Cookie": "session=abc; Path=/"}))
    http_server.route("/second", Reply(body=b"<rss/>"))
    async with Fetcher(fast_network_settings()) as fetcher:
        await fetcher.fetch_feed(http_server.url("/first", host="localhost"))
        await fetcher.fetch_feed(http_server.url("/second"))
    assert "cookie" not in http_server.requests_to("/second")[0].headers


async def test_credentials_in_the_url_are_sent_as_basic_authorization(http_server: LocalServer):
    http_server.route("/private.xml", Reply(body=b"<rss/>"))
    url = http_server.url("/private.xml").replace("://", "://reader:s%40cret@")
    async with Fetcher(fast_network_settings()) as fetcher:
        fetched = await fetcher.fetch_feed(url)
    assert fetched.body == b"<rss/>"
    expected = "Basic " + base64.b64encode(b"reader:s@cret").decode()
    assert http_server.requests[0].headers["authorization"] == expected


async def test_each_request_is_logged_at_debug_level_as_httpx_logs_it(http_server: LocalServer,
                                                                     caplog: pytest.LogCaptureFixture):
    http_server.route("/feed", Reply(body=b"<rss/>"))
    http_server.route("/gone", Reply(404))
    with caplog.at_level(logging.DEBUG, logger="httpx"):
        async with Fetcher(fast_network_settings()) as fetcher:
            await fetcher.fetch_feed(http_server.url("/feed"))
            with pytest.raises(HTTPStatusError):
                await fetcher.fetch_feed(http_server.url("/gone"))
    messages = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert messages == [f'HTTP Request: GET {http_server.url("/feed")} "HTTP/1.1 200 OK"',
                        f'HTTP Request: GET {http_server.url("/gone")} "HTTP/1.1 404 Not Found"']


def test_requests_go_through_the_transport_httpx_would_have_mounted_for_them(monkeypatch: pytest.MonkeyPatch):
    # The Fetcher matches mount patterns with httpx's private URLPattern, sorted as httpx.AsyncClient sorts
    # them: this fails if either changes.
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://secure-proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "intranet.example,.corp.example,10.1.2.3,example.org:8080")
    fetcher = Fetcher(fast_network_settings())
    client = httpx.AsyncClient(transport=fetcher._direct, mounts={str(p.pattern): t for p, t in fetcher._mounts})
    for url in ["http://news.example.com/a", "https://news.example.com/a", "http://intranet.example/",
                "https://www.corp.example/x", "http://corp.example/", "http://10.1.2.3:81/", "http://example.org:8080/",
                "http://example.org/", "http://[::1]:8000/"]:
        assert fetcher._transport_for(httpx.URL(url)) is client._transport_for_url(httpx.URL(url)), url
