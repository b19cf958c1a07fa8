import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.enrich import load_companies
from crawler.errors import ExtractionError, FeedError
from crawler.extract.article import extract_feed_content, extract_page
from crawler.extract.pool import ExtractionPool
from crawler.feeds import parse_feed
from crawler.models import ExtractRules
from tests.support.loop import LoopStalls

PAGES = Path(__file__).parent / "fixtures" / "pages"
ROOT = Path(__file__).parent.parent
URL = "http://www.example.cn/a/20200831/42.html"


@pytest.fixture(scope="module")
def pool():
    with ExtractionPool(workers=2) as extraction_pool:
        yield extraction_pool


async def test_results_equal_the_in_process_functions(pool: ExtractionPool) -> None:
    for name in ("portal_utf8.html", "column_gbk.html", "wire_en.html"):
        body = (PAGES / name).read_bytes()
        assert await pool.extract_page(body, "text/html", URL, ExtractRules()) == extract_page(body, "text/html", URL)
    html = "<p>沪指午间收涨0.5%。</p><p>责任编辑：张晓明</p>"
    assert await pool.extract_feed_content(html, URL) == extract_feed_content(html, URL)


async def test_one_call_extracts_and_analyses_the_title_it_will_be_archived_under(pool: ExtractionPool) -> None:
    body = (PAGES / "portal_utf8.html").read_bytes()
    table = load_companies()
    alone = extract_page(body, "text/html", URL)
    for feed_title, expected_title in (("贵州茅台：业绩超预期", "贵州茅台：业绩超预期"), (None, alone.title),
                                       ("\u202e\x07", alone.title)):
        extracted, analysis = await pool.extract_and_analyse(body, "text/html", URL, ExtractRules(), now=None,
                                                             feed_title=feed_title, table=table, min_near_chars=200)
        assert extracted == alone
        assert analysis == await pool.analyse(expected_title, alone.body, table, 200, URL)
    assert analysis.title == alone.title and analysis.fingerprint is not None


async def test_extraction_errors_cross_the_process_boundary(pool: ExtractionPool) -> None:
    with pytest.raises(ExtractionError) as refused:
        await pool.extract_page(b"%PDF-1.4", "application/pdf", URL, ExtractRules())
    assert refused.value.url == URL and refused.value.reason == "not an HTML page (application/pdf)"


async def test_a_dead_worker_fails_only_its_call_and_is_replaced() -> None:
    body = (PAGES / "column_gbk.html").read_bytes()
    with ExtractionPool(workers=1) as pool:
        crash, *queued = await asyncio.gather(
            pool._run(URL, ExtractionError, os._exit, 1),
            *(pool.extract_page(body, "text/html", URL, ExtractRules()) for _ in range(3)),
            return_exceptions=True,
        )
    assert isinstance(crash, ExtractionError) and crash.reason.startswith("the worker process died")
    assert [extracted.author for extracted in queued] == ["王爱文"] * 3


async def test_feeds_are_parsed_in_the_pool_too(pool: ExtractionPool) -> None:
    rss = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>滚动</title>'
           "<item><title>沪指午间收涨0.5%</title><link>https://news.example.cn/a/1.html</link>"
           "<pubDate>Mon, 31 Aug 2020 11:30:02 +0800</pubDate></item></channel></rss>").encode()
    assert await pool.parse_feed(rss, "https://news.example.cn/rss.xml", "application/rss+xml") == \
        parse_feed(rss, "https://news.example.cn/rss.xml", "application/rss+xml")
    with pytest.raises(FeedError) as refused:
        await pool.parse_feed(b"", "https://news.example.cn/rss.xml")
    assert refused.value.url == "https://news.example.cn/rss.xml"


