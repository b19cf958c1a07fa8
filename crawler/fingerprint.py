"""Near-duplicate detection: MinHash signatures of a body's character shingles, banded for an index.

A story syndicated to another portal comes back with a "（来源：新华社）" line added, an editor line changed or a
paragraph cut. What stays is most of its text, so two bodies are the same story when the smaller one is
nearly contained in the larger one: containment = |A ∩ B| / min(|A|, |B|) over their sets of 4-character
shingles of the normalised text (CJK text has no spaces: character shingles work for every language).
Different stories in one template share wording (flash items: "【快讯】……建议关注……等龙头企业"), so short
bodies are only ever matched exactly (`MIN_NEAR_CHARS`), and the containment bar is high (0.9 by default;
measured by benchmarks/near_duplicates.py, figures in README "Deduplication").

Finance adds a trap of its own: the daily market wrap, the monthly CPI release, the weekly fund flow report
are written from one template, and two of them differ mostly in their figures. A copy of a story keeps its
figures; another day's report does not. So the numbers of a body (its runs of digits) must be contained as
well: similarity = min(text containment, number containment).

Why our own MinHash rather than a library's: the signatures are stored in the state database and must not
change when a dependency is upgraded (datasketch would also bring numpy and scipy for 60 lines of code);
trafilatura's Simhash samples whitespace-separated tokens, which Chinese text does not have, and a SimHash
distance does not tell containment from overlap (a cut paragraph moves it ~11 bits of 64).

Signature: one-permutation hashing (a single 64-bit hash per shingle, its low bits choose one of
`SIGNATURE_SIZE` bins, each bin keeps its minimum; empty bins are filled from the next non-empty one, as in
"densified" OPH), which estimates Jaccard similarity like classic MinHash at one hash per shingle instead of
one per permutation. Index: the signature cut into `BANDS` bands; two bodies with Jaccard similarity ≥ 0.72
(a copy missing a quarter of its text) share a band with probability > 0.999, unrelated ones (≤ 0.1) almost
never, so a lookup reads the articles sharing a band, not the archive (a bounded number of them:
`state.store.find_near`).
"""
from __future__ import annotations

import hashlib
import re
import struct
import sys
import zlib
from array import array
from dataclasses import dataclass, field

from .dedup import hash_of_normalized, normalized_text

SHINGLE = 4
SIGNATURE_SIZE = 128
BANDS = 32
ROWS = SIGNATURE_SIZE // BANDS
MIN_NEAR_CHARS = 200
"""Bodies shorter than this (normalised characters) are matched exactly only."""
MAX_NUMBERS = 1024
"""Distinct numbers kept per body (a table of figures has hundreds; beyond this the text decides)."""
_DIGITS = re.compile(r"\d+")
_EMPTY = (1 << 57) - 1
_MULTIPLIER = 0x9E3779B97F4A7C15F39CC0605CEDC835  # odd; fixed forever: signatures are stored
_BIN_BITS = SIGNATURE_SIZE.bit_length() - 1
_LANE_BYTES = 32
_LANES_PER_PRODUCT = 16384
"""Shingles hashed by one multiplication (see `_shingle_hashes`): integers of 512 kB at most."""


