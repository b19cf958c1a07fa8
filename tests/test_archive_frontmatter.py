"""Post files: front matter Hexo reads as written, values that read back exactly, a body that cannot break out."""
from __future__ import annotations

import random
import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from crawler.archive import clean_title, local_time, parse_post, render_post, rewrite_post
from crawler.errors import ArchiveError
from crawler.models import Article

SHANGHAI = ZoneInfo("Asia/Shanghai")
BEIJING_TIME = timezone(timedelta(hours=8))
FEED = ("财经", "路透", "市场")


def make_article(**changes: object) -> Article:
    article = Article(
        link="https://example.com/news/1",
        title="美联储宣布加息25个基点",
        published=datetime(2022, 2, 9, 11, 10, 19, tzinfo=BEIJING_TIME),
        author=None,
        source="路透",
        image=None,
        body="正文第一段。\n\n第二段。\n",
        extracted_from="page",
        feed_url="https://example.com/feed.xml",
        category_path=FEED,
    )
    return replace(article, **changes)


def front_matter_lines(text: str) -> list[str]:
    return text.split("\n---\n", 1)[0].splitlines()[1:]


# Each must come back exactly: none has controls or whitespace runs that clean_title would change.
HOSTILE_TITLES = [
    "It's \"quoted\" and 'single'",
    "key: value",
    "a: b: c",
    "# not a comment",
    "tag #inline",
    "| literal",
    "> folded",
    "---",
    "--- leading rule",
    "...",
    "{{ page.title }}",
    "{% raw %}{{ x }}{% endraw %}",
    "!!python/object/apply:os.system ['rm -rf /']",
    "!tag value",
    "&anchor value",
    "*alias",
    "%YAML 1.2",
    "@mention",
    "`backticks`",
    "[flow, list]",
    "{flow: map}",
    "- dash item",
    "? question",
    "<<",
    "=",
    "emoji 🚀📈 and family 👨\u200d👩\u200d👧",
    "全角标点：“引号”，（括号）！？",
    "Ｆｕｌｌｗｉｄｔｈ ＡＳＣＩＩ",
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "null",
    "Null",
    "~",
    "",
    "1e3",
    "1.5e3",
    "0x10",
    "0o17",
    "0b101",
    "017",
    "1_000",
    "+12",
    "-1",
    ".5",
    ".inf",
    "-.Inf",
    ".NaN",
    "3.14",
    "2022-02-09",
    "2022-02-09 11:10:19",
    "2022-02-09T11:10:19+08:00",
    "12:30:45",
    "a\\b \\n not an escape",
    "trailing backslash\\",
    "x" * 500,
    "美" * 500,
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_read_back_exactly(title):
    assert clean_title(title) == title
    text = render_post(make_article(title=title), [FEED], SHANGHAI)
    front, _ = parse_post(text)
    assert front["title"] == title
    assert yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))["title"] == title
    lines = front_matter_lines(text)
    assert lines[0].startswith("title:") and lines[1].startswith("date:")  # one line, however long
    assert not any(line.startswith("---") for line in lines)


@pytest.mark.parametrize("value", ["1e3", "1.5e3", "0o17", "0x10", "0b101", "1_000", "+12", ".5", "-.inf", "yes", "~"])
def test_strings_yaml_1_2_would_read_as_numbers_are_quoted(value):
    # PyYAML (YAML 1.1) reads `1e3` as a string, but Hexo's js-yaml (YAML 1.2) would read 1000.
    text = render_post(make_article(title=value, tags=(value,)), [FEED], SHANGHAI)
    lines = front_matter_lines(text)
    assert f"title: '{value}'" in lines
    assert f"- '{value}'" in lines


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  padded  ", "padded"),
        ("line\nbreaks\r\nand\ttabs", "line breaks and tabs"),
        ("many     spaces\u3000ideographic\u00a0nbsp", "many spaces ideographic nbsp"),
        ("nul\x00bell\x07esc\x1bdel\x7fc1\x9f", "nulbellescdelc1"),
        ("\u202eevil\u202c \u2066iso\u2069", "evil iso"),
        ("title\n---\nnext", "title --- next"),
        ("lone \udc80surrogate", "lone surrogate"),
        ("全角：保留！ 😀", "全角：保留！ 😀"),
        ("\u2028\u2029\x85", ""),
    ],
)
def test_clean_title(raw, clean):
    assert clean_title(raw) == clean


