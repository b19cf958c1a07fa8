"""One story, one file: syndicated copies, edited copies, one site's two feeds, URL variants and template-alike
stories through `crawler once` on a real local server, under each dedup policy; then edits of archived
stories, from the feed's `updated` and from `crawler refresh`."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
import yaml

from crawler.archive import parse_post
from crawler.cli import main
from tests.support.server import LocalServer, Reply
from tests.support.site import FeedConfig, Item, article_page, full_text, rss, write_config
from tests.support.stories import (company_story, flash_item, market_wrap, with_source_line,
                                   without_last_paragraph)

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def paras(body: str) -> list[str]:
    return body.split("\n\n")


def set_dedup(config: Path, **dedup) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["dedup"] = dedup
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def posts(root: Path) -> list[tuple[dict, str, Path]]:
    return [(*parse_post(p.read_text(encoding="utf-8")), p) for p in sorted(root.rglob("*.md"))]


class SyndicationSite:
    """Portal A with two feeds, portal B carrying A's stories (one as is, one edited), two market wraps from
    one template, and a flash feed of one-sentence items from four templates."""

    def __init__(self, server: LocalServer):
        u, r = server.url, server.route
        s1, s2, s3 = company_story(101), company_story(102), company_story(103)
        self.s1_urls = {u("/a/1.html"), u("/b/9.html")}
        self.s2_urls = {u("/a/2.html"), u("/a/2-copy.html"), u("/b/10.html")}
        pages = {
            "/a/1.html": ("宁德时代三季报：营收稳步增长", s1),
            "/a/2.html": ("比亚迪公告：拟派发现金红利", s2),
            "/a/2-copy.html": ("比亚迪公告：拟派发现金红利", s2),
            "/a/w1.html": ("A股收评：三大指数集体上涨", market_wrap(1)),
            "/a/w2.html": ("A股收评：三大指数集体下跌", market_wrap(2)),
            "/b/9.html": ("宁德时代三季报：营收稳步增长", s1),
            "/b/10.html": ("比亚迪公告：拟派发现金红利（转载）", with_source_line(without_last_paragraph(s2))),
            "/b/11.html": ("恒瑞医药：研发投入继续加大", s3),
        }
        for path, (title, body) in pages.items():
            r(path, Reply.text(article_page(title, paras(body))))
        self.titles = {u(path): title for path, (title, _) in pages.items()}

        def item(path: str, link_suffix: str = "") -> Item:
            return Item(self.titles[u(path)], u(path) + link_suffix, guid=path)

        r("/a/china.xml", Reply(body=rss("A 国内", [item("/a/1.html", "?utm_source=rss&utm_medium=feed"),
                                                   item("/a/2.html"), item("/a/w1.html"), item("/a/w2.html")]),
                                headers=RSS))
        r("/a/macro.xml", Reply(body=rss("A 宏观", [item("/a/1.html", "?from=rss"), item("/a/2-copy.html")]),
                                headers=RSS))
        r("/b/feed.xml", Reply(body=rss("B 要闻", [item("/b/9.html"), item("/b/10.html"), item("/b/11.html")]),
                               headers=RSS))
        self.flashes = [flash_item(seed) for seed in range(8)]
        r("/flash.xml", Reply(body=rss("快讯", [Item(f"快讯{i}", u(f"/flash/{i}"), guid=f"f{i}",
                                                    description=full_text([text]))
                                               for i, text in enumerate(self.flashes)]), headers=RSS))
        self.feeds = [
            FeedConfig(u("/a/china.xml"), "A－国内", "A财经"),
            FeedConfig(u("/a/macro.xml"), "A－宏观", "A财经"),
            FeedConfig(u("/b/feed.xml"), "B－要闻", "B时报"),
            FeedConfig(u("/flash.xml"), "快讯", "A财经", extra=(("fetch_pages", False),)),
        ]


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """The same site archived under each policy: policy → posts."""
    out = {}
    with LocalServer() as server:
        site = SyndicationSite(server)
        for policy in ("near", "content", "url"):
            tmp = tmp_path_factory.mktemp(policy)
            config = write_config(tmp, site.feeds)
            set_dedup(config, policy=policy)
            assert main(["once", "-c", str(config)]) == 0
            out[policy] = posts(tmp / "archive")
    return site, out


def holders(found, urls: set[str]) -> list[tuple[dict, str, Path]]:
    return [post for post in found if post[0]["link"] in urls]


def test_near_policy_keeps_each_story_once_with_every_url_and_feed(archives):
    site, by_policy = archives
    found = by_policy["near"]
    assert len(found) == 5 + len(site.flashes)  # s1, s2, s3, two wraps, the flashes
    for urls in (site.s1_urls, site.s2_urls):
        (front, _, _), = holders(found, urls)
        assert set(front["syndicated"]) | {front["link"]} == urls
    (s1, _, _), = holders(found, site.s1_urls)
    assert sorted(tuple(c) for c in s1["categories"]) == [
        ("金融", "A财经", "A－国内"), ("金融", "A财经", "A－宏观"), ("金融", "B时报", "B－要闻")]


def test_url_variants_and_one_sites_two_feeds_do_not_make_copies(archives):
    _, by_policy = archives
    for found in by_policy.values():
        links = [front["link"] for front, _, _ in found]
        assert len(links) == len(set(links))
        assert not any("utm_" in link or "from=rss" in link for link in links)


def test_template_alike_stories_and_flash_items_are_never_merged(archives):
    site, by_policy = archives
    found = by_policy["near"]
    titles = {front["title"] for front, _, _ in found}
    assert {"A股收评：三大指数集体上涨", "A股收评：三大指数集体下跌"} <= titles
    flash_bodies = [body for front, body, _ in found if front["title"].startswith("快讯")]
    assert len(flash_bodies) == len(site.flashes)
    assert not any("syndicated" in front for front, _, _ in found if front["title"].startswith(("快讯", "A股")))


def test_content_policy_merges_exact_copies_only(archives):
    site, by_policy = archives
    found = by_policy["content"]
    assert len(found) == 6 + len(site.flashes)  # the edited copy of s2 is a post of its own
    assert len(holders(found, site.s1_urls)) == 1
    assert len(holders(found, site.s2_urls)) == 2


def test_url_policy_merges_nothing_but_urls(archives):
    site, by_policy = archives
    found = by_policy["url"]
    assert len(found) == 8 + len(site.flashes)
    assert not any("syndicated" in front for front, _, _ in found)


def test_copies_ready_at_the_same_moment_are_still_one_post(tmp_path, http_server, monkeypatch):
    """Articles are checked and written in batches; copies of one story in one batch must not both look new
    (the first is not in the state database when the second is checked)."""
    from crawler import pipeline

    same_story = pipeline.Pipeline._same_story
    write_new = pipeline.Pipeline._write_new
    held_back = []

    def recording(self, ready, other):
        held_back.append(same_story(self, ready, other))
        return held_back[-1]

    writes = []

    async def first_write_waits_for_the_rest(self, new):
        if not writes:  # the other 8 become ready meanwhile, and are checked in one batch
            for _ in range(1000):
                if len(self._ready) == 8:
                    break
                await asyncio.sleep(0.01)
        writes.append(new)
        await write_new(self, new)

    monkeypatch.setattr(pipeline.Pipeline, "_same_story", recording)
    monkeypatch.setattr(pipeline.Pipeline, "_write_new", first_write_waits_for_the_rest)
    story, other = company_story(201), company_story(202)
    bodies = {f"/c/{n}.html": body for n, body in enumerate(
        [story] * 4 + [with_source_line(story)] * 2 + [without_last_paragraph(story), other, other])}
    for path, body in bodies.items():
        http_server.route(path, Reply.text(article_page("宁德时代三季报：营收稳步增长", paras(body))))
    http_server.route("/c/feed.xml", Reply(body=rss("C", [Item(f"第{n}条", http_server.url(path), guid=path)
                                                          for n, path in enumerate(bodies)]), headers=RSS))
    config = write_config(tmp_path, [FeedConfig(http_server.url("/c/feed.xml"), "C－要闻", "C报")], per_host=16)

    assert main(["once", "-c", str(config)]) == 0
    found = posts(tmp_path / "archive")
    assert len(found) == 2
    copies = {front["link"]: front for front, _, _ in found}
    assert sorted(len(front.get("syndicated", [])) for front in copies.values()) == [1, 6]
    assert any(held_back)  # a copy met its story in one batch, and waited for the next


# --- edits ------------------------------------------------------------------------------------------------

CST = timezone(timedelta(hours=8))
FIRST_VERSION = datetime(2022, 2, 9, 11, 10, 19, tzinfo=CST)


def atom(entries: list[tuple[str, str, str, datetime]]) -> bytes:
    """Atom entries (id, title, link, updated), all published at FIRST_VERSION."""
    out = "".join(f"""<entry><id>{escape(eid)}</id><title>{escape(title)}</title><link href="{escape(link)}"/>
