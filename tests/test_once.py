"""`crawler once` end to end: a real local HTTP server with feeds and pages, a real SQLite file, real files."""
from __future__ import annotations

import json
import logging
import re
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path

import pytest
import yaml

from crawler.archive import ArchiveLock, parse_post
from crawler.cli import main
from tests.support.server import LocalServer, Reply, conditional

CST = timezone(timedelta(hours=8))
PUBLISHED = datetime(2022, 2, 9, 11, 10, 19, tzinfo=CST)

PARAS = [
    "今天，国新办举行政策例行吹风会，民政部有关负责人介绍《“十四五”城乡社区服务体系建设规划》有关情况。",
    "《规划》明确了5个方面的主要指标，确定了7项行动计划，以及服务设施补短板工程等9个重大工程。",
    "民政部表示，将推动基本公共服务资源向社区下沉，优先发展社区养老托育等服务，切实增强群众获得感。",
    "截至去年底，全国已累计建成城乡社区综合服务设施超过50万个，城市社区综合服务设施覆盖率达到100%。",
]
EN_PARAS = [
    "Stocks rose on Tuesday as investors weighed the Federal Reserve's rate path and a cooling labour market.",
    "The S&P 500 closed 1.2% higher, while the Nasdaq Composite added 1.8%, led by chip makers.",
    "Treasury yields slipped, with the benchmark 10-year note falling five basis points to 3.9%.",
]


def portal_page(title: str, paras: list[str], *, charset: str = "utf-8", editor: str = "王翔") -> str:
    body = "\n".join(f"<p>\u3000\u3000{escape(p)}</p>" for p in paras)
    return f"""<!DOCTYPE html><html><head><meta charset="{charset}">
<title>{escape(title)}_新浪财经_新浪网</title>
<meta property="og:title" content="{escape(title)}">
<meta property="article:published_time" content="2022-02-09T11:10:19+08:00">
</head><body>
<div class="top-nav"><a href="/">首页</a> | <a href="/stock">股票</a> | <a href="/fund">基金</a></div>
<div class="main"><h1>{escape(title)}</h1>
<div class="date-source"><span class="date">2022年02月09日 11:10</span> <span>作者：王爱文</span></div>
<div class="article" id="artibody">
{body}
<div class="appendQr"><p>海量资讯、精准解读，尽在新浪财经APP</p></div>
<p>责任编辑：{editor}</p>
</div>
<div class="related"><h2>相关阅读</h2><ul><li><a href="/a">一条别的新闻</a></li><li><a href="/b">又一条</a></li></ul></div>
</div><div class="footer">Copyright &copy; 1996-2022 SINA Corporation, All Rights Reserved</div></body></html>"""


def wire_page(title: str, paras: list[str]) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paras)
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                     "datePublished": "2022-02-09T03:10:19+00:00", "author": {"@type": "Person", "name": "Jane Doe"}})
    return f"""<!DOCTYPE html><html lang="en"><head><title>{escape(title)} | Market Wire</title>
<script type="application/ld+json">{ld}</script></head><body>
<header><nav><a href="/">Markets</a> <a href="/b">Business</a></nav></header>
<main><article><h1>{escape(title)}</h1><div class="byline">By Jane Doe</div>
<div class="article-body">{body}</div></article>
<aside><h2>Related coverage</h2><ul><li><a href="/x">Other story</a></li></ul></aside></main>
<footer>&copy; 2022 Market Wire. All rights reserved.</footer></body></html>"""


def rss(title: str, items: list[dict], charset: str = "utf-8") -> bytes:
    out = []
    for it in items:
        desc = it.get("description", "")
        out.append(f"""<item><title>{escape(it['title'])}</title><link>{escape(it['link'])}</link>
<guid isPermaLink="false">{it['guid']}</guid><pubDate>{it.get('date', format_datetime(PUBLISHED))}</pubDate>
<description><![CDATA[{desc}]]></description></item>""")
    return (f'<?xml version="1.0" encoding="{charset}"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f'<link>http://example.com/</link><description>x</description>{"".join(out)}</channel></rss>'
            ).encode(charset)


