"""A news site with a history, for backfill tests: stories on a LocalServer, and feeds and sitemaps that list
them the ways real sites do.

    site = History(server, 12)                               # 12 stories, newest first, six hours apart
    site.rss("/feed.xml", per_page=5)                        # RSS 2.0 paged with atom:link rel="next"
    site.atom("/feed.atom", per_page=5, rel="prev-archive")  # RFC 5005 archived feed
    site.json_feed("/feed.json", per_page=5)                 # JSON Feed next_url
    site.rss("/list.xml", per_page=5, rel=None)              # pages at ?page=N, linked from nowhere
    site.sitemap("/sitemap-1.xml", site.stories[:6], news=True, gzipped=True)
    site.sitemap_index("/sitemap.xml", ["/sitemap-1.xml", ...])

Every story has text of its own (the crawler deduplicates by content). Its page carries no date, so a date
in the archive comes from the feed or sitemap that listed it.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from typing import Sequence

from tests.support.server import LocalServer, Reply

CST = timezone(timedelta(hours=8))
NEWEST = datetime(2022, 2, 9, 11, 10, 19, tzinfo=CST)
_SUBJECTS = ["国家统计局", "人民银行", "证监会", "财政部", "商务部", "发改委", "银保监会", "外汇局", "海关总署"]


@dataclass(frozen=True)
class Story:
    n: int
    path: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime


def story_paragraphs(n: int) -> tuple[str, ...]:
    subject = _SUBJECTS[n % len(_SUBJECTS)]
    return (
        f"{subject}第{n}号通报称，今年以来国民经济持续恢复，主要指标保持在合理区间，第{n}季度数据好于预期。",
        f"分析人士指出，编号{n * 7 + 3}的政策工具将继续发力，稳增长、稳就业和稳物价的任务依然艰巨。",
        f"{subject}表示，下一步将加大对实体经济的支持力度，确保第{n}项重点工程按期推进，预计投资{n + 12}亿元。",
    )


def story_page(story: Story) -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(story.title)}_财经网</title>
<meta property="og:title" content="{escape(story.title)}"></head><body>
<div class="nav"><a href="/">首页</a> <a href="/stock">股票</a></div>
<div class="main"><h1>{escape(story.title)}</h1><div class="article" id="artibody">{body}
<p>责任编辑：王翔</p></div></div><div class="footer">Copyright 财经网</div></body></html>"""


