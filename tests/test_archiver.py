import asyncio
import errno
import os
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crawler.archive import parse_post
from crawler.archive.archiver import Archiver
from crawler.errors import ArchiveError
from crawler.models import Article
from crawler.state.store import Store

CST = timezone(timedelta(hours=8))
MARKETS = ("金融", "新浪财经", "新浪财经－国內")
MACRO = ("金融", "新浪财经", "新浪财经－宏观")


def article(category_path=MARKETS, link="https://finance.sina.com.cn/a/1.shtml") -> Article:
    return Article(link=link, title="央行：降准释放长期资金", published=datetime(2022, 2, 9, 11, 10, 19, tzinfo=CST),
                   author="王爱文", source="新浪财经", image=None, body="正文。\n", extracted_from="page",
                   feed_url="https://f/rss", category_path=category_path, urls=(link,))


def add(archiver: Archiver, *args, **kwargs) -> str:
    return asyncio.run(archiver.add(*args, **kwargs))


@pytest.fixture
def archiver(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/state.sqlite3")
    yield Archiver(tmp_path / "archive", ZoneInfo("Asia/Shanghai"), store)
    store.close()


def test_a_story_in_a_second_feed_and_at_a_second_url_updates_the_post(archiver):
    rel = add(archiver, article(), "h1", ["url:https://finance.sina.com.cn/a/1.shtml"])
    stored = archiver.store.find_by_hash("h1")
    assert archiver.add_appearance(stored, MACRO, "https://copy.example/1", ["url:https://copy.example/1"])
    front, _ = parse_post((archiver.root / rel).read_text(encoding="utf-8"))
    assert front["categories"] == [list(MARKETS), list(MACRO)] and front["syndicated"] == ["https://copy.example/1"]
    assert front["date"] == "2022-02-09 11:10:19"  # rewritten as it was: naive, unquoted
    assert not archiver.add_appearance(archiver.store.find_by_hash("h1"), MACRO, None, [])


def test_a_copy_naming_more_securities_adds_them_to_the_post_and_the_index(archiver):
    rel = add(archiver, replace(article(), tickers=("600519.SH",), companies=("贵州茅台",)), "h1", ["url:x"])
    stored = archiver.store.find_by_hash("h1")
    # the same feed, the same URL: only the securities are new
    assert archiver.add_appearance(stored, MARKETS, None, [], ("000858.SZ", "600519.SH"), ("五粮液", "茅台"))
    front, _ = parse_post((archiver.root / rel).read_text(encoding="utf-8"))
    assert front["tickers"] == ["000858.SZ", "600519.SH"] and front["tags"] == ["600519.SH", "000858.SZ"]
    assert front["companies"] == ["贵州茅台", "五粮液", "茅台"]
    assert archiver.store.tickers(stored.id) == {"000858.SZ", "600519.SH"}
    assert [path for path, _, _ in archiver.store.articles_with_ticker("000858.SZ")] == [rel]
    # a copy naming nothing new changes nothing, not even its names for the same codes
    assert not archiver.add_appearance(stored, MARKETS, None, [], ("600519.SH",), ("茅台酒",))
    assert "茅台酒" not in (archiver.root / rel).read_text(encoding="utf-8")


def test_a_post_written_by_a_run_that_died_before_indexing_it_is_reused(archiver):
    # the crashed run announced the path and renamed the file into place, then died before the commit
    first = article(MARKETS)
    rel = add(archiver, first, "h1", ["url:x"])
    with archiver.store.transaction() as conn:
        conn.exec_driver_sql("DELETE FROM article_keys")
        conn.exec_driver_sql("DELETE FROM articles")
        conn.exec_driver_sql(f"INSERT INTO pending_writes VALUES ('{first.link}', '{rel}')")
    # the next run meets the story in the other feed first: it must still land in the same file
    again = add(archiver, article(MACRO), "h1", ["url:x"])
    assert again == rel
    assert len(list(archiver.root.rglob("*.md"))) == 1


def test_a_failed_write_leaves_no_row(archiver, monkeypatch):
    def disk_full(source, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ArchiveError, match="no space left"):
        add(archiver, article(), "h1", ["url:x"])
    assert archiver.store.find_article(["url:x"]) is None and archiver.store.count_articles() == 0