def test_importing_the_pool_does_not_import_trafilatura() -> None:
    probe = ("import sys, crawler.extract.pool; "
             "print(sorted(m for m in sys.modules if m.startswith(('trafilatura', 'lxml', 'feedparser'))))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_event_loop_runs_on_while_the_first_workers_start() -> None:
    # A fresh process: its forkserver imports trafilatura and jieba before the first worker exists. The first
    # call waits for that; the event loop must not (it has downloads to run meanwhile).
    probe = """
import asyncio, time
from crawler.extract.pool import ExtractionPool
from tests.support.loop import LoopStalls

async def main():
    async with LoopStalls(0.01) as stalls:
        await asyncio.sleep(0.05)  # ticking
        with ExtractionPool(workers=2) as pool:
            started = time.perf_counter()
            await pool.extract_feed_content("<p>沪指午间收涨0.5%。</p>", "http://example.cn/")
            first_call = time.perf_counter() - started
    print(first_call, stalls.longest)

asyncio.run(main())
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    first_call, longest_gap = map(float, result.stdout.split())
    assert first_call > 0.2, "the workers started too fast for this test to tell anything"
    assert longest_gap < 0.1 + first_call / 4, f"the loop stood still {longest_gap:.2f} s of {first_call:.2f} s"


async def test_a_worker_killed_with_a_call_queued_behind_its_running_one() -> None:
    # A worker holds the call it runs and the next one, waiting in its pipe: the running one dies with the
    # worker, the one behind it never started and runs on the replacement.
    body = (PAGES / "column_gbk.html").read_bytes()
    with ExtractionPool(workers=1) as pool:
        pid = await pool._run(URL, ExtractionError, os.getpid)
        running = asyncio.ensure_future(pool._run(URL, ExtractionError, time.sleep, 30))
        queued = asyncio.ensure_future(pool.extract_page(body, "text/html", URL, ExtractRules()))
        await asyncio.sleep(0.2)
        [worker] = pool._workers
        assert len(worker.unanswered) == 2, "both calls are in the worker"
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(ExtractionError) as died:
            await running
        assert died.value.reason.startswith("the worker process died (killed by signal 9")
        assert (await queued).author == "王爱文"
        assert await pool._run(URL, ExtractionError, os.getpid) != pid


async def test_calls_and_results_of_megabytes_cross_without_holding_the_loop() -> None:
    # Three 6 MB calls for one worker, each answered with 6 MB: the parent writes the second while the worker
    # writes the first's result, the pipes holding 1 MB at most.
    payload = os.urandom(6 << 20)
    with ExtractionPool(workers=1) as pool:
        await pool._run(URL, ExtractionError, os.getpid)  # started
        async with LoopStalls(0.005) as stalls:
            answers = await asyncio.gather(*(pool._run(URL, ExtractionError, bytes, payload) for _ in range(3)))
    assert all(answer == payload for answer in answers)
    assert stalls.longest < 0.5, f"the loop stood still {stalls.longest:.2f} s"


def shipped_names_loaded() -> bool:
    """In a worker: whether the segmenter came from the forkserver with the shipped table's names in it."""
    from crawler.enrich import names

    return names._SEGMENTER is not None and load_companies()._cjk_names in names._SEGMENTER._tables


async def test_workers_start_with_the_shipped_company_names_in_the_dictionary(pool: ExtractionPool) -> None:
    assert await pool._run(URL, ExtractionError, shipped_names_loaded) is True


def test_the_forkserver_boots_in_the_background_before_any_worker_is_asked_for() -> None:
    """`crawler backfill` starts loading the extraction stack while it opens its configuration and state."""
    script = ("import multiprocessing.forkserver as f, time\n"
              "from crawler.extract.pool import boot_in_background\n"
              "boot_in_background()\n"
              "deadline = time.monotonic() + 60\n"
              "while f._forkserver._forkserver_pid is None and time.monotonic() < deadline:\n"
              "    time.sleep(0.05)\n"
              "pid = f._forkserver._forkserver_pid\n"
              "print(pid is not None and open(f'/proc/{pid}/cmdline').read().count('forkserver') > 0)\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "True", out.stderr