def atom(title: str, entries: list[dict], charset: str = "utf-8") -> bytes:
    out = "".join(f"""<entry><id>{e['id']}</id><title>{escape(e['title'])}</title>
<link rel="alternate" href="{escape(e['link'])}"/><published>{PUBLISHED.isoformat()}</published>
<updated>{PUBLISHED.isoformat()}</updated><author><name>{e.get('author', '李明')}</name></author>
<summary>{escape(e.get('summary', '摘要'))}</summary></entry>""" for e in entries)
    return (f'<?xml version="1.0" encoding="{charset}"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>urn:x</id><updated>{PUBLISHED.isoformat()}</updated>{out}</feed>"
            ).encode(charset)


def json_feed(items: list[dict]) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Wire", "items": items},
                      ensure_ascii=False).encode()


class Site:
    """A small finance web on one local server: a portal (UTF-8, RSS with full text, two channels), a
    column site (GBK pages, Atom summaries), a Yicai-like site (GB18030 declared in the header only, JSON
    Feed) and faults."""

    def __init__(self, server: LocalServer):
        self.s = server
        u = server.url
        self.story = u("/china/2022-02-09/doc-1.shtml")
        self.both = u("/china/2022-02-09/doc-2.shtml")
        self.flaky = u("/china/2022-02-09/doc-3.shtml")
        self.limited = u("/china/2022-02-09/doc-4.shtml")
        self.private = u("/private/doc-5.shtml")
        self.gone = u("/gone/doc-6.shtml")
        self.gbk = u("/article/detail/7.html")
        self.copy = u("/article/detail/8.html")
        self.gb18030 = u("/news/20220209000009.html")
        self.wire = u("/markets/2022/02/09/story-10/")
        para2 = [p.replace("民政部", "国家发展改革委") for p in PARAS]
        para3 = [p.replace("民政部", "财政部") for p in PARAS]
        para4 = [p.replace("民政部", "人民银行") for p in PARAS]
        gbk_paras = [p.replace("民政部", "证监会") for p in PARAS]
        yicai_paras = [p.replace("民政部", "商务部") for p in PARAS]
        self.titles = {
            self.story: "民政部：基本公共服务资源向社区下沉，优先发展社区养老托育",
            self.both: "发改委：稳增长政策持续发力",
            self.flaky: "财政部：中小微企业融资成本稳中有降",
            self.limited: "央行：降准释放长期资金",
            self.gbk: "证监会：资本市场深化改革",
            self.copy: "民政部：基本公共服务资源向社区下沉，优先发展社区养老托育",
            self.gb18030: "商务部：新能源汽车出口保持高增长",
            self.wire: "Stocks rise as investors digest the Fed's rate path",
        }
        self.bodies = {self.story: PARAS, self.both: para2, self.flaky: para3, self.limited: para4,
                       self.gbk: gbk_paras, self.copy: PARAS, self.gb18030: yicai_paras, self.wire: EN_PARAS}
        r = server.route
        r("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"}))
        r("/china/2022-02-09/doc-1.shtml", Reply.text(portal_page(self.titles[self.story], PARAS)))
        r("/china/2022-02-09/doc-2.shtml", Reply.text(portal_page(self.titles[self.both], para2)))
        r("/china/2022-02-09/doc-3.shtml", Reply(500), Reply(502),
          Reply.text(portal_page(self.titles[self.flaky], para3)))
        r("/china/2022-02-09/doc-4.shtml", Reply(429, headers={"Retry-After": "1"}),
          Reply.text(portal_page(self.titles[self.limited], para4)))
        r("/gone/doc-6.shtml", Reply(404, b"<html><body>Not Found</body></html>"))
        # GBK page declaring its charset in a meta tag only
        r("/article/detail/7.html", Reply(body=portal_page(self.titles[self.gbk], gbk_paras, charset="gbk")
                                          .encode("gbk"), headers={"Content-Type": "text/html"}))
        # the same story as doc-1, republished on another site. Which copy a run archives is the one committed
        # first; answering late makes that doc-1 whatever the timing of extraction and the state's threads.
        r("/article/detail/8.html", Reply(body=portal_page(self.titles[self.copy], PARAS, charset="gbk", editor="李桐")
                                          .encode("gbk"), headers={"Content-Type": "text/html"}, delay=0.5))
        # GB18030 page, charset in the HTTP header only
        page = portal_page(self.titles[self.gb18030], yicai_paras).replace('<meta charset="utf-8">', "")
        r("/news/20220209000009.html", Reply(body=page.encode("gb18030"),
                                             headers={"Content-Type": "text/html; charset=gb18030"}))
        r("/markets/2022/02/09/story-10/", Reply.text(wire_page(self.titles[self.wire], EN_PARAS)))

        full = lambda paras: "".join(f"<p>{escape(p)}</p>" for p in paras)  # noqa: E731
        self.china_feed = u("/feeds/china.xml")
        self.macro_feed = u("/feeds/macro.xml")
        self.column_feed = u("/feeds/yw.atom")
        self.wire_feed = u("/feeds/markets.json")
        etag = {"ETag": '"v1"', "Content-Type": "application/rss+xml; charset=utf-8"}
        r("/feeds/china.xml", Reply(body=rss("新浪财经－国內", [
            {"title": self.titles[self.story], "link": self.story + "?utm_source=rss&utm_medium=feed", "guid": "s-1",
             "description": full(PARAS)},
            {"title": self.titles[self.both], "link": self.both, "guid": "s-2", "description": full(para2)},
            {"title": self.titles[self.flaky], "link": self.flaky, "guid": "s-3", "description": full(para3)},
            {"title": "受限页面", "link": self.private, "guid": "s-5",
             "description": full([p.replace("民政部", "银保监会") for p in PARAS])},
            {"title": "已删除的页面", "link": self.gone, "guid": "s-6", "description": "只有一句摘要。"},
        ]), headers=etag), )
        r("/feeds/macro.xml", Reply(body=rss("新浪财经－宏观", [
            {"title": self.titles[self.both], "link": self.both + "?from=rss", "guid": "m-2", "description": "摘要"},
            {"title": self.titles[self.limited], "link": self.limited, "guid": "m-4", "description": "摘要"},
            {"title": "已删除的页面", "link": self.gone, "guid": "m-6", "description": "只有一句摘要。"},
        ]), headers={"ETag": '"m1"', "Content-Type": "application/rss+xml"}))
        r("/feeds/yw.atom", conditional(Reply(body=atom("证券时报网－要闻", [
            {"id": "tag:stcn,2022:7", "title": self.titles[self.gbk], "link": self.gbk},
            {"id": "tag:stcn,2022:8", "title": self.titles[self.copy], "link": self.copy},
        ], charset="gbk"), headers={"Content-Type": "application/atom+xml; charset=gbk",
                                    "Last-Modified": "Wed, 09 Feb 2022 03:10:19 GMT"})))
        r("/feeds/markets.json", conditional(Reply(body=json_feed([
            {"id": "w-10", "url": self.wire, "title": self.titles[self.wire],
             "date_published": "2022-02-09T03:10:19+00:00", "authors": [{"name": "Jane Doe"}]},
            {"id": "w-11", "url": self.gb18030, "title": self.titles[self.gb18030],
             "date_published": "2022-02-09T11:10:19+08:00", "authors": [{"name": "陈静"}]},
        ]), headers={"Content-Type": "application/feed+json", "ETag": '"j1"'})))


