"""`python -m tests.support.faults ARGS`: run `crawler ARGS` with one fault injected, chosen by the
environment variable CRAWLER_TEST_FAULT = "<fault>:<n>". No production code knows about this: the wrapper
patches a function of the crawler, in its own process only, then calls `crawler.cli.main`.

Faults (n counts occurrences in this process, from 1):

- `kill-mid-download:n`     SIGKILL once the first bytes of the n-th article page have arrived;
- `kill-mid-extraction:n`   SIGKILL while a worker process is extracting the n-th page;
- `kill-before-rename:n`    SIGKILL when the n-th post is written and flushed to its temporary file, before
                            it is renamed into place;
- `kill-before-index:n`     SIGKILL when the n-th post file is in place, before its index row is committed;
- `kill-before-feed-record:n` SIGKILL before the n-th feed poll is recorded (articles archived, validators
                            not yet saved);
- `disk-full-after:n`       every `os.write` to a file under the archive fails with ENOSPC once n posts
                            are written (the database, which SQLite writes in C, is not affected).

Only the crawler process is killed, as `kill -9 PID` or the OOM killer would: its extraction workers are
left to notice on their own.
"""
from __future__ import annotations

import asyncio
import errno
import os
import signal
import sys
from pathlib import Path

import crawler.archive.writer as writer_module
import crawler.fetch.client as client_module
from crawler.cli import main
from crawler.extract.pool import ExtractionPool
from crawler.state.store import Store


def _die() -> None:
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class _Counter:
    def __init__(self, at: int):
        self.at = at
        self.seen = 0

    def hit(self) -> bool:
        """Count one occurrence; True on the n-th."""
        self.seen += 1
        return self.seen == self.at


def kill_mid_download(at: int) -> None:
    counter = _Counter(at)
    real_read_body = client_module.read_body

    async def read_body(chunks, headers, url, cap, *, truncate=False):
        if cap.setting != "network.max_page_bytes" or not counter.hit():
            return await real_read_body(chunks, headers, url, cap, truncate=truncate)

        async def first_chunk_then_die():
            async for chunk in chunks:
                yield chunk
                _die()

        return await real_read_body(first_chunk_then_die(), headers, url, cap, truncate=truncate)

    client_module.read_body = read_body


def kill_mid_extraction(at: int) -> None:
    counter = _Counter(at)
    real_extract = ExtractionPool.extract_and_analyse  # the pipeline's page extraction

    async def extract_and_analyse(self, *args, **kwargs):
        if not counter.hit():
            return await real_extract(self, *args, **kwargs)
        running = asyncio.ensure_future(real_extract(self, *args, **kwargs))
        await asyncio.sleep(0.05)  # the call is in a worker by now
        _die()
        return await running

    ExtractionPool.extract_and_analyse = extract_and_analyse


def kill_before_rename(at: int) -> None:
    counter = _Counter(at)
    real_replace = os.replace

    def replace(source, target, *args, **kwargs):
        if Path(target).suffix == ".md" and counter.hit():
            _die()
        return real_replace(source, target, *args, **kwargs)

    writer_module.os.replace = replace


def kill_before_index(at: int) -> None:
    counter = _Counter(at)
    real_replace_with = writer_module._replace_with

    def replace_with(path, text):
        real_replace_with(path, text)
        if counter.hit():
            _die()

    writer_module._replace_with = replace_with


def kill_before_feed_record(at: int) -> None:
    counter = _Counter(at)
    real_record_poll = Store.record_poll

    def record_poll(self, url, **kwargs):
        if counter.hit():
            _die()
        return real_record_poll(self, url, **kwargs)

    Store.record_poll = record_poll


def disk_full_after(at: int) -> None:
    archive = Path(os.environ["CRAWLER_TEST_ARCHIVE"]).resolve()
    written = _Counter(at)
    real_replace_with = writer_module._replace_with
    real_write = os.write
    full = False

    def replace_with(path, text):
        real_replace_with(path, text)
        nonlocal full
        full = full or written.hit()

    def write(fd, data):
        if full and Path(os.readlink(f"/proc/self/fd/{fd}")).is_relative_to(archive):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    writer_module._replace_with = replace_with
    writer_module.os.write = write


FAULTS = {
    "kill-mid-download": kill_mid_download,
    "kill-mid-extraction": kill_mid_extraction,
    "kill-before-rename": kill_before_rename,
    "kill-before-index": kill_before_index,
    "kill-before-feed-record": kill_before_feed_record,
    "disk-full-after": disk_full_after,
}


if __name__ == "__main__":
    name, _, count = os.environ["CRAWLER_TEST_FAULT"].partition(":")
    FAULTS[name](int(count or 1))
    sys.exit(main(sys.argv[1:]))
