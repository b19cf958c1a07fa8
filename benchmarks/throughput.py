"""Throughput of `crawler backfill` next to the extraction-bound limit; memory; idle polls. Prints numbers.

    .venv/bin/python benchmarks/throughput.py [--pages 4000] [--trafilatura-cli]
    .venv/bin/python benchmarks/throughput.py --memory [--sizes 2000,8000]
    .venv/bin/python benchmarks/throughput.py --idle [--feeds 500]

Everything runs on this machine: the benchmark serves generated news pages (`newspages.py`: Chinese and
English, 20-80 kB with navigation, sidebars, scripts and footers) from four local sites (127.0.0.1, one port
each, keep-alive HTTP/1.1 served by an event loop in a thread of this process, as lean as a static file
server), writes a configuration (`network.allow_private: true`, every other setting at its default) and a URL
list, and runs `crawler backfill --urls FILE -c CONFIG` as a child process. The server shares the cores with the crawler, as do fetching, parsing and writing.

Default mode prints, for N pages:
- pages/s and wall seconds of the backfill (start-up included);
- CPU seconds of the crawler and every process it started: the sum over its process tree of each process's
  utime+stime, sampled from /proc every 0.1 s (rusage of children misses the extraction workers, which the
  forkserver, not the crawler, reaps);
- peak resident memory of the crawler's process tree (crawler, forkserver, extraction workers), sampled from
  /proc: the largest sum of VmRSS (pages shared between processes counted in each: an upper bound), the
  largest sum of PSS (shared pages divided among the processes sharing them: what the tree occupies; every
  0.5 s), and the largest single process (VmHWM);
- the extraction-bound limit, measured in the same run, once before the backfill and once after it: the median
  CPU time (one process, `time.process_time`) of `crawler.extract.article.extract_page` on a sample of the same
  pages, with the settings the archiver uses (the site rules resolved for the URL, the page's content type, the
  fetch time as `now`); limit = cores ÷ the mean of the two medians, in pages/s (a shared host's speed drifts by
  10-30 % within minutes: one measurement taken in a fast or slow minute would decide the ratio alone); and the
  ratio achieved / limit; beside it the median CPU time of the analysis every article then gets in its worker
  (content hash, near-duplicate fingerprint, securities with the shipped company table), and the ratio that
  extraction and analysis alone would allow;
- beside the limit, what the cores give when every one of them extracts: as many processes as cores extracting
  the same sample at once, with nothing else running (pages/s, and its share of what the median measured just
  before gives): the single-process median does not see what the cores share (caches, memory bandwidth, a
  hypervisor's scheduling); the backfill's pages/s is also given as a share of this rate;
- the extraction quality of the archive: mean body F1 against the generated text (bag of tokens, each CJK
  character a token, as in benchmarks/extraction.py), and the number of pages archived.

`--trafilatura-cli` also runs `trafilatura -i urls.txt --parallel 2 --markdown --with-metadata --images` on the
same URL list, with a settings file that sets its per-domain SLEEP_TIME to 0 and SSRF_PROTECTION off (else it
refuses 127.0.0.1) and `-o DIR` to keep each page's output; it prints its pages/s, CPU and body F1 (its
front matter and the `# title` line it repeats are not counted against it).

`--memory` runs backfills of each size in `--sizes` (fresh archive and state each) and prints the peak memory of
each (RSS sum, PSS sum, largest process) and the change from the first size to the last.

`--idle` configures `--feeds` feeds over the four sites (each 2 entries); a first `crawler once` archives them
and keeps their validators; then every feed answers 304 Not Modified and `crawler once` runs `--repeat` times
over all feeds and as often over one feed: CPU per feed beyond start-up = (CPU(all) - CPU(one)) / (feeds - 1),
medians of the repeats.

Numbers from a shared machine: compare the lines of one run with each other. Linux only (/proc).
"""
from __future__ import annotations

import argparse
import asyncio
import configparser
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime, formatdate
from html import escape
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))

from newspages import Page, page  # noqa: E402

SITES = 4
VENV_BIN = Path(sys.executable).parent


# --- the local sites --------------------------------------------------------------------------------------