def write_config(tmp_path: Path, feeds: list[tuple[str, str, str, str]], **network) -> Path:
    cfg = {
        "archive": {"dir": str(tmp_path / "archive"), "timezone": "Asia/Shanghai"},
        "state": {"url": f"sqlite:///{tmp_path}/state/crawler.sqlite3"},
        "network": {"allow_private": True, "backoff": "50ms", "max_backoff": "3s", "attempts": 3,
                    "total_timeout": "10s", **network},
        "extract": {"workers": 1},
        "feeds": [{"url": url, "name": name, "source": source, "category": category}
                  for url, name, source, category in feeds],
    }
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def posts(root: Path) -> dict[str, tuple[dict, str, Path]]:
    """link → (front matter, body, path) of every post in the archive."""
    out = {}
    for p in root.rglob("*.md"):
        front, body = parse_post(p.read_text(encoding="utf-8"))
        assert front["link"] not in out, f"two files for {front['link']}"
        out[front["link"]] = (front, body, p)
    return out


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def site_run(tmp_path_factory):
    """Two `crawler once` runs over the whole site; the server keeps recording between them."""
    tmp_path = tmp_path_factory.mktemp("once")
    with LocalServer() as server:
        site = Site(server)
        config = write_config(tmp_path, [
            (site.china_feed, "新浪财经－国內", "新浪财经", "金融"),
            (site.macro_feed, "新浪财经－宏观", "新浪财经", "金融"),
            (site.column_feed, "证券时报网－要闻", "证券时报网", "金融"),
            (site.wire_feed, "Market Wire - Markets", "Market Wire", "Finance"),
        ])
        first = main(["once", "-c", str(config)])
        first_requests = list(server.requests)
        first_posts = posts(tmp_path / "archive")
        second_log = _Collect()
        logging.getLogger("crawler").addHandler(second_log)
        try:
            second = main(["once", "-c", str(config)])
        finally:
            logging.getLogger("crawler").removeHandler(second_log)
        second_requests = server.requests[len(first_requests):]
        yield dict(site=site, tmp=tmp_path, first=first, second=second, posts=first_posts,
                   first_requests=first_requests, second_requests=second_requests, second_log=second_log.lines,
                   posts_after=posts(tmp_path / "archive"))


