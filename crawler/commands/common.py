"""What several commands share: loading the configuration, choosing feeds."""
from __future__ import annotations

from typing import Sequence

from ..config import FeedSpec, Settings, load_config
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
