"""False merges and missed duplicates of the near-duplicate detection, by threshold, on built cases.

    .venv/bin/python benchmarks/near_duplicates.py [--stories 300]

Cases (tests/support/stories.py):
- must merge: each company story against the edits portals make to it (markup, a source line, an editor
  line, a cut first or last paragraph, both, three changed characters, an exact copy);
- must not merge: every pair of different company stories (9 of 12 template sentences in common: heavy shared
  wording) and of daily market wraps (one template, other figures), and of flash items (one sentence or two
  from four templates).
A pair counts as merged when the index would find it (the two share a band) and its similarity reaches the
threshold; "text only" leaves out the figures check, to show what it adds. Short bodies (flash items) have no
fingerprint: they merge only when their normalised text is identical.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.dedup import content_hash  # noqa: E402
from crawler.fingerprint import fingerprint  # noqa: E402
from tests.support.stories import company_story, flash_item, market_wrap, syndicated_variants  # noqa: E402

THRESHOLDS = (0.7, 0.8, 0.85, 0.9, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=int, default=300)
    args = parser.parse_args()

    started = time.process_time()
    stories = [company_story(seed) for seed in range(args.stories)]
    originals = [fingerprint(s) for s in stories]
    positives = []
    for seed, (story, original) in enumerate(zip(stories, originals)):
        for name, variant in syndicated_variants(story, seed).items():
            positives.append((name, original, fingerprint(variant)))
    wraps = [fingerprint(market_wrap(seed)) for seed in range(args.stories)]
    negatives = list(itertools.combinations(originals, 2)) + list(itertools.combinations(wraps, 2))
    flashes = [flash_item(seed) for seed in range(args.stories * 3)]
    hashing = time.process_time() - started

    short = sum(b is None for _, _, b in positives)
    print(f"{len(positives)} pairs that must merge, {len(negatives)} pairs that must not, "
          f"{len(flashes)} flash items; fingerprints in {1000 * hashing / (len(positives) + len(stories) * 2):.2f} "
          "ms CPU each")
    print(f"{short} edited copies fell below the length guard ({short / len(positives):.2%}): exact match only")
    assert all(fingerprint(f) is None for f in flashes), "flash items are meant to be below the length guard"
    distinct_flash = len(set(flashes))
    flash_merges = distinct_flash - len({content_hash(f) for f in set(flashes)})
    print(f"flash items: {distinct_flash} distinct texts, {flash_merges} merged (exact match only)")

    bands: dict[int, set[str]] = {}

    def found(a, b) -> bool:  # a body below the length guard has no fingerprint: never found as a near copy
        if a is None or b is None:
            return False
        for fp in (a, b):
            if id(fp) not in bands:
                bands[id(fp)] = set(fp.bands())
        return not bands[id(a)].isdisjoint(bands[id(b)])

    print(f"{'threshold':>9}  {'missed':>14}  {'false merges':>14}  {'false merges, text only':>24}")
    for threshold in THRESHOLDS:
        missed = sum(not (found(a, b) and a.similarity(b) >= threshold) for _, a, b in positives)
        false = sum(found(a, b) and a.similarity(b) >= threshold for a, b in negatives)
        text_only = sum(found(a, b) and a.containment(b) >= threshold for a, b in negatives)
        print(f"{threshold:>9.2f}  {missed:>6} ({missed / len(positives):6.2%})  "
              f"{false:>6} ({false / len(negatives):6.3%})  {text_only:>14} ({text_only / len(negatives):6.3%})")
    worst = {}
    for name, a, b in positives:
        worst[name] = min(worst.get(name, 1.0), a.similarity(b) if b is not None else 0.0)
    print("lowest similarity per edit: " + ", ".join(f"{name} {value:.3f}" for name, value in worst.items()))
    print(f"highest similarity between different stories: {max(a.similarity(b) for a, b in negatives):.3f} "
          f"(text only {max(a.containment(b) for a, b in negatives):.3f})")


if __name__ == "__main__":
    main()