def test_every_feed_is_fetched_and_the_run_succeeds(site_run):
    # the 404 page with a one-line summary fails, but article failures do not fail the run
    assert site_run["first"] == 0 and site_run["second"] == 0


def test_one_file_per_article(site_run):
    site, archive = site_run["site"], site_run["posts"]
    expected = {site.story, site.both, site.flaky, site.limited, site.private, site.gbk, site.gb18030, site.wire}
    assert set(archive) == expected, set(archive) ^ expected
    assert site.gone not in archive and site.copy not in archive


def test_files_follow_the_category_path_and_date(site_run):
    site, archive, root = site_run["site"], site_run["posts"], site_run["tmp"] / "archive"
    path = archive[site.story][2].relative_to(root)
    assert path.parts[:6] == ("金融", "新浪财经", "新浪财经-国內", "2022", "02",  # NFKC: full-width － becomes -
                              "民政部-基本公共服务资源向社区下沉-优先发展社区养老托育.md")


def test_front_matter(site_run):
    site = site_run["site"]
    front, body, _ = site_run["posts"][site.story]
    assert front["title"] == site.titles[site.story]
    assert front["date"] == "2022-02-09 11:10:19"
    assert front["published"] == "2022-02-09T11:10:19+08:00"
    assert front["link"] == site.story  # tracking parameters gone
    assert front["source"] == "新浪财经"
    assert front["feed"] == site.china_feed
    assert front["comments"] is False and front["disableNunjucks"] is True
    assert "extracted_from" not in front
    wire, _, _ = site_run["posts"][site.wire]
    assert wire["author"] == "Jane Doe"
    assert wire["published"] == "2022-02-09T03:10:19+00:00"
    assert wire["date"] == "2022-02-09 11:10:19"  # in the archive's time zone, naive
    assert wire["categories"] == ["Finance", "Market Wire", "Market Wire - Markets"]


def test_bodies_are_clean_and_complete(site_run):
    site = site_run["site"]
    for link in (site.story, site.both, site.flaky, site.limited, site.gbk, site.gb18030, site.wire):
        _, body, path = site_run["posts"][link]
        flat = re.sub(r"\s+", "", body)
        for para in site.bodies[link]:
            assert re.sub(r"\s+", "", para) in flat, f"{path}: missing {para[:20]}"
        for junk in ("责任编辑", "尽在新浪财经APP", "相关阅读", "Related coverage", "All rights reserved", "一条别的新闻"):
            assert junk not in body, f"{path}: boilerplate {junk!r} left in"
        assert not body.lstrip().startswith("#"), "the title is not repeated as a heading"


def test_chinese_encodings_are_decoded(site_run):
    site = site_run["site"]
    for link in (site.gbk, site.gb18030):
        front, body, _ = site_run["posts"][link]
        assert front["title"] == site.titles[link]
        assert "资本市场" in front["title"] or "新能源" in front["title"]
        assert "\ufffd" not in body


def test_article_in_two_feeds_gets_both_category_paths(site_run):
    site = site_run["site"]
    front, _, _ = site_run["posts"][site.both]
    # in the order the feeds got to it: both polls run at once
    assert sorted(front["categories"]) == [["金融", "新浪财经", "新浪财经－国內"], ["金融", "新浪财经", "新浪财经－宏观"]]


