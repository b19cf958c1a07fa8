"""Bytes → text for feeds and pages, right for Chinese sites.

Order of evidence: byte-order mark, HTTP charset, the document's own declaration (`<meta charset>`,
`http-equiv`, XML declaration), then detection. GB2312 and GBK are decoded as GB18030, their superset:
real "GB2312" pages routinely hold GBK-only characters, which a strict GB2312 codec turns into garbage.

A declared encoding is kept when the bytes mostly fit it: a UTF-8 feed cut off mid-character or carrying a
few bad bytes keeps UTF-8 (bad bytes replaced) instead of flipping to a legacy code page and turning every
title into mojibake. Only when the declared encoding fits badly and another one fits cleanly do we switch.
"""
from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030",
              "hz-gb-2312": "gb18030", "big5": "big5hkscs", "iso-8859-1": "windows-1252", "latin-1": "windows-1252",
              "ascii": "utf-8", "us-ascii": "utf-8", "unicode": "utf-8", "utf8": "utf-8"}
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']""", re.IGNORECASE)
# Share of undecodable bytes under which a declared encoding is trusted (truncation, a stray bad byte).
_TOLERATED_ERRORS = 0.002


def normalize_encoding(name: str | None) -> str | None:
    """Python codec name for a declared charset, with legacy Chinese charsets widened to GB18030."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return _SUPERSETS.get(canonical, canonical)


def charset_from_content_type(content_type: str | None) -> str | None:
    m = _HEADER_CHARSET.search(content_type or "")
    return normalize_encoding(m.group(1)) if m else None


def declared_in_document(body: bytes) -> str | None:
    """The encoding the document names for itself in its first 4 kB (XML declaration or meta tag)."""
    head = body[:4096]
    m = _XML_DECL.match(head) or _META_CHARSET.search(head)
    return normalize_encoding(m.group(1).decode("ascii", "ignore")) if m else None


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _error_share(body: bytes, encoding: str) -> float:
    """Share of the bytes that do not decode (each bad byte becomes one lone surrogate)."""
    try:
        text = body.decode(encoding, errors="surrogateescape")
    except LookupError:
        return 1.0
    return len(_ESCAPED_BYTE.findall(text)) / max(1, len(body))


def _fits(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def detect_encoding(body: bytes) -> str:
    """Best guess for undeclared bytes: strict UTF-8, then GB18030 (most undeclared legacy pages in our
    domain are Chinese), then charset-normalizer."""
    if _fits(body, "utf-8"):
        return "utf-8"
    # A cut-off last character must not push a UTF-8 document into another encoding.
    if _error_share(body, "utf-8") <= _TOLERATED_ERRORS:
        return "utf-8"
    if _fits(body, "gb18030"):
        return "gb18030"
    from charset_normalizer import from_bytes  # only undeclared, non-UTF-8, non-GB bytes get this far

    best = from_bytes(body[:200_000]).best()
    return normalize_encoding(best.encoding if best else None) or "utf-8"


# XML 1.0 Appendix F: how `<?` starts in UTF-16/32 without a byte-order mark.
_XML_START = ((b"\x3c\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00\x3c", "utf-32-be"),
              (b"\x3c\x00\x3f\x00", "utf-16-le"), (b"\x00\x3c\x00\x3f", "utf-16-be"))


def _is_multibyte_utf8(body: bytes) -> bool:
    """Strict UTF-8 with at least one non-ASCII character: no single-byte text decodes so by accident."""
    return not body.isascii() and _fits(body, "utf-8")


def choose_encoding(body: bytes, content_type: str | None = None) -> str:
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return encoding
    for start, encoding in _XML_START:
        if body.startswith(start):
            return encoding
    for declared in (charset_from_content_type(content_type), declared_in_document(body)):
        if declared is None:
            continue
        if not declared.startswith("utf") and _is_multibyte_utf8(body):
            # A server default (ISO-8859-1) or a template's stale "gb2312" on UTF-8 text: long non-ASCII text
            # in a legacy encoding practically never decodes as strict UTF-8, so the bytes win.
            return "utf-8"
        if _error_share(body, declared) <= _TOLERATED_ERRORS:
            return declared
        guessed = detect_encoding(body)
        # The declaration is wrong (a GBK page labelled UTF-8, say) only if the guess decodes cleanly.
        return guessed if _fits(body, guessed) else declared
    return detect_encoding(body)


def decode(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, encoding used). Never raises: bytes that do not fit are replaced with U+FFFD."""
    encoding = choose_encoding(body, content_type)
    text = body.decode(encoding, errors="replace")
    return text.removeprefix("\ufeff"), encoding
