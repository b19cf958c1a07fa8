"""A real Hexo build of posts written by the archive: what Hexo publishes is what we meant.

Installs pinned Hexo packages once into `.cache/hexo-<version>/` (reused afterwards), builds a small site
whose `source/_posts/` is an archive written by `crawler.archive`, and reads the generated HTML. A tiny
EJS theme made here prints the values under test. Skipped without node/npm or without network for the
first install.

Run it alone with `.venv/bin/pytest -m hexo`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.archive import (
    ArchiveLock,
    local_time,
    post_dir,
    render_post,
    slugify,
    unique_post_path,
    url_disambiguator,
    write_atomic,
)
from crawler.models import Article, CategoryPath
from tests.test_archive_frontmatter import make_article

pytestmark = pytest.mark.hexo

HEXO_VERSION = "8.1.2"
PACKAGES = {
    "hexo": HEXO_VERSION,
    "hexo-renderer-marked": "7.0.1",
    "hexo-renderer-ejs": "2.0.0",
    "hexo-generator-category": "2.0.0",
    "hexo-generator-tag": "2.0.0",
}
CACHE = Path(__file__).resolve().parents[1] / ".cache" / f"hexo-{HEXO_VERSION}"
INSTALLED_MARKER = "installed.json"  # written last: its presence means a complete install
NETWORK_ERRORS = re.compile(r"ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|ENETUNREACH|network", re.I)
ZONE_NAME = "Asia/Shanghai"
NEW_YORK = timezone(timedelta(hours=-5))
MARKETS: CategoryPath = ("财经", "路透", "市场")
CENTRAL_BANKS: CategoryPath = ("宏观", "路透", "央行")
HOSTILE_TITLE = "<script>alert(\"x\")</script> & yes: 'q' {{ page.title }}"

POST_LAYOUT = """<!doctype html><html><head><meta charset="utf-8"><title><%= page.title %></title></head><body>
<h1 class="title"><%= page.title %></h1>
<time class="local"><%= date(page.date, 'YYYY-MM-DD HH:mm:ss') %></time>
<time class="instant"><%= page.date.toISOString() %></time>
<ul class="categories"><% page.categories.each(function (c) { %><li><%= c.path %></li><% }) %></ul>
<ul class="tags"><% page.tags.each(function (t) { %><li><%= t.name %></li><% }) %></ul>
<div class="content"><%- page.content %></div>
</body></html>
"""
TAG_LAYOUT = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<h1 class="tag"><%= page.tag %></h1>
<ul class="posts"><% page.posts.each(function (p) { %><li><%= p.title %></li><% }) %></ul>
</body></html>
"""
CATEGORY_LAYOUT = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<h1 class="category"><%= page.category %></h1>
<ul class="posts"><% page.posts.each(function (p) { %><li><%= p.title %></li><% }) %></ul>
</body></html>
"""


@pytest.fixture(scope="session")
def hexo_modules() -> Path:
    """`node_modules` holding the pinned packages, installed on first use."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed to build a Hexo site")
    if not _installed(CACHE):
        _install(CACHE)
    return CACHE / "node_modules"


def _installed(cache: Path) -> bool:
    try:
        return json.loads((cache / INSTALLED_MARKER).read_text()) == PACKAGES
    except (OSError, ValueError):
        return False