class _Site:
    """One local web site on 127.0.0.1, answering GET from a dict of routes with keep-alive HTTP/1.1, as a
    static file server does: the head parsed only as far as the path and If-None-Match, each answer written in
    one piece. (A threaded `http.server` spent about a millisecond of CPU per request parsing headers with
    the email package, some 3 % of the cores beside the crawler; a static site's server costs next to
    nothing, and what the benchmark measures is the crawler.)"""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.requests = 0
        self.not_modified = 0
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, head: bytes) -> tuple[bytes, bool]:
        """The response to a request head, and whether the client asked to close the connection."""
        lines = head.decode("latin-1").split("\r\n")
        target = lines[0].split(" ")[1] if lines[0].count(" ") >= 2 else ""
        fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        self.requests += 1
        route = self.routes.get(target.split("?", 1)[0])
        if route is None:
            status, body, headers = "404 Not Found", b"not found\n", {"Content-Type": "text/plain"}
        else:
            body, headers = route
            status = "200 OK"
            etag = headers.get("ETag")
            if etag and fields.get("if-none-match") == etag:
                self.not_modified += 1
                status, body = "304 Not Modified", b""
        head_lines = [f"HTTP/1.1 {status}", f"Date: {formatdate(usegmt=True)}",
                      *(f"{k}: {v}" for k, v in headers.items())]
        if not status.startswith("304"):
            head_lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(head_lines) + "\r\n\r\n").encode("latin-1") + body, \
            fields.get("connection", "").lower() == "close"


class _Connection(asyncio.Protocol):
    def __init__(self, site: _Site) -> None:
        self.site = site
        self.pending = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.pending += data
        while (end := self.pending.find(b"\r\n\r\n")) >= 0:
            head, self.pending = self.pending[:end], self.pending[end + 4:]
            response, close = self.site.answer(head)
            assert self.transport is not None
            self.transport.write(response)
            if close:
                self.transport.close()
                return


