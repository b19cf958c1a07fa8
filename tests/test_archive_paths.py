"""Archive paths: every component safe on Linux, macOS and Windows and visible to Hexo, whatever the input."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.archive import (
    is_safe_component,
    local_time,
    post_dir,
    safe_component,
    slugify,
    unique_post_path,
    url_disambiguator,
)
from crawler.errors import ArchiveError

HOSTILE = [
    "",
    " ",
    "\t\n",
    ".",
    "..",
    "...",
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\System32",
    "\\\\server\\share",
    "a/b\\c",
    'x<y>z:"q"|?*',
    "NUL\x00byte",
    "\x01\x1f\x7f\x80\x9f",
    "\u202eexe.txt",
    "bidi \u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069 isolates",
    "zero\u200bwidth\ufeffbom",
    "trailing dots...",
    "trailing spaces   ",
    "CON",
    "con",
    "Con.txt",
    "nul.tar.gz",
    "AUX",
    "PRN.md",
    "COM1",
    "com9.log",
    "LPT1",
    "lpt9",
    "COM¹",
    ".hidden",
    "_drafts",
    "._.-",
    "-leading-dash",
    "#hash%percent?query",
    "🙂",
    "\udcff lone surrogate",
    "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ",
    "美联储宣布加息25个基点",
    "x" * 1000,
    "美" * 500,
    "e\u0301" * 300,
]


@pytest.mark.parametrize("make", [safe_component, slugify])
@pytest.mark.parametrize("text", HOSTILE)
def test_every_hostile_input_gives_a_safe_component(make, text):
    name = make(text)
    assert is_safe_component(name), name
    assert len(name.encode("utf-8")) <= 120
    assert name not in (".", "..") and "/" not in name and "\\" not in name
    assert not Path(name).is_absolute()


@pytest.mark.parametrize("make", [safe_component, slugify])
def test_random_hostile_text_gives_safe_components(make):
    pool = list('/\\<>:"|?*#%. _-\t\n\x00\x1b\x7f\x85\u202e\u2066\u200b\ufeff\u3000～：aZ9美股😀') + ["CON", "..", "e\u0301"]
    rng = random.Random(20240229)
    for _ in range(2000):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 40)))
        name = make(text, 16)
        assert is_safe_component(name), (text, name)
        assert len(name.encode("utf-8")) <= 16


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", ".git", "_posts", "a/b", "a\\b", "a:b", "a\x00b", "a\u202eb", "a\u200bb", "end.", "end ",
     "CON", "con.md", "Lpt1.txt", "x" * 256],
)
def test_is_safe_component_refuses_unsafe_names(name):
    assert not is_safe_component(name)


def test_chinese_titles_keep_their_characters():
    assert slugify("美联储宣布加息25个基点") == "美联储宣布加息25个基点"
    assert slugify("美联储：加息，市场震荡！") == "美联储-加息-市场震荡"


def test_whitespace_becomes_a_dash_and_case_is_lowered():
    assert slugify("Fed  raises\trates\nagain") == "fed-raises-rates-again"
    assert safe_component("Fed  Watch") == "Fed-Watch"


def test_nfkc_turns_full_width_ascii_into_ascii():
    assert safe_component("Ｒｅｕｔｅｒｓ") == "Reuters"
    assert slugify("ＡＢＣ　１２３") == "abc-123"


def test_punctuation_leaves_slugs_but_safe_punctuation_stays_in_names():
    assert slugify("S&P 500: stocks (up) 2.5%!") == "s-p-500-stocks-up-2-5"
    assert safe_component("S&P 500 (US)") == "S&P-500-(US)"


@pytest.mark.parametrize("text", ["CON", "con", "Con.txt", "nul.tar.gz", "COM1", "lpt9.md", "COM¹", "CONOUT$"])
def test_reserved_windows_names_are_changed(text):
    name = safe_component(text)
    assert name.split(".")[0].upper() not in {"CON", "NUL", "COM1", "LPT9", "CONOUT$"}
    assert is_safe_component(name)


def test_control_and_format_characters_are_removed():
    assert safe_component("evil\u202egpj.exe") == "evilgpj.exe"
    assert safe_component("a\x00b\x1bc\u200bd\ufeffe") == "abcde"


@pytest.mark.parametrize("text", [".git", "_drafts", "..", "._x", "__init__"])
def test_hidden_names_are_avoided(text):
    assert not safe_component(text).startswith((".", "_"))
    assert not slugify(text).startswith((".", "_"))


@pytest.mark.parametrize("text", ["", "   ", "///", "\x00", "...", "🙂🙂"])
def test_empty_results_fall_back_to_untitled(text):
    assert slugify(text) == "untitled"


def test_long_titles_are_cut_on_a_character_boundary():
    slug = slugify("美" * 500)
    assert slug == "美" * 40  # 3 bytes each
    assert len(safe_component("x" * 1000, 255).encode()) == 255


def test_cut_does_not_split_combining_marks():
    # q has no precomposed accented form, so NFKC leaves "q" + U+0301 (3 bytes) as two code points.
    assert slugify("q\u0301" * 100, 121) == "q\u0301" * 40


def test_cut_does_not_split_flags_or_skin_tones():
    assert safe_component("🇨🇳" * 20, 124) == "🇨🇳" * 15  # 8 bytes a flag; a lone half would fit
    assert safe_component("👍🏽" * 5, 12) == "👍🏽"


@pytest.mark.parametrize("max_bytes", [7, 256])
def test_byte_cap_outside_the_usable_range_is_refused(max_bytes):
    with pytest.raises(ValueError):
        safe_component("x", max_bytes)


# --- post_dir -------------------------------------------------------------------------------------------


def test_post_dir_follows_the_archive_layout(tmp_path):
    directory = post_dir(tmp_path, ("财经", "路透", "市场"), datetime(2022, 2, 9, 11, 10, 19))
    assert directory == tmp_path / "财经" / "路透" / "市场" / "2022" / "02"


def test_post_dir_uses_the_month_in_the_archive_zone(tmp_path):
    published = datetime(2022, 1, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5)))  # 2022-02-01 09:00 in Shanghai
    directory = post_dir(tmp_path, ("c", "s", "f"), local_time(published, ZoneInfo("Asia/Shanghai")))
    assert directory.relative_to(tmp_path).parts[-2:] == ("2022", "02")


def test_post_dir_stays_inside_the_root_whatever_the_names(tmp_path):
    root = tmp_path / "archive"
    for category_path in [("..", "..", ".."), ("/etc", "C:\\Windows", "../x"), ("", "\x00", "CON")]:
        directory = post_dir(root, category_path, datetime(2022, 2, 9))
        assert directory.resolve().is_relative_to(root.resolve())
        assert all(is_safe_component(part) for part in directory.relative_to(root).parts)


def test_post_dir_refuses_a_symbolic_link_out_of_the_archive(tmp_path):
    root, outside = tmp_path / "archive", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "finance").symlink_to(outside)
    with pytest.raises(ArchiveError, match="outside the archive"):
        post_dir(root, ("finance", "s", "f"), datetime(2022, 2, 9))


# --- unique_post_path -----------------------------------------------------------------------------------


def test_unique_post_path_tries_slug_then_disambiguator_then_numbers(tmp_path):
    taken: set[Path] = set()
    names = []
    for _ in range(4):
        path = unique_post_path(tmp_path, "fed-raises-rates", taken.__contains__, "1a2b3c4d")
        taken.add(path)
        names.append(path.name)
    assert names == [
        "fed-raises-rates.md",
        "fed-raises-rates-1a2b3c4d.md",
        "fed-raises-rates-1a2b3c4d-2.md",
        "fed-raises-rates-1a2b3c4d-3.md",
    ]


def test_unique_post_path_gives_up_when_every_name_is_taken(tmp_path):
    with pytest.raises(ArchiveError, match="no free file name"):
        unique_post_path(tmp_path, "slug", lambda path: True, "abc")


def test_unique_post_path_keeps_long_names_within_255_bytes(tmp_path):
    slug = "美" * 84  # 252 bytes: the longest stem that fits with ".md"
    path = unique_post_path(tmp_path, slug, lambda p: p.name == slug + ".md", "1a2b3c4d")
    assert path.name.endswith("-1a2b3c4d.md")
    assert len(path.name.encode()) <= 255


@pytest.mark.parametrize("slug", ["", "../x", "a/b", ".hidden", "con"])
def test_unique_post_path_refuses_an_unsafe_slug(tmp_path, slug):
    with pytest.raises(ValueError):
        unique_post_path(tmp_path, slug, lambda p: False, "abc")


@pytest.mark.parametrize("disambiguator", ["", "../x", "ABC", "x" * 17])
def test_unique_post_path_refuses_an_odd_disambiguator(tmp_path, disambiguator):
    with pytest.raises(ValueError):
        unique_post_path(tmp_path, "slug", lambda p: False, disambiguator)


def test_url_disambiguator_is_short_stable_and_url_specific():
    first = url_disambiguator("https://example.com/a")
    assert first == url_disambiguator("https://example.com/a")
    assert first != url_disambiguator("https://example.com/b")
    assert len(first) == 8 and all(ch in "0123456789abcdef" for ch in first)

