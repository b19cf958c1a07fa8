import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

from crawler.errors import FeedError
from crawler.feeds import parse_feed

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
UTC = timezone.utc
CST = timezone(timedelta(hours=8))
SHANGHAI = ZoneInfo("Asia/Shanghai")

SINA_FEED = "https://rss.sina.com.cn/finance/roll.xml"
STCN_FEED = "https://www.stcn.com/rss/yw.xml"
EASTMONEY_FEED = "http://finance.eastmoney.com/rss/focus.xml"
CAIXIN_FEED = "https://economy.caixin.com/rss/economy.xml"
JSON_FEED = "https://rsshub.example.org/wallstreetcn/news/global.json"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rss(items: str, channel: str = "<title>测试频道</title><link>https://example.com/</link>") -> bytes:
    document = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}{items}</channel></rss>'
    return document.encode()


def entry_by_link(feed, link):
    return next(entry for entry in feed.entries if entry.link == link)


# --- RSS 2.0, Sina style --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sina():
    return parse_feed(fixture("sina_roll_rss2.xml"), SINA_FEED, "application/rss+xml; charset=utf-8")


def test_sina_channel(sina):
    assert sina.title == "新浪财经-滚动新闻"
    assert sina.link == "https://finance.sina.com.cn/roll/"
    assert sina.ttl_seconds == 600
    assert sina.next_url == "https://rss.sina.com.cn/finance/roll.xml?page=2"


def test_sina_entry_fields(sina):
    first = sina.entries[0]
    assert first.guid == "doc-ikyamrmz7381004"
    # Links are given as the feed wrote them, made absolute; tracking parameters go in canonical_url.
    assert first.link.startswith("https://finance.sina.com.cn/money/bank/2022-02-09/doc-ikyamrmz7381004.shtml?cre=")
    assert first.title == "央行开展1000亿元逆回购操作 中标利率2.10%与上次持平"
    assert first.published == datetime(2022, 2, 9, 11, 10, 19, tzinfo=CST)
    assert first.published.utcoffset() == timedelta(hours=8)  # CST is China Standard Time
    assert first.updated is None
    assert first.author == "新浪财经综合"
    assert first.tags == ("宏观", "央行")
    assert first.summary_html.startswith("<p>")
    assert first.content_html is None  # one short paragraph: a teaser


def test_sina_long_description_is_the_full_article(sina):
    entry = entry_by_link(sina, "https://finance.sina.com.cn/jjxw/2022-02-09/doc-ikyakumy4977812.shtml")
    assert entry.content_html == entry.summary_html
    assert entry.published == datetime(2022, 2, 9, 10, 5, tzinfo=CST)  # no seconds
    assert entry.author == "刘晓峰"  # "作者：" removed
    assert entry.image == "https://n.sinaimg.cn/finance/crawl/20220209/fund-cover.jpg"  # media:content
    # Relative URLs in the HTML are resolved against the entry's link.
    assert 'src="https://finance.sina.com.cn/images/2022/0209/fund-chart.png"' in entry.content_html
    assert 'data-src="https://finance.sina.com.cn/images/2022/0209/fund-chart-hd.png"' in entry.content_html
    assert 'href="https://finance.sina.com.cn/jjxw/2022-02-08/doc-ikyakumy4970001.shtml"' in entry.content_html


def test_sina_teaser_ending_in_ellipsis_is_not_full_text(sina):
    entry = entry_by_link(sina, "https://finance.sina.com.cn/7x24/2022-02-09/doc-ikyamrmz7381777.shtml")
    assert len(re.sub(r"<[^>]+>", "", entry.summary_html)) > 400
    assert entry.content_html is None


def test_sina_html_in_title_and_guid_as_link(sina):
    entry = entry_by_link(sina, "https://finance.sina.com.cn/7x24/2022-02-09/doc-ikyamrmz7381777.shtml")
    assert entry.title == "快讯：A股三大指数集体高开 创业板指涨1.02%"
    assert entry.guid == entry.link


def test_sina_duplicates_and_linkless_entries_are_skipped_with_warnings(sina):
    guids = [entry.guid for entry in sina.entries if entry.guid]
    assert len(guids) == len(set(guids))
    assert not any(entry.title == "没有链接的条目" for entry in sina.entries)
    duplicate = next(entry for entry in sina.entries if entry.guid == "doc-ikyamrmz7381004")
    assert "重复推送" not in duplicate.title  # the first one is kept
    assert any("guid repeats" in warning for warning in sina.warnings)
    assert any("neither a link nor a URL as guid" in warning for warning in sina.warnings)


