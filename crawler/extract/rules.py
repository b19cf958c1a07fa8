"""Site rules: where a site keeps its article, date, author and lead image, by host pattern.

A rules file (the shipped `config/sites.yaml`, then the files named by `extract.sites`) holds one list:

    sites:
      - name: Jiangnan Finance                   # for people and for `crawler extract --json`
        hosts: [finance.example.cn]              # a host covers its subdomains; "host/path" narrows to a path
        article_selector: "#main-text"
        drop_selectors: [".qr", ".share-bar"]
        date_selector: ".info .time"
        author_selector: ".writer"
        image_selector: ".lead-photo img"
        encoding: gbk

For a page, every rule whose pattern matches its URL applies, from the least specific pattern to the most
specific (a later file wins a tie), and then the feed's own keys: each key set by a more specific source
replaces the value of a less specific one, except `drop_selectors`, which add up. Rules are a refinement:
a selector that matches nothing leaves extraction to the general heuristics.

The parent process resolves the rule for a page and hands the worker one small frozen `ExtractRules`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..config import _format_errors, _line_index, read_yaml_file
from ..errors import ConfigError
from ..fetch.decode import normalize_encoding
from ..models import ExtractRules
from .page import compile_selector

# Next to the package in the source tree (`pip install -e .`, as the Makefile does).
SHIPPED_RULES = Path(__file__).resolve().parents[2] / "config" / "sites.yaml"
_HOST_LABEL = re.compile(r"^[a-z0-9_-]+$")
_SELECTOR_KEYS = ("article_selector", "date_selector", "author_selector", "image_selector")


@dataclass(frozen=True, slots=True)
class SiteRule:
    name: str
    patterns: tuple[str, ...]
    rules: ExtractRules
    origin: str
    """Where the rule is written: "config/sites.yaml:12"."""


@dataclass(frozen=True, slots=True)
class ResolvedRules:
    rules: ExtractRules
    applied: tuple[str, ...] = ()
    """What made them, least specific first: "site Sina Finance (config/sites.yaml:12)", "feed 新浪财经－国內"."""


class SiteRules:
    """Every site rule loaded, ready to be matched against page URLs."""

    def __init__(self, rules: Sequence[SiteRule] = ()):
        self._rules = tuple(rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[SiteRule]:
        return iter(self._rules)

    def matching(self, url: str) -> list[SiteRule]:
        """The rules whose patterns match `url`, least specific first; among equals, in loading order."""
        host, path = _host_and_path(url)  # once, not once per pattern of every rule
        scored = []
        for order, rule in enumerate(self._rules):
            best = max((_specificity(pattern) for pattern in rule.patterns if _matches(pattern, host, path)),
                       default=None)
            if best is not None:
                scored.append((best, order, rule))
        return [rule for _, _, rule in sorted(scored, key=lambda item: item[:2])]

    def resolve(self, url: str, feed_rules: ExtractRules = ExtractRules(), feed_name: str | None = None
                ) -> ResolvedRules:
        """The rules for the page at `url`: matching site rules, then the feed's keys on top."""
        merged = ExtractRules()
        applied = []
        for rule in self.matching(url):
            merged = merge_rules(merged, rule.rules)
            applied.append(f"site {rule.name} ({rule.origin})")
        if feed_rules != ExtractRules():
            merged = merge_rules(merged, feed_rules)
            applied.append(f"feed {feed_name}" if feed_name else "feed")
        return ResolvedRules(merged, tuple(applied))


def merge_rules(general: ExtractRules, specific: ExtractRules) -> ExtractRules:
    """`specific`'s keys over `general`'s; drop selectors of both."""
    changes: dict[str, Any] = {}
    for item in fields(ExtractRules):
        value = getattr(specific, item.name)
        if item.name == "drop_selectors":
            changes[item.name] = tuple(dict.fromkeys((*general.drop_selectors, *value)))
        elif value is not None:
            changes[item.name] = value
    return replace(general, **changes)


def pattern_matches(pattern: str, url: str) -> bool:
    """"example.com" matches example.com and its subdomains; "example.com/markets" only paths under /markets."""
    return _matches(pattern, *_host_and_path(url))


