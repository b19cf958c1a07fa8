"""Peak memory of `crawler backfill` as its input grows: it should stay flat.

    .venv/bin/python benchmarks/backfill_memory.py [--sizes 2000,20000] [--dry-run-sizes 20000,200000]

For each size N, against a local HTTP server on 127.0.0.1:
- `--urls FILE` with N lines, and `--sitemap` of an index over sitemaps of 50,000 URLs listing N URLs, each run
  for real: every article URL answers 404, so the pipeline settles each one (fetch, failure recorded in
  state, checkpoint) without spending the time on extraction;
- with `--dry-run` (no article fetched: reading, filtering and checkpointing only) for the larger sizes.
Prints one line per run: source, N, wall seconds, articles per second, peak resident memory of the crawler
process itself (MB; Linux). Numbers from a shared machine: compare the lines of one run with each other.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from tests.support.server import LocalServer, Reply  # noqa: E402

PER_SITEMAP = 50_000


def serve_sitemaps(server: LocalServer, size: int) -> str:
    children = []
    for first in range(0, size, PER_SITEMAP):
        path = f"/sitemap-{first // PER_SITEMAP}.xml"
        urls = "".join(f"<url><loc>{server.url(f'/a/{i}.html')}</loc></url>"
                       for i in range(first, min(size, first + PER_SITEMAP)))
        server.route(path, Reply(body=f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'
                                      "</urlset>".encode(), headers={"Content-Type": "application/xml"}))
        children.append(f"<sitemap><loc>{server.url(path)}</loc></sitemap>")
    server.route("/sitemap.xml", Reply(body=f"<sitemapindex>{''.join(children)}</sitemapindex>".encode()))
    return server.url("/sitemap.xml")


def run(args: list[str], work: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one `crawler backfill` process, in a fresh archive and
    state. The peak is the process's own high-water mark (VmHWM), sampled while it runs: its extraction
    processes are not counted (rusage from wait4 would include them)."""
    config = work / "config.yaml"
    config.write_text(f"""archive: {{dir: "{work / 'archive'}"}}
state: {{url: "sqlite:///{work / 'state.sqlite3'}"}}
network: {{allow_private: true, attempts: 1, per_host: 8, concurrency: 16}}
extract: {{workers: 1}}
""", encoding="utf-8")
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "crawler", "backfill", "-q", "-c", str(config), *args],
                               cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)})
    peak_kb = 0
    while process.poll() is None:
        try:
            with open(f"/proc/{process.pid}/status", encoding="ascii") as status:
                peak_kb = max([peak_kb] + [int(line.split()[1]) for line in status if line.startswith("VmHWM")])
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.2)
    process.wait()
    return time.perf_counter() - started, peak_kb / 1024

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--dry-run-sizes", default="20000,200000")
    options = parser.parse_args()
    print(f"{'source':<10} {'mode':<8} {'N':>8} {'wall s':>8} {'per s':>8} {'peak MB':>8}")
    with LocalServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n"))
        plans = [(int(n), False) for n in options.sizes.split(",") if n] + \
                [(int(n), True) for n in options.dry_run_sizes.split(",") if n]
        for number, (size, dry) in enumerate(plans):
            urls = Path(tmp, f"urls-{size}.txt")
            urls.write_text("".join(server.url(f"/a/{i}.html") + "\n" for i in range(size)), encoding="utf-8")
            sitemap = serve_sitemaps(server, size)
            for source, args in (("urls", ["--urls", str(urls)]), ("sitemap", ["--sitemap", sitemap])):
                work = Path(tmp, f"run-{number}-{source}")
                work.mkdir()
                wall, peak = run(args + (["--dry-run"] if dry else []), work)
                print(f"{source:<10} {'dry-run' if dry else 'real':<8} {size:>8} {wall:>8.1f} {size / wall:>8.0f} "
                      f"{peak:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