def test_copy_on_another_site_is_recorded_not_written(site_run):
    site = site_run["site"]
    front, _, _ = site_run["posts"][site.story]
    assert front["syndicated"] == [site.copy]
    assert ["金融", "证券时报网", "证券时报网－要闻"] in front["categories"]


def test_retries_and_retry_after(site_run):
    site, reqs = site_run["site"], site_run["first_requests"]
    assert [r.target for r in reqs].count("/china/2022-02-09/doc-3.shtml") == 3
    limited = [r for r in reqs if r.target == "/china/2022-02-09/doc-4.shtml"]
    assert len(limited) == 2 and limited[1].time - limited[0].time >= 0.95


def test_robots_txt_is_obeyed_and_feed_text_used(site_run):
    site = site_run["site"]
    assert not [r for r in site_run["first_requests"] + site_run["second_requests"] if r.target.startswith("/private/")]
    front, body, _ = site_run["posts"][site.private]
    assert front["extracted_from"] == "feed"
    assert "银保监会" in body


def test_user_agent_names_the_project(site_run):
    assert all("finance-feed-archiver" in r.headers.get("user-agent", "") for r in site_run["first_requests"])


def test_second_run_fetches_no_page_again_and_sends_conditional_requests(site_run):
    site, second = site_run["site"], site_run["second_requests"]
    pages = [r.target for r in second if not r.target.startswith(("/feeds/", "/robots.txt"))]
    assert pages == ["/gone/doc-6.shtml"]  # only the failed entry is tried again
    feeds = {r.target: r.headers for r in second if r.target.startswith("/feeds/")}
    assert feeds["/feeds/markets.json"].get("if-none-match") == '"j1"'
    assert feeds["/feeds/yw.atom"].get("if-modified-since") == "Wed, 09 Feb 2022 03:10:19 GMT"
    not_modified = [line for line in site_run["second_log"] if line.endswith(": not modified")]
    assert len(not_modified) == 2 and all("Market Wire" in l or "证券时报网" in l for l in not_modified)
    # the feed with a failed entry is fetched in full again, so the entry gets its retry
    assert "if-none-match" not in feeds["/feeds/china.xml"]
    assert site_run["posts_after"].keys() == site_run["posts"].keys()
    for link, (front, body, path) in site_run["posts"].items():
        assert site_run["posts_after"][link][:2] == (front, body)


def test_a_failed_page_in_two_feeds_is_fetched_once_per_run(site_run):
    assert [r.target for r in site_run["first_requests"]].count("/gone/doc-6.shtml") == 1
    assert [r.target for r in site_run["second_requests"]].count("/gone/doc-6.shtml") == 1


def test_failed_entry_is_recorded_for_retry(site_run):
    import sqlite3

    db = sqlite3.connect(site_run["tmp"] / "state" / "crawler.sqlite3")
    attempts, error = db.execute("SELECT attempts, last_error FROM failures WHERE url LIKE '%gone%'").fetchone()
    assert attempts == 2 and "404" in error


# --- whole-run failures -------------------------------------------------------------------------------------


def test_unreachable_feed_is_one_line_and_exit_1(tmp_path, caplog, capsys):
    config = write_config(tmp_path, [("http://127.0.0.1:9/feed.xml", "Dead", "Nobody", "金融")], attempts=1)
    with caplog.at_level(logging.INFO, logger="crawler"):
        assert main(["once", "-c", str(config)]) == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "'Dead'" in errors[0].getMessage() and "127.0.0.1:9" in errors[0].getMessage()
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    assert "0 feeds ok, 1 failed" in out.out


def test_html_page_instead_of_a_feed_is_a_clear_error(tmp_path, http_server, caplog):
    http_server.route("/feed", Reply.text("<html><head><title>Portal</title></head><body><h1>Home</h1></body></html>"))
    config = write_config(tmp_path, [(http_server.url("/feed"), "Portal", "P", "金融")])
    with caplog.at_level(logging.ERROR, logger="crawler"):
        assert main(["once", "-c", str(config)]) == 1
    assert any("not a feed" in r.getMessage() for r in caplog.records)


