"""Hostile feeds through a real `crawler once`: a feed that cannot be read costs one clear line naming it;
a feed that can be read in part gives what it holds, with a warning; entity tricks never expand or leak;
the good feed in the same run is archived; memory stays bounded.

One module-scoped run serves every feed below from one local server; the tests read its outcome.
"""
from __future__ import annotations

import itertools
import json
import zlib

import pytest

from tests.support.crawler_process import check_archive, run_crawler
from tests.support.server import LocalServer, Reply, stream
from tests.support.site import FeedConfig, Item, article_page, paragraphs, rss, state_db, write_config

SECRET = "TOP-SECRET-c0ffee-7f3a9c"
RSS_TYPE = {"Content-Type": "application/rss+xml"}


def _with_doctype(feed: bytes, doctype: str) -> bytes:
    declaration, rest = feed.split(b"?>", 1)
    return declaration + b"?>\n" + doctype.encode() + b"\n" + rest


def _billion_laughs() -> str:
    levels = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10)]
    return "<!DOCTYPE rss [\n" + "\n".join(levels) + "\n]>"


def _endless_feed():
    head = b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Huge</title>'
    item = b"<item><title>filler</title><link>http://127.0.0.1:9/x</link><description>" + b"z" * 4000 + \
        b"</description></item>"
    return lambda: itertools.chain([head], itertools.repeat(item, 50_000_000 // len(item)))


class HostileFeeds:
    def __init__(self, server: LocalServer, secret_path: str):
        url = server.url
        self.url = url
        self.titles: dict[str, str] = {}
        self._next = itertools.count(1)
        route = server.route

        def article(title: str, *, page_title: str | None = None) -> str:
            """A page for a new article; its link."""
            n = next(self._next)
            link = url(f"/a/{n}.html")
            self.titles[link] = page_title or title
            route(f"/a/{n}.html", Reply.text(article_page(page_title or title, paragraphs(n))))
            return link

        good = [article("正常频道的第一篇"), article("正常频道的第二篇")]
        self.good = good
        laughs = [article("笑声之后的文章")]
        xxe = [article("外部实体之后的文章")]
        truncated = [article("截断之前的文章一"), article("截断之前的文章二")]
        self.future = article("未来日期的文章")
        self.unparseable = article("日期无法解析的文章")
        self.untitled = article("", page_title="标题只在页面上")
        self.duplicate_first = article("同一个GUID的第一篇")
        self.duplicate_second = article("同一个GUID的第二篇")
        gbk_as_utf8 = [article("标注为UTF-8的GBK频道")]
        gbk_unlabelled = [article("没有任何编码声明的GBK频道")]
        self.expected = set(good + laughs + xxe + truncated + gbk_as_utf8 + gbk_unlabelled) | {
            self.future, self.unparseable, self.untitled, self.duplicate_first}

        feeds: dict[str, object] = {}
        feeds["good"] = Reply(body=rss("good", [Item(self.titles[a], a, guid=a) for a in good]), headers=RSS_TYPE)
        feeds["laughs"] = Reply(body=_with_doctype(
            rss("laughs", [Item("&lol9;", laughs[0], guid="l1", description="&lol9;&lol9;")]),
            _billion_laughs()).replace(b"&amp;lol9;", b"&lol9;"), headers=RSS_TYPE)
        xxe_doctype = (f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file://{secret_path}">\n'
                       f'<!ENTITY probe SYSTEM "{url("/xxe-probe")}">\n'
                       f'<!ENTITY % remote SYSTEM "{url("/xxe-dtd")}">\n%remote;\n]>')
        feeds["xxe"] = Reply(body=_with_doctype(
            rss("xxe", [Item(f"{self.titles[xxe[0]]}&xxe;&probe;", xxe[0], guid="x1",
                             description="&xxe;&probe;")]), xxe_doctype).replace(b"&amp;xxe;", b"&xxe;")
            .replace(b"&amp;probe;", b"&probe;"), headers=RSS_TYPE)
        feeds["external-dtd"] = Reply(body=_with_doctype(rss("dtd", []), f'<!DOCTYPE rss SYSTEM "{url("/evil.dtd")}">'),
                                      headers=RSS_TYPE)
        whole = rss("truncated", [Item(self.titles[a], a, guid=a) for a in truncated] +
                    [Item("截断之后", url("/a/never.html"), guid="cut", description="x" * 500)])
        feeds["truncated"] = Reply(body=whole[: whole.index(b"/a/never.html")], headers=RSS_TYPE)
        feeds["malformed"] = Reply(body=b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
                                        b"<item><title>a<b></title></channel></item></rss></rss>>>", headers=RSS_TYPE)
        feeds["html"] = Reply.text("<!DOCTYPE html><html><head><title>Portal</title></head><body><h1>首页</h1>"
                                   "<p>欢迎</p></body></html>")
        feeds["json-not-a-feed"] = Reply(body=json.dumps({"data": [1, 2, 3]}).encode(),
                                         headers={"Content-Type": "application/json"})
        feeds["empty"] = Reply(body=b"", headers=RSS_TYPE)
        feeds["binary"] = Reply(body=bytes(range(256)) * 64, headers=RSS_TYPE)
        feeds["huge"] = stream(_endless_feed(), RSS_TYPE)
        feeds["huge-declared"] = stream(_endless_feed(), {**RSS_TYPE, "Content-Length": "50000000"})
        bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
        feeds["gzip-bomb"] = Reply(body=b"".join(bomb.compress(b" " * 2**20) for _ in range(100)) + bomb.flush(),
                                   headers={**RSS_TYPE, "Content-Encoding": "gzip"})
        feeds["dates"] = Reply(body=rss("dates", [
            Item(self.titles[self.future], self.future, guid="future", date="Tue, 09 Feb 2099 11:10:19 +0800"),
            Item(self.titles[self.unparseable], self.unparseable, guid="bad-date", date="昨天下午三点左右"),
        ]), headers=RSS_TYPE)
        feeds["odd-entries"] = Reply(body=rss("odd", [
            Item(None, self.untitled, guid="untitled"),
            Item("没有链接的条目", None, guid="no-link-no-url"),
            Item(self.titles[self.duplicate_first], self.duplicate_first, guid="same"),
            Item(self.titles[self.duplicate_second], self.duplicate_second, guid="same"),
        ]), headers=RSS_TYPE)
        feeds["gbk-labelled-utf8"] = Reply(
            body=rss("GBK", [Item(self.titles[a], a, guid=a) for a in gbk_as_utf8], charset="gbk")
            .replace(b'encoding="gbk"', b'encoding="utf-8"'),
            headers={"Content-Type": "application/rss+xml; charset=utf-8"})
        feeds["gbk-unlabelled"] = Reply(
            body=rss("GBK", [Item(self.titles[a], a, guid=a) for a in gbk_unlabelled], charset="gbk", declare=False),
            headers={"Content-Type": "application/xml"})
        for name, response in feeds.items():
            route(f"/feeds/{name}", response)
        self.feeds = [FeedConfig(url(f"/feeds/{name}"), name) for name in feeds]
        self.feed_url = {name: url(f"/feeds/{name}") for name in feeds}


FAILING = {
    "html": "the server returned an HTML page, not a feed; check the feed URL",
    "json-not-a-feed": "the JSON document is not a JSON Feed",
    "empty": "the server returned an empty body, not a feed",
    "binary": "it is not a feed",
    "huge": "the body exceeds 10,000,000 bytes; raise network.max_feed_bytes if this is expected",
    "huge-declared": "the declared Content-Length (50,000,000 bytes) exceeds 10,000,000 bytes",
    "gzip-bomb": "the body exceeds 10,000,000 bytes; raise network.max_feed_bytes",
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile-feeds")
    secret = tmp / "secret.txt"
    secret.write_text(SECRET)
    with LocalServer() as server:
        site = HostileFeeds(server, str(secret))
        run = run_crawler(["once", "-c", str(write_config(tmp, site.feeds))])
        yield dict(site=site, tmp=tmp, run=run, server=server, posts=check_archive(tmp / "archive", state_db(tmp)))


@pytest.mark.parametrize("name", sorted(FAILING))
def test_an_unreadable_feed_is_one_clear_line(hostile_run, name):
    site, run = hostile_run["site"], hostile_run["run"]
    lines = run.lines_with(f"feed {name!r} ({site.feed_url[name]})", FAILING[name], "will retry on the next run")
    assert len(lines) == 1 and " ERROR " in lines[0], run.stderr
    assert len(run.lines_with(f"feed {name!r}")) == 1


def test_the_run_reports_the_failed_feeds_and_exits_1(hostile_run):
    run = hostile_run["run"]
    assert run.returncode == 1
    assert f"{len(FAILING)} failed" in run.stdout
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert len(run.errors()) == len(FAILING)


def test_everything_readable_is_archived_and_nothing_else(hostile_run):
    site, posts = hostile_run["site"], hostile_run["posts"]
    assert set(posts) == site.expected
    for link, post in posts.items():
        assert post.front["title"] == site.titles[link]


def test_entities_are_neither_expanded_nor_fetched(hostile_run):
    run, server, tmp = hostile_run["run"], hostile_run["server"], hostile_run["tmp"]
    for path in ("/xxe-probe", "/xxe-dtd", "/evil.dtd"):
        assert server.hits(path) == 0, path
    for post in (tmp / "archive").rglob("*.md"):
        text = post.read_text(encoding="utf-8")
        assert SECRET not in text and "lollol" not in text
    assert SECRET not in run.stderr
    for name in ("laughs", "xxe"):
        assert len(run.lines_with(" WARNING ", f"feed {name!r}", "DOCTYPE declares entities")) == 1


def test_truncated_and_malformed_feeds_give_what_they_hold_with_a_warning(hostile_run):
    run = hostile_run["run"]
    assert len(run.lines_with(" WARNING ", "feed 'truncated'", "not well-formed XML (line 2: no element found); "
                                                              "read it leniently and kept the 3 entries")) == 1
    assert len(run.lines_with(" WARNING ", "feed 'malformed'", "not well-formed XML (line 2: mismatched tag)")) == 1
    assert len(run.lines_with(" INFO ", "feed 'malformed'", "0 entries")) == 1


def test_odd_entries_are_skipped_or_completed_with_a_warning(hostile_run):
    site, run, posts = hostile_run["site"], hostile_run["run"], hostile_run["posts"]
    assert posts[site.untitled].front["title"] == "标题只在页面上"  # the page's title stands in
    assert site.duplicate_second not in posts
    assert len(run.lines_with(" WARNING ", "feed 'odd-entries'", "skipped 1 entry with neither a link")) == 1
    assert len(run.lines_with(" WARNING ", "feed 'odd-entries'", "skipped 1 entry whose guid repeats")) == 1


def test_future_and_unparseable_dates_give_way_to_the_page(hostile_run):
    site, posts = hostile_run["site"], hostile_run["posts"]
    for link in (site.future, site.unparseable):
        assert posts[link].front["published"] == "2022-02-09T11:10:19+08:00"
        assert posts[link].path.parts[-3:-1] == ("2022", "02")


def test_memory_stays_bounded(hostile_run):
    run = hostile_run["run"]
    assert run.peak_rss_mb < 300 and run.peak_session_process_mb < 300
