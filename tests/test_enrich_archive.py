"""Enrichment end to end: front matter that reads back, `crawler once` through a local server, the state
index, and `crawler grep` from the index and from the files."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from crawler.archive import parse_post, render_post
from crawler.cli import main
from crawler.extract.pool import ExtractionPool
from tests.support.server import LocalServer, Reply
from tests.test_archive_frontmatter import make_article

CST = timezone(timedelta(hours=8))
ZONE = ZoneInfo("Asia/Shanghai")


def test_front_matter_lists_securities_after_tags_and_reads_back():
    article = make_article(tags=("公司", "600519.SH"), tickers=("00700.HK", "600519.SH", "ON", "TRUE"),
                           companies=("贵州茅台", "腾讯控股"))
    text = render_post(article, [article.category_path], ZONE)
    front, _ = parse_post(text)
    assert front["tags"] == ["公司", "600519.SH", "00700.HK", "ON", "TRUE"]  # the feed's own first, then codes
    assert front["tickers"] == ["00700.HK", "600519.SH", "ON", "TRUE"]  # YAML 1.1 booleans stay strings
    assert front["companies"] == ["贵州茅台", "腾讯控股"]
    keys = list(front)
    assert keys.index("tags") + 1 == keys.index("tickers") and keys.index("tickers") + 1 == keys.index("companies")
    assert yaml.safe_load(text.split("---\n")[1])["tickers"] == front["tickers"]


def test_front_matter_without_securities_has_no_such_keys():
    front, _ = parse_post(render_post(make_article(), [make_article().category_path], ZONE))
    assert not {"tickers", "companies", "tags"} & set(front)


# --- crawler once ---------------------------------------------------------------------------------------

ZH_TITLE = "贵州茅台三季报出炉：净利润同比增长15.3%"
ZH_PARAS = [
    "贵州茅台（600519）晚间发布公告称，公司前三季度实现营业收入1053亿元，同比增长16.9%。",
    "港股方面，腾讯控股（00700）收涨3.2%，南向资金净买入15亿港元。",
    "公司以600519元的价格竞得地块，截至20230519已回购300750股，详见 https://quote.eastmoney.com/sh000858.html 。",
]
EN_TITLE = "Nvidia beats estimates as chip demand holds up"
EN_PARAS = [
    "Nvidia (NASDAQ: NVDA) reported quarterly revenue of $35 billion, up 94% from a year earlier.",
    "Shares of $AAPL slipped while Exxon Mobil (NYSE:XOM) rose 1.2%; the S&P 500 closed at 5,870.",
]
PLAIN_TITLE = "宁德时代（300750）发布新一代电池"
PLAIN_PARAS = ["宁德时代今日发布新一代电池，能量密度提升20%。"]


def page(title: str, paras: list[str]) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paras)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body>"
            f"<article><h1>{escape(title)}</h1>{body}</article></body></html>")


def rss(items: list[tuple[str, str, str, tuple[str, ...]]]) -> bytes:
    out = "".join(
        f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid><pubDate>{date}</pubDate>"
        + "".join(f"<category>{escape(c)}</category>" for c in categories) + "</item>"
        for title, link, date, categories in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f"<link>http://example.com/</link><description>d</description>{out}</channel></rss>").encode()


def write_config(tmp: Path, feeds: list[dict], **enrich) -> Path:
    config = {
        "archive": {"dir": str(tmp / "archive")},
        "state": {"url": f"sqlite:///{tmp}/state.sqlite3"},
        "network": {"allow_private": True, "attempts": 1, "total_timeout": "10s"},
        "extract": {"workers": 1},
        "feeds": feeds,
    }
    if enrich:
        config["enrich"] = enrich
    path = tmp / "feeds.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def posts(root: Path) -> dict[str, dict]:
    return {front["title"]: front for front in
            (parse_post(p.read_text(encoding="utf-8"))[0] for p in root.rglob("*.md"))}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("enrich")
    (tmp / "ours.csv").write_text("code,name,aliases\n300033.SZ,同花顺,\n", encoding="utf-8")
    recent = datetime.now(CST) - timedelta(days=1)
    old = recent - timedelta(days=30)
    with LocalServer() as server:
        server.route("/zh/1.html", Reply.text(page(ZH_TITLE, ZH_PARAS)))
        server.route("/en/2.html", Reply.text(page(EN_TITLE, EN_PARAS)))
        server.route("/zh/3.html", Reply.text(page(PLAIN_TITLE, PLAIN_PARAS)))
        server.route("/zh/4.html", Reply.text(page("同花顺发布年报", ["同花顺（300033）发布年报，贵州茅台获增持。"])))
        server.route("/enriched.xml", Reply(body=rss([
            (ZH_TITLE, server.url("/zh/1.html"), recent.strftime("%a, %d %b %Y %H:%M:%S %z"), ("公司", "600519.SH")),
            (EN_TITLE, server.url("/en/2.html"), old.strftime("%a, %d %b %Y %H:%M:%S %z"), ()),
            ("同花顺发布年报", server.url("/zh/4.html"), old.strftime("%a, %d %b %Y %H:%M:%S %z"), ()),
        ]), headers={"Content-Type": "application/rss+xml"}))
        server.route("/plain.xml", Reply(body=rss([
            (PLAIN_TITLE, server.url("/zh/3.html"), recent.strftime("%a, %d %b %Y %H:%M:%S %z"), ()),
        ]), headers={"Content-Type": "application/rss+xml"}))
        config = write_config(tmp, [
            {"url": server.url("/enriched.xml"), "name": "公司新闻", "source": "测试", "category": "金融"},
            {"url": server.url("/plain.xml"), "name": "不加标注", "source": "测试", "category": "金融",
             "enrich": False},
        ], companies=str(tmp / "ours.csv"))
        separate_analyses = []
        analyse = ExtractionPool.analyse

        async def counting(self, *args, **kwargs):
            separate_analyses.append(args[0])
            return await analyse(self, *args, **kwargs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ExtractionPool, "analyse", counting)
            code = main(["once", "-c", str(config)])
    return dict(code=code, tmp=tmp, config=config, posts=posts(tmp / "archive"), separate_analyses=separate_analyses)


def test_the_run_succeeds(crawled):
    assert crawled["code"] == 0 and len(crawled["posts"]) == 4


def test_each_page_is_extracted_and_analysed_in_one_worker_call(crawled):
    assert crawled["separate_analyses"] == []


def test_chinese_story_gets_codes_and_names_but_not_the_traps(crawled):
    front = crawled["posts"][ZH_TITLE]
    assert front["tickers"] == ["00700.HK", "600519.SH"]  # not 600519元, 20230519, 300750股, the URL's sh000858
    assert front["companies"] == ["贵州茅台", "腾讯控股"]
    assert front["tags"] == ["公司", "600519.SH", "00700.HK"]  # the feed's own tags first, each once


def test_english_story_gets_exchange_prefixed_tickers_and_cashtags(crawled):
    front = crawled["posts"][EN_TITLE]
    assert front["tickers"] == ["AAPL", "NVDA", "XOM"]
    assert front["companies"] == ["Nvidia", "Exxon Mobil"]
    assert front["tags"] == front["tickers"]


def test_the_user_table_is_used(crawled):
    assert crawled["posts"]["同花顺发布年报"]["companies"] == ["同花顺", "贵州茅台"]


def test_a_feed_with_enrich_false_is_left_alone(crawled):
    assert not {"tickers", "companies", "tags"} & set(crawled["posts"][PLAIN_TITLE])


def test_the_state_index_holds_the_tickers(crawled):
    with sqlite3.connect(crawled["tmp"] / "state.sqlite3") as db:
        rows = db.execute("SELECT a.title, t.ticker FROM article_tickers t JOIN articles a ON a.id = t.article_id "
                          "ORDER BY t.ticker").fetchall()
    assert (ZH_TITLE, "600519.SH") in rows and (EN_TITLE, "NVDA") in rows
    assert not [r for r in rows if r[0] == PLAIN_TITLE]


def test_a_bad_user_table_stops_the_run_before_any_request(tmp_path, http_server, caplog):
    (tmp_path / "bad.csv").write_text("code,name,aliases\nXXXXXXX,坏,\n", encoding="utf-8")
    config = write_config(tmp_path, [{"url": http_server.url("/f.xml"), "name": "n", "source": "s", "category": "c"}],
                          companies=str(tmp_path / "bad.csv"))
    assert main(["once", "-c", str(config)]) == 2
    assert "bad.csv:2: 'XXXXXXX' is not a security code" in caplog.text
    assert http_server.requests == []


# --- crawler grep ---------------------------------------------------------------------------------------


def grep(capsys, crawled, *args: str) -> list[str]:
    capsys.readouterr()
    assert main(["grep", "-c", str(crawled["config"]), *args]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("spelling", ["600519.SH", "600519", "SH600519", "sh600519", "600519.SS", "贵州茅台"])
def test_grep_accepts_any_spelling_of_a_code(capsys, crawled, spelling):
    lines = grep(capsys, crawled, "--ticker", spelling)
    assert len(lines) == 2
    date, title, path = lines[0].split("\t")
    assert title == ZH_TITLE and Path(path).is_file() and Path(path).is_relative_to(crawled["tmp"] / "archive")
    assert datetime.strptime(date, "%Y-%m-%d %H:%M:%S")


def test_grep_since_and_json(capsys, crawled):
    assert grep(capsys, crawled, "--ticker", "nasdaq:nvda", "--since", "7d") == []  # a month old
    found = [json.loads(line) for line in grep(capsys, crawled, "--ticker", "$NVDA", "--since", "60d", "--json")]
    assert [(m["title"], m["ticker"]) for m in found] == [(EN_TITLE, "NVDA")]
    assert datetime.fromisoformat(found[0]["published"]).tzinfo is not None
    assert grep(capsys, crawled, "--ticker", "XOM", "--since", "2000-01-01", "--json") != []


def test_grep_reads_the_files_when_there_is_no_index(capsys, crawled, tmp_path):
    from_index = grep(capsys, crawled, "--ticker", "00700.HK")
    assert grep(capsys, crawled, "--ticker", "700", "--files") == from_index
    # The same archive with no state database at all (copied elsewhere, or the state file deleted).
    config = yaml.safe_load(crawled["config"].read_text(encoding="utf-8"))
    config["state"]["url"] = f"sqlite:///{tmp_path}/none.sqlite3"
    moved = tmp_path / "feeds.yaml"
    moved.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert grep(capsys, dict(crawled, config=moved), "--ticker", "0700.HK") == from_index
    assert not (tmp_path / "none.sqlite3").exists()  # grep never creates a state database


@pytest.mark.parametrize("source", [(), ("--files",)])
def test_grep_lists_newest_first(capsys, crawled, source):
    titles = [line.split("\t")[1] for line in grep(capsys, crawled, "--ticker", "600519.SH", *source)]
    assert titles == [ZH_TITLE, "同花顺发布年报"]


def test_grep_refuses_what_is_no_code(capsys, crawled, caplog):
    assert main(["grep", "-c", str(crawled["config"]), "--ticker", "no such company"]) == 2
    assert "--ticker 'no such company' is neither a security code nor a company name" in caplog.text
    assert main(["grep", "-c", str(crawled["config"]), "--ticker", "AAPL", "--since", "soon"]) == 2


def test_enrich_is_on_by_default_and_defaults_can_turn_it_off(tmp_path):
    from crawler.config import load_config

    feeds = [{"url": "http://a.example/1.xml", "name": "a", "source": "s", "category": "c"},
             {"url": "http://a.example/2.xml", "name": "b", "source": "s", "category": "c", "enrich": True}]
    assert [f.enrich for f in load_config(write_config(tmp_path, feeds)).feeds] == [True, True]
    config = write_config(tmp_path, feeds, companies="ours.csv")
    data = yaml.safe_load(config.read_text(encoding="utf-8")) | {"defaults": {"enrich": False}}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    settings = load_config(config, environ={"CRAWLER_ENRICH_COMPANIES": "theirs.csv"})
    assert [f.enrich for f in settings.feeds] == [False, True]
    assert settings.enrich.companies == Path("theirs.csv")
