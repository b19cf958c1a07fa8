"""Configuration: one YAML file, validated before any network work, overridable from the environment.

`load_config(path)` returns a frozen `Settings` or raises `ConfigError` naming the file, the line, the key
path and what is wrong. Relative paths in the file are relative to the current working directory (as for
every command-line tool; set `WorkingDirectory=` under systemd).
"""
from __future__ import annotations

import os
import re
import string
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .models import CategoryPath, ExtractRules

ENV_PREFIX = "CRAWLER_"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "ki": 1024, "m": 1000**2, "mb": 1000**2,
               "mib": 1024**2, "mi": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "gi": 1024**3}


def parse_duration(value: Any) -> float:
    """Seconds from `30s`, `10m`, `2h`, `1d`, `250ms` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 10m, 2h or 1d")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"{value!r} is not a duration; write it as 30s, 10m, 2h or 1d")
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def parse_size(value: Any) -> int:
    """Bytes from `5MB`, `512KiB`, `1GB` or a bare number of bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 5MB")
    if isinstance(value, (int, float)):
        size = int(value)
    else:
        m = _SIZE.match(str(value))
        if not m:
            raise ValueError(f"{value!r} is not a size; write it as 512kB, 5MB or a number of bytes")
        size = int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").lower()])
    if size <= 0:
        raise ValueError("a size must be positive")
    return size


Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class ArchiveSettings(_Section):
    dir: Path = Path("archive")
    timezone: str = "Asia/Shanghai"
    """Zone of the naive `date` written for Hexo (set Hexo's `timezone` to the same)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Asia/Shanghai or UTC") from None
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class StateSettings(_Section):
    url: str = "sqlite:///state/crawler.sqlite3"
    """A SQLAlchemy database URL, or a plain path to a SQLite file."""

    @property
    def database_url(self) -> str:
        return self.url if "://" in self.url else "sqlite:///" + self.url


class NetworkSettings(_Section):
    allow_private: bool = False
    """Allow loopback, private and link-local addresses (a self-hosted RSSHub)."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names allowed even when they resolve to private addresses."""
    user_agent: str = "finance-feed-archiver/0.1 (+https://github.com/finance-feed-archiver/crawler; feed archiver)"
    proxy: str | None = None
    """Proxy URL for every request; without it HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply."""
    concurrency: int = Field(16, ge=1, le=512)
    per_host: int = Field(2, ge=1, le=64)
    connect_timeout: Duration = 10.0
    read_timeout: Duration = 20.0
    total_timeout: Duration = 60.0
    """Deadline for one request, body included: a server dripping bytes cannot hold a worker longer."""
    max_page_bytes: Size = 5_000_000
    max_feed_bytes: Size = 10_000_000
    max_redirects: int = Field(5, ge=0, le=30)
    attempts: int = Field(4, ge=1, le=20)
    """Tries per request for connection errors, 5xx and 429."""
    backoff: Duration = 1.0
    """First retry delay; doubles each attempt, with jitter."""
    max_backoff: Duration = 60.0
    """Longest wait between two attempts; a longer Retry-After makes the request fail (retried next run)."""
    obey_robots: bool = True


class ExtractSettings(_Section):
    workers: int = Field(0, ge=0, le=256)
    """Extraction processes; 0 means one per CPU core."""
    max_entry_attempts: int = Field(5, ge=1, le=100)
    """Runs in which a failing article is tried before it is given up."""
    sites: tuple[Path, ...] = ()
    """Site rules files read after the shipped config/sites.yaml, each extending and overriding the ones
    before (crawler/extract/rules.py, README "Site rules")."""


class DaemonSettings(_Section):
    min_interval: Duration = 60.0
    """Shortest adaptive interval (a feed configured shorter keeps its own)."""
    max_interval: Duration = 3600.0
    """Longest adaptive interval, failures included (a feed configured longer keeps its own)."""
    jitter: float = Field(0.1, ge=0.0, le=0.5)
    """Share of the interval by which a poll moves at random (at most a minute)."""
    startup_spread: Duration = 60.0
    """Feeds due at start-up are spread over this long (or their interval, if shorter)."""
    shutdown_grace: Duration = 8.0
    """On SIGTERM/SIGINT, how long in-flight articles may take to finish."""


