"""A post as Hexo reads it: YAML front matter between `---` lines, then the Markdown body.

Two YAML readers must agree on every value we write: PyYAML (YAML 1.1, our own `parse_post`) and js-yaml
(YAML 1.2, inside Hexo). So the dumper quotes any string that either would take for something else (YAML
1.1 turns `yes` into a boolean, YAML 1.2 turns `1e3` into a number), and writes strings holding a line
break double-quoted with `\\n` escapes: every value then fits on its line, and no line of the front matter
can start with `---`, which would end it early for Hexo.

Dates: `date` (and `updated`) are written as naive `YYYY-MM-DD HH:mm:ss` in the archive time zone, the form
`hexo new` writes: Hexo reads a naive date in its own `timezone` setting, and would shift one that carries
an offset. The publisher's own time and offset go to `published`, as a quoted ISO 8601 string.

Writing: PyYAML's representer and resolver are pure Python and cost most of a post's rendering, yet nearly
every front matter is a flat mapping of one-line scalars and lists (of lists) of them. For those,
`_simple_yaml` writes the text itself, the bytes PyYAML's emitters (libyaml's, and the pure-Python one used
for emoji) write; anything else (line breaks, control characters, nested mappings, floats...) goes
through PyYAML (`_dump`). What to quote stays decided by the dumpers' own resolvers (YAML 1.2 numbers
included); the writer mirrors only the emitters' choice between plain and single-quoted style.

Reading back: `parse_post` leaves timestamps as the text written (`date` comes back as the string
`"2022-02-09 11:10:19"`, not a datetime), so a round trip returns exactly the strings that were rendered.
"""
from __future__ import annotations

import functools
import re
from datetime import datetime
from types import MappingProxyType
from typing import Hashable, Iterable, Mapping, Sequence, TypeVar
from zoneinfo import ZoneInfo

import yaml

from ..errors import ArchiveError
from ..models import Article, CategoryPath