class History:
    def __init__(self, server: LocalServer, count: int, *, step: timedelta = timedelta(hours=6)):
        self.server = server
        self.step = step
        self.stories: list[Story] = []
        self.add(count, first=1)

    def add(self, count: int, *, first: int, newer: bool = False) -> list[Story]:
        """`count` more stories numbered from `first`: older than the oldest, or with `newer` published since
        the newest. Returns them, newest first."""
        if newer:
            times = [self.stories[0].published + self.step * (count - i) for i in range(count)]
        elif self.stories:
            times = [self.stories[-1].published - self.step * (i + 1) for i in range(count)]
        else:
            times = [NEWEST - self.step * i for i in range(count)]
        made = []
        for i, when in enumerate(times):
            n = first + i
            story = Story(n, f"/news/{n}.html", f"第{n}号通报：国民经济持续恢复", story_paragraphs(n), when)
            self.server.route(story.path, Reply.text(story_page(story)))
            made.append(story)
        self.stories = made + self.stories if newer else self.stories + made
        return made

    def url(self, story_or_path: Story | str) -> str:
        return self.server.url(story_or_path.path if isinstance(story_or_path, Story) else story_or_path)

    def pages(self, per_page: int) -> list[list[Story]]:
        return [self.stories[i:i + per_page] for i in range(0, len(self.stories), per_page)] or [[]]

    # --- feeds -----------------------------------------------------------------------------------------

    def rss(self, path: str, per_page: int, *, rel: str | None = "next", link_path: str | None = None,
            pages: int | None = None, empty_page_after: bool = True) -> None:
        """RSS 2.0 at `path`, older pages at `path?page=N`, linked with atom:link `rel` (None: not linked) to
        `link_path?page=N` (default `path`). Only the first `pages` pages are served, if given. Without
        links, the page after the last one answers with an empty feed, as such servers do."""
        all_pages = self.pages(per_page)
        for number, stories in enumerate(all_pages[:pages], 1):
            link = ""
            if rel and number < len(all_pages):
                href = self.url(f"{link_path or path}?page={number + 1}")
                link = f'<atom:link rel="{rel}" href="{escape(href)}"/>'
            items = "".join(f"""<item><title>{escape(s.title)}</title><link>{escape(self.url(s))}</link>
<guid isPermaLink="false">story-{s.n}</guid><pubDate>{format_datetime(s.published)}</pubDate>
<description>{escape(s.paragraphs[0][:40])}</description></item>""" for s in stories)
            self._route_page(path, number, f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>财经网</title>
<link>{self.url("/")}</link><description>x</description>{link}{items}</channel></rss>""".encode(),
                             "application/rss+xml")
        if empty_page_after and pages is None:
            self._route_page(path, len(all_pages) + 1, b'<?xml version="1.0"?><rss version="2.0"><channel>'
                             b"<title>x</title><link>http://x/</link><description>x</description></channel></rss>",
                             "application/rss+xml")

    def atom(self, path: str, per_page: int, *, rel: str = "next") -> None:
        pages = self.pages(per_page)
        for number, stories in enumerate(pages, 1):
            link = ""
            if number < len(pages):
                link = f'<link rel="{rel}" href="{escape(self.url(f"{path}?page={number + 1}"))}"/>'
            entries = "".join(f"""<entry><id>tag:finance.example,2022:{s.n}</id><title>{escape(s.title)}</title>
<link rel="alternate" href="{escape(self.url(s))}"/><published>{s.published.isoformat()}</published>
<updated>{s.published.isoformat()}</updated><summary>{escape(s.paragraphs[0][:40])}</summary></entry>"""
                              for s in stories)
            self._route_page(path, number, f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>财经网</title><id>urn:x</id><updated>{NEWEST.isoformat()}</updated>
{link}{entries}</feed>""".encode(), "application/atom+xml")

    def json_feed(self, path: str, per_page: int) -> None:
        pages = self.pages(per_page)
        for number, stories in enumerate(pages, 1):
            document = {"version": "https://jsonfeed.org/version/1.1", "title": "Wire", "items": [
                {"id": f"w-{s.n}", "url": self.url(s), "title": s.title, "date_published": s.published.isoformat()}
                for s in stories]}
            if number < len(pages):
                document["next_url"] = self.url(f"{path}?page={number + 1}")
            self._route_page(path, number, json.dumps(document, ensure_ascii=False).encode(), "application/feed+json")

    def _route_page(self, path: str, number: int, body: bytes, content_type: str) -> None:
        self.server.route(path if number == 1 else f"{path}?page={number}",
                          Reply(body=body, headers={"Content-Type": content_type}))

    # --- sitemaps --------------------------------------------------------------------------------------

    def sitemap(self, path: str, stories: Sequence[Story], *, news: bool = False, gzipped: bool = False,
                publication: str = "财经网", titles: dict[int, str] | None = None) -> None:
        entries = []
        for s in stories:
            extra = ""
            if news:
                title = (titles or {}).get(s.n, s.title)
                extra = (f"<news:news><news:publication><news:name>{escape(publication)}</news:name>"
                         "<news:language>zh</news:language></news:publication>"
                         f"<news:publication_date>{s.published.isoformat()}</news:publication_date>"
                         f"<news:title>{escape(title)}</news:title></news:news>")
            entries.append(f"<url><loc>{escape(self.url(s))}</loc><lastmod>{s.published.isoformat()}</lastmod>"
                           f"{extra}</url>")
        body = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{"".join(entries)}</urlset>').encode()
        if gzipped:
            self.server.route(path, Reply(body=gzip.compress(body), headers={"Content-Type": "application/gzip"}))
        else:
            self.server.route(path, Reply(body=body, headers={"Content-Type": "application/xml"}))

    def sitemap_index(self, path: str, children: Sequence[str | tuple[str, datetime]]) -> None:
        items = []
        for child in children:
            child_path, lastmod = child if isinstance(child, tuple) else (child, None)
            stamp = f"<lastmod>{lastmod.isoformat()}</lastmod>" if lastmod else ""
            items.append(f"<sitemap><loc>{escape(self.url(child_path))}</loc>{stamp}</sitemap>")
        body = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
                f'sitemap/0.9">{"".join(items)}</sitemapindex>').encode()
        self.server.route(path, Reply(body=body, headers={"Content-Type": "application/xml"}))

    # --- what the server saw ---------------------------------------------------------------------------

    def story_hits(self) -> dict[int, int]:
        """Story number → requests for its page (any query string)."""
        return {s.n: self.server.hits(s.path) for s in self.stories}

    def targets(self, prefix: str) -> list[str]:
        return [r.target for r in self.server.requests if r.target.startswith(prefix)]
