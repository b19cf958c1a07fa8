"""Titles, authors, tags and feed names that attack the archive, through a real `crawler once`: every file
stays inside `archive.dir` with safe path components, and the front matter reads back exactly.

JSON Feed carries the hostile text: unlike XML it can hold NUL and every other control character. The
configuration's category, source and feed names are hostile too.
"""
from __future__ import annotations

import os
from html import escape

import pytest

from crawler.archive import clean_title, is_safe_component
from tests.support.crawler_process import check_archive, run_crawler, visible_files
from tests.support.server import LocalServer, Reply
from tests.support.site import FeedConfig, article_page, json_feed, paragraphs, state_db, write_config

TITLES = [
    "../../../../etc/passwd",
    "/absolute/path/to/file",
    "C:\\Windows\\System32\\drivers",
    "..",
    ".",
    "...",
    "CON",
    "nul.txt",
    "LPT1 ",
    "null\x00byte",
    "controls \x01\x02\x1b[31mred\x7f and C1 \x85\x9b",
    "bidi \u202eevil.exe\u202c and \u2066isolate\u2069",
    "line\nbreak\r\nand\u2028separator\u2029",
    "---\ninjected: true\n---",
    "title: value",
    "key: [a, b]  # comment",
    "!!python/object/apply:os.system ['id']",
    "&anchor *alias",
    "{{ page.title }} {% raw %} {# comment #}",
    "yes",
    "No",
    "on",
    "null",
    "~",
    "1e3",
    "0o17",
    "0x1F",
    ".inf",
    "2022-02-09 11:10:19",
    "- list item",
    "> folded",
    "| literal",
    "@at `backtick`",
    "%percent #hash ?query",
    "A" * 500,
    "长" * 500,
    "emoji 📈📉👨‍👩‍👧 flag 🇨🇳🇭🇰",
    "_drafts",
    ".hidden",
    "<script>alert(1)</script>",
    "\ufeffbyte order mark",
    "zero\u200bwidth\u200djoiner",
    "’smart’ “quotes” …",
    "tab\there",
    "",
    "   ",
    "\x00\x01",
    "\u202e\u2066\u2069\u202c",
]
AUTHORS = ["作者：王爱文\n记者 李明", "By <b>Jane</b> Doe\x00", "---", "yes", "\u202eevil", "{{ author }}"]
TAGS = ["tag: one", "---", "yes", "\u202e", "line\nbreak", "{{ x }}", "", "  ", "CON", "yes"]
CATEGORY, SOURCE, NAME = "..", "CON", "../../etc/_posts/.git"
MARKUP_DROPPED = {"<script>alert(1)</script>": "alert(1)"}
BODY_TRAP = "---\ntitle: hacked\ncomments: true\n---\n{{ site.data }} {% include secrets %}"


def page_title(n: int) -> str:
    return f"页面上的标题第{n}号"


class HostileTitles:
    def __init__(self, server: LocalServer):
        items = []
        self.expected_titles: dict[str, str] = {}
        for n, title in enumerate(TITLES):
            link = server.url(f"/t/{n}.html")
            paras = paragraphs(n) + [BODY_TRAP]
            server.route(f"/t/{n}.html", Reply.text(article_page(page_title(n), paras)))
            items.append({"id": f"t-{n}", "url": link, "title": title, "date_published": "2022-02-09T11:10:19+08:00",
                          "authors": [{"name": AUTHORS[n % len(AUTHORS)]}], "tags": TAGS,
                          "summary": escape(BODY_TRAP)})
            # A title that is nothing once cleaned gives way to the page's; markup in a title is dropped.
            self.expected_titles[link] = MARKUP_DROPPED.get(title) or clean_title(title) or page_title(n)
        server.route("/feed.json", Reply(body=json_feed(items), headers={"Content-Type": "application/feed+json"}))
        self.feeds = [FeedConfig(server.url("/feed.json"), NAME, source=SOURCE, category=CATEGORY)]


@pytest.fixture(scope="module")
def titles_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile-titles")
    with LocalServer() as server:
        site = HostileTitles(server)
        config = write_config(tmp, site.feeds)
        first = run_crawler(["once", "-c", str(config)])
        files_after_first = {p: p.read_bytes() for p in visible_files(tmp / "archive")}
        second = run_crawler(["once", "-c", str(config)])
        yield dict(site=site, tmp=tmp, first=first, second=second, files_after_first=files_after_first,
                   posts=check_archive(tmp / "archive", state_db(tmp)))


def test_every_title_is_archived_once(titles_run):
    assert titles_run["first"].returncode == 0, titles_run["first"].stderr
    assert titles_run["first"].errors() == []
    assert set(titles_run["posts"]) == set(titles_run["site"].expected_titles)


def test_titles_read_back_exactly(titles_run):
    for link, post in titles_run["posts"].items():
        assert post.front["title"] == titles_run["site"].expected_titles[link]


def test_every_file_stays_inside_the_archive_with_safe_names(titles_run):
    tmp = titles_run["tmp"]
    root = (tmp / "archive").resolve()
    for directory, _, files in os.walk(tmp):
        for name in files:
            path = os.path.join(directory, name)
            assert path.startswith((str(root) + os.sep, str(tmp / "state") + os.sep)) or path == str(tmp / "feeds.yaml")
    for post in titles_run["posts"].values():
        parts = post.path.resolve().relative_to(root).parts
        assert all(is_safe_component(part) for part in parts), parts
        assert parts[0] == "untitled" and parts[1] == "CON_"  # ".." and "CON" made harmless
        assert len(parts) == 6


def test_categories_authors_and_tags_read_back_clean(titles_run):
    for post in titles_run["posts"].values():
        front = post.front
        assert front["categories"] == [clean_title(CATEGORY), clean_title(SOURCE), clean_title(NAME)]
        assert front["source"] == "CON"
        assert front["tags"] == ["tag: one", "---", "yes", "line break", "{{ x }}", "CON"]
        author = front.get("author")
        assert author is None or (author == clean_title(author) and author)


def test_the_body_cannot_rewrite_the_front_matter(titles_run):
    for post in titles_run["posts"].values():
        assert post.front["comments"] is False and post.front["disableNunjucks"] is True
        assert "hacked" not in str(post.front.get("title"))
        assert "{{ site.data }}" in post.body and "{% include secrets %}" in post.body


def test_a_second_run_changes_nothing(titles_run):
    second = titles_run["second"]
    assert second.returncode == 0 and second.errors() == []
    tmp = titles_run["tmp"]
    now = {p: p.read_bytes() for p in visible_files(tmp / "archive")}
    assert now == titles_run["files_after_first"]


def test_memory_stays_bounded(titles_run):
    assert titles_run["first"].peak_rss_mb < 300 and titles_run["first"].peak_session_process_mb < 300
