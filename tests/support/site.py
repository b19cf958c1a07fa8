"""Building blocks for end-to-end tests: article pages, feeds in every format, a crawler configuration.

Every article gets paragraphs of its own (`paragraphs(n)`): the crawler deduplicates by content, so two
articles with the same text would rightly become one post.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

import yaml

CST = timezone(timedelta(hours=8))
PUBLISHED = datetime(2022, 2, 9, 11, 10, 19, tzinfo=CST)
_SUBJECTS = ["国家统计局", "人民银行", "证监会", "财政部", "商务部", "发改委", "银保监会", "外汇局", "海关总署"]


def paragraphs(n: int) -> list[str]:
    """Three paragraphs of Chinese finance news that no other `n` gives."""
    subject = _SUBJECTS[n % len(_SUBJECTS)]
    return [
        f"{subject}第{n}号通报称，今年以来国民经济持续恢复，主要指标保持在合理区间，第{n}季度数据好于预期。",
        f"分析人士指出，编号{n * 7 + 3}的政策工具将继续发力，稳增长、稳就业和稳物价的任务依然艰巨。",
        f"{subject}表示，下一步将加大对实体经济的支持力度，确保第{n}项重点工程按期推进，预计投资{n + 12}亿元。",
    ]


def article_page(title: str, paras: list[str], *, charset: str = "utf-8") -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paras)
    return f"""<!DOCTYPE html><html><head><meta charset="{charset}"><title>{escape(title)}_财经网</title>
<meta property="og:title" content="{escape(title)}">
<meta property="article:published_time" content="2022-02-09T11:10:19+08:00">
</head><body><div class="nav"><a href="/">首页</a> <a href="/stock">股票</a></div>
<div class="main"><h1>{escape(title)}</h1><div class="article" id="artibody">
{body}
<p>责任编辑：王翔</p></div></div><div class="footer">Copyright 财经网</div></body></html>"""


@dataclass(frozen=True)
class Item:
    title: str | None
    link: str | None
    guid: str | None = None
    description: str = ""
    date: str | None = format_datetime(PUBLISHED)
    author: str | None = None
    tags: tuple[str, ...] = ()


def rss(title: str, items: list[Item], *, charset: str = "utf-8", declare: bool = True) -> bytes:
    """RSS 2.0; `declare=False` leaves out the XML declaration (and with it the encoding)."""
    out = []
    for it in items:
        parts = []
        if it.title is not None:
            parts.append(f"<title>{escape(it.title)}</title>")
        if it.link is not None:
            parts.append(f"<link>{escape(it.link)}</link>")
        if it.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(it.guid)}</guid>')
        if it.date is not None:
            parts.append(f"<pubDate>{escape(it.date)}</pubDate>")
        if it.author is not None:
            parts.append(f"<author>{escape(it.author)}</author>")
        parts += [f"<category>{escape(tag)}</category>" for tag in it.tags]
        parts.append(f"<description>{escape(it.description)}</description>")
        out.append(f"<item>{''.join(parts)}</item>")
    declaration = f'<?xml version="1.0" encoding="{charset}"?>' if declare else ""
    return (f'{declaration}<rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>http://example.com/</link><description>x</description>{''.join(out)}</channel></rss>"
            ).encode(charset)


def json_feed(items: list[dict[str, Any]]) -> bytes:
    """JSON Feed 1.1: unlike XML, JSON strings can carry NUL and every other control character."""
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Wire", "items": items},
                      ensure_ascii=False).encode("utf-8")


def full_text(paras: list[str]) -> str:
    """An RSS description that holds the whole article (the crawler falls back on it when the page fails)."""
    return "".join(f"<p>{escape(p)}</p>" for p in paras)


@dataclass(frozen=True)
class FeedConfig:
    url: str
    name: str
    source: str = "财经网"
    category: str = "金融"
    extra: tuple[tuple[str, Any], ...] = ()
    """More keys of the feed (("proxy", "http://..."),)."""


def write_config(directory: Path, feeds: list[FeedConfig], **network: Any) -> Path:
    """A configuration with the archive in `directory/archive`, state in `directory/state/crawler.sqlite3`,
    private addresses allowed (the test servers are on 127.0.0.1), quick retries and short deadlines."""
    config = {
        "archive": {"dir": str(directory / "archive"), "timezone": "Asia/Shanghai"},
        "state": {"url": f"sqlite:///{directory}/state/crawler.sqlite3"},
        "network": {"allow_private": True, "backoff": "50ms", "max_backoff": "1s", "attempts": 2,
                    "connect_timeout": "2s", "read_timeout": "2s", "total_timeout": "4s", **network},
        "extract": {"workers": 1},
        "feeds": [{"url": f.url, "name": f.name, "source": f.source, "category": f.category, **dict(f.extra)}
                  for f in feeds],
    }
    path = directory / "feeds.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def state_db(directory: Path) -> Path:
    return directory / "state" / "crawler.sqlite3"
