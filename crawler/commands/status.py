"""`crawler status`: each configured feed's state, read from the state database (safe while the daemon runs:
SQLite in WAL mode lets readers in beside the writer). Loads neither the HTTP nor the extraction stack."""
from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from ..config import Settings
from ..state.store import FeedState, Store
from . import EXIT_OK
from .common import settings_from


def _ago(iso: str | None, now: datetime) -> str:
    if not iso:
        return "never"
    seconds = (now - datetime.fromisoformat(iso)).total_seconds()
    return f"in {_span(-seconds)}" if seconds < 0 else f"{_span(seconds)} ago"


def _span(seconds: float) -> str:
    """30s, 10m, 1.5h, 2d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}".removesuffix(".0") + unit
    return f"{seconds:.0f}s"


def feed_rows(settings: Settings) -> list[dict]:
    states = {}
    db_url = settings.state.database_url
    sqlite_file = Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite:///") else None
    if sqlite_file is None or sqlite_file.exists():  # status never creates a database
        store = Store(db_url)
        try:
            states = {s.url: s for s in store.all_feed_states()}
        finally:
            store.close()
    rows = []
    for feed in settings.feeds:
        state = states.get(feed.url) or FeedState(url=feed.url, fetch_url=feed.url)
        rows.append({"name": feed.name, "enabled": feed.enabled, "configured_interval": feed.interval,
                     **asdict(state)})
    return rows


def render_table(rows: list[dict], now: datetime) -> str:
    header = ("FEED", "LAST SUCCESS", "NEXT POLL", "INTERVAL", "ARCHIVED", "ERRORS", "LAST ERROR")
    lines = [header]
    for r in rows:
        interval = r["interval_seconds"] or r["configured_interval"]
        errors = str(r["error_count"]) if r["error_count"] else "-"
        next_poll = ("-" if not r["next_poll_at"] else _ago(r["next_poll_at"], now)) if r["enabled"] else "disabled"
        lines.append((r["name"], _ago(r["last_success_at"], now), next_poll, _span(interval),
                      str(r["articles_archived"]), errors, (r["last_error"] or "")[:80]))
    widths = [max(_width(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(line, widths)).rstrip()
                     for line in lines)


def _width(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def run(args) -> int:
    settings = settings_from(args)
    rows = feed_rows(settings)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        print(render_table(rows, datetime.now(timezone.utc)))
    return EXIT_OK
