"""`crawler verify [--fix]`: check every post's front matter, and the state index against the files."""
from __future__ import annotations

import logging
from contextlib import nullcontext

from ..archive.index import verify
from ..archive.writer import BACKFILL_LOCK_NAME, ArchiveLock
from ..extract.pool import worker_count
from ..state.store import Store, database_missing
from . import EXIT_FAILURES, EXIT_OK
from .common import settings_from

log = logging.getLogger("crawler")


def run(args) -> int:
    settings = settings_from(args)
    root = settings.archive.dir
    url = settings.state.database_url
    if database_missing(url):
        log.warning("no state database at %s: checking the files only (crawler reindex builds one)",
                    url.removeprefix("sqlite:///"))
        store = None
    else:
        store = Store(url)
    # Repairs write to the index: not while another crawler or a backfill writes to it. Checking needs no lock.
    with ArchiveLock(root) if args.fix else nullcontext(), \
            ArchiveLock(root, BACKFILL_LOCK_NAME) if args.fix else nullcontext():
        try:
            problems = verify(root, store, fix=args.fix, min_near_chars=settings.dedup.min_near_chars,
                              workers=worker_count(settings.extract.workers))
        finally:
            if store is not None:
                store.close()
    for problem in problems:
        print(problem, flush=True)
    left = sum(not p.fixed for p in problems)
    if problems or not args.quiet:  # -q: silent when all is well, so cron mails only trouble
        print(f"crawler verify: {len(problems)} problems, {len(problems) - left} fixed, {left} left", flush=True)
    return EXIT_FAILURES if left else EXIT_OK
