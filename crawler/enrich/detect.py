"""Security codes written out in a text, in the forms papers, wires and quote sites use.

Only forms that say "this is a code" count: a code with its exchange (`600519.SH`, `SH600519`,
`00700.HK`, `(NASDAQ: AAPL)`, `$AAPL`), a label (`股票代码：300750`, `股份代号：700`), or a bracket holding
nothing but codes (`贵州茅台（600519）`). A bare number in running text never does, so amounts
(`600519元`), counts (`300750股`), dates (`20230519`), prices, percentages, phone numbers, postcodes and ID
numbers are left alone, and so is everything inside a URL (see `text.readable`). A bracketed code followed
by a unit (`（300000）股`) is an amount, and one after an index name (`上证指数（000001）`) is the index.
Hong Kong codes without `.HK` need a Hong Kong word in the same sentence (港股, 港交所, 恒生, HKEX...).

`find_codes(text)` takes text from `text.readable` and returns the codes in normal form.
"""
from __future__ import annotations

import re
from typing import Iterator

from .codes import a_share, hk_share, us_share
from .text import is_cjk, sentence_around

_NOT_ALNUM_BEFORE = r"(?<![A-Za-z0-9])"
_NOT_ALNUM_AFTER = r"(?![A-Za-z0-9])"
_US_SYMBOL = r"([A-Z]{1,5})(?:[.\-/]([A-Z]))?"

# A shares with their exchange: 600519.SH, 600519.SS, 000001.XSHE; SH600519, sz000001, BJ:430047.
_A_SUFFIXED = re.compile(rf"(?<![A-Za-z0-9.\-])(\d{{6}})\.(SH|SS|SZ|BJ|XSHG|XSHE){_NOT_ALNUM_AFTER}", re.IGNORECASE)
_A_PREFIXED = re.compile(rf"{_NOT_ALNUM_BEFORE}(SH|SZ|BJ)[.:]?(\d{{6}}){_NOT_ALNUM_AFTER}", re.IGNORECASE)
# Hong Kong with its exchange: 00700.HK, 700.HK, HK00700, (HKEX: 700), (港交所：00700).
_HK_SUFFIXED = re.compile(rf"(?<![A-Za-z0-9.\-])(\d{{1,5}})\.HK(?![A-Za-z])", re.IGNORECASE)
_HK_PREFIXED = re.compile(rf"{_NOT_ALNUM_BEFORE}HK\.?(\d{{5}})(?!\d)", re.IGNORECASE)
_HK_EXCHANGE = re.compile(r"[(\[【]\s*(?:HKEX|SEHK|HKG|HKSE|港交所|联交所|聯交所|香港联交所|香港交易所)\s*:\s*(\d{1,5})\s*[)\]】,]")
# Labels: 股票代码：300750, 证券代码 600519, 代码为000858; 股份代号：700 (Hong Kong filings), 港股代码：00700.
_CODE_LABEL = re.compile(r"(股票|证券|股份|A股|B股|个股|公司)?代码\s*(?:为|是)?\s*:?\s*(\d{4,6})(?![0-9A-Za-z%]|\.[0-9A-Za-z])")
_HK_LABEL = re.compile(r"(?:股份代号|股份代號|港股代码|H股代码|港股代號)\s*:?\s*(\d{1,5})(?![0-9A-Za-z%]|\.[0-9A-Za-z])")
# US: (NASDAQ: AAPL), NYSE:XOM, 纳斯达克：NVDA, $AAPL, AAPL.US; Reuters codes (AAPL.O, XOM.N) in brackets.
_US_EXCHANGE = re.compile(
    r"(?:NASDAQ|Nasdaq|NasdaqGS|NasdaqGM|NasdaqCM|NYSE(?:\s+(?:American|Arca|MKT))?|AMEX|Amex|CBOE|Cboe"
    r"|纳斯达克|纳斯达克交易所|纽交所|纽约证券交易所|纽约证交所|美交所)\s*:\s*" + _US_SYMBOL + r"(?![A-Za-z0-9])")
_CASHTAG = re.compile(r"(?<![A-Za-z0-9$])\$" + _US_SYMBOL + r"(?![A-Za-z0-9])")
_US_SUFFIXED = re.compile(r"(?<![A-Za-z0-9.\-])" + _US_SYMBOL + r"\.US(?![A-Za-z0-9])")
# A bracket and what it holds: it names securities only when it holds nothing but codes.
_BRACKET = re.compile(r"[(\[【]([^()\[\]【】\n]{1,80})[)\]】]")
_LIST_SEPARATOR = re.compile(r"\s*[,、;/]\s*|\s+")
_TOKEN_A = re.compile(r"(?:(SH|SZ|BJ)[.:]?)?(\d{6})(?:\.(SH|SS|SZ|BJ|XSHG|XSHE))?", re.IGNORECASE)
_TOKEN_HK = re.compile(r"(\d{4,5})(\.HK)?", re.IGNORECASE)
_TOKEN_US = re.compile(_US_SYMBOL + r"\.(?:US|O|N|OQ)")
# After a bracketed number, these make it a quantity, not a code.
_UNIT_AFTER = re.compile(r"\s*[元股份万亿千百手只张%美港台欧日]")
_INDEX_BEFORE = re.compile(r"(?:指数|成指|综指|指)\s*$")
_HK_CONTEXT = re.compile(r"港股|港交所|联交所|聯交所|香港交易所|香港上市|在港上市|港元|港币|港幣|恒生|恒指|H股|红筹"
                         r"|Hong Kong|HKEX|SEHK|\bHK\b")
