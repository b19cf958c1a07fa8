"""Sitemap parsing: indexes, urlsets, Google News fields, gzip, text sitemaps, and hostile documents."""
from __future__ import annotations

import gzip
import zlib
from datetime import datetime, timedelta, timezone

import pytest

from crawler.sitemaps import MAX_ENTRIES, SitemapError, inflate, parse_sitemap

CAP = 5_000_000
CST = timezone(timedelta(hours=8))
BASE = "https://finance.example.cn/sitemap.xml"


def urlset(entries: str, namespaces: str = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                                          'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"') -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {namespaces}>{entries}</urlset>'.encode()


NEWS_ENTRY = """<url><loc>https://finance.example.cn/doc-1.shtml?id=1&amp;from=sitemap</loc>
<lastmod>2022-02-10T08:00:00+08:00</lastmod>
<news:news><news:publication><news:name>新浪财经</news:name><news:language>zh</news:language></news:publication>
<news:publication_date>2022-02-09 11:10:19</news:publication_date>
<news:title>民政部：基本公共服务资源  向社区下沉</news:title></news:news>
<image:image xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"><image:loc>https://img.example.cn/1.jpg</image:loc></image:image>
</url>"""


def test_google_news_fields_become_metadata():
    sitemap = parse_sitemap(urlset(NEWS_ENTRY), BASE, CAP)
    assert sitemap.kind == "urlset" and sitemap.warnings == ()
    (item,) = sitemap.urls
    assert item.url == "https://finance.example.cn/doc-1.shtml?id=1&from=sitemap"  # &amp; decoded, image:loc ignored
    assert item.title == "民政部：基本公共服务资源 向社区下沉"
    assert item.publication == "新浪财经"
    # no offset in the text and a Chinese title: China's time, not UTC
    assert item.published == datetime(2022, 2, 9, 11, 10, 19, tzinfo=CST)
    assert item.lastmod == datetime(2022, 2, 10, 8, tzinfo=CST)
    assert item.date == item.published


def test_plain_urlset_dates_fall_back_to_lastmod():
    sitemap = parse_sitemap(urlset("<url><loc>https://a.example/x</loc><lastmod>2021-03-04</lastmod></url>"
                                   "<url><loc> https://a.example/y </loc></url>"), BASE, CAP)
    x, y = sitemap.urls
    assert x.date == datetime(2021, 3, 4, tzinfo=timezone.utc) and x.title is None
    assert y.url == "https://a.example/y" and y.date is None


def test_index_lists_sitemaps_with_lastmod():
    body = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://finance.example.cn/sitemap-2022-01.xml.gz</loc><lastmod>2022-01-31T23:00:00Z</lastmod></sitemap>
