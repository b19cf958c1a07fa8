from datetime import datetime, timedelta, timezone

import pytest

from crawler.extract.bylines import Credit
from crawler.extract.metadata import BodyHints, PageMetadata, gather, page_title, read_metadata
from crawler.extract.page import parse_html

URL = "https://news.example.cn/2020/0831/article-88.html"
CHINA = timezone(timedelta(hours=8))
TEXT = "<p>中国人民银行今日以利率招标方式开展了1200亿元7天期逆回购操作，中标利率维持不变。</p>"
ENGLISH_TEXT = "<p>Oil prices held steady on Monday as traders weighed signs of a slower recovery in demand.</p>"


def metadata(head: str = "", body: str = TEXT, *, url: str = URL, hints: BodyHints = BodyHints(),
             now: datetime | None = None) -> PageMetadata:
    tree = parse_html(f"<html><head>{head}</head><body>{body}</body></html>", url)
    signals = gather(tree, url)
    return read_metadata(signals, page_title(signals), hints, now=now)


def title(head: str, body: str = TEXT, url: str = URL) -> str | None:
    tree = parse_html(f"<html><head>{head}</head><body>{body}</body></html>", url)
    return page_title(gather(tree, url))


# --- title ----------------------------------------------------------------------------------------------


def test_og_title_is_preferred() -> None:
    assert title('<title>央行开展逆回购_财经频道_华夏财经网</title><meta property="og:title" content="央行开展逆回购">') \
        == "央行开展逆回购"


def test_title_suffixes_confirmed_by_the_h1_are_stripped() -> None:
    assert title("<title>央行开展逆回购_财经频道_华夏财经网</title>", f"<h1>央行开展逆回购</h1>{TEXT}") == "央行开展逆回购"


def test_title_suffix_confirmed_by_a_title_element_is_stripped() -> None:
    body = f'<div class="logo">证券日讯网</div><div class="article-title">券商板块午后拉升</div>{TEXT}'
    assert title("<title>券商板块午后拉升 - 证券日讯网</title>", body) == "券商板块午后拉升"


def test_title_suffix_naming_the_site_is_stripped() -> None:
    assert title('<title>Oil steadies | Coastline Wire</title><meta property="og:site_name" content="Coastline Wire">',
                 ENGLISH_TEXT) == "Oil steadies"
    assert title('<title>短缺药品保供稳价-东方商报</title><meta property="og:site_name" content="东方商报">') \
        == "短缺药品保供稳价"


def test_title_suffix_naming_the_host_is_stripped() -> None:
    assert title("<title>Fed holds rates - Coastline</title>", ENGLISH_TEXT, "https://www.coastline.com/a") \
        == "Fed holds rates"


def test_json_ld_publisher_names_the_site() -> None:
    head = ('<title>Fed holds rates — Harbor Daily</title><script type="application/ld+json">'
            '{"@type": "NewsArticle", "publisher": {"@type": "Organization", "name": "Harbor Daily"}}</script>')
    assert title(head, ENGLISH_TEXT) == "Fed holds rates"


def test_unconfirmed_separators_are_part_of_the_title() -> None:
    head = '<title>Tab and | pipe_华夏财经网</title><meta property="og:title" content="Tab and | pipe">'
    assert title(head, f"<h1>Tab and | pipe</h1>{ENGLISH_TEXT}") == "Tab and | pipe"
    assert title("<title>A-shares rally - what next</title>", ENGLISH_TEXT) == "A-shares rally - what next"


def test_title_whitespace_is_collapsed() -> None:
    assert title('<meta property="og:title" content="  Tab\tand   spaces ">') == "Tab and spaces"


# --- dates ----------------------------------------------------------------------------------------------


def test_article_published_time_keeps_its_offset() -> None:
    published = metadata('<meta property="article:published_time" content="2020-08-31T12:56:08+08:00">').published
    assert published == datetime(2020, 8, 31, 12, 56, 8, tzinfo=CHINA)
    assert published.utcoffset() == timedelta(hours=8)


def test_json_ld_date_published() -> None:
    head = ('<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": "NewsArticle",'
            ' "datePublished": "2020-08-31T09:30:15-04:00", "dateModified": "2020-08-31T11:00:00-04:00"}]}</script>')
    published = metadata(head, ENGLISH_TEXT).published
    assert published.isoformat() == "2020-08-31T09:30:15-04:00"


@pytest.mark.parametrize("name", ["pubdate", "publishdate", "ptime"])
def test_meta_dates_without_offset_are_china_time_on_chinese_pages(name: str) -> None:
    published = metadata(f'<meta name="{name}" content="2020-08-31 12:56:08">').published
    assert published.isoformat() == "2020-08-31T12:56:08+08:00"


def test_meta_dates_without_offset_are_utc_on_english_pages() -> None:
    published = metadata('<meta name="pubdate" content="2020-08-31 12:56:08">', ENGLISH_TEXT).published
    assert published.isoformat() == "2020-08-31T12:56:08+00:00"


def test_time_element() -> None:
    body = f'<article><h1>Oil steadies</h1><time datetime="2020-08-31T09:30:15-04:00">Aug 31</time>{ENGLISH_TEXT}</article>'
    assert metadata("", body).published.isoformat() == "2020-08-31T09:30:15-04:00"