_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
# What clean_title removes: the control characters (Unicode category Cc: U+0000-001F, U+007F-009F) that are
# not whitespace (whitespace becomes a space), the surrogates (Cs: U+D800-DFFF) and the bidi controls. One
# class, scanned in C: titles, tags and company names go through it twenty-odd times per post.
_REMOVED_FROM_TITLES = re.compile(f"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff{_BIDI_CONTROLS}]")
_LINE_BREAK = re.compile("[\n\r\x85\u2028\u2029]")
# YAML 1.2 core-schema numbers (js-yaml's, with the underscores older js-yaml versions accept): PyYAML,
# which knows only YAML 1.1, would otherwise write strings such as `1e3` or `0o17` unquoted.
_YAML12_INT = re.compile(r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$")
_YAML12_FLOAT = re.compile(
    r"^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_NO_WRAP = 2**31 - 1  # the widest line libyaml takes (an int)
_FRONT_MATTER = re.compile(r"---\n(.*?\n)?---(?:\n|\Z)", re.DOTALL)
_NO_EXTRA: Mapping[str, object] = MappingProxyType({})
_STANDARD_ORDER = (
    "title", "date", "published", "updated", "author", "source", "categories", "tags", "tickers", "companies",
    "link", "syndicated", "feed", "guid", "headimg", "thumbnail", "comments", "disableNunjucks", "extracted_from",
)
"""The keys `render_post` writes, in the order it writes them; `rewrite_post` puts a key it adds in its place."""
_STANDARD_KEYS = frozenset(_STANDARD_ORDER)
_Item = TypeVar("_Item", bound=Hashable)


def clean_title(text: str) -> str:
    """One line of display text, for the title and every other one-line field (author, source, tags...).

    C0 and C1 control characters, lone surrogates and the bidi embedding, override and isolate controls
    (U+202A-202E, U+2066-2069, which can make a title display as something else) are removed; every run
    of whitespace, line breaks and tabs included, becomes one space; leading and trailing spaces are
    stripped. Everything else, full-width punctuation and emoji included, is kept as is.
    """
    return " ".join(_REMOVED_FROM_TITLES.sub("", text).split())


def local_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` as a naive wall-clock time in `zone`, to the second: the post's `date` and its YYYY/MM folder."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no UTC offset; the archive needs aware datetimes")
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def render_post(
    article: Article,
    categories: Sequence[CategoryPath],
    zone: ZoneInfo,
    syndicated: Sequence[str] = (),
    extra: Mapping[str, object] = _NO_EXTRA,
) -> str:
    """The whole post file: front matter (keys in Hexo-friendly order) and the body, ending with a newline.

    `categories` lists every feed the article was found in: one becomes `[category, source, feed name]`,
    several a list of such lists (Hexo files the post under each). `syndicated` holds other URLs of the
    same story. `extra` adds keys after the standard ones, except `updated`, which is placed after
    `published`; aware datetimes in it are written like `date`. An `extra` key may not replace a
    standard one.
    """
    return _post_text(_front_matter(article, categories, zone, syndicated, extra), article.body)


def rewrite_post(text: str, categories: Sequence[CategoryPath], syndicated: Sequence[str],
                 tickers: Iterable[str] = (), companies: Iterable[str] = ()) -> str:
    """The post `text` with its `categories` and `syndicated` replaced, and `tickers` and `companies` (those a
    copy of the story names) added to its own: `tickers` stays sorted, a new code also goes to the end of
    `tags`, a new name to the end of `companies`. Every other key and the body are written back as they were
    read, in their order; a key the post did not have goes where `render_post` would put it."""
    front, body = parse_post(text)
    for key in ("date", "updated"):
        if isinstance(front.get(key), str):
            front[key] = _naive_timestamp(front[key])
    front["categories"] = _categories(categories)
    other_urls = [url for url in _unique(syndicated) if url != front.get("link")]
    if other_urls:
        front = _with_key(front, "syndicated", other_urls)
    else:
        front.pop("syndicated", None)
    known_tickers = [str(code) for code in _as_list(front.get("tickers"))]
    new_tickers = sorted(set(tickers).difference(known_tickers, [""]))
    if new_tickers:
        front = _with_key(front, "tags", _unique([*_as_list(front.get("tags")), *new_tickers]))
        front = _with_key(front, "tickers", sorted({*known_tickers, *new_tickers}))
    known_companies = _as_list(front.get("companies"))
    all_companies = _unique([*known_companies, *(clean_title(name) for name in companies)])
    if len(all_companies) > len(known_companies):
        front = _with_key(front, "companies", all_companies)
    return _post_text(front, body)


def _with_key(front: dict[str, object], key: str, value: object) -> dict[str, object]:
    """`front` with `key` set to `value`: in place where it is, else right after the nearest standard key
    that comes before it in `render_post`'s order (first when there is none)."""
    if key in front:
        front[key] = value
        return front
    earlier = _STANDARD_ORDER[:_STANDARD_ORDER.index(key)]
    anchor = next((name for name in reversed(earlier) if name in front), None)
    rebuilt: dict[str, object] = {} if anchor else {key: value}
    for name, existing in front.items():
        rebuilt[name] = existing
        if name == anchor:
            rebuilt[key] = value
    return rebuilt


def _as_list(value: object) -> list[object]:
    """A front matter value read as a list (a hand-edited post may hold one item without a list, or none)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _post_text(front: Mapping[str, object], body: str) -> str:
    text = _simple_yaml(front)
    if text is None:
        text = _dump(front, _FastFrontMatterDumper)
        if "\\U" in text:  # libyaml escapes characters beyond the BMP (emoji): write them as they are
            text = _dump(front, _FrontMatterDumper)
    body = body if body.endswith("\n") else body + "\n"
    return f"---\n{text}---\n{body}"


def _dump(front: Mapping[str, object], dumper: type[yaml.SafeDumper]) -> str:
    return yaml.dump(
        dict(front),
        Dumper=dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=_NO_WRAP,  # one value per line, however long: easy to read, grep and diff
    )


def _naive_timestamp(text: str) -> object:
    """A date read back as text becomes a datetime again, so it is written unquoted as Hexo expects."""
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return text


def parse_post(text: str) -> tuple[dict, str]:
    """Front matter and body of a post file; ArchiveError when it has no well-formed front matter.

    The front matter ends at the first line that is exactly `---`, as for Hexo, so nothing in the body can
    change it. Timestamps stay strings (see the module notes).
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        opened = text.startswith("---\n")
        problem = "it is not closed by a '---' line" if opened else "the file does not start with '---'"
        raise ArchiveError(f"malformed post: no front matter ({problem})")
    try:
        front = yaml.load(match.group(1) or "", Loader=_PostLoader)
    except yaml.YAMLError as error:
        raise ArchiveError(f"malformed post: front matter is not valid YAML ({_one_line(error)})") from None
    except UnicodeEncodeError:  # libyaml takes UTF-8: a lone surrogate (never in text read from a file)
        raise ArchiveError("malformed post: front matter holds a lone surrogate, which YAML does not allow") from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise ArchiveError(f"malformed post: front matter is a {type(front).__name__}, not a mapping of keys")
    return front, text[match.end():]


# --- front matter ---------------------------------------------------------------------------------------


def _front_matter(
    article: Article,
    categories: Sequence[CategoryPath],
    zone: ZoneInfo,
    syndicated: Sequence[str],
    extra: Mapping[str, object],
) -> dict[str, object]:
    front: dict[str, object] = {
        "title": clean_title(article.title),
        "date": local_time(article.published, zone),
        "published": article.published.isoformat(timespec="seconds"),
    }
    if "updated" in extra:
        front["updated"] = _extra_value(extra["updated"], zone)
    author = clean_title(article.author or "")
    if author:
        front["author"] = author
    front["source"] = clean_title(article.source)
    front["categories"] = _categories(categories)
    # The securities are tags too, so Hexo makes a page per security; the feed's own tags come first.
    tags = _unique(clean_title(tag) for tag in (*article.tags, *article.tickers))
    if tags:
        front["tags"] = tags
    if article.tickers:
        front["tickers"] = list(article.tickers)
    companies = _unique(clean_title(name) for name in article.companies)
    if companies:
        front["companies"] = companies
    front["link"] = article.link
    other_urls = [url for url in _unique(syndicated) if url != article.link]
    if other_urls:
        front["syndicated"] = other_urls
    front["feed"] = article.feed_url
    if article.guid and article.guid != article.link:
        front["guid"] = clean_title(article.guid)
    if article.image:
        front["headimg"] = article.image
        front["thumbnail"] = article.image
    front["comments"] = False
    front["disableNunjucks"] = True  # article text may hold `{{ }}` or `{% %}`: Hexo must not run it
    if article.extracted_from == "feed":
        front["extracted_from"] = "feed"
    for key, value in extra.items():
        if key in _STANDARD_KEYS - {"updated"}:
            raise ValueError(f"extra key {key!r} would replace the standard front matter key")
        if key != "updated":
            front[key] = _extra_value(value, zone)
    return front


def _categories(categories: Sequence[CategoryPath]) -> list[str] | list[list[str]]:
    paths = _unique(tuple(clean_title(part) for part in path) for path in categories)
    if not paths:
        raise ValueError("an article belongs to at least one feed: categories must not be empty")
    if len(paths) == 1:
        return list(paths[0])
    return [list(path) for path in paths]


def _extra_value(value: object, zone: ZoneInfo) -> object:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return local_time(value, zone)
    return value


def _unique(items: Iterable[_Item]) -> list[_Item]:
    """`items` in first-seen order, without duplicates or empty ones."""
    return list(dict.fromkeys(item for item in items if item))


def _one_line(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"{problem} at line {mark.line + 1} of the front matter" if mark else problem


# --- YAML dialect ---------------------------------------------------------------------------------------


class _FrontMatterDumper(yaml.SafeDumper):
    """SafeDumper whose strings read back unchanged in both YAML 1.1 (PyYAML) and YAML 1.2 (js-yaml, Hexo)."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if _LINE_BREAK.search(text) else None
    return dumper.represent_scalar(_STR_TAG, text, style=style)


class _FastFrontMatterDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """The same dialect through libyaml's emitter, four times faster; it escapes emoji (`\\U0001F600`), so a
    post holding any is dumped again by the pure-Python one."""


for _dumper in (_FrontMatterDumper, _FastFrontMatterDumper):
    _dumper.add_representer(str, _represent_str)
    # A string that resolves to another type is quoted by the emitter: teaching the dumper YAML 1.2's
    # numbers makes it quote those too.
    _dumper.add_implicit_resolver("tag:yaml.org,2002:int", _YAML12_INT, list("-+0123456789"))
    _dumper.add_implicit_resolver("tag:yaml.org,2002:float", _YAML12_FLOAT, list("-+0123456789."))


class _PostLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that leaves timestamps as strings, so dates read back as the text Hexo reads. On libyaml's
    parser where PyYAML has it: `crawler reindex`, `verify` and `grep --files` read every post, and libyaml
    reads a front matter in about an eighth of the pure-Python parser's time (the values are the same: the
    resolvers and constructors stay PyYAML's)."""


_PostLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# --- writing simple front matter without the representer (see the module notes) --------------------------
# `_simple_yaml` gives exactly what `_dump` gives, or None: tests/test_archive_frontmatter_writer.py compares.

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_NULL_TAG = "tag:yaml.org,2002:null"
# What the emitters write as it is, in plain or single-quoted style: printable (libyaml's IS_PRINTABLE,
# Emitter.analyze_scalar), no line break, no BOM. Beyond the BMP, libyaml escapes, but then `_post_text`
# takes PyYAML's emitter, which does not (but for U+10FFFF).
_WRITTEN_AS_IS = re.compile(r"[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010fffe]*")
# Among those strings, the ones the emitters will not write plain in block context start with a space, an
# indicator, a document marker, `- ` or `? `, end with a space or `:`, or hold `: ` or ` #` (`_as_written`).
_NOT_PLAIN_START = re.compile(r"[ #,\[\]{}&*!|>'\"%@`]|---|\.\.\.|[?-](?: |$)")
# libyaml writes a key longer than 128 bytes in the `? key` form, and PyYAML's emitter one of 128 characters
# or more, and the empty key; a key of fewer than 32 characters (at most 4 bytes each) is short enough.
_LONGEST_SIMPLE_KEY = 31


def _simple_yaml(front: Mapping[object, object]) -> str | None:
    """The YAML `_dump` writes for `front`, if every key is a short scalar and every value a scalar or a
    list of scalars or of lists of scalars (see `_simple_scalar`); None otherwise."""
    lines = []
    met: set[int] = set()  # lists and datetimes: PyYAML writes one met twice as an anchor and an alias
    for key, value in front.items():
        key_text = _simple_scalar(key, met)
        if key_text is None or len(key_text) > _LONGEST_SIMPLE_KEY or key == "":
            return None
        if type(value) is list:
            items = _sequence_lines(value, met, nested=True)
            if items is None:
                return None
            lines.append(f"{key_text}:" if items else f"{key_text}: []")
            lines.extend(items)
        else:
            value_text = _simple_scalar(value, met)
            if value_text is None:
                return None
            lines.append(f"{key_text}: {value_text}")
    if not lines:
        return None
    lines.append("")
    return "\n".join(lines)


def _sequence_lines(items: list, met: set[int], *, nested: bool) -> list[str] | None:
    """The block sequence of `items` (`- item` lines; a list inside, when `nested`, as `- - first` and
    `  - next`), or None if an item is not simple or the list was met before."""
    if not _first_meeting(items, met):
        return None
    lines = []
    for item in items:
        if type(item) is list and nested:
            inner = _sequence_lines(item, met, nested=False)
            if inner is None:
                return None
            lines.extend([f"- {inner[0]}", *(f"  {line}" for line in inner[1:])] if inner else ["- []"])
            continue
        item_text = _simple_scalar(item, met)
        if item_text is None:
            return None
        lines.append(f"- {item_text}")
    return lines


def _simple_scalar(value: object, met: set[int]) -> str | None:
    """`value` as the dumpers write it, if it is a string, bool, int, None or datetime they write without
    escapes or a tag; None otherwise."""
    kind = type(value)
    if kind is str:
        return _written_string(value)
    if kind is bool or value is None:
        return _WRITTEN_CONSTANTS[value]
    if kind is int:
        return _as_written(_INT_TAG, str(value))
    if kind is datetime and _first_meeting(value, met):
        return _as_written(_TIMESTAMP_TAG, value.isoformat(" "))
    return None


@functools.lru_cache(maxsize=4096)  # keys, feeds, categories and tags come back post after post
def _written_string(text: str) -> str | None:
    return _as_written(_STR_TAG, text)


def _as_written(tag: str, text: str) -> str | None:
    """`text`, a scalar of type `tag`, as the dumpers write it; None if they would escape it or tag it."""
    if not _WRITTEN_AS_IS.fullmatch(text):
        return None
    if _plain_tag(text) == tag and not (
        _NOT_PLAIN_START.match(text) or ": " in text or " #" in text or text.endswith((":", " "))
    ):
        return text
    if tag == _STR_TAG:  # a string that cannot be written plain is single-quoted...
        return "'" + text.replace("'", "''") + "'"
    return None  # ...but another type would be written with its tag


def _first_meeting(value: object, met: set[int]) -> bool:
    if id(value) in met:
        return False
    met.add(id(value))
    return True


def _plain_tag(text: str) -> str:
    """The tag the dumpers' resolver (BaseResolver.resolve) reads `text` as, written plain."""
    for tag, pattern in _PLAIN_RESOLVERS.get(text[:1], _WILDCARD_RESOLVERS):
        if pattern.match(text):
            return tag
    return _STR_TAG


_WILDCARD_RESOLVERS = tuple(_FrontMatterDumper.yaml_implicit_resolvers.get(None, ()))
_PLAIN_RESOLVERS = {
    first: (*resolvers, *_WILDCARD_RESOLVERS)
    for first, resolvers in _FrontMatterDumper.yaml_implicit_resolvers.items()
    if first is not None
}
_WRITTEN_CONSTANTS = {value: _as_written(tag, text) for value, tag, text in [
    (True, _BOOL_TAG, "true"), (False, _BOOL_TAG, "false"), (None, _NULL_TAG, "null"),
]}
