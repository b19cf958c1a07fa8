"""What several commands share: loading the configuration, choosing feeds."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Sequence
from zoneinfo import ZoneInfo

from ..config import FeedSpec, Settings, load_config, parse_duration
from ..errors import ConfigError


def settings_from(args) -> Settings:
    return load_config(args.config)


def select_feeds(settings: Settings, names: Sequence[str]) -> list[FeedSpec]:
    """The feeds named (by name or URL), or every enabled feed when none is named."""
    if not names:
        return [f for f in settings.feeds if f.enabled]
    chosen = []
    for name in names:
        feed = settings.feed(name)
        if feed is None:
            raise ConfigError(f"{settings.source_file}: no feed named {name!r} (names and URLs are in the config)")
        chosen.append(feed)
    return chosen


def parse_moment(text: str, zone: ZoneInfo, now: datetime, *, end_of_day: bool = False) -> datetime | None:
    """A --since/--until value: a duration back from `now` (`30d`, `12h`), a date (`2024-01-31`: its first
    second, or with `end_of_day` its last) or a date and time; without an offset, in `zone`. None when it is
    none of these (each command words its own error)."""
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if end_of_day and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        when = datetime.combine(when.date(), time.max)
    return when if when.tzinfo else when.replace(tzinfo=zone)