class Sites:
    """SITES local sites, served by one event loop in a thread of this process; page n is on site n % SITES.
    (tests/support/server.py's LocalServer writes a response's head and body separately, which costs a
    delayed-ACK wait of some 40 ms per request: fine for tests, a bottleneck here.)"""

    def __init__(self) -> None:
        self.servers = [_Site() for _ in range(SITES)]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="local-sites", daemon=True)
        self._listening: list[asyncio.base_events.Server] = []

    def __enter__(self) -> Sites:
        self._thread.start()
        for site in self.servers:
            site.routes["/robots.txt"] = (b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})
            server = asyncio.run_coroutine_threadsafe(
                self._loop.create_server(lambda site=site: _Connection(site), "127.0.0.1", 0), self._loop).result()
            site.port = server.sockets[0].getsockname()[1]
            self._listening.append(server)
        return self

    def __exit__(self, *exc) -> None:
        for server in self._listening:
            self._loop.call_soon_threadsafe(server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def base(self, n: int) -> str:
        return self.servers[n % SITES].url("")

    def serve_pages(self, first: int, count: int) -> list[Page]:
        pages = []
        for n in range(first, first + count):
            generated = page(n, self.base(n))
            self.servers[n % SITES].routes[generated.path] = (generated.html,
                                                              {"Content-Type": "text/html; charset=utf-8"})
            pages.append(generated)
        return pages

    def url(self, p: Page) -> str:
        return self.base(p.n) + p.path


def write_config(work: Path, extra: str = "") -> Path:
    config = work / "config.yaml"
    config.write_text(f"""archive: {{dir: "{work / 'archive'}"}}
state: {{url: "sqlite:///{work / 'state.sqlite3'}"}}
network: {{allow_private: true}}
{extra}""", encoding="utf-8")
    return config


# --- measuring a process tree -----------------------------------------------------------------------------


_CLOCK = os.sysconf("SC_CLK_TCK")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _tree(root: int) -> list[int]:
    children = _children_map()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _status(pid: int) -> dict[str, int]:
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
        for line in status:
            if line.startswith(("VmRSS", "VmHWM")):
                values[line.split(":")[0]] = int(line.split()[1])
    return values


def _pss_kb(pid: int) -> int:
    """Proportional set size: each page shared by n processes counted 1/n in each (forked workers share much)."""
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK  # utime, stime


@dataclass
class Measured:
    wall: float = 0.0
    cpu: float = 0.0
    """The larger of getrusage(RUSAGE_CHILDREN) (every reaped descendant) and `cpu_sampled`."""
    cpu_sampled: float = 0.0
    """Sum over the processes seen in the tree, each at its last sample."""
    peak_tree_kb: int = 0
    """Largest sum of VmRSS over the tree (pages shared between processes counted in each)."""
    peak_tree_pss_kb: int = 0
    """Largest sum of PSS over the tree (shared pages divided among their processes): what the tree occupies."""
    peak_process_kb: int = 0
    processes: int = 0
    benchmark_cpu: float = 0.0
    """CPU seconds this benchmark process used meanwhile: the local sites' server threads and the sampling."""
    others: float = 0.0
    """CPU seconds the rest of the machine (not this benchmark, not the command) used meanwhile: noise."""
    cpu_root: float = 0.0
    """CPU seconds of the command's own process (the crawler's event loop), the rest being its workers'."""
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    _cpu_by_pid: dict = field(default_factory=dict)


def run_measured(command: list[str], cwd: Path | None = None, interval: float = 0.1) -> Measured:
    """Run `command`, sampling its process tree's memory and CPU from /proc until it exits."""
    result = Measured()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_before, self_before = _machine_busy(), time.process_time()
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, cwd=cwd or PROJECT_ROOT, stdout=out, stderr=err,
                                   env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)})
        peaks: dict[int, int] = {}
        samples = 0
        tree: list[int] = []
        while process.poll() is None:
            tree_kb = tree_pss_kb = 0
            if samples % 10 == 0:  # finding the tree reads every process's stat: once a second is enough
                tree = _tree(process.pid)
            for pid in tree:
                try:
                    status = _status(pid)
                    result._cpu_by_pid[pid] = _cpu_seconds(pid)
                    if samples % 5 == 0:  # smaps_rollup costs the kernel a walk of the page tables
                        tree_pss_kb += _pss_kb(pid)
                except (OSError, ValueError, IndexError):
                    continue
                tree_kb += status.get("VmRSS", 0)
                peaks[pid] = max(peaks.get(pid, 0), status.get("VmHWM", 0))
            result.peak_tree_kb = max(result.peak_tree_kb, tree_kb)
            result.peak_tree_pss_kb = max(result.peak_tree_pss_kb, tree_pss_kb)
            samples += 1
            time.sleep(interval)
        result.returncode = process.wait()
        result.wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        result.stdout, result.stderr = out.read(), err.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_busy = _machine_busy() - machine_before
    result.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result.cpu_sampled = sum(result._cpu_by_pid.values())
    result.cpu_root = result._cpu_by_pid.get(process.pid, 0.0)
    # Descendants that their own parent never reaped (a forkserver's workers) escape rusage: take the larger.
    result.cpu = max(result.cpu, result.cpu_sampled)
    result.benchmark_cpu = time.process_time() - self_before
    result.others = max(0.0, machine_busy - result.cpu - result.benchmark_cpu)
    result.peak_process_kb = max(peaks.values(), default=0)
    result.processes = len(peaks)
    return result


def _machine_busy() -> float:
    """CPU seconds all processors have spent busy since boot (/proc/stat: everything but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _CLOCK


def crawler_command(*args: str) -> list[str]:
    executable = VENV_BIN / "crawler"
    return [str(executable), *args] if executable.exists() else [sys.executable, "-m", "crawler", *args]


# --- extraction-bound limit and quality --------------------------------------------------------------------


def extraction_sample(pages: list[Page], sample: int) -> list[Page]:
    """The pages the limit is measured on: the same ones in every measurement of a run."""
    return random.Random(0).sample(pages, min(sample, len(pages)))


def extraction_median(sites: Sites, pages: list[Page], sample: int) -> tuple[float, float, float, float]:
    """Median CPU seconds per page in one process of the archiver's extraction (all, zh, en), and of the
    analysis the pipeline then makes of every article (content hash, fingerprint, securities: the same worker
    call, with the shipped company table). Measured in a new process each time, so that a second measurement
    of the same sample does not find trafilatura's caches warm from the first."""
    import multiprocessing

    work = [(p.html, sites.url(p), p.lang) for p in extraction_sample(pages, sample)]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_extraction_medians, (work,))


