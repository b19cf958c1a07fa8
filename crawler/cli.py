"""Command line: `crawler once | ...`. Imports of the heavy stack happen inside the commands, so
`crawler --help` starts fast.

Exit codes (also in README.md):
  0  every feed was fetched and every new article written or settled
  1  some feeds failed, or an archive file could not be written (details in the log)
  2  usage or configuration error: nothing was fetched
  3  another crawler process holds the archive lock
  130 interrupted (Ctrl-C)
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Sequence

from . import __version__
from .commands import EXIT_FAILURES, EXIT_INTERRUPTED, EXIT_LOCKED, EXIT_USAGE

DEFAULT_CONFIG = "config/feeds.yaml"

log = logging.getLogger("crawler")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crawler",
        description="Archive finance news feeds as deduplicated Markdown files that Hexo can publish.",
        epilog="Exit codes: 0 ok, 1 some feeds or writes failed, 2 usage/config error, 3 archive locked "
               "by another run, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", default=os.environ.get("CRAWLER_CONFIG", DEFAULT_CONFIG),
                        help=f"configuration file (default: $CRAWLER_CONFIG or {DEFAULT_CONFIG})")
    common.add_argument("-v", "--verbose", action="store_true", help="debug output, with tracebacks")
    common.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    common.add_argument("--log-format", choices=("text", "json"), default="text", help="log line format")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    once = sub.add_parser("once", parents=[common], help="poll every feed once, archive what is new, exit",
                          description="Poll every enabled feed once, archive new articles, print a summary, exit. "
                                      "Made for cron and CI.")
    once.add_argument("--feed", action="append", default=[], metavar="NAME",
                      help="only this feed (name or URL); repeatable")
    return parser


# Command name → "module:function" run with the parsed arguments, returning the exit code. Imported only
# when the command runs, so `crawler --help` loads none of the crawling stack.
COMMANDS = {
    "once": "crawler.commands.once:run",
}


def _command(name: str):
    module, function = COMMANDS[name].split(":")
    return getattr(importlib.import_module(module), function)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .log import setup_logging

    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    setup_logging(level, args.log_format)
    from .errors import ConfigError, CrawlerError, LockHeld

    try:
        return _command(args.command)(args)
    except ConfigError as e:
        log.error("%s", e)
        return EXIT_USAGE
    except LockHeld as e:
        log.error("%s", e)
        return EXIT_LOCKED
    except CrawlerError as e:
        log.error("%s", e)
        return EXIT_FAILURES
    except KeyboardInterrupt:
        log.error("interrupted; what was archived is kept, the rest is done by the next run")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
