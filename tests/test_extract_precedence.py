"""Metadata precedence, field by field: feed entry → site rule → page metadata → heuristics; and the other
keys of a rule (article node, drops, encoding) applied to a page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from crawler.config import FeedSpec
from crawler.extract.article import extract_page
from crawler.extract.rules import load_site_rules
from crawler.metadata import assemble
from crawler.models import Extracted, ExtractRules, FeedEntry

CHINA = timezone(timedelta(hours=8))
URL = "https://finance.example.cn/roll/2022-02-09/doc-7.shtml"
FETCHED = datetime(2022, 2, 10, tzinfo=timezone.utc)
PARAS = [
    "今年以来，多地出台稳增长举措，重点项目加快开工，基础设施投资增速明显回升，带动相关产业链订单增长。",
    "业内人士表示，随着专项债发行提速，一季度基建投资有望保持较快增长，水泥、工程机械等行业将率先受益。",
]
PAGE = f"""<html><head><meta charset="utf-8"><title>基建投资回升_江南财经网</title>
<meta property="article:published_time" content="2022-02-09T09:00:00+08:00">
<meta property="article:author" content="周立文">
<meta property="og:image" content="/img/og.jpg">
</head><body>
<h1>基建投资回升</h1>
<div class="info"><span class="time" data-publish-time="1644383400">2022年02月09日 11:10</span>
<span class="writer">记者 杨晓林 孙雨桐</span></div>
<div class="promo"><p>打开江南财经APP，阅读更多精彩内容和独家解读，还有实时行情与研报推送等你体验</p></div>
<div id="main-text">{"".join(f"<p>{p}</p>" for p in PARAS)}<img src="/img/body.jpg" alt="工地"></div>
<div class="lead-photo"><img src="/img/rule.jpg"></div>
</body></html>"""


def extract(rules: ExtractRules = ExtractRules(), body: bytes = PAGE.encode(), content_type: str = "text/html"):
    return extract_page(body, content_type, URL, rules, now=FETCHED)


def test_page_metadata_comes_before_heuristics() -> None:
    extracted = extract()
    assert extracted.published == datetime(2022, 2, 9, 9, 0, tzinfo=CHINA)  # meta, not the visible 11:10
    assert extracted.author == "周立文"  # meta, not the visible byline
    assert extracted.image == "https://finance.example.cn/img/og.jpg"


def test_a_site_rule_comes_before_page_metadata() -> None:
    rules = ExtractRules(date_selector=".info .time", author_selector=".writer", image_selector=".lead-photo")
    extracted = extract(rules)
    # the element's data-publish-time attribute: 2022-02-09 05:10 UTC
    assert extracted.published == datetime(2022, 2, 9, 13, 10, tzinfo=CHINA)
    assert extracted.author == "杨晓林, 孙雨桐"
    assert extracted.image == "https://finance.example.cn/img/rule.jpg"


def test_a_rule_selector_that_finds_nothing_leaves_the_page_metadata() -> None:
    extracted = extract(ExtractRules(date_selector=".no-such", author_selector="#nobody", image_selector=".none"))
    assert extracted.published == datetime(2022, 2, 9, 9, 0, tzinfo=CHINA)
    assert extracted.author == "周立文"
    assert extracted.image == "https://finance.example.cn/img/og.jpg"


def test_a_rule_date_later_than_the_fetch_gives_way() -> None:
    late = PAGE.replace('data-publish-time="1644383400"', 'data-publish-time="1899999999"') \
        .replace("2022年02月09日 11:10", "2030年01月01日 00:00")
    assert extract(ExtractRules(date_selector=".info .time"), late.encode()).published \
        == datetime(2022, 2, 9, 9, 0, tzinfo=CHINA)


def test_the_feed_entry_comes_first() -> None:
    feed = FeedSpec(url="https://rsshub.app/example", name="滚动", source="江南财经", category="金融")
    extracted = Extracted(body="正文", title="页面标题", author="杨晓林", published=datetime(2022, 2, 9, 11, 10, tzinfo=CHINA),
                          image="https://finance.example.cn/img/rule.jpg")
    entry = FeedEntry(guid="1", link=URL, title="源标题", published=datetime(2022, 2, 9, 8, 0, tzinfo=CHINA),
                      updated=None, author="作者：周立文", summary_html=None, content_html=None, image=None)
    article = assemble(feed, entry, extracted, extracted_from="page", final_url=URL, fetched_at=FETCHED)
    assert (article.title, article.author, article.published) == ("源标题", "周立文", entry.published)
    assert article.image == "https://finance.example.cn/img/rule.jpg"  # the entry has none
    bare = FeedEntry(guid="1", link=URL, title=None, published=None, updated=None, author=None, summary_html=None,
                     content_html=None, image=None)
    article = assemble(feed, bare, extracted, extracted_from="page", final_url=URL, fetched_at=FETCHED)
    assert (article.title, article.author, article.published) == ("页面标题", "杨晓林", extracted.published)


def test_article_selector_and_drop_selectors() -> None:
    body = extract(ExtractRules(article_selector="#main-text")).body
    assert body.split("\n\n") == [*PARAS, "![工地](https://finance.example.cn/img/body.jpg)"]
    assert "APP" not in extract(ExtractRules(drop_selectors=(".promo",))).body


def test_an_encoding_override_beats_what_the_server_declares() -> None:
    # A GBK page behind a server whose default charset is Windows-1252: every byte decodes, into mojibake.
    gbk = PAGE.replace('<meta charset="utf-8">', '<meta charset="gbk">').encode("gbk")
    served_as = "text/html; charset=windows-1252"
    assert not extract(body=gbk, content_type=served_as).body.startswith(PARAS[0])
    fixed = extract(ExtractRules(encoding="gbk"), gbk, served_as)
    assert fixed.body.startswith(PARAS[0])
    assert fixed.title == "基建投资回升"


def test_a_rule_from_a_file_reaches_the_extraction(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  - hosts: [finance.example.cn/roll]\n    article_selector: '#main-text'\n"
                    "    author_selector: '.writer'\n", encoding="utf-8")
    resolved = load_site_rules([path]).resolve(URL)
    extracted = extract(resolved.rules)
    assert extracted.author == "杨晓林, 孙雨桐"
    assert extracted.body.startswith(PARAS[0])