def _extraction_medians(work: list[tuple[bytes, str, str]]) -> tuple[float, float, float, float]:
    from crawler.enrich import load_companies
    from crawler.extract.article import extract_page
    from crawler.extract.pool import _analyse
    from crawler.extract.rules import configured_site_rules
    from crawler.fingerprint import MIN_NEAR_CHARS

    rules = configured_site_rules(())
    table = load_companies()
    now = datetime.now(timezone.utc)
    warm = extract_page(work[0][0], "text/html; charset=utf-8", work[0][1])  # imports, caches
    _analyse(warm.title, warm.body, table, MIN_NEAR_CHARS)  # jieba's dictionary
    times: dict[str, list[float]] = {"zh": [], "en": []}
    analysis: list[float] = []
    for html, url, lang in work:
        started = time.process_time()
        extracted = extract_page(html, "text/html; charset=utf-8", url, rules.resolve(url).rules, now=now)
        times[lang].append(time.process_time() - started)
        started = time.process_time()
        _analyse(extracted.title, extracted.body, table, MIN_NEAR_CHARS)
        analysis.append(time.process_time() - started)
    everything = times["zh"] + times["en"]
    return (statistics.median(everything), statistics.median(times["zh"]), statistics.median(times["en"]),
            statistics.median(analysis))


def _extract_all(task: tuple[list[tuple[bytes, str]], object]) -> tuple[float, float, float]:
    """In a process of its own: extract every (page, url) once everyone is ready; (CPU, start, end)."""
    from crawler.extract.article import extract_page
    from crawler.extract.rules import configured_site_rules

    work, ready = task
    rules = configured_site_rules(())
    now = datetime.now(timezone.utc)
    extract_page(work[0][0], "text/html; charset=utf-8", work[0][1])  # imports, caches
    ready.wait()  # type: ignore[attr-defined]
    started, cpu = time.perf_counter(), time.process_time()
    for html, url in work:
        extract_page(html, "text/html; charset=utf-8", url, rules.resolve(url).rules, now=now)
    return time.process_time() - cpu, started, time.perf_counter()


def parallel_extraction(sites: Sites, pages: list[Page], sample: int, cores: int) -> tuple[float, float]:
    """Pages/s, and mean CPU seconds per page, of `cores` processes doing nothing but extraction at once, each
    on the same sample: what the cores give when all of them extract (caches, memory bandwidth and the
    hypervisor's scheduling are shared), which the single-process limit does not see."""
    import multiprocessing

    chosen = extraction_sample(pages, sample)
    work = [(p.html, sites.url(p)) for p in chosen]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        ready = manager.Barrier(cores)
        with context.Pool(cores) as pool:
            results = pool.map(_extract_all, [(work, ready)] * cores)
    wall = max(end for _, _, end in results) - min(start for _, start, _ in results)
    return cores * len(work) / wall, sum(cpu for cpu, _, _ in results) / (cores * len(work))


def archive_quality(archive: Path, truth: dict[str, Page]) -> tuple[int, float, int]:
    """(posts, mean body F1 over the pages, pages without a post)."""
    from extraction import body_f1

    scores: dict[str, float] = {}
    for post in archive.rglob("*.md"):
        text = post.read_text(encoding="utf-8")
        front, _, body = text.partition("\n---\n")
        link = re.search(r"^link: '?([^'\n]+)'?$", front, re.MULTILINE)
        if link and link.group(1) in truth:
            scores[link.group(1)] = body_f1(body, truth[link.group(1)].body)
    missing = len(truth) - len(scores)
    return len(scores), sum(scores.values()) / len(truth) if truth else 0.0, missing


