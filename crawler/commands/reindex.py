"""`crawler reindex`: rebuild the state database's article index from the archive's files alone."""
from __future__ import annotations

import logging

from ..archive.index import reindex
from ..archive.writer import BACKFILL_LOCK_NAME, ArchiveLock
from ..extract.pool import worker_count
from ..state.store import Store
from . import EXIT_FAILURES, EXIT_OK
from .common import settings_from

log = logging.getLogger("crawler")


def run(args) -> int:
    settings = settings_from(args)
    root = settings.archive.dir
    with ArchiveLock(root), ArchiveLock(root, BACKFILL_LOCK_NAME):
        store = Store(settings.state.database_url)
        try:
            report = reindex(root, store, min_near_chars=settings.dedup.min_near_chars,
                             workers=worker_count(settings.extract.workers),
                             progress=lambda n: n % 1000 == 0 and log.info("%d posts indexed", n))
        finally:
            store.close()
    for problem in report.problems:
        log.error("%s", problem)
    print(f"crawler reindex: {report.indexed} posts indexed from {root}"
          + (f", {len(report.problems)} left out (see above)" if report.problems else ""), flush=True)
    return EXIT_FAILURES if report.problems else EXIT_OK
