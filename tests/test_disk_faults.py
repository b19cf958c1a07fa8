"""A full disk or a read-only archive: one clear line per post not written, naming its path; exit code 1;
nothing half-written; the state not advanced for those posts, so the next run writes them.

The disk fills up for real on a tiny tmpfs and the archive turns read-only for real with a read-only bind
mount, both inside a private user and mount namespace (`unshare`, no root needed); where namespaces are not
available those tests are skipped, and the ENOSPC one still runs with `os.write` failing in the crawler's
process (tests/support/faults.py).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.archive.writer import LOCK_FILES
from tests.support.crawler_process import PROJECT_ROOT, check_archive, hidden_files, indexed_links, run_crawler
from tests.support.server import LocalServer, Reply, conditional
from tests.support.site import FeedConfig, Item, article_page, paragraphs, rss, state_db, write_config

ARTICLES = 6


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            "mount -t tmpfs -o size=4k tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(not _namespaces_work(), reason="needs unshare with user and mount namespaces")


class DiskSite:
    """One feed of six articles with an ETag (so we see whether its validators were saved), and a second
    feed whose posts go to another directory."""

    def __init__(self, server: LocalServer):
        self.links = []
        items = []
        for n in range(ARTICLES):
            link = server.url(f"/news/{n}.html")
            # Long posts (about 12 kB each): a tmpfs of a few pages holds only some of them.
            paras = paragraphs(n) + [f"第{n}段补充材料{k}：" + "市场运行总体平稳，" * 40 for k in range(6)]
            server.route(f"/news/{n}.html", Reply.text(article_page(f"第{n}号公告", paras)))
            items.append(Item(f"第{n}号公告", link, guid=f"n-{n}", description="摘要。"))
            self.links.append(link)
        server.route("/feed.xml", conditional(Reply(body=rss("news", items), headers={
            "Content-Type": "application/rss+xml", "ETag": '"v1"'})))
        self.other = server.url("/other/0.html")
        server.route("/other/0.html", Reply.text(article_page("另一个频道的文章", paragraphs(40))))
        server.route("/other.xml", Reply(body=rss("other", [Item("另一个频道的文章", self.other, guid="o-0")]),
                                         headers={"Content-Type": "application/rss+xml"}))
        self.feeds = [FeedConfig(server.url("/feed.xml"), "news"), FeedConfig(server.url("/other.xml"), "other")]
        self.all_links = set(self.links) | {self.other}
        self.server = server

    def feed_requests(self) -> list[dict]:
        return [dict(r.headers) for r in self.server.requests_to("/feed.xml")]


def assert_write_errors_name_their_paths(stderr: str, root: Path, cause: str) -> list[str]:
    errors = [line for line in stderr.splitlines() if " ERROR " in line]
    assert errors, stderr
    for line in errors:
        assert f"cannot write {root}" in line and cause in line, line
    return errors


def assert_second_run_completes(site: DiskSite, tmp_path: Path, first_posts: dict) -> None:
    root, database = tmp_path / "archive", state_db(tmp_path)
    again = run_crawler(["once", "-c", str(tmp_path / "feeds.yaml")])
    assert again.returncode == 0, again.stderr
    assert "if-none-match" not in site.feed_requests()[-1]  # validators were not saved: fetched in full
    posts = check_archive(root, database)
    assert set(posts) == site.all_links == indexed_links(database)
    for link, post in first_posts.items():
        assert posts[link].path == post.path and posts[link].body == post.body  # untouched
    assert [p.name for p in hidden_files(root) if p.name not in LOCK_FILES] == []


def test_disk_full_midway_reports_each_post_and_the_next_run_writes_them(tmp_path, http_server):
    site = DiskSite(http_server)
    write_config(tmp_path, site.feeds)
    root, database = tmp_path / "archive", state_db(tmp_path)

    full = run_crawler(["once", "-c", str(tmp_path / "feeds.yaml")], fault="disk-full-after:2",
                       env={"CRAWLER_TEST_ARCHIVE": str(root)})
    assert full.returncode == 1
    errors = assert_write_errors_name_their_paths(full.stderr, root, "no space left on device (free some disk space)")
    assert len(errors) == len(site.all_links) - 2
    assert f"{len(errors)} archive write errors" in full.stdout
    posts = check_archive(root, database)
    assert len(posts) == 2 and set(posts) == indexed_links(database)  # only what was written is indexed
    assert [p.name for p in hidden_files(root) if p.name not in LOCK_FILES] == []  # no temporary file left behind

    assert_second_run_completes(site, tmp_path, posts)


@needs_namespaces
def test_a_really_full_file_system(tmp_path, http_server):
    """The archive on a 40 kB tmpfs: the kernel's own ENOSPC, wherever it strikes (a write, a directory)."""
    site = DiskSite(http_server)
    write_config(tmp_path, site.feeds)
    root, database = tmp_path / "archive", state_db(tmp_path)
    root.mkdir()
    snapshot = tmp_path / "snapshot"
    python = f"{sys.executable} -m crawler once -c {tmp_path / 'feeds.yaml'}"
    script = f"""
        mount -t tmpfs -o size=40k tmpfs {root}
        code=0; {python} > {tmp_path}/out 2> {tmp_path}/err || code=$?; echo $code > {tmp_path}/rc
        cp -a {root} {snapshot}
    """
    subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-ec", script], check=True,
                   cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, timeout=180)
    stderr = (tmp_path / "err").read_text()
    assert (tmp_path / "rc").read_text().strip() == "1", stderr
    errors = assert_write_errors_name_their_paths(stderr, root, "no space left on device")
    posts = check_archive(snapshot, database)
    assert 0 < len(posts) < len(site.all_links)
    assert len(errors) == len(site.all_links) - len(posts)
    assert set(posts) == indexed_links(database)
    assert [p.name for p in hidden_files(snapshot) if p.name not in LOCK_FILES] == []

    # Room on the disk again: the tmpfs went with its namespace, the snapshot takes the archive's place.
    root.rmdir()
    snapshot.rename(root)
    assert_second_run_completes(site, tmp_path, check_archive(root, database))


@needs_namespaces
def test_a_read_only_directory_in_the_archive(tmp_path, http_server):
    """The feed's month directory is mounted read-only; the other feed's posts are written as usual."""
    site = DiskSite(http_server)
    write_config(tmp_path, site.feeds)
    root, database = tmp_path / "archive", state_db(tmp_path)
    month = root / "金融" / "财经网" / "news" / "2022" / "02"
    month.mkdir(parents=True)
    wrapper = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
               'mount --bind -o ro "$0" "$0" && exec "$@"', str(month)]

    read_only = run_crawler(["once", "-c", str(tmp_path / "feeds.yaml")], wrapper=wrapper)
    assert read_only.returncode == 1
    errors = assert_write_errors_name_their_paths(
        read_only.stderr, month, "read-only file system (mount it read-write or point archive.dir elsewhere)")
    assert len(errors) == ARTICLES
    posts = check_archive(root, database)
    assert set(posts) == {site.other} == indexed_links(database)
    assert list(month.iterdir()) == []

    assert_second_run_completes(site, tmp_path, posts)
