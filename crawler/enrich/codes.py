"""Security codes in one normal form: `600519.SH`, `300750.SZ`, `430047.BJ`, `00700.HK`, `AAPL`, `BRK.B`.

Mainland A shares carry their exchange as a suffix. When the text names none, the exchange follows from the
code's range (60/68 → Shanghai, 00/30 → Shenzhen, 43/83/87/92 → Beijing); a six-digit number outside these
ranges is no share code. Hong Kong codes are five digits, zero-padded. US tickers are upper case, with a
share class after a dot (`BRK-B`, `BRK/B` → `BRK.B`).
"""
from __future__ import annotations

import re

A_SHARE_EXCHANGES = {"60": "SH", "68": "SH", "00": "SZ", "30": "SZ", "43": "BJ", "83": "BJ", "87": "BJ", "92": "BJ"}
# Suffixes and prefixes that papers, terminals and quote sites use for the mainland exchanges.
EXCHANGE_ALIASES = {"SH": "SH", "SS": "SH", "SHA": "SH", "XSHG": "SH", "SZ": "SZ", "SZA": "SZ", "XSHE": "SZ",
                    "BJ": "BJ", "BSE": "BJ"}

_A_SHARE = re.compile(r"^(?:(SH|SZ|BJ)[:.]?)?(\d{6})(?:\.(SH|SS|SZ|BJ|XSHG|XSHE))?$")
_HK = re.compile(r"^(?:HK(?:EX)?[:.]?)?(\d{1,5})(?:\.HK)?$")
_US = re.compile(r"^(?:\$|(?:NASDAQ|NYSE|AMEX)[:.])?([A-Z]{1,5})(?:[.\-/]([A-Z]))??(?:\.(?:US|O|N|OQ))?$")


def a_share_exchange(code: str) -> str | None:
    """SH, SZ or BJ for a six-digit code in an A-share range, else None."""
    return A_SHARE_EXCHANGES.get(code[:2]) if len(code) == 6 and code.isdigit() else None


def a_share(code: str, exchange: str | None = None) -> str | None:
    """`600519.SH` from a six-digit code and an exchange as the text spelled it (or None: inferred)."""
    if exchange is not None:
        exchange = EXCHANGE_ALIASES.get(exchange.upper())
    exchange = exchange or a_share_exchange(code)
    return f"{code}.{exchange}" if exchange and len(code) == 6 and code.isdigit() else None


def hk_share(code: str) -> str | None:
    """`00700.HK` from `700`, `0700` or `00700`."""
    return f"{int(code):05d}.HK" if code.isdigit() and 0 < int(code) <= 99999 else None


def us_share(symbol: str, share_class: str | None = None) -> str:
    return f"{symbol.upper()}.{share_class.upper()}" if share_class else symbol.upper()


def normalise_code(text: str) -> str | None:
    """Any common spelling of one code in its normal form, or None when it is not one.

    `600519`, `SH600519`, `sh600519`, `600519.SS` → `600519.SH`; `700.HK`, `HK0700`, `00700` → `00700.HK`;
    `$aapl`, `NASDAQ:AAPL`, `brk-b` → `AAPL`, `BRK.B`. A bare number of up to five digits is taken for a
    Hong Kong code (`700`, as Hong Kong investors say), of six for an A share (exchange from its range).
    """
    spelled = re.sub(r"\s+", "", text).upper()
    if m := _A_SHARE.match(spelled):
        return a_share(m.group(2), m.group(1) or m.group(3))
    if m := _HK.match(spelled):
        return hk_share(m.group(1))
    if m := _US.match(spelled):
        return us_share(m.group(1), m.group(2))
    return None