def _install(cache: Path) -> None:
    shutil.rmtree(cache, ignore_errors=True)  # a half-finished install is not worth repairing
    cache.mkdir(parents=True)
    specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
    # --ignore-scripts: nothing here needs an install script, and npm 11 would only warn about them.
    command = ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact", "--prefix", str(cache)]
    try:
        result = subprocess.run([*command, *specs], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip("npm install of Hexo timed out (no network?)")
    if result.returncode != 0:
        output = result.stdout + result.stderr
        network_error = NETWORK_ERRORS.search(output)
        if network_error:
            pytest.skip(f"cannot install Hexo from the npm registry (no network?): npm says {network_error.group()}")
        pytest.fail(f"npm install failed:\n{output}")
    (cache / INSTALLED_MARKER).write_text(json.dumps(PACKAGES))


def archive_post(root: Path, article: Article, feeds: list[CategoryPath]) -> Path:
    """What the crawler does for one article: name the file, render it, write it."""
    zone = ZoneInfo(ZONE_NAME)
    directory = post_dir(root, article.category_path, local_time(article.published, zone))
    path = unique_post_path(directory, slugify(article.title), Path.exists, url_disambiguator(article.link))
    write_atomic(path, render_post(article, feeds, zone))
    return path


@pytest.fixture(scope="module")
def site(hexo_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated site holding two archived articles; returns its `public/` directory."""
    root = tmp_path_factory.mktemp("hexo-site")
    (root / "node_modules").symlink_to(hexo_modules, target_is_directory=True)
    (root / "package.json").write_text(
        json.dumps({"name": "site", "private": True, "hexo": {"version": HEXO_VERSION}, "dependencies": PACKAGES})
    )
    (root / "_config.yml").write_text(f"title: Archive\nurl: http://example.com\ntimezone: {ZONE_NAME}\ntheme: mini\n")
    layouts = root / "themes" / "mini" / "layout"
    layouts.mkdir(parents=True)
    (layouts / "post.ejs").write_text(POST_LAYOUT)
    (layouts / "category.ejs").write_text(CATEGORY_LAYOUT)
    (layouts / "tag.ejs").write_text(TAG_LAYOUT)

    posts = root / "source" / "_posts"
    with ArchiveLock(posts):  # leaves the hidden lock file in the archive, which Hexo must skip
        hostile = archive_post(
            posts,
            make_article(
                title=HOSTILE_TITLE,
                link="https://example.com/news/hostile",
                published=datetime(2022, 2, 8, 22, 10, 19, tzinfo=NEW_YORK),  # 2022-02-09 11:10:19 in Shanghai
                body=(
                    "Article text MARKER-A mentions {{ page.title }} and {% raw %} as plain words.\n\n"
                    "---\n\ntitle: forged\n\n---\n\nText after a rule MARKER-B.\n"
                ),
                tags=("1e3", "0o17", "yes"),
            ),
            [MARKETS, CENTRAL_BANKS],
        )
        archive_post(
            posts,
            make_article(
                title="1e3",
                link="https://example.com/news/number",
                published=datetime(2022, 1, 31, 20, 0, 0, tzinfo=NEW_YORK),  # 2022-02-01 09:00 in Shanghai
                body="MARKER-C\n",
            ),
            [MARKETS],
        )
        archive_post(
            posts,
            make_article(
                title="贵州茅台三季报出炉",
                link="https://example.com/news/moutai",
                body="贵州茅台（600519）发布三季报。MARKER-D\n",
                tags=("公司",),
                tickers=("00700.HK", "600519.SH"),
                companies=("贵州茅台",),
            ),
            [MARKETS],
        )
    # What a crash in the middle of write_atomic leaves behind.
    (hostile.parent / f".{hostile.name}.tmp-0badf00d").write_text("---\ntitle: LEFTOVER\n---\nLEFTOVER\n")

    # The machine's zone differs from the site's, so a date Hexo shifted would show.
    env = {**os.environ, "TZ": "America/New_York", "NO_COLOR": "1"}
    hexo = hexo_modules / "hexo" / "bin" / "hexo"
    result = subprocess.run(["node", str(hexo), "generate"], cwd=root, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "public"


def post_page(public: Path, marker: str) -> str:
    pages = [page for page in public.rglob("index.html") if marker in page.read_text(encoding="utf-8")]
    assert len(pages) == 1, f"{marker} found in {pages}"
    return pages[0].read_text(encoding="utf-8")


def between(html: str, css_class: str) -> str:
    match = re.search(rf'class="{css_class}">(.*?)</', html, re.DOTALL)
    assert match, f"no element of class {css_class}"
    return match.group(1)


def between_list(html: str, css_class: str) -> str:
    match = re.search(rf'<ul class="{css_class}">(.*?)</ul>', html, re.DOTALL)
    assert match, f"no list of class {css_class}"
    return match.group(1)


def test_article_text_is_published_in_full(site):
    html = post_page(site, "MARKER-A")
    assert "Text after a rule MARKER-B." in html  # a `---` line in the body did not end the post


def test_template_syntax_in_the_article_text_is_left_alone(site):
    html = post_page(site, "MARKER-A")
    assert "{{ page.title }} and {% raw %} as plain words" in html


def test_hexo_keeps_the_naive_date_in_the_site_zone(site):
    html = post_page(site, "MARKER-A")
    assert between(html, "local") == "2022-02-09 11:10:19"
    assert between(html, "instant") == "2022-02-09T03:10:19.000Z"  # the moment the publisher gave


def test_month_boundary_dates_are_not_shifted(site):
    html = post_page(site, "MARKER-C")
    assert between(html, "local") == "2022-02-01 09:00:00"


def test_hostile_title_renders_escaped(site):
    html = post_page(site, "MARKER-A")
    title = between(html, "title")
    assert "<" not in title and unescape(title) == HOSTILE_TITLE
    assert "<script>" not in html


def test_yaml_1_2_numbers_stay_strings(site):
    html = post_page(site, "MARKER-C")
    assert between(html, "title") == "1e3"
    tags = re.findall(r"<li>(.*?)</li>", between_list(post_page(site, "MARKER-A"), "tags"))
    assert tags == ["1e3", "0o17", "yes"]


def test_hidden_lock_and_temporary_files_are_not_published(site):
    published = [path for path in site.rglob("*") if path.is_file()]
    assert not [path for path in published if path.name.startswith(".")]
    assert not [path for path in published if "LEFTOVER" in path.read_text(encoding="utf-8")]


def test_a_post_in_two_feeds_gets_both_category_pages(site):
    html = post_page(site, "MARKER-A")
    paths = re.findall(r"<li>(.*?)</li>", between_list(html, "categories"))
    assert "categories/财经/路透/市场/" in paths and "categories/宏观/路透/央行/" in paths
    markets = (site / "categories" / "财经" / "路透" / "市场" / "index.html").read_text(encoding="utf-8")
    central_banks = (site / "categories" / "宏观" / "路透" / "央行" / "index.html").read_text(encoding="utf-8")
    escaped_title = between(html, "title")
    assert escaped_title in markets and "<li>1e3</li>" in markets
    assert escaped_title in central_banks and "<li>1e3</li>" not in central_banks


def test_install_without_network_skips_the_hexo_tests(tmp_path, monkeypatch):
    if not shutil.which("npm"):
        pytest.skip("npm is needed")
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")  # nothing listens on the discard port
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    with pytest.raises(pytest.skip.Exception, match="no network"):
        _install(tmp_path / "hexo")
    assert not _installed(tmp_path / "hexo")


def test_a_ticker_gets_its_own_tag_page(site):
    tags = re.findall(r"<li>(.*?)</li>", between_list(post_page(site, "MARKER-D"), "tags"))
    assert tags == ["公司", "00700.HK", "600519.SH"]
    pages = {between(page.read_text(encoding="utf-8"), "tag"): page.read_text(encoding="utf-8")
             for page in (site / "tags").glob("*/index.html")}
    assert {"600519.SH", "00700.HK", "公司"} <= set(pages)
    assert "<li>贵州茅台三季报出炉</li>" in pages["600519.SH"] and "<li>1e3</li>" not in pages["600519.SH"]
