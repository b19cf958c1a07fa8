"""What makes Chinese pages come out right without a site rule: bylines and sources kept out of the body but
used for metadata, dates in Chinese formats and their time zone, titles without the site's name, pages laid
out as tables. Every page here is written for the test, in the shapes Chinese sites use."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawler.extract.article import extract_page
from crawler.extract.boilerplate import clean_body
from crawler.extract.metadata import _year_first
from crawler.extract.bylines import (Credit, author_names, labelled_credits, looks_like_chinese_name,
                                     parse_credit_line, parse_dateline, parse_posted_by, trailing_credit)

CHINA = timezone(timedelta(hours=8))
URL = "https://news.example.cn/2022/0209/article-7.html"
PARAS = [
    "今年以来，多地出台稳增长举措，重点项目加快开工，基础设施投资增速明显回升，带动相关产业链订单增长。",
    "业内人士表示，随着专项债发行提速，一季度基建投资有望保持较快增长，水泥、工程机械等行业将率先受益。",
    "不过也有分析人士提醒，地方财政收支压力仍然较大，项目资金到位情况和实物工作量形成仍需持续观察。",
]
EN_PARAS = [
    "Oil prices held steady on Monday as traders weighed signs of a slower recovery in fuel demand.",
    "Analysts said inventories in the United States fell for a fifth straight week while refinery runs rose.",
]


def page(body: str, head: str = "", *, charset: str = "utf-8") -> bytes:
    return f'<html><head><meta charset="{charset}">{head}</head><body>{body}</body></html>'.encode(charset)


def paragraphs(paras: list[str] = PARAS) -> str:
    return "".join(f"<p>\u3000\u3000{p}</p>" for p in paras)


# --- credit lines -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("line, credits", [
    ("作者:qingshui 阅读(2046) 评论(7) 编辑 发表于:2019-03-21 09:30",
     [Credit("author", "qingshui 编辑"), Credit("date", "2019-03-21 09:30")]),
    ("执笔人：周立文 孙雨桐", [Credit("author", "周立文 孙雨桐")]),
    ("整合 江南日报·潮头记者 陈明远", [Credit("author", "陈明远")]),
    ("发文机关：某某市人民政府 成文日期：2022年01月27日",
     [Credit("author", "某某市人民政府"), Credit("date", "2022年01月27日")]),
    ("河洛晚报记者杨晓林/文 受访者供图", [Credit("author", "杨晓林/文 受访者供图")]),
])
def test_more_credit_lines(line: str, credits: list[Credit]) -> None:
    assert parse_credit_line(line) == credits


@pytest.mark.parametrize("line", [
    "记者博客",  # a link to the reporters' blogs, not a byline: no colon, no surname
    "记者获悉",
    "作者 认为",
    "By the way, stocks rose.",
])
def test_labels_without_a_name_are_not_bylines(line: str) -> None:
    assert parse_credit_line(line) is None


def test_a_byline_without_colon_needs_a_surname_but_one_with_a_colon_takes_a_pen_name() -> None:
    assert parse_credit_line("记者 杨晓林") == [Credit("author", "杨晓林")]
    assert parse_credit_line("作者：小城故事") == [Credit("author", "小城故事")]
    assert parse_credit_line("作者 小城故事") is None


@pytest.mark.parametrize("line, name", [
    ("〓 娱乐论坛 明星话题 发布时间 2005/03/15 22:36:13 by lanse 〓", "lanse"),
    ("Posted by Jane Doe at 10:56 AM", "Jane Doe"),
    ("发表于 2019-03-21 09:30 by 杨晓林", "杨晓林"),
    ("The deal was signed at 10:30 by Reuters.", None),
    ("Photo by AP", None),
    ("Updated 10:30 by staff", None),
])
def test_the_poster_in_a_blog_or_forum_footer(line: str, name: str | None) -> None:
    assert parse_posted_by(line) == ([Credit("author", name)] if name else None)


def test_labelled_authors_inside_a_longer_line() -> None:
    assert labelled_credits("连载：江南旧事 第三章 作者：罗晓东") == [Credit("author", "罗晓东")]
    assert labelled_credits("作者认为这一政策将在明年见效") == []


@pytest.mark.parametrize("paragraph, rest, credits", [
    ("稳增长政策持续发力。（记者 杨晓林）", "稳增长政策持续发力。", [Credit("author", "杨晓林")]),
    ("（周立文）", "", [Credit("author", "周立文")]),
    ("基建投资有望回升。（责任编辑：孙雨桐）", "基建投资有望回升。", [Credit("editor", "孙雨桐")]),
])
def test_a_bracketed_credit_closing_a_paragraph(paragraph: str, rest: str, credits: list[Credit]) -> None:
    assert trailing_credit(paragraph) == (rest, credits)


@pytest.mark.parametrize("paragraph", [
    "这是全文的最后一句。（完）",
    "油价周一持稳。（新华社）",  # an outlet, not a person: kept
    "Oil prices held steady. (Reuters)",
    "央行开展逆回购操作（图）",
])
def test_other_brackets_stay(paragraph: str) -> None:
    assert trailing_credit(paragraph) is None


@pytest.mark.parametrize("text, is_name", [
    ("杨晓林", True), ("周立文", True), ("欧阳明远", True), ("孙雨", True),
    ("新华社", False), ("央视网", False), ("黄金", False), ("财经频道", False), ("江南日报", False),
    ("关于", False), ("杨", False), ("杨晓林杨晓林", False), ("Jane", False),
])
def test_chinese_names_told_from_outlets_and_words(text: str, is_name: bool) -> None:
    assert looks_like_chinese_name(text) is is_name


def test_a_space_after_the_surname_is_one_person() -> None:
    assert author_names("钱 波") == ["钱波"]
    assert author_names("记者 杨晓林 周立文") == ["杨晓林", "周立文"]


@pytest.mark.parametrize("line, date", [
    ("Saturday, September 10th, 2005 10:56 am", "Saturday, September 10th, 2005 10:56 am"),
    ("Published March 3, 2021", "March 3, 2021"),
    ("3 March 2021, 17:05 GMT", "3 March 2021, 17:05 GMT"),
])
def test_english_date_lines(line: str, date: str) -> None:
    assert parse_dateline(line) == [Credit("date", date)]
    assert parse_dateline("March 3, 2021 was a turning point for markets.") is None


# --- bodies ---------------------------------------------------------------------------------------------


def test_credits_leave_the_body_and_are_handed_back() -> None:
    body = "\n\n".join(["周立文", PARAS[0], PARAS[1] + "（记者 杨晓林）", "责任编辑：孙雨桐"])
    cleaned = clean_body(body, chinese=True)
    assert cleaned.text == f"{PARAS[0]}\n\n{PARAS[1]}"
    assert cleaned.credits == (Credit("author", "周立文"), Credit("author", "杨晓林"), Credit("editor", "孙雨桐"))


def test_a_lone_name_above_the_text_is_a_byline_only_in_chinese_text() -> None:
    assert clean_body(f"周立文\n\n{PARAS[0]}", chinese=False).text.startswith("周立文")


def test_blog_footer_gives_author_and_date() -> None:
    body = (f"<h1>基建投资回升</h1>{paragraphs()}<div class='postfoot'>作者:qingshui 阅读(2046) "
            f"<a href='#c'>评论(7)</a> <a href='/edit'>编辑</a> 发表于:2019-03-21 09:30</div>")
    extracted = extract_page(page(body, "<title>基建投资回升 - qingshui的博客</title>"), "text/html", URL)
    assert extracted.author == "qingshui"
    assert "阅读" not in extracted.body and "qingshui" not in extracted.body


def test_a_name_alone_under_the_title_is_the_author() -> None:
    body = f"<p align=center><b>基建投资回升</b></p><hr><p>周立文<br><br>{PARAS[0]}</p>{paragraphs(PARAS[1:])}"
    extracted = extract_page(page(body, "<title>基建投资回升</title>"), "text/html", URL)
    assert extracted.author == "周立文"
    assert not extracted.body.startswith("周立文")


def test_the_source_named_as_a_person_and_the_editor_are_last_resorts() -> None:
    by_source = extract_page(page(f"<h1>基建投资回升</h1>{paragraphs()}<p>来源：杨晓林</p>"), "text/html", URL)
    assert by_source.author == "杨晓林"
    by_editor = extract_page(page(f"<h1>基建投资回升</h1>{paragraphs()}<p>（责任编辑：孙雨桐）</p>"), "text/html", URL)
    assert by_editor.author == "孙雨桐"
    outlet = extract_page(page(f"<h1>基建投资回升</h1>{paragraphs()}<p>来源：新华社</p>"), "text/html", URL)
    assert outlet.author is None


def test_japanese_pages_get_no_name_guessed_from_han_characters() -> None:
    text = "".join(f"<p>{p}</p>" for p in ["日本の株式市場は月曜日に上昇し、投資家は企業の決算発表を好感した。",
                                          "東京証券取引所では半導体関連の銘柄が買われ、日経平均株価は続伸した。"])
    extracted = extract_page(page(f"<h1>株価続伸</h1><p>尹錫悦</p>{text}"), "text/html", "https://example.jp/a")
    assert extracted.author is None


# --- dates ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("line, expected", [
    ("发布时间：2022年02月09日 11:10", datetime(2022, 2, 9, 11, 10, tzinfo=CHINA)),
    ("２０２２年０２月０９日 １１：１０ 来源：江南日报", datetime(2022, 2, 9, 11, 10, tzinfo=CHINA)),
    ("2022-02-09 11:10:19 +0800", datetime(2022, 2, 9, 11, 10, 19, tzinfo=CHINA)),
    ("发布日期： 2/17/2022 5:54:13 PM", datetime(2022, 2, 17, 17, 54, 13, tzinfo=CHINA)),
    ("2022-02-09 阅读10544次", datetime(2022, 2, 9, tzinfo=CHINA)),
])
def test_dates_in_the_article_header(line: str, expected: datetime) -> None:
    body = f"<div class='nav'>首页 &gt; 财经</div><h1>基建投资回升</h1><div class='info'>{line}</div>{paragraphs()}"
    assert extract_page(page(body, "<title>基建投资回升_江南财经网</title>"), "text/html", URL).published == expected


@pytest.mark.parametrize("line, rewritten", [
    ("发布日期： 9/17/2004 5:54:13 AM", "发布日期： 2004-09-17 5:54:13 AM"),
    ("17.09.2004 12:00", "2004-09-17 12:00"),
    ("05/06/2022", "05/06/2022"),  # May 6 or 5 June: not guessed
])
def test_day_month_order_is_read_only_when_certain(line: str, rewritten: str) -> None:
    assert _year_first(line) == rewritten


def test_the_site_headers_date_of_today_is_not_the_articles() -> None:
    body = (f"<div class='top'>2022年02月10日 星期四</div><h1>基建投资回升</h1>"
            f"<div class='info'>2022-02-09 11:10</div>{paragraphs()}")
    assert extract_page(page(body, "<title>基建投资回升</title>"), "text/html", URL).published \
        == datetime(2022, 2, 9, 11, 10, tzinfo=CHINA)


def test_a_date_line_above_the_text_leaves_the_body_and_dates_it() -> None:
    body = f"<h1>Oil steadies</h1><p>Monday, February 7th, 2022 10:56 am</p>" + "".join(f"<p>{p}</p>" for p in EN_PARAS)
    extracted = extract_page(page(body, "<title>Oil steadies</title>"), "text/html", "https://wire.example.com/a")
    assert extracted.published == datetime(2022, 2, 7, 10, 56, tzinfo=timezone.utc)
    assert extracted.body.startswith("Oil prices held steady")


def test_dates_later_than_the_fetch_are_not_the_publication() -> None:
    head = ('<meta property="article:published_time" content="2022-02-09T11:10:19+08:00">'
            '<meta name="pubdate" content="2022-02-08 09:00:00">')
    fetched = datetime(2022, 2, 9, 0, 0, tzinfo=timezone.utc)  # 08:00 in Beijing, before 11:10
    extracted = extract_page(page(f"<h1>基建投资回升</h1>{paragraphs()}", head), "text/html", URL, now=fetched)
    assert extracted.published == datetime(2022, 2, 8, 9, 0, tzinfo=CHINA)


def test_baidu_news_markup_gives_date_and_author() -> None:
    body = (f"<h1>基建投资回升</h1><div><span id='pubtime_baidu'>2022-02-09 11:10:19</span>"
            f"<span id='author_baidu'>作者：杨晓林</span></div>{paragraphs()}")
    extracted = extract_page(page(body), "text/html", URL)
    assert extracted.published == datetime(2022, 2, 9, 11, 10, 19, tzinfo=CHINA)
    assert extracted.author == "杨晓林"


# --- titles ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["基建投资回升_江南财经_江南财经网", "江南博客 » 基建投资回升", "基建投资回升 - 江南财经网"])
def test_the_sites_name_leaves_the_title(title: str) -> None:
    body = f"<div class='t'><font size=5>基建投资回升</font></div>{paragraphs()}"
    head = f"<title>{title}</title><meta property='og:site_name' content='江南财经网'>"
    assert extract_page(page(body, head), "text/html", URL).title == "基建投资回升"


# --- layout ---------------------------------------------------------------------------------------------


def test_a_page_laid_out_in_tables_gives_paragraphs_and_credits() -> None:
    article = paragraphs() + "<p>执笔人：周立文 孙雨桐</p>"
    body = (f"<table><tr><td><a href='/'>首页</a> <a href='/n'>新闻</a></td></tr>"
            f"<tr><td><table><tr><td><b>基建投资回升</b></td></tr><tr><td>2022-02-09 11:10 来源：江南日报</td></tr>"
            f"<tr><td>{article}</td></tr></table></td><td width=200><a href='/x'>热门排行</a></td></tr></table>")
    extracted = extract_page(page(body, "<title>基建投资回升_江南财经网</title>", charset="gbk"), "text/html", URL)
    assert extracted.body.split("\n\n") == PARAS
    assert extracted.author == "周立文, 孙雨桐"
    assert extracted.published == datetime(2022, 2, 9, 11, 10, tzinfo=CHINA)


def test_data_tables_stay_tables() -> None:
    table = "<table><tr><th>指标</th><th>增速</th></tr><tr><td>基建投资</td><td>8.1%</td></tr></table>"
    extracted = extract_page(page(f"<h1>基建投资回升</h1>{paragraphs()}{table}"), "text/html", URL)
    assert "| 基建投资 | 8.1% |" in extracted.body


def test_a_space_inside_bold_text_is_kept_between_words() -> None:
    body = "<h1>Oil steadies</h1>" + "".join(f"<p>{p}</p>" for p in EN_PARAS) + \
        "<p>Some traders found the <b><a href='/s'>Fed statement</a> </b>to be gloomier than expected on the day.</p>"
    extracted = extract_page(page(body), "text/html", "https://wire.example.com/a")
    assert "**Fed statement** to be" in extracted.body