def trafilatura_quality(outdir: Path, truth: dict[str, Page]) -> tuple[int, float, int]:
    from extraction import body_f1

    scores: dict[str, float] = {}
    for output in (path for path in outdir.rglob("*") if path.is_file()):
        text = output.read_text(encoding="utf-8")
        if not text.startswith("---\n"):
            continue
        front, _, body = text[4:].partition("\n---\n")
        link = re.search(r"^url: (\S+)$", front, re.MULTILINE)
        if not link or link.group(1) not in truth:
            continue
        p = truth[link.group(1)]
        lines = body.strip().splitlines()
        if lines and lines[0].lstrip("# ").strip() == p.title:
            lines = lines[1:]
        scores[link.group(1)] = body_f1("\n".join(lines), p.body)
    return len(scores), sum(scores.values()) / len(truth) if truth else 0.0, len(truth) - len(scores)


# --- modes ------------------------------------------------------------------------------------------------


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return f"{os.cpu_count()} cores ({model}), {total_kb / 1024 ** 2:.1f} GiB RAM, Python {sys.version.split()[0]}"


def backfill(sites: Sites, pages: list[Page], work: Path) -> Measured:
    work.mkdir(parents=True, exist_ok=True)
    urls = work / "urls.txt"
    urls.write_text("".join(sites.url(p) + "\n" for p in pages), encoding="utf-8")
    config = write_config(work)
    return run_measured(crawler_command("backfill", "-q", "--urls", str(urls), "-c", str(config)))


def throughput(options: argparse.Namespace) -> None:
    cores = os.cpu_count() or 1
    print(f"machine: {machine()}")
    with Sites() as sites, tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        pages = sites.serve_pages(0, options.pages)
        sizes = sorted(len(p.html) for p in pages)
        print(f"site: {len(pages)} pages on {SITES} local sites, half Chinese, half English; size median "
              f"{sizes[len(sizes) // 2] / 1000:.0f} kB, {sizes[0] / 1000:.0f}-{sizes[-1] / 1000:.0f} kB")
        before = extraction_median(sites, pages, options.sample)
        median, median_zh, median_en, analysis = before
        sample = min(options.sample, len(pages))
        print(f"extraction (one process, {sample} pages), before the backfill: median {median * 1000:.1f} ms CPU per "
              f"page (zh {median_zh * 1000:.1f}, en {median_en * 1000:.1f}) -> {cores / median:.1f} pages/s on "
              f"{cores} cores")
        print(f"  then the analysis of each article (hash, fingerprint, securities): median {analysis * 1000:.1f} ms; "
              f"with a crawler process costing nothing and every core busy the ratio could reach "
              f"{median / (median + analysis):.0%}")
        both_rate, both_cpu = parallel_extraction(sites, pages, options.sample, cores)
        print(f"  {cores} processes extracting the sample at once, nothing else running: {both_rate:.1f} pages/s = "
              f"{both_rate * median / cores:.0%} of that ({both_cpu * 1000:.1f} ms CPU per page each, mean)")
        truth = {sites.url(p): p for p in pages}
        work = Path(tmp, "crawler")
        run = backfill(sites, pages, work)
        if run.returncode != 0:
            print(f"crawler backfill exited {run.returncode}:\n{run.stderr[-3000:]}")
        after = extraction_median(sites, pages, options.sample)[0]
        # The machine's speed drifts (10-30 % within minutes on shared hosts): the limit is taken from the
        # median measured on each side of the backfill, so that a fast or slow minute before it does not decide
        # the ratio alone.
        median = (before[0] + after) / 2
        limit = cores / median
        print(f"extraction again, after the backfill: median {after * 1000:.1f} ms -> limit {cores} cores / "
              f"{median * 1000:.1f} ms (mean of both) = {limit:.1f} pages/s ({len(pages) / limit:.1f} s for "
              f"{len(pages)} pages)")
        rate = len(pages) / run.wall
        posts, f1, missing = archive_quality(work / "archive", truth)
        print(f"crawler backfill: {len(pages)} pages in {run.wall:.1f} s = {rate:.1f} pages/s; "
              f"{rate / limit:.0%} of the extraction-bound limit ({rate / both_rate:.0%} of what {cores} processes "
              f"doing nothing but extraction reached)")
        print(f"  CPU {run.cpu:.1f} s (crawler and its processes) = "
              f"{run.cpu / len(pages) * 1000:.1f} ms per page, {run.cpu / run.wall / cores:.0%} of {cores} cores; "
              f"main process {run.cpu_root / len(pages) * 1000:.1f} ms per page, other processes "
              f"{(run.cpu - run.cpu_root) / len(pages) * 1000:.1f} ms per page")
        print(f"  local sites and sampling (this process): CPU {run.benchmark_cpu:.1f} s = "
              f"{run.benchmark_cpu / len(pages) * 1000:.1f} ms per page, {run.benchmark_cpu / run.wall / cores:.0%} "
              f"of {cores} cores")
        if run.others > 0.05 * run.wall * cores:
            print(f"  NOTE: other processes on this machine used {run.others:.1f} CPU seconds meanwhile "
                  f"({run.others / run.wall / cores:.0%} of it): the figures are pessimistic")
        print(f"  peak memory of the process tree ({run.processes} processes): RSS sum {run.peak_tree_kb / 1024:.0f} MB, "
              f"PSS sum {run.peak_tree_pss_kb / 1024:.0f} MB; largest process {run.peak_process_kb / 1024:.0f} MB")
        print(f"  archive: {posts} of {len(pages)} pages, body F1 {f1:.3f}" + (f", {missing} missing" if missing else ""))
        print(f"  summary line: {run.stdout.strip().splitlines()[-1] if run.stdout.strip() else '(none)'}")
        if options.trafilatura_cli:
            traf = trafilatura_cli(sites, pages, Path(tmp, "trafilatura"))
            traf_rate = len(pages) / traf.wall
            posts, traf_f1, missing = trafilatura_quality(Path(tmp, "trafilatura", "out"), truth)
            print(f"trafilatura CLI (--parallel 2 --markdown --with-metadata --images): {traf.wall:.1f} s = "
                  f"{traf_rate:.1f} pages/s; CPU {traf.cpu:.1f} s ({traf.cpu / traf.wall:.0%} of one core); "
                  f"peak RSS {traf.peak_tree_kb / 1024:.0f} MB")
            print(f"  output: {posts} of {len(pages)} pages, body F1 {traf_f1:.3f}"
                  + (f", {missing} missing" if missing else ""))
            print(f"crawler / trafilatura CLI: {rate / traf_rate:.2f}x pages/s; body F1 {f1:.3f} vs {traf_f1:.3f}")


