"""Logging: one line per event, human-readable by default or JSON (`--log-format json`) for log shippers."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class _CrawlerHandler(logging.StreamHandler):
    """Ours, so a second setup (tests call main() repeatedly) replaces it and leaves other handlers alone."""


def setup_logging(level: int = logging.INFO, fmt: str = "text") -> None:
    handler = _CrawlerHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, _CrawlerHandler)] + [handler]
    root.setLevel(logging.WARNING)
    # Our own messages at the chosen level; libraries (httpx, trafilatura...) only when debugging.
    logging.getLogger("crawler").setLevel(level)
    if level <= logging.DEBUG:
        root.setLevel(logging.DEBUG)
    else:
        for noisy in ("httpx", "httpcore", "trafilatura", "htmldate", "charset_normalizer", "apscheduler"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