@pytest.mark.parametrize("shown", [
    "2020年08月31日 12:56",
    "２０２０年０８月３１日 １２:５６",
    "发布时间：2020-08-31 12:56",
    "来源：华夏财经网 2020/08/31 12:56",
])
def test_visible_chinese_date_next_to_the_title(shown: str) -> None:
    body = f'<div class="date">今天是2020年09月01日 星期二 08:00</div><h1>央行开展逆回购</h1><div class="info">{shown}</div>{TEXT}'
    assert metadata("<title>央行开展逆回购</title>", body).published == datetime(2020, 8, 31, 12, 56, tzinfo=CHINA)


def test_a_date_without_time_in_the_text_is_not_the_publication_time() -> None:
    body = "<h1>央行开展逆回购</h1><p>2019年3月5日，央行宣布降准。</p>" + TEXT
    head = '<title>央行开展逆回购</title><meta property="article:modified_time" content="2020-08-31T12:56:08+08:00">'
    assert metadata(head, body).published == datetime(2020, 8, 31, 12, 56, 8, tzinfo=CHINA)


def test_future_dates_give_way_to_the_next_source() -> None:
    head = ('<meta property="article:published_time" content="2099-01-01T00:00:00+08:00">'
            '<meta name="pubdate" content="2020-08-31 12:56:08">')
    assert metadata(head).published == datetime(2020, 8, 31, 12, 56, 8, tzinfo=CHINA)


def test_a_date_in_the_future_of_now_is_dropped() -> None:
    head = '<meta property="article:published_time" content="2020-08-31T12:56:08+08:00">'
    assert metadata(head, now=datetime(2020, 8, 31, 4, 0, tzinfo=timezone.utc)).published is None


def test_htmldate_day_gets_the_time_the_page_prints_for_it() -> None:
    body = f"{TEXT}<div class='footer-note'>本文发表于 2020-08-31 12:56 · 阅读 1024</div>"
    published = metadata("", body, url="https://news.example.cn/2020/08/31/article-88.html").published
    assert published == datetime(2020, 8, 31, 12, 56, tzinfo=CHINA)


# --- author ---------------------------------------------------------------------------------------------


def test_json_ld_authors_are_joined() -> None:
    head = ('<script type="application/ld+json">{"@type": "ReportageNewsArticle", "author": ['
            '{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "John Roe"},'
            '{"@type": "Organization", "name": "Coastline Wire"}]}</script>')
    assert metadata(head, ENGLISH_TEXT).author == "Jane Doe, John Roe"


def test_article_author_meta_is_cleaned() -> None:
    assert metadata('<meta property="article:author" content="By Jane Doe / Reuters">', ENGLISH_TEXT).author \
        == "Jane Doe"


def test_byline_next_to_the_title() -> None:
    body = f'<h1>央行开展逆回购</h1><div class="info"><span>来源：华夏财经网</span><span>作者：王爱文</span></div>{TEXT}'
    assert metadata("<title>央行开展逆回购</title>", body).author == "王爱文"
    english = f'<h1>Oil steadies</h1><div class="byline">By <a href="/a">Jane Doe</a> and <a href="/b">John Roe</a></div>'
    assert metadata("<title>Oil steadies</title>", english + ENGLISH_TEXT).author == "Jane Doe, John Roe"


def test_body_credits_are_the_fallback() -> None:
    hints = BodyHints(credits=(Credit("source", "新华社"), Credit("editor", "张晓明"), Credit("author", "记者 李明")))
    assert metadata("", hints=hints).author == "李明"


def test_the_site_is_not_the_author() -> None:
    head = '<title>央行开展逆回购_网易新闻</title><meta name="author" content="网易">'
    assert metadata(head, f"<h1>央行开展逆回购</h1>{TEXT}").author is None


# --- image, canonical URL, tags -------------------------------------------------------------------------


def test_og_image_is_made_absolute() -> None:
    assert metadata('<meta property="og:image" content="/img/lead.jpg">').image == "https://news.example.cn/img/lead.jpg"


def test_json_ld_image_then_first_body_image() -> None:
    head = '<meta property="og:image" content=""><script type="application/ld+json">' \
           '{"@type": "NewsArticle", "image": {"@type": "ImageObject", "url": "https://img.example.cn/ld.jpg"}}</script>'
    assert metadata(head).image == "https://img.example.cn/ld.jpg"
    assert metadata("", hints=BodyHints(first_image="https://img.example.cn/body.jpg")).image \
        == "https://img.example.cn/body.jpg"


def test_canonical_url() -> None:
    assert metadata('<link rel="canonical" href="/2020/0831/article-88.html">').canonical_url \
        == "https://news.example.cn/2020/0831/article-88.html"
    assert metadata('<meta property="og:url" content="https://news.example.cn/a/88">').canonical_url \
        == "https://news.example.cn/a/88"
    assert metadata("").canonical_url is None


def test_tags_from_keywords_and_json_ld() -> None:
    assert metadata('<meta name="keywords" content="央行，逆回购, 流动性,央行">').tags == ("央行", "逆回购", "流动性")
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "keywords": ["Oil", "Commodities"]}</script>'
    assert metadata(head, ENGLISH_TEXT).tags == ("Oil", "Commodities")