def trafilatura_cli(sites: Sites, pages: list[Page], work: Path) -> Measured:
    import trafilatura.settings

    work.mkdir(parents=True)
    settings = configparser.ConfigParser()
    settings.read(Path(trafilatura.settings.__file__).with_name("settings.cfg"), encoding="utf-8")
    settings["DEFAULT"]["SLEEP_TIME"] = "0"
    settings["DEFAULT"]["SSRF_PROTECTION"] = "off"
    config = work / "settings.cfg"
    with config.open("w", encoding="utf-8") as handle:
        settings.write(handle)
    urls = work / "urls.txt"
    urls.write_text("".join(sites.url(p) + "\n" for p in pages), encoding="utf-8")
    executable = VENV_BIN / "trafilatura"
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "trafilatura.cli"]
    return run_measured(command + ["-i", str(urls), "--parallel", "2", "--markdown", "--with-metadata", "--images",
                                   "--config-file", str(config), "-o", str(work / "out")])


def memory(options: argparse.Namespace) -> None:
    sizes = [int(n) for n in options.sizes.split(",") if n]
    print(f"machine: {machine()}")
    print(f"{'pages':>6} {'wall s':>7} {'pages/s':>8} {'RSS sum MB':>11} {'PSS sum MB':>11} {'largest MB':>11} "
          f"{'archived':>9}")
    peaks = []
    with Sites() as sites, tempfile.TemporaryDirectory(prefix="throughput-memory-") as tmp:
        served = 0
        pages: list[Page] = []
        for number, size in enumerate(sizes):
            if size > served:
                pages += sites.serve_pages(served, size - served)
                served = size
            work = Path(tmp, f"run-{number}")
            run = backfill(sites, pages[:size], work)
            archived = sum(1 for _ in (work / "archive").rglob("*.md"))
            peaks.append((run.peak_tree_kb, run.peak_tree_pss_kb))
            print(f"{size:>6} {run.wall:>7.1f} {size / run.wall:>8.1f} {run.peak_tree_kb / 1024:>11.0f} "
                  f"{run.peak_tree_pss_kb / 1024:>11.0f} {run.peak_process_kb / 1024:>11.0f} {archived:>9}", flush=True)
            shutil.rmtree(work / "archive", ignore_errors=True)
    if len(peaks) > 1:
        for label, index in (("RSS sum", 0), ("PSS sum", 1)):
            first, last = peaks[0][index], peaks[-1][index]
            print(f"{label}: {sizes[-1]} pages vs {sizes[0]}: {last / first - 1:+.1%} "
                  f"({first / 1024:.0f} MB -> {last / 1024:.0f} MB)")


