"""`crawler extract URL|FILE`: the archiver's own path on one page, printed; the same post `crawler once`
writes for it. Pages come from a local HTTP server or files written by the test."""
from __future__ import annotations

import json
import logging
from html import escape
from pathlib import Path

import pytest
import yaml

from crawler.archive import parse_post
from crawler.cli import main
from tests.support.server import LocalServer, Reply

PARAS = [
    "今年以来，多地出台稳增长举措，重点项目加快开工，基础设施投资增速明显回升，带动相关产业链订单增长。",
    "业内人士表示，随着专项债发行提速，一季度基建投资有望保持较快增长，水泥、工程机械等行业将率先受益。",
    "不过也有分析人士提醒，地方财政收支压力仍然较大，项目资金到位情况和实物工作量形成仍需持续观察。",
]
TITLE = "基建投资回升 工程机械订单增长"


def article_page(*, charset: str = "utf-8") -> bytes:
    text = "".join(f"<p>\u3000\u3000{p}</p>" for p in PARAS)
    return f"""<!DOCTYPE html><html><head><meta charset="{charset}"><title>{TITLE}_江南财经_江南财经网</title>
<meta property="og:image" content="/img/lead.jpg"><meta name="keywords" content="基建,专项债">
</head><body><div class="nav"><a href="/">首页</a> | <a href="/roll">滚动</a> | <a href="/stock">股票</a></div>
<h1>{TITLE}</h1><div class="info"><span class="time">2022年02月09日 11:10</span>
<span class="writer">记者 杨晓林</span><span class="src">来源：江南日报</span></div>
<div id="main-text">{text}<div class="qr">打开江南财经APP，阅读更多</div><p>责任编辑：孙雨桐</p></div>
<div class="related"><h2>相关阅读</h2><ul><li><a href="/a">另一条新闻</a></li></ul></div>
</body></html>""".encode(charset)


