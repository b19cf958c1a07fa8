"""The files are the source of truth: `crawler reindex` rebuilds the index from them alone, `crawler verify`
checks the files and the index, and repairs with --fix what it safely can."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crawler.archive import parse_post
from crawler.cli import main
from tests.support.server import LocalServer, Reply
from tests.support.site import FeedConfig, Item, article_page, rss, state_db, write_config
from tests.support.stories import company_story, with_source_line

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def build_site(server: LocalServer) -> list[FeedConfig]:
    """Two feeds: five stories, one of them also in the second feed, and a copy of another on a second site."""
    items = []
    for n in range(5):
        server.route(f"/a/{n}.html", Reply.text(article_page(f"第{n}条新闻", company_story(300 + n).split("\n\n"))))
        items.append(Item(f"第{n}条新闻", server.url(f"/a/{n}.html"), guid=f"a-{n}"))
    server.route("/b/copy.html", Reply.text(article_page("第0条新闻（转载）",
                                                         with_source_line(company_story(300)).split("\n\n"))))
    server.route("/a.xml", Reply(body=rss("A", items), headers=RSS))
    server.route("/b.xml", Reply(body=rss("B", [items[1], Item("第0条新闻（转载）", server.url("/b/copy.html"),
                                                                guid="b-copy")]), headers=RSS))
    return [FeedConfig(server.url("/a.xml"), "A－要闻", "A报"), FeedConfig(server.url("/b.xml"), "B－要闻", "B报")]


def article_requests(server: LocalServer) -> int:
    return sum(1 for r in server.requests if r.target.split("?")[0].endswith(".html"))


def files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*.md"))}


def index_rows(tmp_path: Path) -> list[tuple]:
    db = sqlite3.connect(state_db(tmp_path))
    try:
        return db.execute("SELECT link, path, content_hash, categories, syndicated FROM articles ORDER BY link").fetchall()
    finally:
        db.close()


@pytest.fixture
def archived(tmp_path, http_server):
    config = write_config(tmp_path, build_site(http_server))
    assert main(["once", "-c", str(config)]) == 0
    return config, tmp_path / "archive"


def test_reindex_after_losing_the_database_then_once_archives_and_fetches_nothing(archived, tmp_path, http_server,
                                                                                  capsys):
    config, root = archived
    before_files, before_rows = files(root), index_rows(tmp_path)
    assert len(before_files) == 5
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state_db(tmp_path)}{suffix}").unlink(missing_ok=True)

    assert main(["reindex", "-c", str(config)]) == 0
    assert "5 posts indexed" in capsys.readouterr().out
    assert index_rows(tmp_path) == before_rows  # links, paths, hashes, categories, syndicated URLs

    fetched = article_requests(http_server)
    assert main(["once", "-c", str(config)]) == 0
    assert "0 new articles" in capsys.readouterr().out
    assert files(root) == before_files
    assert article_requests(http_server) == fetched  # every URL, the copy's included, known from the files


def test_reindex_keeps_near_duplicate_detection(archived, tmp_path, http_server):
    config, root = archived
    state_db(tmp_path).unlink()
    assert main(["reindex", "-c", str(config)]) == 0
    # another site carries story 0 again, lightly edited: recognised through the rebuilt fingerprints
    http_server.route("/c/again.html", Reply.text(article_page("第0条新闻", with_source_line(
        company_story(300)).replace("公司表示", "该公司表示").split("\n\n"))))
    http_server.route("/c.xml", Reply(body=rss("C", [Item("第0条新闻", http_server.url("/c/again.html"), guid="c")]),
                                      headers=RSS))
    config = write_config(tmp_path, [FeedConfig(http_server.url("/c.xml"), "C－要闻", "C报")])
    assert main(["once", "-c", str(config)]) == 0
    assert len(files(root)) == 5


def test_verify_reports_a_clean_archive_as_clean(archived, capsys):
    config, _ = archived
    assert main(["verify", "-c", str(config)]) == 0
    assert "0 problems" in capsys.readouterr().out
    assert main(["verify", "-q", "-c", str(config)]) == 0
    assert capsys.readouterr().out == ""  # cron mails nothing


def test_verify_finds_hand_broken_files_and_changes_nothing_without_fix(archived, tmp_path, capsys):
    config, root = archived
    posts = sorted(root.rglob("*.md"))
    broken, edited, deleted = posts[0], posts[1], posts[2]
    broken.write_text(broken.read_text(encoding="utf-8").replace("\nlink: ", "\nlinks: ", 1), encoding="utf-8")
    edited.write_text(edited.read_text(encoding="utf-8") + "\n编者按：本文有删改。\n", encoding="utf-8")
    deleted.unlink()
    stray = root / "金融" / "stray.md"
    stray.write_text("no front matter at all\n", encoding="utf-8")
    before_files, before_rows = files(root), index_rows(tmp_path)

    assert main(["verify", "-c", str(config)]) == 1
    out = capsys.readouterr().out
    rel = lambda p: p.relative_to(root).as_posix()  # noqa: E731
    assert f"{rel(broken)}: front matter lacks link" in out
    assert f"{rel(edited)}: body differ(s) from the index" in out
    assert f"{rel(deleted)}: indexed" in out and "the file is missing" in out
    assert f"{rel(stray)}: no front matter" in out
    assert "4 problems, 0 fixed, 4 left" in out
    assert files(root) == before_files and index_rows(tmp_path) == before_rows


def test_verify_fix_repairs_the_index_and_the_next_run_restores_a_deleted_post(archived, tmp_path, capsys):
    config, root = archived
    posts = sorted(root.rglob("*.md"))
    edited, deleted = posts[1], posts[2]
    deleted_link = parse_post(deleted.read_text(encoding="utf-8"))[0]["link"]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n编者按：本文有删改。\n", encoding="utf-8")
    deleted.unlink()
    leftover = edited.with_name(f".{edited.name}.tmp-0123abcd")  # a write killed before its rename
    leftover.write_text("---\ntitle: half", encoding="utf-8")

    assert main(["verify", "--fix", "-c", str(config)]) == 0
    assert "3 problems, 3 fixed, 0 left" in capsys.readouterr().out
    assert not leftover.exists()
    assert main(["verify", "-c", str(config)]) == 0

    assert main(["once", "-c", str(config)]) == 0
    links = [parse_post(p.read_text(encoding="utf-8"))[0]["link"] for p in root.rglob("*.md")]
    assert deleted_link in links and len(links) == 5


def test_reindex_lists_files_it_cannot_index_and_exits_1(archived, capsys, caplog):
    config, root = archived
    first = sorted(root.rglob("*.md"))[0]
    twin = first.with_name("twin.md")
    twin.write_bytes(first.read_bytes())
    bad = first.with_name("bad.md")
    bad.write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    assert main(["reindex", "-c", str(config)]) == 1
    assert "5 posts indexed" in capsys.readouterr().out
    assert "bad.md: front matter is not valid YAML" in caplog.text
    assert "same link as" in caplog.text and ("twin.md" in caplog.text)