# `$` before these is a currency or an index, not a security.
_NOT_CASHTAGS = frozenset({
    "A", "C", "S", "NZ", "US", "HK", "NT", "AU", "CA", "SG", "R", "RMB", "USD", "HKD", "AUD", "CAD", "NZD",
    "SGD", "CNY", "CNH", "EUR", "GBP", "JPY", "CHF", "TWD", "MXN", "BTC", "ETH", "USDT",
    "SPX", "NDX", "DJI", "DJIA", "VIX", "COMP", "RUT", "INX", "IXIC", "GSPC",
})


def find_codes(text: str) -> set[str]:
    """Every security code written out in `text` (from `readable`)."""
    return {code for code in _candidates(text) if code}


# Necessary conditions of the forms above, found far faster than the forms themselves (most of which start
# with a look-behind, tried at every character): a form is looked for only in a text that passes its hint.
# Letters as classes, not IGNORECASE: a pattern that starts with a class is skipped along in C, an
# alternation under IGNORECASE is tried at every character (8 times slower). The classes are looser than the
# forms, as a hint may be; IGNORECASE's other matches (ſ for s, the Kelvin sign for K) cannot occur in
# `readable` text, which is NFKC.
_HINT_A_SUFFIXED = re.compile(r"\d\.[SsBbXx]")
_HINT_A_PREFIXED = re.compile(r"[SsBb][HhZzJj][.:]?\d")
_HINT_HK_SUFFIXED = re.compile(r"\d\.[Hh][Kk]")
_HINT_HK_PREFIXED = re.compile(r"[Hh][Kk]\.?\d")


def _candidates(text: str) -> Iterator[str | None]:
    """Codes in normal form; None where the form fits but the number is no code (`(100000)`)."""
    if _HINT_A_SUFFIXED.search(text):
        for m in _A_SUFFIXED.finditer(text):
            yield a_share(m.group(1), m.group(2))
    if _HINT_A_PREFIXED.search(text):
        for m in _A_PREFIXED.finditer(text):
            yield a_share(m.group(2), m.group(1))
    if _HINT_HK_SUFFIXED.search(text):
        for m in _HK_SUFFIXED.finditer(text):
            yield hk_share(m.group(1))
    hk_prefixed = _HK_PREFIXED.finditer(text) if _HINT_HK_PREFIXED.search(text) else ()
    hk_labelled = _HK_LABEL.finditer(text) if "代" in text else ()
    for m in (*hk_prefixed, *_HK_EXCHANGE.finditer(text), *hk_labelled):
        yield hk_share(m.group(1))
    for m in _CODE_LABEL.finditer(text) if "代码" in text else ():
        if m.group(1) is None and m.start() > 0 and is_cjk(text[m.start() - 1]):
            continue  # 信用代码, 行政区划代码...: some other code
        digits = m.group(2)
        if len(digits) == 6:
            yield a_share(digits)
        elif _hong_kong_context(text, m.start(), m.end()):
            yield hk_share(digits)
    for m in _US_EXCHANGE.finditer(text) if ":" in text else ():
        in_brackets = text[max(0, m.start() - 3):m.start()].rstrip()[-1:] in ("(", "[", "【")
        if in_brackets or len(m.group(1)) >= 2:  # "Nasdaq: A record day" is no ticker A
            yield us_share(m.group(1), m.group(2))
    for m in _CASHTAG.finditer(text) if "$" in text else ():
        if m.group(1) not in _NOT_CASHTAGS:
            yield us_share(m.group(1), m.group(2))
    for m in _US_SUFFIXED.finditer(text) if ".US" in text else ():
        yield us_share(m.group(1), m.group(2))
    for m in _BRACKET.finditer(text):
        yield from _bracketed_codes(text, m)


def _bracketed_codes(text: str, bracket: re.Match) -> Iterator[str | None]:
    tokens = [t for t in _LIST_SEPARATOR.split(bracket.group(1).strip()) if t]
    if not tokens or _UNIT_AFTER.match(text, bracket.end()):
        return
    if _INDEX_BEFORE.search(text[max(0, bracket.start() - 3):bracket.start()]):
        return
    codes = []
    hong_kong = None
    for token in tokens:
        if m := _TOKEN_A.fullmatch(token):
            codes.append(a_share(m.group(2), m.group(1) or m.group(3)))
        elif m := _TOKEN_US.fullmatch(token):
            codes.append(us_share(m.group(1), m.group(2)))
        elif m := _TOKEN_HK.fullmatch(token):
            if not m.group(2):  # (00700) is a Hong Kong code only where the sentence speaks of Hong Kong
                if not token.startswith("0"):
                    return
                if hong_kong is None:
                    hong_kong = _hong_kong_context(text, bracket.start(), bracket.end())
                if not hong_kong:
                    return
            codes.append(hk_share(m.group(1)))
        else:
            return  # a bracket with anything else in it is prose: (2023), (300000 shares), (CEO)
    if all(codes):
        yield from codes


def _hong_kong_context(text: str, start: int, end: int) -> bool:
    return _HK_CONTEXT.search(sentence_around(text, start, end)) is not None

