"""Command line: `crawler once | daemon | status | ...`. Imports of the heavy stack happen inside the commands, so
`crawler --help` starts fast.

Exit codes (also in README.md):
  0  every feed was fetched and every new article written or settled
  1  some feeds failed, or an archive file could not be written (details in the log)
  2  usage or configuration error: nothing was fetched
  3  another crawler process holds the archive lock
  130 interrupted (Ctrl-C, or SIGTERM outside the daemon)
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
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

    daemon = sub.add_parser("daemon", parents=[common], help="poll every feed on its own schedule until stopped",
                            description="Poll each enabled feed at its adaptive interval until SIGTERM or SIGINT "
                                        "(graceful stop, exit 0). SIGHUP reloads the configuration.")
    daemon.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="serve Prometheus metrics on /metrics and a health check on /healthz (off by default)")
    daemon.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST",
                        help="address for --metrics-port (default 127.0.0.1)")

    status = sub.add_parser("status", parents=[common], help="table of feeds from state: last success, errors, "
                            "next poll", description="Show each configured feed's state (readable while the "
                            "daemon runs): last success, last error and its count, next poll, articles archived, "
                            "current interval.")
    status.add_argument("--json", action="store_true", help="one JSON object per feed, in a list")

    grep = sub.add_parser("grep", parents=[common], help="list archived articles that name a security",
                          description="List the archived articles whose front matter names a security (title, "
                                      "date, path), newest first: from the state index, else by reading the "
                                      "archive's front matter. Any spelling of a code works: 600519, SH600519, "
                                      "600519.SS, 700.HK, $AAPL; so does a company name from the name table.")
    grep.add_argument("--ticker", required=True, metavar="CODE", help="the security: a code or a company name")
    grep.add_argument("--since", metavar="WHEN", help="only articles published since: a span back from now "
                      "(7d, 12h) or a date (2024-05-01)")
    grep.add_argument("--files", action="store_true", help="read the archive's front matter even when the state "
                      "index is there (for an archive edited by hand)")
    grep.add_argument("--json", action="store_true", help="one JSON object per article, one per line")

    backfill = sub.add_parser(
        "backfill", parents=[common], help="archive the history behind feeds, sitemaps and URL lists; resumable",
        description="Archive what feeds no longer show: their older pages (RFC 5005 links, JSON Feed next_url, or "
                    "the feed's page_url), sitemaps, URL lists. Same dedup and archive as `once`; interrupted, "
                    "the same command continues where it stopped.")
    backfill.add_argument("--all", action="store_true", help="walk back through every enabled feed")
    backfill.add_argument("--feed", action="append", default=[], metavar="NAME",
                          help="walk back through this feed (name or URL); repeatable. With --urls or --sitemap "
                               "URL: the one feed their articles are filed under")
    backfill.add_argument("--pages", type=_positive_int, metavar="N", help="read at most N pages of each feed")
    backfill.add_argument("--since", metavar="WHEN", help="only articles published from WHEN: a date (2024-01-31), "
                          "a date and time, or a duration back from now (30d, 12h)")
    backfill.add_argument("--until", metavar="WHEN", help="only articles published until WHEN (a date: its end)")
    backfill.add_argument("--sitemap", action="append", default=[], metavar="URL",
                          help="read this sitemap or sitemap index (gzip too); 'auto': those listed in the "
                               "robots.txt of each walked feed's site; repeatable")
    backfill.add_argument("--urls", action="append", default=[], metavar="FILE",
                          help="archive the URLs in FILE, one a line ('-': standard input); repeatable")
    backfill.add_argument("--dry-run", action="store_true", help="fetch feed pages and sitemaps but no article: "
                          "list the articles that would be fetched (URL, date, category path; tab-separated)")
    backfill.add_argument("--rate", metavar="N/UNIT", help="at most N requests per UNIT to any one host for this "
                          "run, e.g. 1/s, 30/m, 1/5s")

    extract = sub.add_parser(
        "extract", parents=[common], help="show what the archiver makes of one page (URL or file)",
        description="Run one page through the archiver's extraction (site rules, feed keys, metadata) and print the "
                    "post it would write, or its fields as JSON. Nothing is archived. How to check a site and "
                    "write a site rule.")
    extract.add_argument("target", metavar="URL|FILE", help="page to fetch (http/https) or HTML file to read")
    extract.add_argument("--url", metavar="URL", help="for a FILE: the address it was served from (site rules "
                         "match it; relative links resolve against it)")
    extract.add_argument("--feed", metavar="NAME", help="apply this feed's keys (selectors, encoding, proxy) and "
                         "file the post under its categories")
    extract.add_argument("--json", action="store_true", help="print title, author, published, image, tags, body, "
                         "extracted_from and the rules applied as JSON")

    refresh = sub.add_parser(
        "refresh", parents=[common], help="fetch recent articles again and rewrite the ones that changed",
        description="Fetch the archived articles published since WHEN again; a changed body or title is written "
                    "over the post in place, with `updated` set and `revisions` counted. Unchanged posts are not "
                    "touched.")
    refresh.add_argument("--since", required=True, metavar="WHEN", help="articles published since: a span back "
                         "from now (2d, 12h) or a date (2024-05-01)")
    refresh.add_argument("--feed", action="append", default=[], metavar="NAME",
                         help="only this feed's articles (name or URL); repeatable")

    sub.add_parser("reindex", parents=[common], help="rebuild the state database's article index from the archive",
                   description="Read every post of the archive and rebuild the article index of the state "
                               "database from them alone (URLs, GUIDs, hashes, fingerprints, categories, "
                               "tickers). Feed state and backfill progress are kept. Exit 1 if some files "
                               "could not be indexed (listed).")
    verify = sub.add_parser(
        "verify", parents=[common], help="check every post and the state index against the files",
        description="Check every post's front matter, and the state index against the files; print one line "
                    "per problem. Nothing is changed unless --fix. Exit 1 if problems are left.")
    verify.add_argument("--fix", action="store_true", help="repair what can be repaired without losing anything: "
                        "index files the index lacks, drop rows of deleted files, update rows from their files")
    return parser


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


# Command name → "module:function" run with the parsed arguments, returning the exit code. Imported only
# when the command runs, so `crawler --help` loads none of the crawling stack.
COMMANDS = {
    "once": "crawler.commands.once:run",
    "daemon": "crawler.commands.daemon:run",
    "status": "crawler.commands.status:run",
    "grep": "crawler.commands.grep:run",
    "backfill": "crawler.commands.backfill:run",
    "extract": "crawler.commands.extract:run",
    "refresh": "crawler.commands.refresh:run",
    "reindex": "crawler.commands.reindex:run",
    "verify": "crawler.commands.verify:run",
}


def _command(name: str):
    module, function = COMMANDS[name].split(":")
    return getattr(importlib.import_module(module), function)


def _stop_on_sigterm_as_on_ctrl_c() -> None:
    """SIGTERM (systemd stopping a run that overran, `docker stop`, `timeout`) ends a one-shot command as Ctrl-C
    does: the running work is cancelled, the extraction workers are shut down, the run says it was interrupted
    and exits 130. Its default, death on the spot, lost nothing either (writes are atomic, checkpoints
    committed), but left no word of what happened. Where Ctrl-C is ignored (a background job of a script),
    SIGTERM keeps its default."""

    def on_sigterm(signum: int, frame: object) -> None:
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        signal.raise_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, on_sigterm)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .log import setup_logging

    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    setup_logging(level, args.log_format)
    from .errors import ConfigError, CrawlerError, LockHeld

    if args.command != "daemon":  # the daemon has a graceful stop of its own
        _stop_on_sigterm_as_on_ctrl_c()
    if args.command == "backfill" and not args.dry_run:  # it will extract: load the extraction stack meanwhile
        from .extract.pool import boot_in_background

        boot_in_background()
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
