"""Reading a response body under a size cap, decompressing gzip/deflate ourselves.

httpx would inflate a Content-Encoding transparently and without bound, so a 10 kB gzip bomb could expand to
gigabytes before any cap is checked. We read the raw bytes and inflate with `max_length`, so the output
never exceeds the cap by more than one byte, however well the input compresses.
"""
from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from ..errors import BadResponse, BodyTooLarge

ACCEPT_ENCODING = "gzip, deflate"
"""What we advertise: only the encodings `read_body` can bound (httpx would add br and zstd)."""


@dataclass(frozen=True, slots=True)
class Cap:
    size: int
    setting: str
    """Where the limit comes from, for the error message ("network.max_page_bytes")."""


class _Identity:
    def feed(self, data: bytes, room: int) -> bytes:
        return data[:room]

    def finished(self) -> bool:
        return True


class _Inflate:
    """zlib, gzip or deflate inflater that returns at most `room` bytes per call."""

    def __init__(self, wbits: int | None):
        """`wbits` None: HTTP "deflate", meant to be a zlib stream, but some servers send raw deflate; like
        browsers we look at the first two bytes to tell."""
        self._inflater = zlib.decompressobj(wbits) if wbits is not None else None
        self._head = b""
        self._received = False

    def feed(self, data: bytes, room: int) -> bytes:
        self._received = self._received or bool(data)
        if self._inflater is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS if _is_zlib_header(data) else -zlib.MAX_WBITS)
        return self._inflater.decompress(data, room)

    def finished(self) -> bool:
        """The stream reached its end marker, or there was no body at all (a compressed empty body)."""
        return not self._received or (self._inflater is not None and self._inflater.eof)


def _is_zlib_header(data: bytes) -> bool:
    # RFC 1950: compression method 8 in the low nibble, and the first two bytes a multiple of 31.
    return data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


_Decoder = _Identity | _Inflate


def _decoder(content_encoding: str, url: str) -> _Decoder:
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip().lower() not in ("", "identity")]
    if not codings:
        return _Identity()
    if codings in (["gzip"], ["x-gzip"]):
        return _Inflate(zlib.MAX_WBITS | 16)
    if codings == ["deflate"]:
        return _Inflate(None)
    raise BadResponse(url, f"unsupported Content-Encoding {content_encoding!r}; we only accept {ACCEPT_ENCODING}")


def _too_large(url: str, cap: Cap, what: str) -> BodyTooLarge:
    return BodyTooLarge(url, f"{what} exceeds {cap.size:,} bytes; raise {cap.setting} if this is expected")


async def read_body(
    chunks: AsyncIterator[bytes], headers: Mapping[str, str], url: str, cap: Cap, *, truncate: bool = False
) -> bytes:
    """The decoded body, at most `cap.size` bytes.

    A longer body raises BodyTooLarge, or with `truncate` is cut at the cap (for robots.txt, of which only
    the first 500 KiB count). Unknown or corrupt compression raises BadResponse.
    """
    declared = headers.get("content-length", "").strip()
    if not truncate and declared.isdigit() and int(declared) > cap.size:
        raise _too_large(url, cap, f"the declared Content-Length ({int(declared):,} bytes)")
    decoder = _decoder(headers.get("content-encoding", ""), url)
    body = bytearray()
    async for chunk in chunks:
        # Ask for one byte more than fits: getting it is how an overflow shows.
        try:
            body += decoder.feed(chunk, cap.size - len(body) + 1)
        except zlib.error as e:
            raise BadResponse(url, f"corrupt {headers.get('content-encoding')} body ({e})") from None
        if len(body) > cap.size:
            if truncate:
                return bytes(body[: cap.size])
            raise _too_large(url, cap, "the body")
    if not decoder.finished():
        raise BadResponse(url, f"{headers.get('content-encoding')} body ends before its end marker (truncated)")
    return bytes(body)