<sitemap><loc>/sitemap-2022-02.xml</loc></sitemap></sitemapindex>"""
    sitemap = parse_sitemap(body, BASE, CAP)
    assert sitemap.kind == "index" and sitemap.urls == ()
    assert [(r.url, r.lastmod) for r in sitemap.sitemaps] == [
        ("https://finance.example.cn/sitemap-2022-01.xml.gz", datetime(2022, 1, 31, 23, tzinfo=timezone.utc)),
        ("https://finance.example.cn/sitemap-2022-02.xml", None),  # relative: resolved against the index
    ]


def test_wrong_or_missing_namespace_is_read_anyway():
    body = b"<urlset><url><loc>https://a.example/1</loc></url></urlset>"
    assert [u.url for u in parse_sitemap(body, BASE, CAP).urls] == ["https://a.example/1"]
    body = b'<s:urlset xmlns:s="urn:wrong"><s:url><s:loc>https://a.example/2</s:loc></s:url></s:urlset>'
    assert [u.url for u in parse_sitemap(body, BASE, CAP).urls] == ["https://a.example/2"]


def test_gzip_sitemap_is_inflated():
    plain = urlset(NEWS_ENTRY)
    assert parse_sitemap(gzip.compress(plain), BASE, CAP) == parse_sitemap(plain, BASE, CAP)


def test_gzip_bomb_stops_at_the_cap():
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(squeezer.compress(b"\0" * (1 << 20)) for _ in range(64)) + squeezer.flush()  # 64 MiB inflated
    assert len(bomb) < 100_000
    with pytest.raises(SitemapError, match="more than 1,000,000 bytes.*backfill.max_sitemap_bytes"):
        inflate(bomb, BASE, 1_000_000)


def test_corrupt_and_truncated_gzip_are_clear_errors():
    data = gzip.compress(urlset(NEWS_ENTRY))
    with pytest.raises(SitemapError, match="truncated"):
        parse_sitemap(data[:-12], BASE, CAP)
    with pytest.raises(SitemapError, match="corrupt gzip"):
        parse_sitemap(data[:10] + b"\xff" * 40, BASE, CAP)


def test_text_sitemap():
    sitemap = parse_sitemap(b"\xef\xbb\xbfhttps://a.example/1\n\nhttps://a.example/2\r\nnot a url\n", BASE, CAP)
    assert sitemap.kind == "text"
    assert [u.url for u in sitemap.urls] == ["https://a.example/1", "https://a.example/2"]
    assert sitemap.warnings == ("1 line skipped: not an http(s) URL",)


def test_feed_offered_as_a_sitemap_is_left_to_the_feed_parser():
    assert parse_sitemap(b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', BASE, CAP).kind == "feed"
    assert parse_sitemap(b'<feed xmlns="http://www.w3.org/2005/Atom"/>', BASE, CAP).kind == "feed"


@pytest.mark.parametrize("body, message", [
    (b"", "empty body"),
    (b"  \n ", "empty body"),
    (b"<!DOCTYPE html><html><head><title>404</title></head><body>Not found</body></html>", "HTML page"),
    (b"<opml version='1.0'/>", "not a sitemap: the document is <opml>"),
    (b"Welcome to our site!", "neither XML nor a list of URLs"),
    (b"<<<>>>", "not XML"),
])
def test_documents_that_are_no_sitemaps(body, message):
    with pytest.raises(SitemapError, match=message) as caught:
        parse_sitemap(body, BASE, CAP)
    assert str(caught.value).startswith(BASE + ": ")


def test_only_http_urls_of_sane_length_are_kept():
    entries = "".join(f"<url><loc>{loc}</loc></url>" for loc in (
        "javascript:alert(1)", "file:///etc/passwd", "ftp://a.example/x", "", "https://a.example/" + "a" * 2100,
        "https://a.example/ok"))
    sitemap = parse_sitemap(urlset(entries), BASE, CAP)
    assert [u.url for u in sitemap.urls] == ["https://a.example/ok"]
    assert sitemap.warnings == ("5 entries skipped: no http(s) URL of at most 2048 characters in <loc>",)


def test_truncated_xml_keeps_the_entries_read_whole():
    entries = "".join(f"<url><loc>https://a.example/page-{i}.html</loc></url>" for i in range(5))
    body = urlset(entries)
    cut = body[:body.index(b"page-4") + 4]  # in the middle of the last URL: "https://a.example/page"
    sitemap = parse_sitemap(cut, BASE, CAP)
    assert [u.url for u in sitemap.urls] == [f"https://a.example/page-{i}.html" for i in range(4)]
    assert len(sitemap.warnings) == 1 and "truncated" in sitemap.warnings[0]


def test_billion_laughs_is_not_expanded():
    lol = "".join(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 10))
    body = (f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY lol0 "lol">{lol}]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/fine</loc></url>'
            "<url><loc>https://a.example/x</loc><news:news xmlns:news='n'><news:title>&lol9;</news:title>"
            "</news:news></url></urlset>").encode()
    sitemap = parse_sitemap(body, BASE, CAP)
    # the parser refuses the bomb and stops there: what came before is kept, nothing is expanded
    assert [u.url for u in sitemap.urls] == ["https://a.example/fine"]
    assert "lol" * 100 not in repr(sitemap)
    assert len(sitemap.warnings) == 1


def test_external_entities_are_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    body = (f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            "<urlset><url><loc>https://a.example/&xxe;</loc><news:news xmlns:news='n'><news:title>t &xxe;"
            "</news:title></news:news></url></urlset>").encode()
    sitemap = parse_sitemap(body, BASE, CAP)
    assert "TOP-SECRET-VALUE" not in repr(sitemap)


def test_at_most_the_protocols_number_of_entries():
    entries = "".join(f"<url><loc>https://a.example/{i}</loc></url>" for i in range(MAX_ENTRIES + 10))
    sitemap = parse_sitemap(urlset(entries), BASE, 50_000_000)
    assert len(sitemap.urls) == MAX_ENTRIES
    assert sitemap.urls[-1].url == f"https://a.example/{MAX_ENTRIES - 1}"
    assert any("50,000" in w for w in sitemap.warnings)


def test_gbk_declared_sitemap():
    body = ('<?xml version="1.0" encoding="GBK"?><urlset xmlns:news="n"><url><loc>https://a.example/1</loc>'
            "<news:news><news:title>证监会：资本市场深化改革</news:title></news:news></url></urlset>").encode("gbk")
    assert parse_sitemap(body, BASE, CAP).urls[0].title == "证监会：资本市场深化改革"


def test_characters_xml_forbids_are_removed_before_parsing():
    body = urlset("<url><loc>https://a.example/1</loc><news:news><news:title>null\x00byte</news:title></news:news></url>"
                  "<url><loc>https://a.example/2</loc><news:news><news:title>含&#x27;单引号&#x27;和&quot;双引号&quot;&#1;"
                  "</news:title></news:news></url>")
    sitemap = parse_sitemap(body, BASE, CAP)
    assert [u.title for u in sitemap.urls] == ["nullbyte", "含'单引号'和\"双引号\""]
    assert sitemap.warnings == ("removed 2 control characters that XML does not allow",)