class BackfillSettings(_Section):
    category: str = Field("Backfill", min_length=1)
    """Top level of the category path of URLs (--urls, --sitemap) not assigned to a feed with --feed."""
    source: str | None = Field(None, min_length=1)
    """Their `source` (second level); default: the Google News publication name, else the site's host name."""
    name: str | None = Field(None, min_length=1)
    """Their third level; default: the site's host name."""
    max_sitemap_bytes: Size = 50_000_000
    """Cap on a sitemap after decompression (the sitemap protocol allows 50 MB)."""


class EnrichSettings(_Section):
    companies: Path | None = None
    """The user's company table (CSV: code,name,aliases), added to the shipped one; see crawler.enrich."""


class DedupSettings(_Section):
    policy: Literal["url", "content", "near"] = "near"
    """What makes two items one story (README "Deduplication"): `url` its URLs and GUID only, `content` also
    the same normalised body, `near` also a body nearly contained in another (syndicated, lightly edited)."""
    near_threshold: float = Field(0.9, ge=0.5, le=1.0)
    """Estimated share of the shorter body found in the longer one from which two bodies are one story."""
    min_near_chars: int = Field(200, ge=50)
    """Bodies shorter than this (letters and digits) are only ever matched exactly: flash items share too
    much wording with each other."""
    follow_updates: bool = True
    """Refetch an archived article when its feed entry's `updated` moves forward, and rewrite it if it changed."""


class FeedDefaults(_Section):
    category: str | None = None
    source: str | None = None
    interval: Duration = 600.0
    timezone: str | None = None
    enrich: bool | None = None


class FeedSpec(_Section):
    url: str
    name: str
    source: str
    category: str
    interval: Duration = 600.0
    """Polling interval for the daemon."""
    enabled: bool = True
    timezone: str | None = None
    """Zone of dates given without offset; default: Asia/Shanghai for Chinese text, else UTC."""
    article_selector: str | None = None
    drop_selectors: tuple[str, ...] = ()
    date_selector: str | None = None
    author_selector: str | None = None
    image_selector: str | None = None
    encoding: str | None = None
    """Encoding of the feed's article pages, overriding what their server and markup declare."""
    fetch_pages: bool = True
    """False: archive the feed's own full text without fetching article pages."""
    enrich: bool = True
    """Find the securities each article names (front matter `tickers`, `companies`, codes in `tags`)."""
    page_url: str | None = None
    """Backfill: address of older pages for a feed that pages without links, `{n}` the page number (2 for the
    second page); relative to the feed URL (`?page={n}`)."""
    proxy: str | None = None
    """Proxy for this feed's requests (feed, pages, robots.txt), in place of network.proxy and *_PROXY."""

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip()
        if not re.match(r"^https?://[^/\s?#]+/?$", v, re.IGNORECASE):
            raise ValueError(f"{v!r} is not a proxy URL; write it as http://host:port or https://host:port")
        return v

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        v = v.strip()
        if not re.match(r"^https?://[^/\s]+", v, re.IGNORECASE):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    @field_validator("name", "source", "category")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return ArchiveSettings._known_zone(v) if v else v

    @field_validator("article_selector", "drop_selectors", "date_selector", "author_selector", "image_selector")
    @classmethod
    def _valid_css(cls, v):
        if v:
            from .extract.page import compile_selector  # lxml only, and only for feeds that use selectors

            for selector in (v,) if isinstance(v, str) else v:
                compile_selector(selector)
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from .extract.rules import check_encoding  # only for feeds that set one

        return check_encoding(v)

    @field_validator("page_url")
    @classmethod
    def _page_template(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip()
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(v) if name is not None]
            v.format(n=2)
        except (KeyError, IndexError, ValueError):
            fields = []
        if not fields or set(fields) != {"n"}:
            raise ValueError(f"{v!r} must name the page number as {{n}} and nothing else in braces, e.g. ?page={{n}}")
        return v

    @property
    def category_path(self) -> CategoryPath:
        return (self.category, self.source, self.name)

    @property
    def rules(self) -> ExtractRules:
        return ExtractRules(self.article_selector, self.drop_selectors, self.date_selector, self.author_selector,
                            self.image_selector, self.encoding)