def test_clean_title_removes_exactly_the_non_space_controls_surrogates_and_bidi_controls():
    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    for code in [*range(0x10000), 0x1F600, 0xE0001, 0x10FFFF]:
        ch = chr(code)
        removed = unicodedata.category(ch) in ("Cc", "Cs") or ch in bidi
        expected = "" if ch.isspace() or removed else ch
        assert clean_title(ch) == expected, f"U+{code:04X}"
        if not ch.isspace():
            assert clean_title(f"a{ch}b") == ("ab" if removed else f"a{ch}b"), f"U+{code:04X}"


def test_front_matter_keys_come_in_order_with_every_optional_key():
    article = make_article(
        author="张三",
        tags=("美联储", "利率"),
        image="https://example.com/lead.jpg",
        extracted_from="feed",
    )
    text = render_post(
        article,
        [FEED, ("宏观", "路透", "央行")],
        SHANGHAI,
        syndicated=["https://m.example.com/news/1"],
        extra={"word_count": 1200, "updated": datetime(2022, 2, 10, 8, 0, tzinfo=BEIJING_TIME)},
    )
    front, _ = parse_post(text)
    assert list(front) == [
        "title", "date", "published", "updated", "author", "source", "categories", "tags", "link", "syndicated",
        "feed", "headimg", "thumbnail", "comments", "disableNunjucks", "extracted_from", "word_count",
    ]
    assert front == {
        "title": "美联储宣布加息25个基点",
        "date": "2022-02-09 11:10:19",
        "published": "2022-02-09T11:10:19+08:00",
        "updated": "2022-02-10 08:00:00",
        "author": "张三",
        "source": "路透",
        "categories": [["财经", "路透", "市场"], ["宏观", "路透", "央行"]],
        "tags": ["美联储", "利率"],
        "link": "https://example.com/news/1",
        "syndicated": ["https://m.example.com/news/1"],
        "feed": "https://example.com/feed.xml",
        "headimg": "https://example.com/lead.jpg",
        "thumbnail": "https://example.com/lead.jpg",
        "comments": False,
        "disableNunjucks": True,
        "extracted_from": "feed",
        "word_count": 1200,
    }


def test_optional_keys_are_left_out_when_empty():
    front, _ = parse_post(render_post(make_article(author="  ", tags=("", " ")), [FEED], SHANGHAI, syndicated=[""]))
    assert list(front) == [
        "title", "date", "published", "source", "categories", "link", "feed", "comments", "disableNunjucks",
    ]


def test_date_is_naive_in_the_archive_zone_and_published_keeps_the_offset():
    new_york = timezone(timedelta(hours=-5))
    article = make_article(published=datetime(2022, 2, 8, 22, 10, 19, 999_999, tzinfo=new_york))
    text = render_post(article, [FEED], SHANGHAI)
    lines = front_matter_lines(text)
    assert "date: 2022-02-09 11:10:19" in lines  # plain, as `hexo new` writes it: Hexo reads it in `timezone`
    assert "published: '2022-02-08T22:10:19-05:00'" in lines  # quoted: Hexo must not turn it into a Date
    # What a YAML 1.1 loader such as Hexo's sees: a naive timestamp, no offset to shift by.
    generic = yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))
    assert generic["date"] == datetime(2022, 2, 9, 11, 10, 19) and generic["date"].tzinfo is None
    assert generic["published"] == "2022-02-08T22:10:19-05:00"


def test_date_follows_the_archive_zone():
    article = make_article(published=datetime(2022, 2, 9, 3, 10, 19, tzinfo=timezone.utc))
    assert parse_post(render_post(article, [FEED], ZoneInfo("UTC")))[0]["date"] == "2022-02-09 03:10:19"
    assert parse_post(render_post(article, [FEED], SHANGHAI))[0]["date"] == "2022-02-09 11:10:19"


def test_naive_publication_dates_are_refused():
    with pytest.raises(ValueError, match="no UTC offset"):
        render_post(make_article(published=datetime(2022, 2, 9, 11, 10, 19)), [FEED], SHANGHAI)


def test_local_time_drops_offset_and_fraction():
    moment = datetime(2022, 1, 31, 20, 0, 0, 500, tzinfo=timezone(timedelta(hours=-5)))
    assert local_time(moment, SHANGHAI) == datetime(2022, 2, 1, 9, 0, 0)