def write_config(tmp_path: Path, *, feeds: list[dict] = (), sites: list[str] = (), **network) -> Path:
    cfg = {
        "archive": {"dir": str(tmp_path / "archive")},
        "state": {"url": f"sqlite:///{tmp_path}/state.sqlite3"},
        "network": {"allow_private": True, "attempts": 1, "total_timeout": "10s", **network},
        "extract": {"workers": 1, "sites": list(sites)},
        "feeds": list(feeds),
    }
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["extract", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_file_prints_the_post(tmp_path: Path, capsys) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(article_page(charset="gbk"))
    code, out, _ = run(capsys, str(page), "--url", "https://finance.example.cn/roll/doc-7.shtml",
                       "-c", str(write_config(tmp_path)))
    assert code == 0
    front, body = parse_post(out)
    assert front["title"] == TITLE
    assert front["author"] == "杨晓林"
    assert front["published"] == "2022-02-09T11:10:00+08:00"
    assert front["headimg"] == "https://finance.example.cn/img/lead.jpg"
    assert front["link"] == "https://finance.example.cn/roll/doc-7.shtml"
    assert front["categories"] == ["Uncategorized", "finance.example.cn", "finance.example.cn"]
    assert body.rstrip("\n").split("\n\n") == PARAS
    assert not (tmp_path / "archive").exists() and not (tmp_path / "state.sqlite3").exists()


def test_json_names_the_rules_that_applied(tmp_path: Path, capsys) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(article_page())
    sites = tmp_path / "my-sites.yaml"
    sites.write_text("sites:\n  - name: Jiangnan Finance\n    hosts: [finance.example.cn]\n"
                     "    author_selector: '.src'\n    article_selector: '#main-text'\n", encoding="utf-8")
    code, out, _ = run(capsys, str(page), "--url", "https://finance.example.cn/roll/doc-7.shtml", "--json",
                       "-c", str(write_config(tmp_path, sites=[str(sites)])))
    assert code == 0
    fields = json.loads(out)
    assert set(fields) >= {"title", "author", "published", "image", "tags", "body", "extracted_from", "rules_applied"}
    assert fields["rules_applied"] == [f"site Jiangnan Finance ({sites}:2)"]
    assert fields["author"] == "江南日报"  # the rule's selector beats the byline the page shows
    assert fields["extracted_from"] == "page"
    assert fields["body"].split("\n\n") == PARAS


def test_a_url_gives_the_post_crawler_once_writes(tmp_path: Path, capsys) -> None:
    with LocalServer() as server:
        page_url = server.url("/roll/doc-7.shtml")
        feed_url = server.url("/feeds/roll.xml")
        server.route("/roll/doc-7.shtml", Reply(body=article_page(), headers={"Content-Type": "text/html"}))
        item = f"<item><title>{escape(TITLE)}</title><link>{page_url}</link><guid>{page_url}</guid></item>"
        server.route("/feeds/roll.xml", Reply(body=f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">'
                                                   f"<channel><title>滚动</title>{item}</channel></rss>".encode(),
                                              headers={"Content-Type": "application/rss+xml"}))
        feed = {"url": feed_url, "name": "江南滚动", "source": "江南财经", "category": "金融",
                "drop_selectors": ["#main-text p:first-child"]}
        sites = tmp_path / "my-sites.yaml"
        sites.write_text("sites:\n  - hosts: [127.0.0.1/roll]\n    author_selector: '.src'\n", encoding="utf-8")
        config = write_config(tmp_path, feeds=[feed], sites=[str(sites)])
        assert main(["once", "-c", str(config)]) == 0
        capsys.readouterr()
        code, out, _ = run(capsys, page_url, "--feed", "江南滚动", "-c", str(config))
    assert code == 0
    (archived,) = (tmp_path / "archive").rglob("*.md")
    assert out == archived.read_text(encoding="utf-8")
    front, body = parse_post(out)
    assert front["categories"] == ["金融", "江南财经", "江南滚动"]
    assert front["author"] == "江南日报"  # the site rule reached the extraction workers of `crawler once`
    assert body.rstrip("\n").split("\n\n") == PARAS[1:]  # and so did the feed's drop_selectors


def test_the_feeds_keys_apply(tmp_path: Path, capsys) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(article_page())
    feed = {"url": "https://rsshub.app/jiangnan/roll", "name": "江南滚动", "source": "江南财经", "category": "金融",
            "author_selector": ".src", "drop_selectors": ["#main-text p:first-child"]}
    code, out, _ = run(capsys, str(page), "--url", "https://finance.example.cn/roll/doc-7.shtml", "--feed", "江南滚动",
                       "--json", "-c", str(write_config(tmp_path, feeds=[feed])))
    assert code == 0
    fields = json.loads(out)
    assert fields["author"] == "江南日报"
    assert fields["body"].split("\n\n") == PARAS[1:]
    assert fields["rules_applied"] == ["feed 江南滚动"]


def test_problems_are_one_line_and_an_exit_code(tmp_path: Path, capsys, caplog, http_server) -> None:
    config = str(write_config(tmp_path))
    http_server.route("/gone.html", Reply(404, b"<html><body>Not Found</body></html>"))
    with caplog.at_level(logging.ERROR, logger="crawler"):
        assert run(capsys, str(tmp_path / "missing.html"), "-c", config)[0] == 2
        assert run(capsys, http_server.url("/gone.html"), "-c", config)[0] == 1
        assert run(capsys, http_server.url("/a.html"), "--url", "https://x.cn/a", "-c", config)[0] == 2
        assert run(capsys, str(tmp_path), "--feed", "nope", "-c", config)[0] == 2
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 4 and all("\n" not in message for message in messages)
    assert "missing.html: cannot read the page" in messages[0]
    assert "gone.html" in messages[1] and "404" in messages[1]
    assert "--url names where a FILE was served from" in messages[2]
    assert "no feed named 'nope'" in messages[3]


@pytest.mark.parametrize("argv", [["--help"]])
def test_help(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit):
        main(["extract", *argv])
    assert "URL|FILE" in capsys.readouterr().out
