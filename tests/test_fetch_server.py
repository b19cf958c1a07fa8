"""The shared test server (tests/support/server.py) does what its documentation promises."""
from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.support.server import LocalServer, Reply, hang


def get(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, trust_env=False, timeout=5, **kwargs)


def test_replies_follow_the_sequence_and_the_last_one_repeats(http_server: LocalServer):
    http_server.route("/flaky", Reply(503), Reply(body=b"ok", headers={"X-Test": "1"}))
    assert [get(http_server.url("/flaky")).status_code for _ in range(3)] == [503, 200, 200]
    response = get(http_server.url("/flaky"))
    assert response.content == b"ok" and response.headers["x-test"] == "1"


def test_unrouted_paths_get_404_and_queries_fall_back_to_the_path(http_server: LocalServer):
    http_server.route("/feed", Reply(body=b"any page"))
    http_server.route("/feed?page=2", Reply(body=b"page 2"))
    assert get(http_server.url("/nothing")).status_code == 404
    assert get(http_server.url("/feed?page=3")).content == b"any page"
    assert get(http_server.url("/feed?page=2")).content == b"page 2"
    assert http_server.hits("/feed") == 2 and http_server.hits("/feed?page=2") == 1


def test_requests_are_recorded_with_lower_case_headers_and_arrival_time(http_server: LocalServer):
    http_server.route("/feed", Reply(body=b"<rss/>"))
    before = time.monotonic()
    get(http_server.url("/feed", host="localhost"), headers={"If-None-Match": '"v1"'})
    [request] = http_server.requests
    assert (request.method, request.target, request.host) == ("GET", "/feed", "localhost")
    assert request.headers["if-none-match"] == '"v1"'
    assert before <= request.time <= time.monotonic()


def test_text_replies_are_encoded_and_labelled():
    with LocalServer() as server:  # usable without the fixture
        server.route("/gbk", Reply.text("<p>沪深股市</p>", charset="gbk"))
        response = get(server.url("/gbk"))
    assert response.content == "<p>沪深股市</p>".encode("gbk")
    assert response.headers["content-type"] == "text/html; charset=gbk"


def test_requests_in_flight_are_counted_per_host(http_server: LocalServer):
    http_server.route("/slow", Reply(body=b"ok", delay=0.2))
    threads = [threading.Thread(target=get, args=(http_server.url("/slow", host=host),))
               for host in ["127.0.0.1", "127.0.0.1", "localhost"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert http_server.max_in_flight("127.0.0.1") == 2
    assert http_server.max_in_flight("localhost") == 1
    assert http_server.max_in_flight() == 3


def test_stopping_releases_hanging_requests():
    server = LocalServer().start()
    server.route("/hang", hang())
    client = threading.Thread(target=lambda: pytest.raises(httpx.HTTPError, get, server.url("/hang")))
    client.start()
    while not server.hits("/hang"):
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    client.join(timeout=5)
    assert time.monotonic() - started < 2 and not client.is_alive()
