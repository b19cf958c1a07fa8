from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.errors import ExtractionError
from crawler.extract.article import extract_feed_content, extract_page
from crawler.extract.page import MAX_ELEMENTS, compile_selector, cut_after, parse_html
from crawler.models import Extracted, ExtractRules

PAGES = Path(__file__).parent / "fixtures" / "pages"
CHINA = timezone(timedelta(hours=8))


def page(name: str, content_type: str, url: str, rules: ExtractRules = ExtractRules()) -> Extracted:
    return extract_page((PAGES / name).read_bytes(), content_type, url, rules)


def portal(rules: ExtractRules = ExtractRules()) -> Extracted:
    return page("portal_utf8.html", "text/html", "https://finance.example.cn/roll/2020-08-31/doc-ihxcj1234.shtml?from=rss",
                rules)


def test_portal_page_in_utf8() -> None:
    extracted = portal()
    assert extracted.title == "央行开展逆回购操作 市场流动性保持合理充裕"
    assert extracted.author == "王爱文"
    assert extracted.published == datetime(2020, 8, 31, 12, 56, 8, tzinfo=CHINA)
    assert extracted.image == "https://finance.example.cn/images/2020/0831/lead.jpg"
    assert extracted.canonical_url == "https://finance.example.cn/roll/2020-08-31/doc-ihxcj1234.shtml"
    assert extracted.tags == ("央行", "逆回购", "流动性")
    body = extracted.body
    assert body.startswith("![央行大楼](https://finance.example.cn/images/2020/0831/body.jpg)\n\n华夏财经讯 8月31日")
    assert "分析人士指出，月末财政支出加快" in body
    assert "投资者可以打开券商APP查询逆回购行情" in body  # a long paragraph that mentions an app stays
    for boilerplate in ("尽在华夏财经APP", "责任编辑", "相关阅读", "央行：保持流动性合理充裕", "我要评论", "分享到",
                        "版权所有", "首页", "2020年08月31日 12:56"):
        assert boilerplate not in body


def test_script_text_is_escaped_and_template_braces_kept() -> None:
    body = portal().body
    assert "<script>" not in body and "&lt;script>alert(\"x\")&lt;/script>" in body
    assert "{{ page.title }} 与 {% raw %}" in body


def test_column_page_in_gbk_declared_by_meta_only() -> None:
    extracted = page("column_gbk.html", "text/html", "http://www.example.cn/a/20200831/42.html")
    assert extracted.title == "券商板块午后拉升 多只个股涨停"
    assert extracted.author == "王爱文"
    assert extracted.published == datetime(2020, 8, 31, 14, 5, 33, tzinfo=CHINA)
    assert extracted.image == "http://img.example.cn/2020/0831/quote.png"
    assert "镕信证券、华鑫证券等个股表现活跃" in extracted.body  # a GBK-only character, decoded right
    assert "投资者应注意控制仓位，避免追高。" in extracted.body
    for boilerplate in ("证券日讯网", "打开证券日讯APP", "热门排行", "创业板注册制", "网站地图"):
        assert boilerplate not in extracted.body


def test_flash_item_in_gbk_declared_by_header() -> None:
    extracted = page("flash_gbk.html", "text/html; charset=GBK", "http://www.example.cn/a/20200831/43.html")
    assert extracted.title == "【快讯】沪指午间收涨0.5%"
    assert extracted.published == datetime(2020, 8, 31, 11, 30, 2, tzinfo=CHINA)
    assert extracted.body == ("![](http://www.example.cn/img/flash.png)\n\n"
                              "沪指午间收涨0.5%，深成指涨0.8%，创业板指涨1.1%，券商、保险板块领涨。")


def test_news_page_in_gb18030_declared_by_header_only() -> None:
    extracted = page("news_gb18030.html", "text/html; charset=gb18030", "http://news.example.com.cn/20200831/88.html")
    assert extracted.title == "新能源车企八月交付量创新高"
    assert extracted.author == "李明"  # from the "记者 李明" line, which leaves the body
    assert extracted.published == datetime(2020, 8, 31, 15, 20, 45, tzinfo=CHINA)
    assert "𠮷利汽车旗下新品牌" in extracted.body  # a character only GB18030 has
    assert "记者" not in extracted.body and "编辑" not in extracted.body


