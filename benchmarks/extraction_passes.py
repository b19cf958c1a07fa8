"""CPU time of `extract_page` and of each of its passes, on generated news pages. Prints numbers.

    .venv/bin/python benchmarks/extraction_passes.py [--pages 600] [--rounds 2]

The pages are `newspages.py`'s (Chinese and English, 20-80 kB, alternating), extracted as the archiver
extracts them (`crawler.extract.article.extract_page` with the shipped site rules; none apply). Each pass
extract_page calls by name is timed where it is called (`time.process_time`): trafilatura, `place_images`,
`read_metadata`, `clean_body` and the others; `text_sample` is the page's language sample, computed on first
use. Medians and means per page, in ms, over every page of every round; CPU time, as the machine's cores are
shared. Compare runs on one machine, before and after a change, alternating.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import crawler.extract.article as article  # noqa: E402
import crawler.extract.metadata as metadata  # noqa: E402
from crawler.extract.rules import configured_site_rules  # noqa: E402
from newspages import page  # noqa: E402

BASE = "https://news.example.com"
PASSES = {article: ("parse_html", "gather", "content_tree", "_trafilatura_markdown", "_mostly_han", "place_images",
                    "zone_for_text", "clean_body", "drop_title_line", "escape_for_hexo", "_hints", "read_metadata"),
          metadata: ("text_sample",)}


def timed(seconds: dict[str, float], name: str, function):
    def run(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.process_time() - started
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rules = configured_site_rules(())
    now = datetime.now(timezone.utc)
    pages = [page(n, BASE) for n in range(args.pages)]
    seconds: dict[str, float] = {}
    for module, names in PASSES.items():
        for name in names:
            setattr(module, name, timed(seconds, name, getattr(module, name)))
    article.extract_page(pages[0].html, "text/html", BASE + pages[0].path, now=now)  # imports, caches
    totals: list[float] = []
    per_pass: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for p in pages:
            url = BASE + p.path
            seconds.clear()
            started = time.process_time()
            article.extract_page(p.html, "text/html; charset=utf-8", url, rules.resolve(url).rules, now=now)
            totals.append(time.process_time() - started)
            for name, value in seconds.items():
                per_pass.setdefault(name, []).append(value)
    print(f"{args.pages} generated pages x {args.rounds} rounds; ms per page (median / mean)")
    print(f"  {'extract_page':24s} {statistics.median(totals) * 1000:7.3f} / {statistics.mean(totals) * 1000:7.3f}")
    for name, values in sorted(per_pass.items(), key=lambda item: -statistics.mean(item[1])):
        print(f"    {name:22s} {statistics.median(values) * 1000:7.3f} / {statistics.mean(values) * 1000:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