def _host_and_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return (parts.hostname or "").rstrip("."), parts.path


def _matches(pattern: str, host: str, path: str) -> bool:
    pattern_host, _, pattern_path = pattern.partition("/")
    if host != pattern_host and not host.endswith("." + pattern_host):
        return False
    if not pattern_path:
        return True
    prefix = "/" + pattern_path
    return path == prefix or path.startswith(prefix + "/")


def _specificity(pattern: str) -> tuple[int, int]:
    host, _, path = pattern.partition("/")
    return host.count(".") + 1, len(path)


# --- loading --------------------------------------------------------------------------------------------


class _RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    hosts: tuple[str, ...]
    article_selector: str | None = None
    drop_selectors: tuple[str, ...] = ()
    date_selector: str | None = None
    author_selector: str | None = None
    image_selector: str | None = None
    encoding: str | None = None

    @field_validator("hosts", "drop_selectors", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("hosts")
    @classmethod
    def _host_patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        if not patterns:
            raise ValueError("list at least one host the rule is for (example.com or example.com/path)")
        return tuple(normalize_pattern(pattern) for pattern in patterns)

    @field_validator(*_SELECTOR_KEYS, "drop_selectors")
    @classmethod
    def _valid_css(cls, value: Any) -> Any:
        for selector in (value,) if isinstance(value, str) else value or ():
            compile_selector(selector)
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        return check_encoding(value) if value is not None else None


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sites: tuple[_RuleModel, ...] = ()


def normalize_pattern(pattern: str) -> str:
    """"https://www.Example.com/markets/" → "www.example.com/markets"; ValueError if it names no host."""
    text = pattern.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    host, _, path = text.partition("/")
    host = host.lower().removeprefix("*.").rstrip(".").split(":")[0]
    if not all(_HOST_LABEL.match(label) for label in host.split(".")):
        raise ValueError(f"{pattern!r} is not a host name (write it as example.com or example.com/path)")
    path = path.strip("/")
    return f"{host}/{path}" if path else host


def check_encoding(name: str) -> str:
    """The encoding's name as given, if Python knows it; ValueError otherwise."""
    if normalize_encoding(name) is None:
        raise ValueError(f"unknown encoding {name!r}; use a name such as utf-8, gbk, gb18030 or big5")
    return name.strip()


def configured_site_rules(extra: Iterable[Path | str] = ()) -> SiteRules:
    """The shipped rules (when the source tree is there: a wheel install has none), then the user's files."""
    shipped = [SHIPPED_RULES] if SHIPPED_RULES.exists() else []
    return load_site_rules([*shipped, *extra])


def load_site_rules(paths: Iterable[Path | str]) -> SiteRules:
    """The rules of every file, in order; a missing or invalid file is a ConfigError naming file, line, key."""
    rules: list[SiteRule] = []
    for path in paths:
        rules.extend(read_rules_file(Path(path)))
    return SiteRules(rules)


def read_rules_file(path: Path) -> list[SiteRule]:
    text, data = read_yaml_file(path, not_found="site rules file not found (check extract.sites in the configuration)",
                                unreadable="cannot read the site rules")
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a site rules file is a mapping with one key, sites: a list of rules")
    lines = _line_index(text)
    try:
        parsed = _RulesFile.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_format_errors(error, str(path), lines).replace("problems in the configuration",
                                                                          "problems in the site rules")) from None
    return [_site_rule(model, index, path, lines) for index, model in enumerate(parsed.sites)]


def _site_rule(model: _RuleModel, index: int, path: Path, lines: dict[tuple, int]) -> SiteRule:
    line = lines.get(("sites", index))
    return SiteRule(
        name=model.name or model.hosts[0],
        patterns=model.hosts,
        rules=ExtractRules(
            article_selector=model.article_selector,
            drop_selectors=model.drop_selectors,
            date_selector=model.date_selector,
            author_selector=model.author_selector,
            image_selector=model.image_selector,
            encoding=model.encoding,
        ),
        origin=f"{path}:{line}" if line else str(path),
    )