def test_sina_entry_without_title_with_relative_link_and_future_date(sina):
    entry = entry_by_link(sina, "https://rss.sina.com.cn/roll/2022-02-09/doc-ikyamrmz7390000.shtml")
    assert entry.title is None
    assert entry.published == datetime(2099, 1, 1, 8, tzinfo=CST)  # the caller clamps
    assert entry.image == "https://n.sinaimg.cn/finance/crawl/20220209/untitled.jpg"  # image enclosure


def test_sina_unparseable_date_is_none(sina):
    entry = entry_by_link(sina, "https://finance.sina.com.cn/roll/2022-02-09/doc-ikyamrmz7390001.shtml")
    assert entry.published is None and entry.updated is None


# --- Atom in GBK, STCN style ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stcn():
    return parse_feed(fixture("stcn_atom_gbk.xml"), STCN_FEED, "application/atom+xml")


def test_gbk_atom_is_decoded(stcn):
    assert stcn.title == "证券时报网 - 要闻"
    first = stcn.entries[0]
    assert first.title == "证监会：推动资本市场高质量发展 回顾朱镕基时期改革"  # 镕 exists in GBK only
    assert first.author == "王喆"


def test_atom_entry(stcn):
    first = stcn.entries[0]
    assert first.guid == "tag:stcn.com,2022:article-512345"
    assert first.link == "https://www.stcn.com/article/detail/512345.html"  # rel=alternate, not related
    assert first.published == datetime(2022, 2, 9, 11, 10, 19, tzinfo=CST)
    assert first.updated == datetime(2022, 2, 9, 11, 20, tzinfo=CST)
    assert first.tags == ("监管", "资本市场")
    assert first.summary_html == "<p>证监会表示，将坚持稳中求进工作总基调，统筹推进资本市场改革。</p>"
    assert 'src="https://www.stcn.com/images/512345.jpg"' in first.content_html
    assert first.image == "https://www.stcn.com/images/512345.jpg"  # first <img> of the content
    assert stcn.link == "https://www.stcn.com/article/list/yw.html"


def test_atom_plain_text_content_becomes_escaped_paragraphs(stcn):
    second = stcn.entries[1]
    assert second.content_html == ("<p>沪深交易所今日发布通知，进一步优化再融资审核流程。</p>"
                                   "<p>通知明确，对符合条件的再融资申请 &amp; 简易程序项目，审核时限压缩至两个工作日以内。</p>")
    assert second.summary_html is None  # feedparser's copy of the content is not a summary


def test_atom_updated_only_and_naive_date_in_chinese_feed(stcn):
    second = stcn.entries[1]
    assert second.updated == datetime(2022, 2, 9, 10, 0, tzinfo=SHANGHAI)
    assert second.published is None  # a modification date is no publication date


def test_atom_id_as_link_and_prev_archive(stcn):
    assert stcn.entries[2].link == "https://www.stcn.com/article/detail/512347.html"
    assert stcn.next_url == "https://www.stcn.com/rss/yw-2022-02-08.xml"  # prev-archive when there is no next


def test_atom_rfc5005_next_wins_over_prev_archive():
    feed = parse_feed(fixture("yicai_atom_paged.xml"), "https://www.yicai.com/feed/atom?page=1")
    assert feed.next_url == "https://www.yicai.com/feed/atom?page=2"
    entry = feed.entries[0]
    assert entry.author == "第一财经 記者, Li Wei"
    assert entry.image == "https://imgcdn.yicai.com/uppics/images/2022/02/101312345.jpg"
    assert entry.published == datetime(2022, 2, 9, 3, 10, 19, tzinfo=UTC)


# --- GBK without any declaration ------------------------------------------------------------------------


def test_gbk_rss_without_declaration_or_charset_is_not_mojibake():
    feed = parse_feed(fixture("eastmoney_rss_gbk_undeclared.xml"), EASTMONEY_FEED)
    assert feed.title == "东方财富网-焦点新闻"
    assert [entry.title for entry in feed.entries] == ["沪指收涨0.8% 两市成交额连续三日突破万亿",
                                                        "国务院常务会议：部署进一步稳外贸稳外资举措"]
    assert feed.entries[0].author == "陈喆"
    assert feed.warnings == ()