def test_private_addresses_are_refused_by_default(tmp_path, http_server, caplog):
    http_server.route("/feed", Reply(body=rss("x", [])))
    config = write_config(tmp_path, [(http_server.url("/feed"), "Local", "L", "金融")], allow_private=False)
    with caplog.at_level(logging.ERROR, logger="crawler"):
        assert main(["once", "-c", str(config)]) == 1
    assert http_server.hits("/feed") == 0
    assert any("allow_private" in r.getMessage() for r in caplog.records)


def test_config_error_exits_2_before_any_request(tmp_path, http_server):
    config = write_config(tmp_path, [(http_server.url("/feed"), "A", "B", "C")])
    config.write_text(config.read_text(encoding="utf-8") + "surprise: 1\n", encoding="utf-8")
    assert main(["once", "-c", str(config)]) == 2
    assert http_server.requests == []


def test_second_run_while_the_first_holds_the_lock_exits_3(tmp_path, http_server, caplog):
    config = write_config(tmp_path, [(http_server.url("/feed"), "A", "B", "C")])
    with ArchiveLock(tmp_path / "archive"):
        with caplog.at_level(logging.ERROR, logger="crawler"):
            assert main(["once", "-c", str(config)]) == 3
    assert http_server.requests == []
    assert any("another crawler" in r.getMessage() for r in caplog.records)


HOSTILE_TITLES = [
    "../../../../etc/passwd",
    "/absolute/path/title",
    "标题含有'单引号'和\"双引号\"：以及冒号",
    "---\ninjected: true\n---",
    "!!python/object/apply:os.system ['echo pwned']",
    "{{ page.title }} {% raw %} 模板语法 }}",
    "A" * 400 + "超长标题",
    "CON",
    "trailing dots and spaces ...   ",
    "emoji 📈📉 and RTL \u202eevil",
    "null\u0000byte and \x07bell",
    "yes",
]


def test_hostile_titles_stay_inside_the_archive_and_read_back(tmp_path, http_server):
    from crawler.archive import clean_title, is_safe_component

    items = []
    for i, title in enumerate(HOSTILE_TITLES):
        link = http_server.url(f"/odd/{i}.html")
        paras = [f"第{i}条：正文中的 {{{{ page.title }}}} 与 {{% raw %}} 都应原样保留。", PARAS[i % 4]]
        http_server.route(f"/odd/{i}.html", Reply.text(portal_page(title, paras)))
        # XML cannot carry NUL or BEL: the feed sends them as text a hostile server might (escaped here)
        items.append({"title": title.replace("\x00", "").replace("\x07", ""), "link": link, "guid": f"o-{i}",
                      "description": "".join(f"<p>{escape(p)}</p>" for p in paras)})
    http_server.route("/feeds/odd.xml", Reply(body=rss("Odd", items), headers={"Content-Type": "application/rss+xml"}))
    config = write_config(tmp_path, [(http_server.url("/feeds/odd.xml"), "Odd/../Titles", "..", "CON")])
    assert main(["once", "-c", str(config)]) == 0

    root = (tmp_path / "archive").resolve()
    found = posts(root)
    assert len(found) == len(HOSTILE_TITLES)
    titles = set()
    for front, body, path in found.values():
        assert path.resolve().is_relative_to(root)
        assert all(is_safe_component(part) for part in path.relative_to(root).parts)
        titles.add(front["title"])
        assert "{{ page.title }}" in body and "{% raw %}" in body
    assert titles == {clean_title(t.replace("\x00", "").replace("\x07", "")) for t in HOSTILE_TITLES}
    assert "yes" in titles  # a string, not the boolean YAML 1.1 would make of it


def test_feed_option_selects_feeds_by_name(tmp_path, http_server):
    http_server.route("/a.xml", Reply(body=rss("A", [])))
    http_server.route("/b.xml", Reply(body=rss("B", [])))
    config = write_config(tmp_path, [(http_server.url("/a.xml"), "A", "S", "C"), (http_server.url("/b.xml"), "B", "S", "C")])
    assert main(["once", "-c", str(config), "--feed", "B"]) == 0
    assert [r.target for r in http_server.requests] == ["/b.xml"]
    assert main(["once", "-c", str(config), "--feed", "nope"]) == 2
