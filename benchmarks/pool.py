"""CPU time the crawler's process spends per call handed to `ExtractionPool`, and calls/s. Prints numbers.

    .venv/bin/python benchmarks/pool.py [--calls 5000] [--rounds 3] [--payload 50000] [--concurrency 16]
                                        [--workers 2]

The worker function is `len`: the workers do next to nothing, so what is measured is the pool's own
machinery, the hand-over of a `--payload`-byte argument to a worker and of a small result back, as the
pipeline's `--concurrency` article workers (`network.concurrency`, 16 by default) each await one
extraction at a time. `--workers` extraction processes (the machine's two cores by default, as
`extract.workers: 0` would give here).

Each round opens a pool, makes a few hundred calls unmeasured (the workers start), then measures
`time.process_time()` of this process, all its threads, over `--calls` calls. Printed per round: CPU ms per
call, wall seconds and calls/s; then the median CPU ms per call over the rounds. The machine is shared:
compare runs made close together, alternating the versions compared. Run it from the checkout's root: the
forkserver (Python 3.11) imports `crawler` from the working directory, whatever this script's path.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from crawler.errors import ExtractionError  # noqa: E402
from crawler.extract.pool import ExtractionPool  # noqa: E402

WARM_UP_CALLS = 300
URL = "http://bench.example/"


async def _call_all(pool: ExtractionPool, payload: bytes, calls: int, concurrency: int) -> None:
    remaining = iter(range(calls))

    async def caller() -> None:
        for _ in remaining:
            # `len` crosses by reference; the pool's methods would each run a real extraction.
            assert await pool._run(URL, ExtractionError, len, payload) == len(payload)

    await asyncio.gather(*(caller() for _ in range(concurrency)))


async def _round(calls: int, payload: bytes, concurrency: int, workers: int) -> tuple[float, float]:
    with ExtractionPool(workers) as pool:
        await _call_all(pool, payload, WARM_UP_CALLS, concurrency)
        cpu, wall = time.process_time(), time.perf_counter()
        await _call_all(pool, payload, calls, concurrency)
        return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--payload", type=int, default=50_000, help="bytes handed to each call")
    parser.add_argument("--concurrency", type=int, default=16, help="calls awaited at once")
    parser.add_argument("--workers", type=int, default=2, help="extraction processes")
    args = parser.parse_args()

    payload = b"x" * args.payload
    per_call = []
    for round_number in range(args.rounds):
        cpu, wall = asyncio.run(_round(args.calls, payload, args.concurrency, args.workers))
        per_call.append(cpu / args.calls * 1000)
        print(f"round {round_number + 1}: {per_call[-1]:.3f} ms CPU per call, {wall:.2f} s wall, "
              f"{args.calls / wall:.0f} calls/s", flush=True)
    print(f"median: {statistics.median(per_call):.3f} ms CPU per call over {args.rounds} rounds of "
          f"{args.calls} calls ({args.payload:,}-byte payload, {args.concurrency} at once, {args.workers} workers)")


if __name__ == "__main__":
    main()