def test_naive_dates_of_a_chinese_feed_are_beijing_time():
    feed = parse_feed(fixture("eastmoney_rss_gbk_undeclared.xml"), EASTMONEY_FEED)
    assert feed.entries[0].published == datetime(2022, 2, 9, 15, 5, tzinfo=SHANGHAI)
    assert feed.entries[0].published.utcoffset() == timedelta(hours=8)
    assert feed.entries[1].published == datetime(2022, 2, 9, 14, 20, tzinfo=SHANGHAI)  # 2022年02月09日 14:20


def test_default_tz_overrides_the_guess():
    feed = parse_feed(fixture("eastmoney_rss_gbk_undeclared.xml"), EASTMONEY_FEED, default_tz=UTC)
    assert feed.entries[0].published == datetime(2022, 2, 9, 15, 5, tzinfo=UTC)


def test_naive_dates_of_an_english_feed_are_utc():
    feed = parse_feed(rss("<item><title>Markets rally</title><link>https://example.com/a</link>"
                          "<pubDate>2022-02-09 15:05:00</pubDate></item>",
                          "<title>Market news</title>"), "https://example.com/rss")
    assert feed.entries[0].published == datetime(2022, 2, 9, 15, 5, tzinfo=UTC)


def test_gbk_bytes_labelled_utf8_are_read_as_gbk():
    feed = parse_feed(fixture("eastmoney_rss_gbk_undeclared.xml"), EASTMONEY_FEED, "text/xml; charset=utf-8")
    assert feed.title == "东方财富网-焦点新闻"


# --- RSS 1.0 --------------------------------------------------------------------------------------------


def test_rss10_with_dc_date():
    feed = parse_feed(fixture("caixin_rss10.xml"), CAIXIN_FEED)
    assert feed.title == "财新网 - 经济频道"
    first, second, third = feed.entries
    assert first.published == datetime(2022, 2, 9, 9, 30, tzinfo=CST)
    assert first.guid == first.link == "https://economy.caixin.com/2022-02-09/101840001.html"
    assert first.author == "财新记者 周红"
    assert first.tags == ("宏观经济",)
    assert first.content_html.startswith("<p>国家统计局2月9日公布")  # content:encoded
    assert first.summary_html == "国家统计局公布，1月CPI同比上涨0.9%，PPI同比上涨9.1%。"
    assert second.link == "https://economy.caixin.com/2022-02-09/101840002.html"  # rdf:about
    assert second.published == datetime(2022, 2, 9, 8, 0, tzinfo=CST)
    assert third.published == datetime(2022, 2, 8, 21, 15, tzinfo=SHANGHAI)


def test_truncated_feed_keeps_its_entries_with_a_warning():
    feed = parse_feed(fixture("caixin_rss10_truncated.xml"), CAIXIN_FEED)
    assert [entry.link for entry in feed.entries][:2] == ["https://economy.caixin.com/2022-02-09/101840001.html",
                                                          "https://economy.caixin.com/2022-02-09/101840002.html"]
    assert feed.entries[1].title == "社融数据前瞻：1月新增信贷有望创同期新高"
    assert any("not well-formed" in warning for warning in feed.warnings)


def test_truncated_rss2_keeps_its_entries():
    body = fixture("sina_roll_rss2.xml")
    cut = body[:body.index("<title><![CDATA[没有链接".encode())]
    feed = parse_feed(cut, SINA_FEED)
    assert len(feed.entries) == 3
    assert feed.warnings


# --- JSON Feed ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wallstreetcn():
    return parse_feed(fixture("wallstreetcn_feed.json"), JSON_FEED, "application/feed+json")


def test_json_feed(wallstreetcn):
    assert wallstreetcn.title == "华尔街见闻 - 全球资讯"
    assert wallstreetcn.link == "https://wallstreetcn.com/news/global"
    assert wallstreetcn.next_url == "https://rsshub.example.org/wallstreetcn/news/global.json?cursor=1644375000"
    first = wallstreetcn.entries[0]
    assert first.guid == "3653289"
    assert first.link == "https://wallstreetcn.com/articles/3653289?from=rss"
    assert first.title == "美国1月CPI将公布，通胀或创四十年新高"
    assert first.published == datetime(2022, 2, 9, 11, 10, 19, tzinfo=CST)
    assert first.updated == datetime(2022, 2, 9, 12, 0, tzinfo=CST)
    assert first.author == "赵思远"
    assert first.tags == ("美联储", "通胀")
    assert first.image == "https://img.wallstcn.com/3653289/cover.jpg"
    assert first.summary_html == "<p>市场预计美国1月CPI同比上涨7.3%，或创四十年新高。</p>"
    assert 'data-original="https://wallstreetcn.com/uploads/3653289-hd.png"' in first.content_html


