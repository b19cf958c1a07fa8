"""read_body on its own: caps, bounded decompression, bad encodings."""
from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import pytest

from crawler.errors import BadResponse, BodyTooLarge
from crawler.fetch.body import Cap, read_body

URL = "https://news.example.com/feed"
CAP = Cap(1000, "network.max_feed_bytes")
TEXT = "财经新闻 finance news ".encode() * 200


async def chunks(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def never_read() -> AsyncIterator[bytes]:
    raise AssertionError("the body was read")
    yield b""  # pragma: no cover - makes this an async generator


async def read(data: bytes | AsyncIterator[bytes], headers: dict[str, str] | None = None, cap: Cap = Cap(10**6, "x"),
               **kwargs) -> bytes:
    source = chunks(data) if isinstance(data, bytes) else data
    return await read_body(source, headers or {}, URL, cap, **kwargs)


@pytest.mark.parametrize(
    "encoding, compressed",
    [
        ("", TEXT),
        ("identity", TEXT),
        ("gzip", gzip.compress(TEXT)),
        ("GZIP", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)[2:-4]),  # raw deflate
    ],
)
@pytest.mark.parametrize("chunk_size", [1, 7, 65536])
async def test_bodies_are_decoded_whatever_the_chunking(encoding: str, compressed: bytes, chunk_size: int):
    headers = {"content-encoding": encoding} if encoding else {}
    assert await read(chunks(compressed, chunk_size), headers) == TEXT


async def test_a_body_exactly_at_the_cap_passes_and_one_byte_more_does_not():
    assert len(await read(b"x" * 1000, cap=CAP)) == 1000
    with pytest.raises(BodyTooLarge) as raised:
        await read(b"x" * 1001, cap=CAP)
    assert str(raised.value) == f"{URL}: the body exceeds 1,000 bytes; raise network.max_feed_bytes if this is expected"


async def test_a_declared_length_over_the_cap_is_refused_before_reading():
    with pytest.raises(BodyTooLarge, match="declared Content-Length"):
        await read(never_read(), {"content-length": "1001"}, cap=CAP)


async def test_a_gzip_bomb_is_never_inflated_beyond_the_cap():
    bomb = gzip.compress(b"\0" * 50_000_000, 9)  # ~50 kB that inflate to 50 MB
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge):
            await read(bomb, {"content-encoding": "gzip"}, cap=Cap(1_000_000, "network.max_page_bytes"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000


async def test_truncate_cuts_at_the_cap_instead_of_failing():
    assert await read(b"x" * 5000, {"content-length": "5000"}, cap=CAP, truncate=True) == b"x" * 1000
    assert await read(gzip.compress(b"y" * 5000), {"content-encoding": "gzip"}, cap=CAP, truncate=True) == b"y" * 1000


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br", "gzip, gzip"])
async def test_encodings_we_cannot_bound_are_refused(encoding: str):
    with pytest.raises(BadResponse, match="unsupported Content-Encoding"):
        await read(b"whatever", {"content-encoding": encoding})


async def test_corrupt_compression_is_a_bad_response():
    with pytest.raises(BadResponse, match="corrupt gzip body"):
        await read(b"\x1f\x8b\x08\x00garbage-not-deflate", {"content-encoding": "gzip"})


async def test_a_truncated_compressed_body_is_a_bad_response():
    with pytest.raises(BadResponse, match="truncated"):
        await read(gzip.compress(TEXT)[:-20], {"content-encoding": "gzip"})


async def test_an_empty_body_labelled_gzip_is_empty():
    assert await read(b"", {"content-encoding": "gzip"}) == b""