@dataclass(frozen=True, slots=True)
class Fingerprint:
    signature: tuple[int, ...]
    shingles: int
    """How many distinct shingles the body has: turns a Jaccard estimate into a containment estimate."""
    numbers: frozenset[int] = frozenset()
    """CRC-32 of each distinct run of digits in the body (at most `MAX_NUMBERS`)."""
    _band_keys: tuple[str, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def bands(self) -> tuple[str, ...]:
        """Band keys for the index: `BANDS` hex strings, each naming its band number and its rows. Kept once
        made: a new article's are needed by its near-duplicate lookup and again by its index rows."""
        if self._band_keys is None:
            packed = struct.pack(f">{SIGNATURE_SIZE}Q", *self.signature)
            size = 8 * ROWS
            object.__setattr__(self, "_band_keys", tuple(
                f"{band:02d}{hashlib.blake2b(packed[band * size:(band + 1) * size], digest_size=8).hexdigest()}"
                for band in range(BANDS)))
        return self._band_keys

    def to_bytes(self) -> bytes:
        numbers = sorted(self.numbers)
        return struct.pack(f">I{SIGNATURE_SIZE}QI{len(numbers)}I", self.shingles, *self.signature, len(numbers),
                           *numbers)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Fingerprint":
        head = struct.calcsize(f">I{SIGNATURE_SIZE}QI")
        shingles, *signature, count = struct.unpack(f">I{SIGNATURE_SIZE}QI", data[:head])
        numbers = struct.unpack(f">{count}I", data[head:head + 4 * count])
        return cls(tuple(signature), shingles, frozenset(numbers))

    def similarity(self, other: "Fingerprint") -> float:
        """How much of the smaller body the larger one holds, words and figures alike (0 to 1)."""
        return min(self.containment(other), self.number_containment(other))

    def number_containment(self, other: "Fingerprint") -> float:
        """Share of the smaller body's numbers found in the other body (1 when it has none)."""
        small, large = (self, other) if self.shingles <= other.shingles else (other, self)
        if not small.numbers:
            return 1.0
        return len(small.numbers & large.numbers) / len(small.numbers)

    def jaccard(self, other: "Fingerprint") -> float:
        return sum(a == b for a, b in zip(self.signature, other.signature)) / SIGNATURE_SIZE

    def containment(self, other: "Fingerprint") -> float:
        """Estimated share of the smaller body's shingles found in the other body."""
        j = self.jaccard(other)
        common = j / (1 + j) * (self.shingles + other.shingles)
        return min(1.0, common / max(1, min(self.shingles, other.shingles)))


def _shingle_hashes(text: str) -> set[int]:
    """One 64-bit hash per distinct shingle. Each shingle, as UTF-32, is a 128-bit integer of its own; the
    hash is the middle 64 bits of its product with a fixed odd 128-bit multiplier (multiply-shift hashing:
    every bit of the shingle reaches every bit kept).

    All the products of a stretch of text come from one multiplication: the shingles are laid out as 256-bit
    lanes of one big integer, each in the low half of its lane (the shingle starting at character i is
    characters i..i+3, its lowest 32 bits character i), and that integer is multiplied by the multiplier. A
    128-bit shingle times a 128-bit multiplier fits in its 256-bit lane, so no lane carries into the next, and
    each lane of the product is one shingle's product, whose middle 64 bits are read back in C (`array`).
    Lanes are built and read by slicing arrays, never one shingle at a time in Python: about a third less CPU
    than multiplying shingle by shingle. `_LANES_PER_PRODUCT` bounds the integers of a long body."""
    hashes: set[int] = set()
    chars = array("I", text.encode("utf-32-le"))  # moved, never read as numbers: byte order does not matter
    for first in range(0, len(chars) - SHINGLE + 1, _LANES_PER_PRODUCT):
        count = min(_LANES_PER_PRODUCT, len(chars) - SHINGLE + 1 - first)
        lanes = array("I", bytes(_LANE_BYTES * count))
        for k in range(SHINGLE):
            lanes[k::_LANE_BYTES // 4] = chars[first + k:first + k + count]
        product = int.from_bytes(lanes, "little") * _MULTIPLIER
        words = array("Q", product.to_bytes(_LANE_BYTES * count, "little"))
        if sys.byteorder == "big":
            words.byteswap()
        hashes.update(words[2::_LANE_BYTES // 8])  # bits 128-191 of each lane
    return hashes


def fingerprint(markdown: str, min_chars: int = MIN_NEAR_CHARS) -> Fingerprint | None:
    """The body's fingerprint; None when it is shorter than `min_chars` letters and digits, too short to be
    matched other than exactly."""
    return fingerprint_of_normalized(normalized_text(markdown), min_chars)


def hash_and_fingerprint(markdown: str, min_chars: int = MIN_NEAR_CHARS) -> tuple[str, Fingerprint | None]:
    """The body's `dedup.content_hash` and its `fingerprint`, its text normalised once for both."""
    text = normalized_text(markdown)
    return hash_of_normalized(text), fingerprint_of_normalized(text, min_chars)


def fingerprint_of_normalized(text: str, min_chars: int = MIN_NEAR_CHARS) -> Fingerprint | None:
    """`fingerprint` of a body whose `normalized_text` is `text`."""
    if len(text) < max(min_chars, SHINGLE):
        return None
    bins = [_EMPTY] * SIGNATURE_SIZE
    hashes = _shingle_hashes(text)
    for h in hashes:
        slot, value = h & (SIGNATURE_SIZE - 1), h >> _BIN_BITS
        if value < bins[slot]:
            bins[slot] = value
    # Densify: an empty bin borrows from the next non-empty one (circularly), offset by the distance so two
    # documents borrowing from different bins do not collide by accident.
    for i in range(SIGNATURE_SIZE):
        if bins[i] == _EMPTY:
            for step in range(1, SIGNATURE_SIZE):
                donor = bins[(i + step) % SIGNATURE_SIZE]
                if donor != _EMPTY:
                    bins[i] = (donor + step * 0x9E3779B97F4A7C15) & ((1 << 57) - 1)
                    break
    numbers = frozenset(zlib.crc32(run.encode()) for run in dict.fromkeys(_DIGITS.findall(text)))
    if len(numbers) > MAX_NUMBERS:
        numbers = frozenset(sorted(numbers)[:MAX_NUMBERS])
    return Fingerprint(tuple(bins), len(hashes), numbers)