def test_json_feed_content_text_numeric_id_and_inherited_author(wallstreetcn):
    second = wallstreetcn.entries[1]
    assert second.guid == "3653290"
    assert second.link == "https://rsshub.example.org/articles/3653290"
    assert second.content_html == ("<p>A股三大指数今日集体收涨。</p>"
                                   "<p>煤炭板块领涨，&lt;b&gt;不是标签&lt;/b&gt; &amp; 符号原样保留。<br>第二行。</p>")
    assert second.author == "华尔街见闻"
    assert second.published == datetime(2022, 2, 9, 15, 5, tzinfo=SHANGHAI)


def test_json_feed_skips_bad_items_with_warnings(wallstreetcn):
    assert [entry.link for entry in wallstreetcn.entries] == [
        "https://wallstreetcn.com/articles/3653289?from=rss",
        "https://rsshub.example.org/articles/3653290",
        "https://wallstreetcn.com/livenews/2112345",  # the id is the link
    ]
    assert len(wallstreetcn.warnings) == 3


def test_json_feed_recognised_without_content_type():
    feed = parse_feed(fixture("wallstreetcn_feed.json"), JSON_FEED)
    assert len(feed.entries) == 3


def test_json_feed_1_0_author():
    document = {"version": "https://jsonfeed.org/version/1", "title": "t",
                "items": [{"id": "1", "url": "https://example.com/1", "author": {"name": "By Jane Doe"},
                           "content_text": "x", "external_url": "https://elsewhere.example.com/"}]}
    feed = parse_feed(json.dumps(document).encode(), "https://example.com/feed.json", "application/json")
    assert feed.entries[0].author == "Jane Doe"
    assert feed.entries[0].link == "https://example.com/1"


def test_json_feed_external_url_when_no_url():
    document = {"version": "https://jsonfeed.org/version/1.1",
                "items": [{"id": "1", "external_url": "https://elsewhere.example.com/story"}]}
    feed = parse_feed(json.dumps(document).encode(), "https://example.com/feed.json")
    assert feed.entries[0].link == "https://elsewhere.example.com/story"


@pytest.mark.parametrize("body, reason", [
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "not valid"),
    (b'{"data": [1, 2, 3]}', "not a JSON Feed"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "title": "x"}', "no items"),
    (b"[1, 2, 3]", "not a JSON Feed"),
    (b"[" * 100_000, "nested too deeply"),
])
def test_json_that_is_no_json_feed(body, reason):
    with pytest.raises(FeedError) as error:
        parse_feed(body, "https://example.com/feed.json", "application/json")
    assert reason in error.value.reason


def test_json_feed_with_wrong_types_and_control_characters():
    document = {"version": "https://jsonfeed.org/version/1.1", "title": ["not", "a", "string"],
                "items": [{"id": True, "url": "https://example.com/1", "title": "a\u0000b\u0007c",
                           "tags": "not-a-list", "authors": "nobody", "date_published": 12}]}
    feed = parse_feed(json.dumps(document).encode(), "https://example.com/feed.json")
    entry = feed.entries[0]
    assert (feed.title, entry.guid, entry.title, entry.tags, entry.author, entry.published) == \
        (None, None, "abc", (), None, None)


# --- entity expansion and external entities -------------------------------------------------------------


def test_billion_laughs_is_not_expanded():
    feed = parse_feed(fixture("billion_laughs.xml"), "https://feeds.example.com/rss")
    assert [entry.title for entry in feed.entries] == ["First item", "Second item"]
    assert feed.title == "Laughs"
    assert "lol" not in repr(feed.entries)
    assert any("declares entities" in warning for warning in feed.warnings)


@pytest.fixture
def secret_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a9c")
    return secret


@pytest.mark.parametrize("name", ["xxe.xml", "xxe_external_dtd.xml"])
def test_external_entities_are_never_read(name, secret_file):
    body = fixture(name).replace(b"@SECRET_PATH@", str(secret_file).encode())
    feed = parse_feed(body, "https://feeds.example.com/rss")
    assert feed.entries[0].link == "https://feeds.example.com/items/1"
    assert "TOP-SECRET" not in repr(feed)