def test_one_feed_gives_a_flat_category_list_and_duplicates_are_dropped():
    front, _ = parse_post(render_post(make_article(), [FEED, FEED], SHANGHAI))
    assert front["categories"] == ["财经", "路透", "市场"]


def test_no_feed_at_all_is_refused():
    with pytest.raises(ValueError, match="at least one feed"):
        render_post(make_article(), [], SHANGHAI)


def test_syndicated_leaves_out_the_link_itself_and_duplicates():
    urls = ["https://example.com/news/1", "https://a.example/1", "https://a.example/1", "https://b.example/1"]
    front, _ = parse_post(render_post(make_article(), [FEED], SHANGHAI, syndicated=urls))
    assert front["syndicated"] == ["https://a.example/1", "https://b.example/1"]
    front, _ = parse_post(render_post(make_article(), [FEED], SHANGHAI, syndicated=["https://example.com/news/1"]))
    assert "syndicated" not in front


@pytest.mark.parametrize("key", ["title", "author", "comments"])  # author: even when the article has none
def test_extra_may_not_replace_a_standard_key(key):
    with pytest.raises(ValueError, match=key):
        render_post(make_article(), [FEED], SHANGHAI, extra={key: "other"})


def test_multi_line_extra_values_stay_on_one_line():
    note = "first\n---\nsecond\r\nthird\u2028fourth"
    text = render_post(make_article(), [FEED], SHANGHAI, extra={"note": note})
    assert 'note: "first\\n---\\nsecond\\r\\nthird\\Lfourth"' in front_matter_lines(text)
    assert parse_post(text)[0]["note"] == note


def test_random_strings_read_back_exactly_in_every_field():
    pool = list(" \t\n\r'\"\\:#|>-{}[]!&*%@`~,?=<.0123456789eExXoO+_aZ美：😀\u2028\x85\ufeff\u00a0") + [
        "---", "...", "yes", "null", "{{", "{%", "\x00", "\u202e",
    ]
    rng = random.Random(42)
    for _ in range(500):
        values = ["".join(rng.choice(pool) for _ in range(rng.randrange(0, 12))) for _ in range(4)]
        article = make_article(title=values[0], author=values[1] or None, tags=(values[2],))
        text = render_post(article, [FEED], SHANGHAI, extra={"raw": values[3]})
        front, body = parse_post(text)
        assert front["title"] == clean_title(values[0])
        assert front.get("author", "") == clean_title(values[1])
        assert front.get("tags", []) == ([clean_title(values[2])] if clean_title(values[2]) else [])
        assert front["raw"] == values[3]
        assert body == article.body
        assert not any(line.startswith("---") for line in front_matter_lines(text))


# --- the body and parse_post ----------------------------------------------------------------------------


def test_body_cannot_close_or_rewrite_the_front_matter():
    body = "---\ntitle: forged\ndate: 1999-01-01\n---\n\nreal text\n---\n"
    front, parsed_body = parse_post(render_post(make_article(body=body), [FEED], SHANGHAI))
    assert front["title"] == "美联储宣布加息25个基点"
    assert front["date"] == "2022-02-09 11:10:19"
    assert parsed_body == body


def test_body_gets_a_final_newline():
    assert parse_post(render_post(make_article(body="no newline"), [FEED], SHANGHAI))[1] == "no newline\n"
    assert render_post(make_article(body=""), [FEED], SHANGHAI).endswith("---\n\n")


def test_parse_post_splits_on_the_first_closing_line():
    front, body = parse_post("---\na: 1\n---\nb: 2\n---\nbody")
    assert front == {"a": 1}
    assert body == "b: 2\n---\nbody"


def test_parse_post_accepts_an_empty_front_matter():
    assert parse_post("---\n---\nbody\n") == ({}, "body\n")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "does not start with '---'"),
        ("title: x\n", "does not start with '---'"),
        ("---\ntitle: x\n", "not closed"),
        ("---\ntitle: x\n----\nbody", "not closed"),
        ("---\ntitle: [unclosed\n---\n", "not valid YAML"),
        ("---\n- a\n- b\n---\n", "not a mapping"),
        ("---\njust text\n---\n", "not a mapping"),
        ("---\nx: !!python/object/apply:os.system ['true']\n---\n", "not valid YAML"),
        ("---\ntitle: a\ud800b\n---\n", "lone surrogate|not valid YAML"),
    ],
)
def test_parse_post_reports_malformed_files_in_one_line(text, reason):
    with pytest.raises(ArchiveError, match=reason) as caught:
        parse_post(text)
    assert "\n" not in str(caught.value)


