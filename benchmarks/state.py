"""CPU time of the commit path per new article: dedup checks, path choice, state writes, post files. Prints
numbers.

    .venv/bin/python benchmarks/state.py [--articles 2000] [--batches 1,4,64] [--rounds 3]

Drives the pipeline's own committer (`Pipeline._commit_ready`: the commit lock, `_check` with its key, hash
and near-duplicate lookups, then `Archiver.add_many`: paths chosen and announced, files written in a thread,
rows indexed) with a real SQLite state file (WAL, checkpoints in the store's thread, as `open_pipeline` sets
it up) and a real archive directory, both in a fresh temporary directory per run. No fetching, no
extraction: the articles are built beforehand, each with a generated finance body (tests/support/stories.py:
company stories and market wraps from shared templates, so bodies share fingerprint bands as real ones do),
its content hash, fingerprint, two keys (URL and GUID) and two tickers, spread over four feeds and twelve
months. One article in ten is a lightly edited copy of an earlier story at another URL, which the check finds
and records as an appearance (rewriting that post).

The articles are handed to the committer `--batches` at a time (`COMMIT_BATCH` is the most it takes; in a
backfill on two cores the committer mostly finds one to three articles waiting, since each batch's file
writes let only the articles extracted meanwhile pile up). Measured: `time.process_time()` of the whole
process (the writing thread and the checkpoint thread included) over all articles, printed as CPU ms per
article per round (and, beside it, the event loop's thread alone: `time.thread_time()`, without the file
writes' kernel time), then the medians over the rounds. The machine is shared: compare runs made close together,
alternating the versions compared.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from crawler.config import ArchiveSettings, FeedSpec, Settings, StateSettings  # noqa: E402
from crawler.dedup import guid_key, url_key  # noqa: E402
from crawler.fingerprint import Fingerprint, hash_and_fingerprint  # noqa: E402
from crawler.models import Article, FeedEntry  # noqa: E402
from crawler.pipeline import ArticleJob, FeedRun, Pipeline, ReadyArticle  # noqa: E402
from crawler.state.store import Store  # noqa: E402
from tests.support.stories import company_story, market_wrap, with_source_line  # noqa: E402

CST = timezone(timedelta(hours=8))
FEEDS = [FeedSpec(url=f"https://feeds.example/{n}.xml", name=f"频道{n}", source=f"来源{n % 2}", category="金融")
         for n in range(4)]
TICKERS = ["600519.SH", "300750.SZ", "002594.SZ", "600036.SH", "601318.SH", "00700.HK", "AAPL", "MSFT"]


class Prepared:
    """Everything `ReadyArticle` needs but its future, built before the clock starts."""

    def __init__(self, n: int, body: str, link: str):
        feed = FEEDS[n % len(FEEDS)]
        published = datetime(2023, 1 + n % 12, 1 + n % 28, 8 + n % 12, n % 60, tzinfo=CST)
        guid = f"g{n}"
        entry = FeedEntry(guid=guid, link=link, title=None, published=published, updated=None, author=None,
                          summary_html=None, content_html=None, image=None)
        self.job = ArticleJob(FeedRun(feed), entry, (url_key(link), guid_key(feed.url, guid)))
        self.digest, fingerprint = hash_and_fingerprint(body)
        self.fingerprint: Fingerprint | None = fingerprint
        rng = random.Random(n)
        self.article = Article(
            link=link, title=f"{body[:18]}（第{n}号）", published=published, author="王爱文", source=feed.source,
            image=None, body=body, extracted_from="page", feed_url=feed.url, category_path=feed.category_path,
            guid=guid, urls=(link,), tickers=tuple(sorted(rng.sample(TICKERS, 2))))

    def ready(self, loop: asyncio.AbstractEventLoop) -> ReadyArticle:
        return ReadyArticle(self.job, self.article, self.digest, self.fingerprint, set(self.job.keys), "page",
                            loop.create_future())


def prepare(count: int) -> list[Prepared]:
    prepared = []
    for n in range(count):
        if n % 10 == 9:  # a copy of an earlier story, at another site
            body = with_source_line(company_story(n - 9))
        else:
            body = market_wrap(n) if n % 5 == 4 else company_story(n)
        prepared.append(Prepared(n, body, f"https://site{n % 3}.example/news/{n}.html"))
    return prepared


async def commit_all(pipeline: Pipeline, prepared: list[Prepared], batch: int) -> None:
    loop = asyncio.get_running_loop()
    for start in range(0, len(prepared), batch):
        ready = [p.ready(loop) for p in prepared[start:start + batch]]
        pipeline._ready.extend(ready)
        await pipeline._commit_ready()
        for r in ready:
            r.outcome.result()  # a failure is a broken benchmark


def measure(prepared: list[Prepared], batch: int) -> tuple[float, float]:
    """CPU ms per article of committing `prepared`, `batch` at a time, into a new archive and state: of the
    process, and of its event loop's thread alone."""
    with tempfile.TemporaryDirectory(prefix="bench-state-") as work:
        settings = Settings(archive=ArchiveSettings(dir=Path(work) / "archive"),
                            state=StateSettings(url=f"sqlite:///{work}/state.sqlite3"))
        store = Store(settings.state.database_url)
        try:
            store.checkpoint_in_background()
            pipeline = Pipeline(settings, store, fetcher=None, pool=None)  # type: ignore[arg-type]
            try:
                started, loop_started = time.process_time(), time.thread_time()
                asyncio.run(commit_all(pipeline, prepared, batch))
                cpu, loop_cpu = time.process_time() - started, time.thread_time() - loop_started
            finally:
                pipeline.archiver.close()
            archived, duplicates = pipeline.stats.archived, pipeline.stats.duplicates
        finally:
            store.close()
    expected_duplicates = len(prepared) // 10
    if duplicates != expected_duplicates or archived != len(prepared) - expected_duplicates:
        raise SystemExit(f"unexpected outcome: {archived} archived, {duplicates} duplicates")
    return 1000 * cpu / len(prepared), 1000 * loop_cpu / len(prepared)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--batches", default="1,4,64", help="articles handed to the committer at a time")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    logging.getLogger("crawler").setLevel(logging.WARNING)
    prepared = prepare(options.articles)
    for batch in (int(b) for b in options.batches.split(",")):
        figures = []
        for _ in range(options.rounds):
            figures.append(measure(prepared, batch))
            print(f"batch {batch:3d}: {figures[-1][0]:.3f} CPU ms per article (event loop {figures[-1][1]:.3f})",
                  flush=True)
        print(f"batch {batch:3d}: median {statistics.median(f[0] for f in figures):.3f} CPU ms per article "
              f"(event loop {statistics.median(f[1] for f in figures):.3f}; {options.articles} articles, "
              f"{options.rounds} rounds)", flush=True)


if __name__ == "__main__":
    main()