def test_xxe_reference_is_dropped_and_reported(secret_file):
    body = fixture("xxe.xml").replace(b"@SECRET_PATH@", str(secret_file).encode())
    feed = parse_feed(body, "https://feeds.example.com/rss")
    assert feed.entries[0].title == "Secret:"
    assert any("xxe" in warning for warning in feed.warnings)


def test_malformed_doctype_is_refused():
    with pytest.raises(FeedError, match="DOCTYPE"):
        parse_feed(b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "x">', "https://example.com/rss")


def test_feedparser_gets_utf8_bytes_never_a_url_or_text(monkeypatch):
    calls = []
    real_parse = feedparser.parse

    def spy(source, **kwargs):
        calls.append((source, kwargs))
        return real_parse(source, **kwargs)

    monkeypatch.setattr(feedparser, "parse", spy)
    parse_feed(fixture("stcn_atom_gbk.xml"), STCN_FEED)
    (source, kwargs), = calls
    assert isinstance(source, io.BytesIO)
    document = source.getvalue()
    assert document.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert b"GBK" not in document[:200]
    document.decode("utf-8")
    assert kwargs["response_headers"]["content-type"] == "application/xml; charset=utf-8"


# --- not a feed -----------------------------------------------------------------------------------------


def test_html_page_is_a_feed_error():
    with pytest.raises(FeedError) as error:
        parse_feed(fixture("html_error_page.html"), SINA_FEED, "text/html; charset=utf-8")
    assert error.value.reason == "the server returned an HTML page, not a feed; check the feed URL"
    assert error.value.url == SINA_FEED


def test_feed_served_as_text_html_is_still_a_feed():
    feed = parse_feed(fixture("sina_roll_rss2.xml"), SINA_FEED, "text/html; charset=utf-8")
    assert feed.title == "新浪财经-滚动新闻"


def test_xhtml_page_is_a_feed_error():
    body = b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>rss</p></body></html>'
    with pytest.raises(FeedError, match="HTML page"):
        parse_feed(body, SINA_FEED)


def test_html_fragment_is_a_feed_error():
    with pytest.raises(FeedError, match="HTML page"):
        parse_feed(b"<div><h1>502 Bad Gateway</h1></div>", SINA_FEED)


@pytest.mark.parametrize("body", [b"", b"   \r\n\t "])
def test_empty_body_is_a_feed_error(body):
    with pytest.raises(FeedError, match="empty"):
        parse_feed(body, SINA_FEED)


@pytest.mark.parametrize("body, reason", [
    (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>',
     "root element <urlset>"),
    (b"Service temporarily unavailable", "neither XML nor JSON"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "neither XML nor JSON"),
    (b"<?xml version='1.0'?><!-- nothing -->", "neither XML"),
])
def test_other_documents_are_feed_errors(body, reason):
    with pytest.raises(FeedError) as error:
        parse_feed(body, SINA_FEED)
    assert reason in error.value.reason


# --- robustness -----------------------------------------------------------------------------------------


def test_control_characters_are_removed():
    feed = parse_feed(rss("<item><title>沪指\x00收涨\x0b0.8%&#1;</title><link>https://example.com/a</link></item>"),
                      "https://example.com/rss")
    assert feed.entries[0].title == "沪指收涨0.8%"
    assert any("control characters" in warning for warning in feed.warnings)


def test_html_entities_undeclared_in_xml_parse_strictly():
    feed = parse_feed(rss("<item><title>A&nbsp;股&mdash;收评 &copy; &amp; &lt;b&gt;</title>"
                          "<link>https://example.com/a?x=1&amp;y=2</link></item>"), "https://example.com/rss")
    assert feed.entries[0].title == "A 股—收评 © &"
    assert feed.entries[0].link == "https://example.com/a?x=1&y=2"
    assert feed.warnings == ()


def test_stray_text_before_the_feed_is_dropped():
    php_warning = b"<br />\n<b>Warning</b>:  date(): It is not safe to rely on the system's timezone in <b>rss.php</b>\n"
    body = php_warning + rss("<item><title>t</title><link>https://example.com/a</link></item>")
    feed = parse_feed(body, "https://example.com/rss")
    assert [entry.link for entry in feed.entries] == ["https://example.com/a"]
    assert any("stray text" in warning for warning in feed.warnings)


def test_declaration_after_a_comment_or_whitespace_is_fine():
    body = b"\n\n  <!-- generated by CMS -->\n" + rss("<item><link>https://example.com/a</link></item>")
    feed = parse_feed(body, "https://example.com/rss")
    assert len(feed.entries) == 1 and feed.warnings == ()


def test_bare_numeric_guid_is_kept_as_is_and_not_used_as_link():
    feed = parse_feed(rss("<item><title>a</title><guid>12345</guid><link>/news/1.html</link></item>"
                          "<item><title>b</title><guid>12346</guid></item>"), "https://example.com/rss/feed.xml")
    assert [(entry.guid, entry.link) for entry in feed.entries] == [("12345", "https://example.com/news/1.html")]


def test_broken_urls_do_not_break_the_feed():
    body = rss("<item><title>a</title><link>http://[::1/a</link><guid>http://[::1/g</guid></item>"
               "<item><title>b</title><link>https://example.com/b</link>"
               "<description><![CDATA[<p>x</p><img src='//[::1/i.jpg'><a href=\"//[::1\">y</a>]]></description></item>")
    feed = parse_feed(body, "https://example.com/rss")
    assert [entry.link for entry in feed.entries] == ["https://example.com/b"]
    assert feed.entries[0].image is None


def test_a_feedparser_crash_is_a_feed_error():
    body = (b'<rss version="2.0" xmlns:gml="http://www.opengis.net/gml"><channel><item><title>a</title>'
            b"</gml:pos></item></channel></rss>")
    with pytest.raises(FeedError, match="too malformed"):
        parse_feed(body, "https://example.com/rss")


def test_javascript_links_are_not_links():
    feed = parse_feed(rss("<item><title>a</title><link>javascript:void(0)</link></item>"), "https://example.com/")
    assert feed.entries == ()


def test_multiple_content_types_and_first_image_prefers_lazy_source():
    body = rss('<item xmlns:content="http://purl.org/rss/1.0/modules/content/"><title>a</title>'
               "<link>https://example.com/news/1.html</link>"
               "<content:encoded><![CDATA[<p>正文</p><img src=\"data:image/gif;base64,AAAA\">"
               "<img src=\"/blank.gif\" data-src=\"pics/1.jpg\">]]></content:encoded></item>")
    entry = parse_feed(body, "https://example.com/rss").entries[0]
    assert entry.image == "https://example.com/news/pics/1.jpg"


def test_description_with_two_real_paragraphs_is_full_text():
    paragraph = "沪深两市今日震荡走高，成交额较上一交易日放大，北向资金持续净流入，市场情绪明显回暖。" * 2
    body = rss(f"<item><title>a</title><link>https://example.com/1</link>"
               f"<description><![CDATA[<p>{paragraph}</p><p>{paragraph}</p>]]></description></item>"
               f"<item><title>b</title><link>https://example.com/2</link>"
               f"<description><![CDATA[<p>{paragraph}</p><p><a href='/1'>阅读全文</a></p>]]></description></item>")
    first, second = parse_feed(body, "https://example.com/rss").entries
    assert first.content_html is not None
    assert second.content_html is None


def test_short_chinese_paragraphs_weigh_more_than_latin_letters():
    paragraph = "民政部表示，将推动基本公共服务资源向社区下沉，优先发展社区养老托育等服务，切实增强群众获得感。"  # 47
    latin = "Stocks rose on Tuesday as investors weighed the rate path."  # 58 characters
    body = rss(f"<item><title>a</title><link>https://example.com/1</link>"
               f"<description><![CDATA[<p>{paragraph}</p><p>{paragraph}</p>]]></description></item>"
               f"<item><title>b</title><link>https://example.com/2</link>"
               f"<description><![CDATA[<p>{latin}</p><p>{latin}</p>]]></description></item>")
    chinese, english = parse_feed(body, "https://example.com/rss").entries
    assert chinese.content_html is not None
    assert english.content_html is None


def test_large_feed_is_parsed_in_linear_time():
    item = ("<item><title>新浪财经 第{i}条</title><link>https://finance.sina.com.cn/a/{i}.shtml</link>"
            "<guid>https://finance.sina.com.cn/a/{i}.shtml</guid><pubDate>Wed, 09 Feb 2022 11:10:19 CST</pubDate>"
            "<description><![CDATA[<p>{body}</p><p><img src=\"/img/{i}.jpg\"></p>]]></description></item>")
    body = rss("".join(item.format(i=i, body="沪深两市今日震荡走高，" * 40) for i in range(8000)))
    assert len(body) > 10_000_000
    feed = parse_feed(body, SINA_FEED)  # about 2 s; quadratic work would take minutes
    assert len(feed.entries) == 8000