def _feed(title: str, items: list[tuple[str, str, datetime]]) -> bytes:
    entries = "".join(f"<item><title>{escape(t)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
                      f"<pubDate>{format_datetime(when)}</pubDate></item>" for t, link, when in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>http://example.com/</link><description>d</description>{entries}</channel></rss>").encode()


def idle(options: argparse.Namespace) -> None:
    feeds = options.feeds
    print(f"machine: {machine()}")
    with Sites() as sites, tempfile.TemporaryDirectory(prefix="throughput-idle-") as tmp:
        pages = sites.serve_pages(0, 2 * feeds)
        lines = []
        for i in range(feeds):
            server = sites.servers[i % SITES]
            items = [(p.title, sites.url(p), p.published) for p in pages[2 * i:2 * i + 2]]
            path = f"/feeds/{i}.xml"
            server.routes[path] = (_feed(f"Feed {i}", items), {
                "Content-Type": "application/rss+xml", "ETag": f'"feed-{i}-v1"',
                "Last-Modified": "Wed, 01 May 2024 08:00:00 GMT"})
            lines.append(f'  - {{url: "{server.url(path)}", name: "Feed {i}", source: "Bench", category: "Finance"}}')
        work = Path(tmp)
        config = write_config(work, "feeds:\n" + "\n".join(lines) + "\n")
        first = run_measured(crawler_command("once", "-q", "-c", str(config)))
        print(f"first run (archives {2 * feeds} articles, keeps validators): {first.wall:.1f} s, rc {first.returncode}; "
              f"{first.stdout.strip()}")
        if first.returncode != 0:
            print(first.stderr[-3000:])
        all_runs, one_runs = [], []
        for _ in range(options.repeat):
            all_runs.append(run_measured(crawler_command("once", "-q", "-c", str(config))))
            one_runs.append(run_measured(crawler_command("once", "-q", "-c", str(config), "--feed", "Feed 0")))
        not_modified = sum(site.not_modified for site in sites.servers)
        cpu_all = statistics.median(r.cpu for r in all_runs)
        cpu_one = statistics.median(r.cpu for r in one_runs)
        wall_all = statistics.median(r.wall for r in all_runs)
        per_feed = (cpu_all - cpu_one) / (feeds - 1)
        print(f"crawler once, {feeds} feeds all answering 304: wall {wall_all:.2f} s, CPU {cpu_all:.2f} s "
              f"(median of {options.repeat}); one feed: CPU {cpu_one:.2f} s (start-up)")
        print(f"  CPU per feed beyond start-up: {per_feed * 1000:.2f} ms; peak RSS "
              f"{max(r.peak_tree_kb for r in all_runs) / 1024:.0f} MB; 304 answers: {not_modified}")
        print(f"  last summary line: {all_runs[-1].stdout.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=4000, help="pages to backfill (default 4000)")
    parser.add_argument("--sample", type=int, default=300, help="pages timed for the extraction limit")
    parser.add_argument("--trafilatura-cli", action="store_true", help="also run trafilatura's CLI on the list")
    parser.add_argument("--memory", action="store_true", help="peak memory of backfills of --sizes pages")
    parser.add_argument("--sizes", default="2000,8000")
    parser.add_argument("--idle", action="store_true", help="crawler once over --feeds feeds answering 304")
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    if options.memory:
        memory(options)
    elif options.idle:
        idle(options)
    else:
        throughput(options)


if __name__ == "__main__":
    main()
