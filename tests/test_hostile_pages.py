"""Hostile article pages through a real `crawler once`: every bad page costs one clear line naming its URL,
the run goes on, the good articles beside them are archived, and memory stays bounded.

One module-scoped run serves every case below from one local server; the tests read its outcome.
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import pytest

from tests.support.crawler_process import CrawlerRun, check_archive, run_crawler
from tests.support.server import LocalServer, Reply, close_without_response, drip, hang, reset_connection, stream
from tests.support.site import FeedConfig, Item, article_page, full_text, paragraphs, rss, state_db, write_config

MB = 1_000_000
PAGE_CAP = 5 * MB  # network.max_page_bytes, the default


def _compressed_zeros(size: int, wbits: int) -> bytes:
    """`size` bytes of zeros compressed to about a thousandth of that: a decompression bomb."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = b"\0" * 2**20
    return b"".join(compressor.compress(block) for _ in range(size // len(block))) + compressor.flush()


def _endless(chunk: bytes):
    return lambda: itertools.repeat(chunk)


def _megabytes(count: int):
    return lambda: itertools.repeat(b"<p>" + b"x" * (2**16 - 3), count * MB // 2**16)


def _binary() -> bytes:
    return bytes(range(256)) * 400


PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + bytes(range(128, 256)) * 200 + b"\n%%EOF\n"


@dataclass(frozen=True)
class Case:
    path: str
    responses: tuple
    reason: str
    """What the error line for this page must say."""
    final: bool = False
    """Given up at once (no later run can cure it)."""


def _redirect(to: str) -> Reply:
    return Reply(302, headers={"Location": to})


GZIP_BOMB = _compressed_zeros(200 * MB, 31)
DEFLATE_BOMB = _compressed_zeros(200 * MB, 15)
CASES = [
    Case("/p/gzip-bomb", (Reply(body=GZIP_BOMB, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}),),
         "the body exceeds 5,000,000 bytes; raise network.max_page_bytes if this is expected"),
    Case("/p/deflate-bomb", (Reply(body=DEFLATE_BOMB, headers={"Content-Type": "text/html",
                                                               "Content-Encoding": "deflate"}),),
         "the body exceeds 5,000,000 bytes; raise network.max_page_bytes"),
    # We advertise gzip and deflate only; a server sending brotli or zstd anyway is refused before a byte of
    # the body is read, so the size of what it would expand to does not matter (this body never ends).
    Case("/p/brotli", (stream(_endless(b"\xff" * 65536), {"Content-Type": "text/html", "Content-Encoding": "br"}),),
         "unsupported Content-Encoding 'br'; we only accept gzip, deflate"),
    Case("/p/zstd", (stream(_endless(b"\x28\xb5\x2f\xfd" * 16384), {"Content-Type": "text/html",
                                                                     "Content-Encoding": "zstd"}),),
         "unsupported Content-Encoding 'zstd'; we only accept gzip, deflate"),
    Case("/p/declared-40mb", (stream(_megabytes(40), {"Content-Type": "text/html", "Content-Length": str(40 * MB)}),),
         "the declared Content-Length (40,000,000 bytes) exceeds 5,000,000 bytes"),
    Case("/p/endless", (stream(_endless(b"<p>" + b"y" * 65533), {"Content-Type": "text/html"}),),
         "the body exceeds 5,000,000 bytes"),
    Case("/p/loop-a", (_redirect("/p/loop-b"),), "redirect loop"),
    Case("/p/chain/0", (_redirect("/p/chain/1"),), "more than 5 redirects (network.max_redirects)"),
    Case("/p/to-file", (_redirect("file:///etc/passwd"),), "redirect to 'file:///etc/passwd'; only http and https",
         final=True),
    Case("/p/to-ftp", (_redirect("ftp://127.0.0.1/pub/secret.txt"),), "only http and https URLs are fetched",
         final=True),
    Case("/p/to-gopher", (_redirect("gopher://127.0.0.1:70/_SLAVEOF"),), "only http and https URLs are fetched",
         final=True),
    Case("/p/to-data", (_redirect("data:text/html,<script>alert(1)</script>"),), "only http and https", final=True),
    Case("/p/to-javascript", (_redirect("javascript:alert(document.cookie)"),), "only http and https", final=True),
    Case("/p/slowloris", (drip(article_page("慢", paragraphs(90)).encode(), 0.25, {"Content-Type": "text/html"}),),
         "no complete response within 3 s (network.total_timeout)"),
    Case("/p/hang", (hang(),), "the server sent nothing for 2 s (network.read_timeout)"),
    Case("/p/reset", (reset_connection(after=b"<html><body><p>half a page"),), "the connection broke"),
    Case("/p/no-answer", (close_without_response(),), "the server broke off the exchange"),
    Case("/p/huge-headers", (Reply(body=b"<p>x</p>", headers={"Content-Type": "text/html",
                                                                "X-Padding": "a" * 200_000}),),
         "the response headers exceed 100 KiB"),
    Case("/p/binary", (Reply(body=_binary(), headers={"Content-Type": "text/html"}),),
         "binary data served as text/html"),
    Case("/p/pdf-as-html", (Reply(body=PDF, headers={"Content-Type": "text/html; charset=utf-8"}),),
         "not an HTML page"),
    Case("/p/pdf", (Reply(body=PDF, headers={"Content-Type": "application/pdf"}),),
         "not an HTML page (application/pdf)"),
    Case("/p/empty", (Reply(body=b"", headers={"Content-Type": "text/html"}),), "empty page"),
    Case("/p/gone", (Reply(410, b"gone"),), "HTTP 410"),
]
FALLBACK_PATHS = ["/p/gzip-bomb", "/p/to-file", "/p/binary", "/p/hang"]


class HostilePages:
    def __init__(self, server: LocalServer):
        url = server.url
        for case in CASES:
            server.route(case.path, *case.responses)
        server.route("/p/loop-b", _redirect(url("/p/loop-a")))  # absolute, the loop closes on the same URL
        for hop in range(1, 8):
            server.route(f"/p/chain/{hop}", _redirect(f"/p/chain/{hop + 1}"))
        for hop in range(3):  # a short chain is fine
            server.route(f"/p/moved/{hop}", _redirect(f"/p/moved/{hop + 1}"))
        self.good = [url("/p/good"), url("/p/moved/0")]
        server.route("/p/good", Reply.text(article_page("正常的文章", paragraphs(1))))
        server.route("/p/moved/3", Reply.text(article_page("搬过家的文章", paragraphs(2))))
        self.moved_to = url("/p/moved/3")

        items = [Item(f"hostile {case.path}", url(case.path), guid=case.path, description="只有一句摘要。")
                 for case in CASES]
        items += [Item("正常的文章", self.good[0], guid="good"), Item("搬过家的文章", self.good[1], guid="moved")]
        server.route("/feeds/pages.xml", Reply(body=rss("pages", items),
                                               headers={"Content-Type": "application/rss+xml"}))
        # The same hostile pages listed by a feed that carries each article's full text.
        self.fallback_text = {path: paragraphs(50 + i) for i, path in enumerate(FALLBACK_PATHS)}
        fallback = [Item(f"有全文 {path}", url(path) + "?full", guid=f"full{path}", description=full_text(paras))
                    for path, paras in self.fallback_text.items()]
        server.route("/feeds/fallback.xml", Reply(body=rss("fallback", fallback),
                                                  headers={"Content-Type": "application/rss+xml"}))
        self.feeds = [FeedConfig(url("/feeds/pages.xml"), "pages"), FeedConfig(url("/feeds/fallback.xml"), "fallback")]
        self.url = url


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile-pages")
    with LocalServer() as server:
        site = HostilePages(server)
        config = write_config(tmp, site.feeds, total_timeout="3s", read_timeout="2s", concurrency=8, per_host=8)
        first = run_crawler(["once", "-c", str(config)])
        first_requests = len(server.requests)
        second = run_crawler(["once", "-c", str(config)])
        yield dict(site=site, tmp=tmp, first=first, second=second,
                   second_requests=server.requests[first_requests:])


def test_article_failures_do_not_fail_the_run(hostile_run):
    assert hostile_run["first"].returncode == 0, hostile_run["first"].stderr
    assert hostile_run["second"].returncode == 0
    assert "Traceback" not in hostile_run["first"].stderr + hostile_run["second"].stderr
    assert "internal error" not in hostile_run["first"].stderr


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.path)
def test_each_hostile_page_gets_one_clear_line(hostile_run, case: Case):
    first: CrawlerRun = hostile_run["first"]
    url = hostile_run["site"].url(case.path)
    lines = first.lines_with("pages: ", url + ":", case.reason)
    assert len(lines) == 1, "\n".join(first.lines_with(url)) or first.stderr
    [line] = lines
    assert " ERROR " in line
    assert ("given up after 1 attempt(s)" in line) if case.final else ("will retry on the next run" in line)


def test_good_articles_beside_them_are_archived(hostile_run):
    site, tmp = hostile_run["site"], hostile_run["tmp"]
    posts = check_archive(tmp / "archive", state_db(tmp))
    assert site.good[0] in posts and site.moved_to in posts  # a short redirect chain is followed
    assert posts[site.moved_to].front["title"] == "搬过家的文章"
    hostile = [link for link in posts if "?full" not in link and link not in (site.good[0], site.moved_to)]
    assert hostile == []


def test_the_feed_text_stands_in_for_a_hostile_page(hostile_run):
    site, tmp, first = hostile_run["site"], hostile_run["tmp"], hostile_run["first"]
    posts = check_archive(tmp / "archive", state_db(tmp))
    for path, paras in site.fallback_text.items():
        post = posts[site.url(path) + "?full"]
        assert post.front["extracted_from"] == "feed"
        assert all(p in post.body for p in paras)
        assert len(first.lines_with(" WARNING ", site.url(path) + "?full", "archived from the feed's full text")) == 1


def test_the_next_run_retries_what_may_heal_and_leaves_what_cannot(hostile_run):
    site, second = hostile_run["site"], hostile_run["second"]
    asked = {request.target.split("?")[0] for request in hostile_run["second_requests"]}
    for case in CASES:
        assert (case.path in asked) != case.final, case.path
        if not case.final:
            assert len(second.lines_with(site.url(case.path) + ":", case.reason, "(attempt 2 of 5)")) == 1
    assert "/p/good" not in asked


def test_memory_stays_bounded(hostile_run):
    for run in (hostile_run["first"], hostile_run["second"]):
        assert run.peak_rss_mb < 300
        assert run.peak_session_process_mb < 300
