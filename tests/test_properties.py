"""Property-based tests (hypothesis): whatever text a feed or a configuration holds,

- the post path stays inside the archive root and each of its components is safe;
- URL canonicalisation never raises and is idempotent, and tracking parameters never change it;
- the front matter reads back exactly: title, author, tags and category names as `clean_title` makes them,
  links as given; the body can never change the front matter, and a rewrite keeps all but what it replaces.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from crawler.archive import (clean_title, is_safe_component, local_time, parse_post, post_dir, render_post,
                             rewrite_post, slugify, unique_post_path, url_disambiguator)
from crawler.models import Article
from crawler.urls import canonical_url

settings.register_profile("crawler", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("crawler")

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Pieces that mean something to a file system, a shell, YAML, Hexo or a URL, mixed into random text.
HOSTILE_PIECES = ["..", ".", "/", "\\", "~", "CON", "nul", "LPT9", "_", "-", " ", "\t", "\n", "\r", "\x00", "\x1b",
                  "\x7f", "\x85", "\u2028", "\u202e", "\u2066", "\u200b", "\ufeff", "\ud800", ":", "#", "%", "?",
                  "*", "|", "<", ">", '"', "'", "---", "- ", "yes", "1e3", "0x1F", "!!python/object", "&a", "*a",
                  "{{", "}}", "{%", "%}", "e\u0301", "🇨🇳", "👨‍👩‍👧", "Ａ", "　", "美股", "x" * 300, "长" * 150]

any_characters = st.characters(exclude_categories=())  # surrogates included: JSON can carry them
hostile_text = st.one_of(
    st.text(any_characters, max_size=60),
    st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(any_characters, max_size=4)), max_size=12)
    .map("".join),
)
config_name = hostile_text.filter(lambda s: s.strip())  # the configuration refuses blank names
# Without the local times that a clock change makes ambiguous or skips (China had summer time 1986-1991):
# Python never finds such a time equal to the same instant in another zone (PEP 495), whatever was written.
aware_datetimes = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1),
                               timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=8)),
                                                          timezone(timedelta(hours=-9, minutes=-30)), SHANGHAI])
                               ).filter(lambda moment: moment.utcoffset() == moment.replace(fold=1).utcoffset()
                                        == moment.replace(fold=0).utcoffset())


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("archive")


# --- paths ---------------------------------------------------------------------------------------------


@given(title=hostile_text, category=config_name, source=config_name, name=config_name, published=aware_datetimes,
       link=st.text(max_size=80), taken=st.integers(0, 3))
@example(title="../../etc/passwd", category="..", source="/", name="CON",
         published=datetime(2022, 2, 9, tzinfo=SHANGHAI), link="http://example.com/", taken=0)
def test_any_names_give_a_path_inside_the_root_with_safe_components(root, title, category, source, name, published,
                                                                    link, taken):
    local = local_time(published, SHANGHAI)
    directory = post_dir(root, (category, source, name), local)
    candidates: list[Path] = []

    def first_names_taken(path: Path) -> bool:
        candidates.append(path)
        return len(candidates) <= taken

    path = unique_post_path(directory, slugify(clean_title(title)), first_names_taken, url_disambiguator(link))
    parts = path.relative_to(root).parts
    assert path.resolve().is_relative_to(root.resolve())
    assert len(parts) == 6 and parts[3:5] == (f"{local.year:04d}", f"{local.month:02d}")
    assert all(is_safe_component(part) for part in parts), parts
    assert path.suffix == ".md" and len(path.name.encode("utf-8")) <= 255
    assert len(set(candidates)) == len(candidates)  # each candidate name is a new one


# --- URLs ----------------------------------------------------------------------------------------------

url_piece = st.text(st.characters(exclude_categories=()), max_size=12)
hosts = st.one_of(st.sampled_from(["example.com", "EXAMPLE.com.", "finance.sina.com.cn", "中文.com", "127.0.0.1",
                                   "[::1]", "[::ffff:10.0.0.1]", "xn--fiqs8s.cn", "a..b", "", "user@host:8080"]),
                  url_piece)
urls = st.one_of(
    st.text(any_characters, max_size=80),
    st.builds(lambda scheme, slashes, host, port, path, query, fragment:
              f"{scheme}:{slashes}{host}{port}{path}{query}{fragment}",
              st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "javascript", ""]),
              st.sampled_from(["//", "/", "\\\\", "////", ""]), hosts,
              st.sampled_from(["", ":80", ":443", ":8080", ":", ":99999", ":x"]),
              st.lists(url_piece, max_size=4).map(lambda segments: "/" + "/".join(segments)),
              st.lists(st.tuples(url_piece, url_piece), max_size=4).map(
                  lambda pairs: "?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else ""),
              st.sampled_from(["", "#", "#frag", "#a/b?c"])),
)


@given(url=urls, base=st.one_of(st.none(), urls))
@example(url="%4%41", base=None)
@example(url="0\x08;", base="0")
@example(url="", base=" ")
@example(url="//evil.example/x", base="https://example.com/a/b")
def test_canonical_url_never_raises_and_is_idempotent(url, base):
    once = canonical_url(url, base)
    assert canonical_url(once) == once


clean_segment = st.text(st.characters(categories=["L", "N"], max_codepoint=0x9FFF), min_size=1, max_size=8)
# Values a link can carry percent-encoded: any text UTF-8 can encode (a lone surrogate cannot be quoted).
tracking_value = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
tracking = st.lists(st.tuples(st.sampled_from(["utm_source", "UTM_Medium", "utm_x", "fbclid", "gclid", "spm",
                                               "from", "share_from"]), tracking_value), min_size=1, max_size=3)


@given(host=st.sampled_from(["example.com", "news.example.org", "finance.sina.com.cn"]),
       segments=st.lists(clean_segment, max_size=3),
       params=st.lists(st.tuples(clean_segment, clean_segment), max_size=3),
       junk=tracking, position=st.integers(0, 3))
def test_tracking_parameters_never_change_the_canonical_url(host, segments, params, junk, position):
    assume(not {k.lower() for k, _ in params} & {"utm_source", "from", "spm", "mod", "loc", "r", "tr", "cre", "tj",
                                                  "wm", "rfunc", "sudaref", "ivk_sa", "fbclid", "gclid"})
    path = "/" + "/".join(quote(s) for s in segments)
    pairs = [f"{quote(k)}={quote(v)}" for k, v in params]
    noisy = pairs[:position] + [f"{k}={quote(v)}" for k, v in junk] + pairs[position:]
    plain = f"https://{host}{path}" + ("?" + "&".join(pairs) if pairs else "")
    tracked = f"https://{host}{path}?" + "&".join(noisy) + "#top"
    assert canonical_url(tracked) == canonical_url(plain)


# --- front matter --------------------------------------------------------------------------------------


def article(**fields) -> Article:
    values = dict(link="https://example.com/a", title="标题", published=datetime(2022, 2, 9, 11, 10, 19,
                  tzinfo=timezone(timedelta(hours=8))), author=None, source="新浪财经", image=None, body="正文\n",
                  extracted_from="page", feed_url="https://example.com/feed", category_path=("金融", "新浪财经", "国内"))
    return Article(**{**values, **fields})


def unique_clean(texts) -> list[str]:
    return list(dict.fromkeys(t for t in map(clean_title, texts) if t))


@given(title=hostile_text, author=st.one_of(st.none(), hostile_text), tags=st.lists(hostile_text, max_size=5),
       path=st.tuples(config_name, config_name, config_name), published=aware_datetimes,
       link=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=60))
@example(title="---\nlayout: evil\n---", author="yes", tags=["1e3", "~"], path=("..", "CON", "{{ x }}"),
         published=datetime(2022, 2, 9, tzinfo=SHANGHAI), link="https://example.com/?a=1#b")
def test_front_matter_reads_back_exactly(title, author, tags, path, published, link):
    post = article(title=title, author=author, tags=tuple(tags), category_path=path, published=published, link=link,
                   source=path[1])
    front, body = parse_post(render_post(post, [path], SHANGHAI))
    assert front["title"] == clean_title(title)
    assert front.get("author") == (clean_title(author or "") or None)
    assert front.get("tags", []) == unique_clean(tags)
    assert front["categories"] == [clean_title(part) for part in path]
    assert front["source"] == clean_title(path[1])
    assert front["link"] == link
    assert front["date"] == local_time(published, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    assert datetime.fromisoformat(front["published"]) == published.replace(microsecond=0)
    assert front["comments"] is False and front["disableNunjucks"] is True
    assert body == "正文\n"


@given(body=st.text(any_characters.filter(lambda c: not "\ud800" <= c <= "\udfff"), max_size=300)
       | st.lists(st.sampled_from(["---", "\n", "---\n", "title: x\n", "...\n", "{{ a }}", "\r\n", " "]), max_size=20)
       .map("".join))
@example(body="---\ntitle: hacked\n---\n")
@example(body="")
def test_the_body_never_changes_the_front_matter(body):
    reference, _ = parse_post(render_post(article(body=""), [article().category_path], SHANGHAI))
    front, read_body = parse_post(render_post(article(body=body), [article().category_path], SHANGHAI))
    assert front == reference
    assert read_body == (body if body.endswith("\n") else body + "\n")


@given(title=hostile_text, categories=st.lists(st.tuples(config_name, config_name, config_name), min_size=1,
                                               max_size=3),
       syndicated=st.lists(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30), max_size=3))
def test_a_rewrite_changes_categories_and_syndication_only(title, categories, syndicated):
    post = article(title=title)
    original = render_post(post, [post.category_path], SHANGHAI)
    rewritten = rewrite_post(original, categories, syndicated)
    expected_front, expected_body = parse_post(render_post(post, categories, SHANGHAI, syndicated=syndicated))
    front, body = parse_post(rewritten)
    assert front == expected_front and body == expected_body
    assert list(front) == list(expected_front)
