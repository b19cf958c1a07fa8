import pytest

from crawler.urls import canonical_url

SINA = "https://finance.sina.com.cn/money/bank/2022-02-09/doc-ikyamrmz7381004.shtml"


@pytest.mark.parametrize("variants, canonical", [
    ([
        SINA,
        SINA + "?cre=tianyi&mod=pcpager_fin&loc=1&r=9&rfunc=38&tj=none&tr=9",
        SINA + "?from=rss",
        SINA + "#comments",
        "HTTPS://Finance.Sina.COM.cn:443/money/bank/2022-02-09/doc-ikyamrmz7381004.shtml",
        "  " + SINA + "?utm_source=weibo&utm_medium=social\n",
        SINA + "?wm=3049_0032&sudaref=www.baidu.com&ivk_sa=1024320u",
    ], SINA),
    ([
        "https://example.com",
        "https://example.com/",
        "https://EXAMPLE.com:443",
        "https://example.com/#top",
        "https://example.com/?",
    ], "https://example.com/"),
    ([
        "https://news.example.com/a/b/../c/./d.html",
        "https://news.example.com/a/c/d.html",
        "https://news.example.com/a/%63/d.html",  # %63 is "c", an unreserved character
    ], "https://news.example.com/a/c/d.html"),
    ([
        "https://www.yicai.com/news/101312345.html?id=7&spm=a2c4e.11153940&utm_campaign=x",
        "https://www.yicai.com/news/101312345.html?spm=a2c4e&id=7",
        "https://www.yicai.com/news/101312345.html?UTM_Source=feed&id=7&fbclid=IwAR0&gclid=abc",
        "https://www.yicai.com/news/101312345.html?id=7&&",
    ], "https://www.yicai.com/news/101312345.html?id=7"),
    ([
        "https://example.com/search?q=%e4%b8%ad%e6%96%87",
        "https://example.com/search?q=%E4%B8%AD%E6%96%87",
        "https://example.com/search?q=中文",
    ], "https://example.com/search?q=%E4%B8%AD%E6%96%87"),
    ([
        "https://example.com/新闻/财经.html",
        "https://example.com/%E6%96%B0%E9%97%BB/%E8%B4%A2%E7%BB%8F.html",
    ], "https://example.com/%E6%96%B0%E9%97%BB/%E8%B4%A2%E7%BB%8F.html"),
    ([
        "http://中文.com/a",
        "http://xn--fiq228c.com/a",
        "http://XN--FIQ228C.com:80/a",
    ], "http://xn--fiq228c.com/a"),
    ([
        "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=abc&from=timeline&isappinstalled=0",
        "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=abc",
    ], "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=abc"),
])
def test_variants_collapse(variants, canonical):
    assert {canonical_url(variant) for variant in variants} == {canonical}


@pytest.mark.parametrize("a, b", [
    ("http://example.com/a", "https://example.com/a"),
    ("https://example.com/a", "https://example.com/a/"),
    ("https://example.com/a", "https://www.example.com/a"),
    ("https://example.com/A", "https://example.com/a"),
    ("https://example.com/?p=1", "https://example.com/?p=2"),
    ("https://example.com/article?id=1", "https://example.com/article?id=2"),
    ("https://example.com/show?aid=1", "https://example.com/show?aid=2"),
    ("https://example.com/show?docid=1", "https://example.com/show?docid=2"),
    ("https://example.com/show?article_id=1", "https://example.com/show?article_id=2"),
    ("https://example.com/show?newsid=1", "https://example.com/show?newsid=2"),
    ("https://example.com/a?x=1&y=2", "https://example.com/a?y=2&x=1"),  # order is kept
    ("https://example.com:8080/a", "https://example.com/a"),
    ("https://example.com/a%2Fb", "https://example.com/a/b"),  # an encoded slash is not a slash
    ("https://example.com/q?a=1%262", "https://example.com/q?a=1&2"),
    # Sina's stream markers are only dropped on Sina: elsewhere mod and r are routes
    ("https://bbs.example.com/forum.php?mod=viewthread&tid=1", "https://bbs.example.com/forum.php?tid=1"),
    ("https://example.com/index.php?r=news/view&id=3", "https://example.com/index.php?id=3"),
])
def test_distinct_urls_stay_distinct(a, b):
    assert canonical_url(a) != canonical_url(b)


def test_article_identifiers_are_kept():
    url = "https://example.com/view?id=1&p=2&aid=3&docid=4&article_id=5&newsid=6"
    assert canonical_url(url) == url


def test_tracking_on_a_sina_subdomain_and_sina_cn():
    assert canonical_url("https://k.sina.cn/article_123.html?mod=x&loc=2&r=0&tr=9&id=5") == \
        "https://k.sina.cn/article_123.html?id=5"


def test_resolves_against_base():
    base = "https://rss.sina.com.cn/finance/roll.xml"
    assert canonical_url("/roll/a.shtml?from=rss", base) == "https://rss.sina.com.cn/roll/a.shtml"
    assert canonical_url("b.shtml", base) == "https://rss.sina.com.cn/finance/b.shtml"
    assert canonical_url("../c.shtml", base) == "https://rss.sina.com.cn/c.shtml"
    assert canonical_url("//n.sinaimg.cn/x.jpg", base) == "https://n.sinaimg.cn/x.jpg"
    assert canonical_url("https://other.example.com/x", base) == "https://other.example.com/x"


def test_keeps_non_default_port_userinfo_and_ipv6():
    assert canonical_url("https://user:pw@[2001:DB8::1]:8443/a") == "https://user:pw@[2001:db8::1]:8443/a"
    assert canonical_url("http://[2001:db8::1]:80/a") == "http://[2001:db8::1]/a"


def test_illegal_characters_and_stray_percent_are_escaped():
    assert canonical_url("https://example.com/a b/\"q\"?x=a b") == "https://example.com/a%20b/%22q%22?x=a%20b"
    assert canonical_url("https://example.com/100%/x?p=%4%41") == "https://example.com/100%25/x?p=%254A"


@pytest.mark.parametrize("url, expected", [
    (" http://[::1/x ", "http://[::1/x"),
    ("\x00/relative/path?from=rss ", "/relative/path?from=rss"),
    ("http://:80/a", "http://:80/a"),
])
def test_urls_without_canonical_form_come_back_stripped(url, expected):
    assert canonical_url(url) == expected


def test_scheme_slashes_are_read_as_browsers_do():
    assert canonical_url("https:/example.com/a") == canonical_url("https:////example.com/a") == "https://example.com/a"


@pytest.mark.parametrize("url", [
    SINA + "?cre=tianyi&mod=pcpager_fin",
    "HTTP://中文.COM:80/新闻/../a b/%7e%2f?q=中文&utm_source=x&Z=1#frag",
    "https://example.com/100%/x?y=%zz",
    "https://example.com/a/b/..",
    "https://example.com/./../a",
    "https://user@Example.com:8443",
    "mailto:Someone@Example.com",
    "https://example.com/?&&a=1&&",
    "https://example.com/%41%42%43?%61=%62",
    "https://example.com/x?y=%4%41&z=%%4141",
    "https://f%inance.Example.中文.com/",
    "https://example.com/\ud800",
])
def test_idempotent(url):
    once = canonical_url(url)
    assert canonical_url(once) == once