TRICKY = ["民政部：基本公共服务", "yes", "1e3", "0o17", "---", "a: b", "line\nbreak", "\u2028sep", "tab\there",
          "{{ x }}", "!!python/object", "'quoted'", '"dq"', "x" * 300, "#hash", "@at", "null", "~", "", " lead",
          "trail ", "\x85nel", "\ufeffbom", "\u200bzw", "C:\\Users"]


@pytest.mark.parametrize("value", TRICKY)
def test_libyaml_and_pure_python_dumpers_write_the_same_front_matter(value):
    from crawler.archive.frontmatter import _dump, _FastFrontMatterDumper, _FrontMatterDumper

    front = {"title": value, "tags": [value, "x"], "comments": False}
    assert _dump(front, _FastFrontMatterDumper) == _dump(front, _FrontMatterDumper)


def test_emoji_are_written_as_they_are_not_escaped():
    from crawler.archive.frontmatter import _post_text

    assert _post_text({"title": "大涨 🚀 收官"}, "正文").startswith("---\ntitle: 大涨 🚀 收官\n")


USER_EDITED = """---
title: 'It''s edited'   # a comment
date: 2022-02-09 11:10:19
published: 2022-02-09T11:10:19+08:00
categories: [金融, "新浪财经", 新浪财经－国內]
tags:
  - &code 600519.SH
  - *code
summary: |
  two
  lines
note: >-
  folded
  text
empty:
count: 0x1F
flag: yes
---
body
"""


def test_posts_read_by_libyaml_give_what_the_pure_python_parser_gives():
    from crawler.archive.frontmatter import _PostLoader

    class PurePythonPostLoader(yaml.SafeLoader):
        yaml_implicit_resolvers = _PostLoader.yaml_implicit_resolvers

    def pure(text: str) -> dict:
        return yaml.load(text.split("\n---\n", 1)[0].removeprefix("---\n"), Loader=PurePythonPostLoader)

    rng = random.Random(7)
    pool = list(" \t\n'\"\\:#|>-{}[]!&*%@`~,?.0123456789eE美😀\u2028\x85\ufeff") + ["---", "yes", "null", "\x00"]
    texts = [render_post(make_article(title=value, tags=(value,)), [FEED], SHANGHAI, extra={"raw": value})
             for value in TRICKY + ["".join(rng.choice(pool) for _ in range(12)) for _ in range(300)]]
    for text in texts + [USER_EDITED]:
        assert parse_post(text)[0] == pure(text)
    assert parse_post(USER_EDITED)[0]["published"] == "2022-02-09T11:10:19+08:00"  # timestamps stay text


def test_a_rewrite_adds_a_copys_securities_where_a_new_post_would_have_them():
    plain = render_post(make_article(tags=("公司",)), [FEED], SHANGHAI)
    rewritten = rewrite_post(plain, [FEED], [], ["601012.SH", "00700.HK"], ["隆基绿能", "腾讯控股"])
    front, body = parse_post(rewritten)
    expected, expected_body = parse_post(render_post(
        make_article(tags=("公司",), tickers=("00700.HK", "601012.SH"), companies=("隆基绿能", "腾讯控股")),
        [FEED], SHANGHAI))
    assert front == expected and list(front) == list(expected) and body == expected_body

    again, _ = parse_post(rewrite_post(rewritten, [FEED], [], ["600519.SH", "601012.SH"], ["贵州茅台", "隆基绿能"]))
    assert again["tickers"] == ["00700.HK", "600519.SH", "601012.SH"]  # sorted, each once
    assert again["tags"] == ["公司", "00700.HK", "601012.SH", "600519.SH"]  # a new code goes last
    assert again["companies"] == ["隆基绿能", "腾讯控股", "贵州茅台"]


def test_a_rewrite_reads_hand_edited_securities_given_without_a_list():
    text = render_post(make_article(), [FEED], SHANGHAI).replace("source: 路透\n", "source: 路透\ntags: 宏观\n"
                                                                  "tickers: 600519.SH\ncompanies: 贵州茅台\n")
    front, _ = parse_post(rewrite_post(text, [FEED], [], ["600519.SH", "AAPL"], ["贵州茅台", "Apple"]))
    assert front["tags"] == ["宏观", "AAPL"]
    assert front["tickers"] == ["600519.SH", "AAPL"]
    assert front["companies"] == ["贵州茅台", "Apple"]
