"""Where a post goes: `{root}/{category}/{source}/{feed name}/{YYYY}/{MM}/{slug}.md`.

Every component comes from text we do not control (titles, and feed names from configuration), so each one
is made safe for Linux, macOS and Windows, and for Hexo, which publishes the tree as is:

- Hexo skips any path with a component starting with `.` or `_`, so such names are never produced;
- the path under `source/_posts/` becomes the post's permalink, so `#`, `%` and `?`, which would break
  that URL, are replaced too.

Apart from `post_dir`, which resolves symbolic links to keep the result inside the archive, nothing here
touches the file system.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ArchiveError
from ..models import CategoryPath

FALLBACK_NAME = "untitled"
MAX_NAME_BYTES = 255
"""Longest file name Linux, macOS and Windows file systems all accept, in UTF-8 bytes."""
DEFAULT_MAX_BYTES = 120
POST_SUFFIX = ".md"
MAX_NAME_CANDIDATES = 1000

_WHITESPACE_RUN = re.compile(r"\s+")
_DASH_RUN = re.compile(r"-{2,}")
# Windows refuses <>:"/\|?*; '#', '%' and '?' would end or garble the permalink Hexo derives from the path.
_UNSAFE_IN_COMPONENT = re.compile(r'[<>:"/\\|?*#%]')
_WINDOWS_FORBIDDEN = frozenset('<>:"/\\|?*')
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})  # controls, format characters (bidi, ZWJ...), lone surrogates
_SLUG_KEPT_CATEGORIES = ("L", "N", "M")  # letters, digits, combining marks: the rest of a title is punctuation
_RESERVED_WINDOWS_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {f"{port}{n}" for port in ("COM", "LPT") for n in range(10)}
)
_DISAMBIGUATOR = re.compile(r"[0-9a-z]{1,16}")


def safe_component(text: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """`text` as one path component that is safe everywhere (see `is_safe_component`), never empty.

    NFKC-normalised (full-width ASCII becomes ASCII), whitespace runs become `-`, control and format
    characters are dropped, characters Windows or URLs refuse become `-`, leading `.`/`_`/`-` and
    trailing `.`/`-` are stripped, reserved Windows device names get a `_` after their stem, and the result
    is cut to `max_bytes` of UTF-8 on a character boundary that does not split a grapheme.
    """
    text = _normalised(text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    text = _UNSAFE_IN_COMPONENT.sub("-", text)
    return _finished(_DASH_RUN.sub("-", text), max_bytes)


def slugify(title: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """File name stem for a post: lower-case letters, digits and marks of `title` (Chinese kept) joined by `-`.

    Punctuation and symbols become `-` as in Hexo's own slugs, so the permalink needs no escaping; lower case
    keeps two titles differing only in case from colliding on case-insensitive file systems (macOS, Windows)
    as different files.
    """
    text = _normalised(title).lower()
    text = "".join(ch if unicodedata.category(ch).startswith(_SLUG_KEPT_CATEGORIES) else "-" for ch in text)
    return _finished(_DASH_RUN.sub("-", text), max_bytes)


def is_safe_component(name: str) -> bool:
    """Whether `name` can be one path component on Linux, macOS and Windows that Hexo does not skip."""
    return (
        0 < len(name.encode("utf-8", "surrogatepass")) <= MAX_NAME_BYTES
        and not any(ch in _WINDOWS_FORBIDDEN or unicodedata.category(ch) in _DROPPED_CATEGORIES for ch in name)
        and not name.startswith((".", "_"))
        and not name.endswith((".", " "))
        and not _is_reserved_windows_name(name)
    )


def post_dir(root: Path, category_path: CategoryPath, published_local: datetime, *,
             resolved_root: Path | None = None) -> Path:
    """`{root}/{category}/{source}/{feed name}/{YYYY}/{MM}` for a post published at `published_local`.

    `published_local` must already be in the archive time zone (see `frontmatter.local_time`), so that the
    folder matches the post's `date`. Raises ArchiveError when the directory would resolve outside `root`
    (a symbolic link inside the archive pointing elsewhere). `resolved_root`: `root.resolve()`, from a caller
    that keeps it (the archiver resolves its root once, not once per post).
    """
    components = [safe_component(part) for part in category_path]
    directory = root.joinpath(*components, f"{published_local.year:04d}", f"{published_local.month:02d}")
    resolved_root = resolved_root or root.resolve()
    resolved = directory.resolve()
    if not resolved.is_relative_to(resolved_root):
        raise ArchiveError(
            f"{directory} resolves to {resolved}, outside the archive {resolved_root}; "
            "remove the symbolic link that leads out of the archive"
        )
    return directory


def unique_post_path(directory: Path, slug: str, taken: Callable[[Path], bool], disambiguator: str) -> Path:
    """The first free name of `slug.md`, `slug-<disambiguator>.md`, `slug-<disambiguator>-2.md`, `-3`...

    `taken(path)` says whether a name is in use (a file exists, or another post claimed it in this run);
    `disambiguator` is a short hash of the article URL (`url_disambiguator`), so the same article lands on the
    same name run after run. The slug is shortened when needed to keep the name within 255 bytes.
    """
    if not is_safe_component(slug + POST_SUFFIX):
        raise ValueError(f"{slug!r} is not a safe file name stem; build it with slugify()")
    if not _DISAMBIGUATOR.fullmatch(disambiguator):
        raise ValueError(f"{disambiguator!r} is not a disambiguator: expected 1-16 lower-case letters or digits")
    for suffix in _name_suffixes(disambiguator):
        stem = truncate_utf8(slug, MAX_NAME_BYTES - len((suffix + POST_SUFFIX).encode("utf-8"))).rstrip(". -")
        path = directory / f"{stem or FALLBACK_NAME}{suffix}{POST_SUFFIX}"
        if not taken(path):
            return path
    raise ArchiveError(f"{directory}: no free file name for {slug}{POST_SUFFIX} among {MAX_NAME_CANDIDATES} candidates")


def url_disambiguator(url: str) -> str:
    """Eight hex digits derived from `url`: the same article always gets the same alternative name."""
    return hashlib.blake2b(url.encode("utf-8"), digest_size=4).hexdigest()


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` within `max_bytes` of UTF-8 that does not end inside a grapheme."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return text
    cut = len(encoded[:max_bytes].decode("utf-8", "ignore"))
    while cut > 0 and _attaches_to_previous(text, cut):
        cut -= 1
    return text[:cut]


# --- helpers --------------------------------------------------------------------------------------------


def _normalised(text: str) -> str:
    # Whitespace first: tabs and newlines are controls too, and must separate words rather than vanish.
    return _WHITESPACE_RUN.sub("-", unicodedata.normalize("NFKC", text))


def _finished(text: str, max_bytes: int) -> str:
    if not len(FALLBACK_NAME) <= max_bytes <= MAX_NAME_BYTES:
        raise ValueError(f"max_bytes must be between {len(FALLBACK_NAME)} and {MAX_NAME_BYTES}, not {max_bytes}")
    text = truncate_utf8(text.lstrip("._-"), max_bytes).rstrip(". -")
    # The reserved-name check comes last, as stripping can uncover a device name ("CON-" → "CON"); cutting
    # again after the `_` it adds cannot, as max_bytes leaves room for the longest name and its `_`.
    text = truncate_utf8(_unreserved(text), max_bytes).rstrip(". -")
    return text or FALLBACK_NAME


def _is_reserved_windows_name(name: str) -> bool:
    # Windows reserves device names whatever the extension ("nul.txt") and ignores trailing spaces.
    return name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED_WINDOWS_NAMES


def _unreserved(name: str) -> str:
    if not _is_reserved_windows_name(name):
        return name
    stem, dot, extension = name.partition(".")
    return f"{stem}_{dot}{extension}"


def _name_suffixes(disambiguator: str) -> Iterator[str]:
    yield ""
    yield f"-{disambiguator}"
    yield from (f"-{disambiguator}-{n}" for n in range(2, MAX_NAME_CANDIDATES))


def _attaches_to_previous(text: str, index: int) -> bool:
    """Whether `text[index]` belongs to the same grapheme as the character before it.

    Covers what is easy to know without Unicode's full segmentation tables: combining marks (accents,
    variation selectors), emoji skin-tone modifiers and the second half of a regional-indicator flag. Zero
    width joiners need no case: path components drop them with the other format characters.
    """
    ch = text[index]
    if unicodedata.category(ch) in ("Mn", "Mc", "Me") or "\U0001f3fb" <= ch <= "\U0001f3ff":
        return True
    if _is_regional_indicator(ch):
        indicators_before = 0
        while index - indicators_before > 0 and _is_regional_indicator(text[index - indicators_before - 1]):
            indicators_before += 1
        return indicators_before % 2 == 1
    return False


def _is_regional_indicator(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"
