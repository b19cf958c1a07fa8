"""CPU time of fetching one page through `Fetcher`, in this process only. Prints numbers.

    .venv/bin/python benchmarks/fetch.py [--pages 3000] [--rounds 3] [--sites 8] [--size 50000] [--gzip]
                                         [--concurrency 16]

A child process serves the same page (`--size` bytes of HTML, one write per response, keep-alive, an
allow-all robots.txt; `--gzip`: sent gzip-compressed) on `--sites` ports of 127.0.0.1. This process fetches
`--pages` distinct URLs, spread over the sites, with `network.concurrency` workers calling
`fetcher.fetch_page`, as the pipeline's article workers do: one `Fetcher(settings.network)` with every
setting at its default except `allow_private` (the server is on loopback), so robots.txt, the per-host and
global limits, retries and the address-guard code path are all in play. With the default `per_host` of 2,
eight sites keep the 16 workers busy; `--concurrency N` sets `network.concurrency` (and the workers) to N,
with `--sites` N/2 to keep them busy: what a pool of many connections costs per fetch.

Each round first fetches a few hundred pages unmeasured (robots.txt, connections), then measures
`time.process_time()` of this process over `--pages` fetches: the client's own CPU, not the server's. Printed
per round: CPU ms per fetch, wall seconds and pages/s; then the median CPU ms per fetch over the rounds.
The machine is shared: compare runs made close together, alternating the versions compared.
"""
from __future__ import annotations

import argparse
import asyncio
import gzip
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from crawler.config import NetworkSettings  # noqa: E402
from crawler.fetch import Fetcher  # noqa: E402

WARM_UP_PAGES = 300
ROBOTS = b"User-agent: *\nAllow: /\n"


def _response(body: bytes, content_type: bytes, encoding: bytes | None) -> bytes:
    head = [b"HTTP/1.1 200 OK", b"Content-Type: " + content_type, b"Content-Length: %d" % len(body),
            b"Date: Mon, 04 Mar 2024 08:00:00 GMT", b"Server: bench"]
    if encoding:
        head.append(b"Content-Encoding: " + encoding)
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _html(size: int) -> bytes:
    paragraph = b"<p>Shares rose 1.2% as the index closed at 3,050.12 points; turnover was 985.6 billion.</p>\n"
    body = b"<!doctype html><html><head><title>Bench</title></head><body><article>\n"
    while len(body) < size - 30:
        body += paragraph
    return (body + b"</article></body></html>\n").ljust(size, b" ")


async def _serve(ports: list[int], ready: multiprocessing.synchronize.Event, size: int, compress: bool) -> None:
    html = _html(size)
    page = _response(gzip.compress(html) if compress else html, b"text/html; charset=utf-8",
                     b"gzip" if compress else None)
    robots = _response(ROBOTS, b"text/plain", None)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1]
                writer.write(robots if target == b"/robots.txt" else page)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    servers = [await asyncio.start_server(answer, "127.0.0.1", port) for port in ports]
    ready.set()
    await asyncio.gather(*(server.serve_forever() for server in servers))


def _server_process(ports: list[int], ready, size: int, compress: bool) -> None:
    asyncio.run(_serve(ports, ready, size, compress))


async def _fetch_all(fetcher: Fetcher, urls: list[str], workers: int) -> None:
    pending = iter(urls)

    async def worker() -> None:
        for url in pending:
            fetched = await fetcher.fetch_page(url)
            assert fetched.status == 200 and fetched.body, url

    await asyncio.gather(*(worker() for _ in range(workers)))


async def _round(ports: list[int], pages: int, round_number: int, concurrency: int) -> tuple[float, float]:
    settings = NetworkSettings(allow_private=True, concurrency=concurrency)
    sites = [f"http://127.0.0.1:{port}" for port in ports]

    def urls(count: int, prefix: str) -> list[str]:
        return [f"{sites[i % len(sites)]}/{prefix}/{round_number}/{i}.html" for i in range(count)]

    async with Fetcher(settings) as fetcher:
        await _fetch_all(fetcher, urls(WARM_UP_PAGES, "warm"), settings.concurrency)
        cpu, wall = time.process_time(), time.perf_counter()
        await _fetch_all(fetcher, urls(pages, "a"), settings.concurrency)
        return time.process_time() - cpu, time.perf_counter() - wall


def _free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--size", type=int, default=50_000, help="bytes of HTML per page")
    parser.add_argument("--gzip", action="store_true", help="serve the page gzip-compressed")
    parser.add_argument("--concurrency", type=int, default=NetworkSettings().concurrency,
                        help="network.concurrency (default: the setting's default); give --sites its half")
    args = parser.parse_args()
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        os.environ.pop(name, None)  # the local sites are reached directly

    ports = _free_ports(args.sites)
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(target=_server_process, args=(ports, ready, args.size, args.gzip), daemon=True)
    server.start()
    try:
        if not ready.wait(30):
            sys.exit("the server did not start")
        per_fetch = []
        for round_number in range(args.rounds):
            cpu, wall = asyncio.run(_round(ports, args.pages, round_number, args.concurrency))
            per_fetch.append(cpu / args.pages * 1000)
            print(f"round {round_number + 1}: {per_fetch[-1]:.3f} ms CPU per fetch, {wall:.2f} s wall, "
                  f"{args.pages / wall:.0f} pages/s", flush=True)
        print(f"median: {statistics.median(per_fetch):.3f} ms CPU per fetch over {args.rounds} rounds "
              f"of {args.pages} pages ({args.sites} sites, {args.size:,} bytes{', gzip' if args.gzip else ''})")
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
