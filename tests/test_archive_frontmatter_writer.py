"""Front matter written without PyYAML's representer: byte for byte what the PyYAML dumpers write.

`_post_text` writes simple front matter itself (`_simple_yaml`) and leaves the rest to `_dump`, through
libyaml, or PyYAML's own emitter when libyaml would escape characters beyond the BMP. Whatever the mapping,
the text must be exactly what that `_dump` path gives, and read back as the values written.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.archive import render_post
from crawler.archive.frontmatter import (_STANDARD_KEYS, _WRITTEN_AS_IS, _dump, _FastFrontMatterDumper, _front_matter,
                                         _FrontMatterDumper, _post_text, _simple_yaml)
from tests.test_archive_frontmatter import FEED, HOSTILE_TITLES, SHANGHAI, TRICKY, make_article
from tests.test_properties import HOSTILE_PIECES, hostile_text

# What decides between plain, single- and double-quoted style or an escape, in libyaml's and PyYAML's
# emitters and in the dumpers' resolvers (YAML 1.1 and 1.2 scalars), mixed into random text.
EMITTER_PIECES = [
    " ", "  ", ":", ": ", " #", "#", "-", "- ", "?", "? ", "---", "...", ".", "'", '"', "\\", "\\U0001F680", ",",
    "[", "]", "{", "}", "&", "*", "!", "|", ">", "%", "@", "`", "<<", "=", "~", "yes", "No", "null", "true",
    "1e3", "0o17", "0b1", "0x1F", "1_000", "+12", "-1", ".5", ".inf", "3.14", "190:20:30", "2022-02-09",
    "2022-02-09 11:10:19", "12:30", "\t", "\n", "\r", "\x85", "\u2028", "\u2029", "\ufeff", "\ufffe", "\ufffd",
    "\ue000", "\U0010ffff", "\U0010fffe", "\U0001f680", "\x00", "\x1b", "\x7f", "\x9f", "\xa0", "\u3000", "美",
    "：", "a", "Z", "x" * 40,
]
yaml_text = st.one_of(
    hostile_text,
    st.lists(st.one_of(st.sampled_from(EMITTER_PIECES), st.sampled_from(HOSTILE_PIECES)), max_size=6).map("".join),
)
offsets = st.sampled_from([timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-9, minutes=-30)),
                           timezone(timedelta(hours=1, seconds=7))])
scalars = st.one_of(
    yaml_text,
    st.integers(),
    st.booleans(),
    st.none(),
    st.datetimes(),
    st.datetimes(timezones=offsets),
    st.floats(allow_nan=False),  # left to _dump, as the rest below
    st.dates(),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.lists(st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=4),
    st.lists(st.lists(st.lists(scalars, max_size=2), max_size=2), max_size=2),
    st.dictionaries(yaml_text, scalars, max_size=2),
)
keys = st.one_of(st.sampled_from(sorted(_STANDARD_KEYS)), yaml_text, st.integers(), st.booleans())


@st.composite
def front_matters(draw) -> dict:
    front = draw(st.dictionaries(keys, values, max_size=8))
    if front and draw(st.booleans()):  # an object met twice: PyYAML writes an anchor and an alias
        shared = draw(st.sampled_from(list(front.values())))
        front[draw(keys)] = [shared] if draw(st.booleans()) else shared
    return front


def dumped(front: dict) -> str:
    """The front matter as `_post_text` wrote it through PyYAML alone."""
    text = _dump(front, _FastFrontMatterDumper)
    return _dump(front, _FrontMatterDumper) if "\\U" in text else text


def assert_written_as_pyyaml_does(front: dict) -> None:
    try:
        expected = dumped(front)
    except (yaml.YAMLError, UnicodeEncodeError) as error:  # lone surrogates, for one
        assert _simple_yaml(front) is None
        with pytest.raises(type(error)):
            _post_text(front, "")
        return
    simple = _simple_yaml(front)
    assert simple is None or simple == expected
    assert _post_text(front, "body") == f"---\n{expected}---\nbody\n"
    if "!!timestamp" not in expected:  # PyYAML writes a UTC offset with seconds, but cannot read it back
        assert yaml.safe_load(expected) == front


@settings(max_examples=200, deadline=None)
@given(front=front_matters())
@example(front={"title": "大涨 🚀 收官", "tags": ["C:\\Users", "yes"], "date": datetime(2022, 2, 9, 11, 10, 19)})
@example(front={"a": [], "b": [[], ["x", "y"]], "c": [["p"], "q"], "": None, 1: True})
@example(front={"title": "Exclusive: it's 'quoted' #1 ", "k" * 31: "- x", "k" * 32: "? y"})
def test_any_front_matter_is_written_as_pyyaml_writes_it(front):
    assert_written_as_pyyaml_does(front)


# Text the dumpers write without escapes: the writer's own ground, where the style choice must be exact.
unescaped_text = st.lists(
    st.one_of(
        st.sampled_from([piece for piece in EMITTER_PIECES if _WRITTEN_AS_IS.fullmatch(piece)]),
        st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\ufeff\U0010ffff"),
                max_size=5),
    ),
    max_size=6,
).map("".join)
unescaped_scalars = st.one_of(unescaped_text, st.integers(), st.booleans(), st.none(), st.datetimes())
simple_values = st.one_of(
    unescaped_scalars,
    st.lists(unescaped_scalars, max_size=4),
    st.lists(st.one_of(unescaped_scalars, st.lists(unescaped_scalars, max_size=3)), max_size=4),
)


short_keys = st.sampled_from(sorted(_STANDARD_KEYS)) | unescaped_text.filter(lambda key: 0 < len(key) < 8)


@settings(max_examples=150, deadline=None)
@given(front=st.dictionaries(short_keys, simple_values, min_size=1, max_size=8))
def test_simple_front_matter_is_written_without_pyyaml_as_pyyaml_writes_it(front):
    assert _simple_yaml(front) is not None
    assert_written_as_pyyaml_does(front)


@pytest.mark.parametrize("value", sorted(set(HOSTILE_TITLES + TRICKY + EMITTER_PIECES)))
def test_each_tricky_value_is_written_as_pyyaml_writes_it(value):
    for front in ({"title": value}, {value: [value, [value]]}, {"tags": [value, "x"], "k": [[value]]}):
        assert_written_as_pyyaml_does(front)


@given(title=yaml_text, author=st.one_of(st.none(), yaml_text), tags=st.lists(yaml_text, max_size=4),
       path=st.tuples(yaml_text, yaml_text, yaml_text).filter(lambda path: all(part.strip() for part in path)),
       extra=st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda key: key not in _STANDARD_KEYS), values,
                             max_size=2))
@settings(max_examples=150, deadline=None)
def test_every_post_is_written_as_pyyaml_writes_it(title, author, tags, path, extra):
    article = make_article(title=title, author=author, tags=tuple(tags), tickers=("600519.SH",))
    assert_written_as_pyyaml_does(_front_matter(article, [path, FEED], SHANGHAI, ["https://m.example.com/1"], extra))


def test_posts_as_the_crawler_writes_them_skip_the_representer():
    article = make_article(title="Exclusive: 美联储宣布加息25个基点 🚀", author="张三", tags=("美联储", "yes"),
                           tickers=("600519.SH",), companies=("贵州茅台",), image="https://example.com/a.jpg")
    extra = {"updated": datetime(2022, 2, 10, 8, 0, tzinfo=timezone(timedelta(hours=8))), "revisions": 2}
    front = _front_matter(article, [FEED, ("金融", "新浪财经", "新浪财经－国內")], SHANGHAI, ["https://m.example.com/1"],
                          extra)
    assert _simple_yaml(front) == dumped(front)
    assert render_post(article, [FEED], SHANGHAI).startswith("---\ntitle: 'Exclusive: 美联储宣布加息25个基点 🚀'\n")