def test_english_wire_page_with_json_ld() -> None:
    extracted = page("wire_en.html", "text/html; charset=utf-8",
                     "https://wire.example.com/markets/2020/08/31/oil-steadies/?utm_source=rss")
    assert extracted.title == "Oil steadies as traders weigh supply outlook"
    assert extracted.author == "Jane Doe, John Roe"
    assert extracted.published.isoformat() == "2020-08-31T09:30:15-04:00"
    assert extracted.image == "https://wire.example.com/media/oil-lead.jpg"
    assert extracted.canonical_url == "https://wire.example.com/markets/2020/08/31/oil-steadies/"
    assert extracted.tags == ("Oil", "Commodities")
    body = extracted.body
    assert body.startswith("Oil prices held steady on Monday")
    assert "| Brent | 45.81 |" in body  # tables are kept
    assert "said one commodities strategist" in body
    for boilerplate in ("Advertisement", "Scroll to continue", "newsletter", "Related coverage", "Gold slips",
                        "All rights reserved", "By Jane Doe"):
        assert boilerplate not in body


@pytest.mark.parametrize("body, content_type, reason", [
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf", "not an HTML page (application/pdf)"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "text/html", "not an HTML page (application/pdf)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", "not an HTML page (image/png)"),
    (b"", "text/html", "empty page"),
    (b"  \r\n ", "text/html; charset=utf-8", "empty page"),
    (bytes(range(256)) * 8, "text/html", "binary data served as text/html"),
    (b'{"items": []}', "application/json", "not an HTML page (application/json)"),
    (b"<html><head><title>x</title></head><body><script>var a = 1;</script></body></html>", "text/html",
     "no article text found"),
])
def test_what_is_not_an_html_article_is_refused(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(ExtractionError) as refused:
        extract_page(body, content_type, "https://news.example.cn/a.html")
    assert refused.value.reason == reason
    assert refused.value.url == "https://news.example.cn/a.html"


def test_lazy_images_resolve_against_the_base_href() -> None:
    text = "<p>" + "央行今日开展逆回购操作，市场流动性保持合理充裕。" * 6 + "</p>"
    more = "<p>" + "分析人士指出，短端资金利率有望维持平稳运行。" * 6 + "</p>"
    lazy = '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="img/a.jpg">'
    html = (f'<html><head><base href="https://cdn.example.cn/news/"></head><body><article>{text}{lazy}{more}'
            f'</article></body></html>')
    extracted = extract_page(html.encode(), "text/html; charset=utf-8", "https://www.example.cn/a/1.html")
    assert "![](https://cdn.example.cn/news/img/a.jpg)" in extracted.body
    assert extracted.image == "https://cdn.example.cn/news/img/a.jpg"


def test_html_served_as_octet_stream_is_accepted() -> None:
    body = (PAGES / "portal_utf8.html").read_bytes()
    assert extract_page(body, "application/octet-stream", "https://finance.example.cn/a.shtml").title


def test_article_selector_limits_extraction_to_its_node() -> None:
    extracted = portal(ExtractRules(article_selector="#artibody p:nth-of-type(3)"))
    assert extracted.body.startswith("有市场人士提醒，投资者可以打开券商APP查询逆回购行情")
    assert "华夏财经讯" not in extracted.body and "央行大楼" not in extracted.body
    assert extracted.title == "央行开展逆回购操作 市场流动性保持合理充裕"  # metadata still comes from the page


def test_article_selector_that_matches_nothing_keeps_the_page() -> None:
    assert "华夏财经讯" in portal(ExtractRules(article_selector="#no-such-node")).body


def test_drop_selectors_remove_nodes_before_extraction() -> None:
    body = portal(ExtractRules(drop_selectors=("div.img-wrap", "#artibody p:nth-of-type(2)"))).body
    assert "央行大楼" not in body
    assert "分析人士指出" not in body
    assert "华夏财经讯" in body


def test_invalid_selector_is_an_extraction_error() -> None:
    with pytest.raises(ExtractionError, match="invalid CSS selector"):
        portal(ExtractRules(drop_selectors=("div[",)))
    with pytest.raises(ValueError):
        compile_selector("p::")


def test_tree_is_cut_after_the_element_limit() -> None:
    tree = parse_html("<html><body><div><p>a</p><p>b</p></div><p>c</p><p>d</p></body></html>", "https://x.cn/")
    cut_after(tree, 5)  # html, body, div, p, p
    assert [element.tag for element in tree.iter()] == ["html", "body", "div", "p", "p"]
    assert 1000 < MAX_ELEMENTS


def test_a_pathological_page_is_extracted_in_bounded_time() -> None:
    # 60,000 tiny blocks: without the tree cap and the switch to linear extraction this takes minutes
    rows = "".join(f"<div><span>item {n}</span></div>" for n in range(MAX_ELEMENTS))
    html = f"<html><body><article><p>{'新闻正文。' * 40}</p></article>{rows}</body></html>"
    assert "新闻正文" in extract_page(html.encode(), "text/html; charset=utf-8", "https://x.cn/a").body


def test_control_characters_in_a_page_do_not_lose_the_article() -> None:
    # libxml2 stops at NUL; trafilatura returns nothing when the tree holds a BEL
    html = f"<html><head><title>null\x00byte and \x07bell</title></head><body><h1>a\x07b</h1>" \
           f"<article><p>{'新闻正文，控制字符不应让正文丢失。' * 20}</p></article></body></html>"
    assert "控制字符" in extract_page(html.encode(), "text/html; charset=utf-8", "https://x.cn/a").body


# --- feed content ---------------------------------------------------------------------------------------


def test_feed_content_is_cleaned_like_a_page() -> None:
    html = ("<p>央行今日开展1200亿元7天期逆回购操作，中标利率维持2.20%不变。</p>"
            "<p>分析人士指出，银行体系流动性总体保持合理充裕。</p>"
            "<p>责任编辑：张晓明</p><p>更多行情资讯，尽在华夏财经APP</p>"
            "<p>示例 &lt;script&gt;alert(1)&lt;/script&gt; {{ x }}</p><img src='/img/a.jpg'>")
    body = extract_feed_content(html, "https://finance.example.cn/roll/a.shtml")
    assert body.startswith("央行今日开展1200亿元7天期逆回购操作")
    assert "分析人士指出" in body
    assert "责任编辑" not in body and "APP" not in body
    assert "<script>" not in body and "&lt;script>" in body and "{{ x }}" in body
    assert "![](https://finance.example.cn/img/a.jpg)" in body


def test_short_flash_item_from_a_feed() -> None:
    assert extract_feed_content("沪指午间收涨0.5%。<br>券商板块领涨。", "https://x.cn/a") == \
        "沪指午间收涨0.5%。\n\n券商板块领涨。"
    assert extract_feed_content("<p>Fed holds rates steady.</p><p>Stocks rose.</p>", "https://x.com/a") == \
        "Fed holds rates steady.\n\nStocks rose."


def test_empty_feed_content() -> None:
    assert extract_feed_content("", "https://x.cn/a") == ""
    assert extract_feed_content("<p> </p>", "https://x.cn/a") == ""


def test_underline_superscript_and_subscript_become_plain_text() -> None:
    # trafilatura writes them as HTML tags, which the post would show escaped
    text = "新建住宅面积达到120万m<sup>2</sup>，二氧化碳（CO<sub>2</sub>）排放下降，<u>全年目标</u>有望完成。" * 3
    html = f"<html><body><article><h1>标题</h1><p>{text}</p><p>{'另一段正文内容，说明具体情况。' * 6}</p></article></body></html>"
    body = extract_page(html.encode(), "text/html; charset=utf-8", "https://x.cn/a").body
    assert "120万m2，二氧化碳（CO2）排放下降，全年目标有望完成" in body
    assert "&lt;" not in body and "<" not in body
    assert extract_feed_content(f"<p>{text}</p>", "https://x.cn/a").startswith("新建住宅面积达到120万m2")