class Settings(_Section):
    archive: ArchiveSettings = ArchiveSettings()
    state: StateSettings = StateSettings()
    network: NetworkSettings = NetworkSettings()
    extract: ExtractSettings = ExtractSettings()
    daemon: DaemonSettings = DaemonSettings()
    backfill: BackfillSettings = BackfillSettings()
    enrich: EnrichSettings = EnrichSettings()
    dedup: DedupSettings = DedupSettings()
    defaults: FeedDefaults = FeedDefaults()
    feeds: tuple[FeedSpec, ...] = ()
    source_file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _apply_feed_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("feeds"), list):
            return data
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, dict):
            return data
        merged = []
        for feed in data["feeds"]:
            if isinstance(feed, dict):
                feed = {**{k: v for k, v in defaults.items() if v is not None}, **feed}
            merged.append(feed)
        return {**data, "feeds": merged}

    @model_validator(mode="after")
    def _unique_feed_urls(self) -> "Settings":
        seen: dict[str, int] = {}
        for i, feed in enumerate(self.feeds):
            key = feed.url.rstrip("/").lower()
            if key in seen:
                raise ValueError(f"feeds[{i}].url: {feed.url} is already listed as feeds[{seen[key]}]")
            seen[key] = i
        return self

    def feed(self, name_or_url: str) -> FeedSpec | None:
        return next((f for f in self.feeds if name_or_url in (f.name, f.url)), None)


# --- loading --------------------------------------------------------------------------------------------

_SECTIONS = ("archive", "state", "network", "extract", "daemon", "backfill", "enrich", "dedup")


def env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """`CRAWLER_<SECTION>_<KEY>=value` for every scalar key of the sections in `_SECTIONS`."""
    out: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):].lower()
        for section in _SECTIONS:
            if rest.startswith(section + "_"):
                key = rest[len(section) + 1:]
                model = Settings.model_fields[section].annotation
                if key not in model.model_fields:  # type: ignore[union-attr]
                    raise ConfigError(f"environment: {name} names no setting ({section}.{key} does not exist)")
                out.setdefault(section, {})[key] = _env_value(value)
                break
    return out


def _env_value(value: str) -> Any:
    if "," in value and not value.startswith(("http://", "https://", "socks")):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_index(text: str) -> dict[tuple, int]:
    """Key path → line number, from YAML's own node marks, so errors can point at the line."""
    lines: dict[tuple, int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(node, path):
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                lines[path + (k.value,)] = k.start_mark.line + 1
                walk(v, path + (k.value,))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, path + (i,))

    if root is not None:
        walk(root, ())
    return lines


def _format_errors(err: ValidationError, where: str, lines: dict[tuple, int]) -> str:
    msgs = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        line = next((lines[loc[:i]] for i in range(len(loc), 0, -1) if loc[:i] in lines), None)
        place = f"{where}:{line}" if line else where
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling and the configuration reference in README.md)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        path = _loc(loc)
        msgs.append(f"{place}: {path}: {msg}" if path else f"{place}: {msg}")
    return "; ".join(msgs) if len(msgs) == 1 else "\n  ".join([f"{len(msgs)} problems in the configuration:"] + msgs)


# libyaml's parser where PyYAML was built with it: the pure-Python one took about 0.2 s for a configuration of
# 500 feeds, paid by every `crawler once`.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml_file(path: Path, *, not_found: str, unreadable: str) -> tuple[str, Any]:
    """The text of a YAML file and what it holds; ConfigError naming the file (and the line, for bad YAML),
    with `not_found` or `unreadable` saying what the file is for."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {not_found}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: {unreadable}: {e}") from None
    try:
        return text, yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None


def load_config(path: str | os.PathLike, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    path = Path(path)
    text, data = read_yaml_file(path, not_found="configuration file not found (pass one with -c FILE)",
                                unreadable="cannot read the configuration")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping with archive, state, network and feeds")
    for section in (*_SECTIONS, "defaults"):
        if section in data and data[section] is None:  # `network:` with every key commented out
            data[section] = {}
    for section, values in env_overrides(environ).items():
        current = data.get(section) or {}
        if not isinstance(current, dict):
            break  # validation below reports the wrong type
        data[section] = {**current, **values}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_errors(e, str(path), _line_index(text))) from None
    return settings.model_copy(update={"source_file": path})