<published>{FIRST_VERSION.isoformat()}</published><updated>{updated.isoformat()}</updated></entry>"""
                  for eid, title, link, updated in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
            f"<id>urn:a</id><updated>{FIRST_VERSION.isoformat()}</updated>{out}</feed>").encode()


def test_an_edit_announced_by_the_feed_is_rewritten_in_place_and_an_unchanged_article_never(tmp_path, http_server):
    link = http_server.url("/a/7.html")
    story = company_story(7)
    feed = lambda title, updated: Reply(body=atom([("tag:a,7", title, link, updated)]),  # noqa: E731
                                        headers={"Content-Type": "application/atom+xml"})
    http_server.route("/a/7.html", Reply.text(article_page("初版标题", paras(story))))
    http_server.route("/feed.atom", feed("初版标题", FIRST_VERSION))
    config = write_config(tmp_path, [FeedConfig(http_server.url("/feed.atom"), "A－要闻", "A财经")])
    assert main(["once", "-c", str(config)]) == 0
    (front, body, path), = posts(tmp_path / "archive")
    assert "updated" not in front and "revisions" not in front
    first_text = path.read_bytes()

    # the same feed again: the page is not fetched, the file not touched
    assert main(["once", "-c", str(config)]) == 0
    assert http_server.hits("/a/7.html") == 1 and path.read_bytes() == first_text

    # the feed says "updated" but the page is the same: fetched, not rewritten
    http_server.route("/feed.atom", feed("初版标题", FIRST_VERSION + timedelta(hours=1)))
    assert main(["once", "-c", str(config)]) == 0
    assert http_server.hits("/a/7.html") == 2 and path.read_bytes() == first_text

    # a real edit: a corrected paragraph and a new title
    edited = story.replace("公司表示", "公司在更正公告中表示")
    http_server.route("/a/7.html", Reply.text(article_page("更正后的标题", paras(edited))))
    second = FIRST_VERSION + timedelta(hours=2)
    http_server.route("/feed.atom", feed("更正后的标题", second))
    assert main(["once", "-c", str(config)]) == 0
    (front, body, new_path), = posts(tmp_path / "archive")
    assert new_path == path  # rewritten in place, not renamed after the new title
    assert front["title"] == "更正后的标题" and "更正公告" in body
    assert front["updated"] == "2022-02-09 13:10:19" and front["revisions"] == 1
    assert front["date"] == "2022-02-09 11:10:19"

    assert main(["once", "-c", str(config)]) == 0  # nothing new: nothing rewritten
    (front, _, _), = posts(tmp_path / "archive")
    assert front["revisions"] == 1


def test_an_updated_shared_by_every_entry_is_the_feeds_build_time_and_refetches_nothing(tmp_path, http_server):
    links = [http_server.url(f"/b/{n}.html") for n in range(3)]
    for n, link in enumerate(links):
        http_server.route(f"/b/{n}.html", Reply.text(article_page(f"标题{n}", paras(company_story(50 + n)))))

    def feed(built: datetime) -> Reply:
        return Reply(body=atom([(f"tag:b,{n}", f"标题{n}", link, built) for n, link in enumerate(links)]),
                     headers={"Content-Type": "application/atom+xml"})

    http_server.route("/feed.atom", feed(FIRST_VERSION))
    config = write_config(tmp_path, [FeedConfig(http_server.url("/feed.atom"), "B－要闻", "B报")])
    assert main(["once", "-c", str(config)]) == 0
    http_server.route("/feed.atom", feed(FIRST_VERSION + timedelta(minutes=10)))
    assert main(["once", "-c", str(config)]) == 0
    assert [http_server.hits(f"/b/{n}.html") for n in range(3)] == [1, 1, 1]


def test_refresh_rewrites_recent_articles_that_changed_and_leaves_the_rest(tmp_path, http_server, capsys):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    ages = {"/n/recent.html": timedelta(hours=3), "/n/old.html": timedelta(days=5), "/n/same.html": timedelta(hours=5)}
    stories = {path: company_story(21 + i) for i, path in enumerate(ages)}
    for path, story in stories.items():
        http_server.route(path, Reply.text(article_page("标题", paras(story))))
    items = [Item(f"标题{i}", http_server.url(path), guid=path, date=format_datetime(now - age))
             for i, (path, age) in enumerate(ages.items())]
    http_server.route("/feed.xml", Reply(body=rss("N", items), headers=RSS))
    config = write_config(tmp_path, [FeedConfig(http_server.url("/feed.xml"), "N－要闻", "N报")])
    assert main(["once", "-c", str(config)]) == 0
    before = {front["link"]: (path, path.read_bytes()) for front, _, path in posts(tmp_path / "archive")}
    assert len(before) == 3

    for path in ("/n/recent.html", "/n/old.html"):
        changed = stories[path].replace("公司表示", "公司补充说明")
        http_server.route(path, Reply.text(article_page("标题", paras(changed))))
    capsys.readouterr()
    assert main(["refresh", "--since", "2d", "-c", str(config)]) == 0
    assert "1 articles revised, 1 unchanged" in capsys.readouterr().out
    after = {front["link"]: (front, body) for front, body, _ in posts(tmp_path / "archive")}
    recent, old, same = (http_server.url(path) for path in ages)
    assert after[recent][0]["revisions"] == 1 and "补充说明" in after[recent][1]
    assert before[same][0].read_bytes() == before[same][1]  # unchanged: not rewritten
    assert before[old][0].read_bytes() == before[old][1]  # outside the window: not even fetched
    assert http_server.hits("/n/old.html") == 1

    assert main(["refresh", "--since", "2d", "-c", str(config)]) == 0
    assert "0 articles revised, 2 unchanged" in capsys.readouterr().out


EXTRA_COMPANY = "此外，恒瑞医药（600276）同日公告，拟在上海新建研发中心，预计总投资12.5亿元。"


@pytest.mark.parametrize("first", ["copy", "original"])
def test_a_storys_securities_are_those_of_all_its_copies_whichever_came_first(tmp_path, capsys, first):
    """A reprint that cut the paragraph naming 恒瑞医药: the post keeps the first version's body, but its
    securities are the union of both copies', in either order, in the file and in the index."""
    base = company_story(104)
    assert "恒瑞医药" not in base
    with LocalServer() as server:
        server.route("/a/1.html", Reply.text(article_page("隆基绿能三季报：营收稳步增长", paras(f"{base}\n\n{EXTRA_COMPANY}"))))
        server.route("/b/1.html", Reply.text(article_page("隆基绿能三季报：营收稳步增长（转载）", paras(base))))
        server.route("/a/feed.xml", Reply(body=rss("A", [Item("隆基绿能三季报：营收稳步增长", server.url("/a/1.html"))]),
                                          headers=RSS))
        server.route("/b/feed.xml", Reply(body=rss("B", [Item("隆基绿能三季报：营收稳步增长（转载）",
                                                             server.url("/b/1.html"))]), headers=RSS))
        original = FeedConfig(server.url("/a/feed.xml"), "A－公司", "A财经")
        copy = FeedConfig(server.url("/b/feed.xml"), "B－转载", "B时报")
        write_config(tmp_path, [copy if first == "copy" else original])
        assert main(["once", "-c", str(tmp_path / "feeds.yaml")]) == 0
        config = write_config(tmp_path, [original, copy])
        assert main(["once", "-c", str(config)]) == 0
    (front, body, _), = posts(tmp_path / "archive")
    assert ("恒瑞医药" in body) == (first == "original")  # the first version's body stands
    assert front["tickers"] == ["600276.SH", "601012.SH"]
    assert front["tags"] == (["601012.SH", "600276.SH"] if first == "copy" else ["600276.SH", "601012.SH"])
    assert sorted(front["companies"]) == ["恒瑞医药", "隆基绿能"]
    assert list(front).index("companies") < list(front).index("link")
    capsys.readouterr()
    assert main(["grep", "--ticker", "600276.SH", "-c", str(config)]) == 0
    assert capsys.readouterr().out.count("\n") == 1
