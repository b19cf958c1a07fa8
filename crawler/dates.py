"""Date strings from feeds and pages → aware datetimes, right for Chinese finance portals.

`parse_date` keeps the UTC offset the text gives (a `+08:00` date stays at +08:00: the archive shows the
publisher's local time) and uses `default_tz` only when the text names no zone. It never raises.

Shapes understood, after full-width characters are folded to ASCII (`２０２２` → `2022`, `：` → `:`):

- year first: ISO 8601 / RFC 3339 (`2022-02-09T11:10:19.5+08:00`, `Z`, `+0800`, `+08`, date only),
  `2022/02/09 11:10`, `2022.02.09`, `2020年8月31日12时56分`, with 上午/下午 or AM/PM;
- month by name: RFC 822/2822 and its relatives (`Wed, 09 Feb 2022 11:10:19 +0800`, two-digit years,
  missing weekday or seconds, any weekday name), asctime and Java `Date.toString()`
  (`Wed Feb 09 11:10:19 CST 2022`), JavaScript (`... GMT+0800 (China Standard Time)`),
  `February 9th, 2022 3:10 PM`;
- Unix timestamps in seconds or milliseconds between 2000 and 2100.

Either may follow a label (`发布时间：`, `来源：新浪财经 2022-02-09 11:10`): the date is searched, not matched
from the start. Month names are English only; numeric day-first or month-first dates (`09/02/2022`) are
ambiguous and left unparsed.

Zone abbreviations: `CST` is China Standard Time (+08:00), as on every Chinese portal and in Java's
`Date.toString()` on a Chinese server, not US Central as in feedparser and the email module. Abbreviations
that mean several zones (IST, AST) are ignored, so the default zone applies. Military letters other than
`Z` are UTC, as RFC 5322 §4.3 asks: RFC 822 gave them with the wrong sign, so they carry no information.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
_HAN = "\u4e00-\u9fff\u3400-\u4dbf"
_KANA_OR_HANGUL = "\u3040-\u30ff\uac00-\ud7af"
_HAN_RUNS = re.compile(f"[{_HAN}]+")
_KANA_OR_HANGUL_RUNS = re.compile(f"[{_KANA_OR_HANGUL}]+")
_HAN_KANA_OR_HANGUL = re.compile(f"[{_HAN}{_KANA_OR_HANGUL}]+")

_HOURS: dict[str, float] = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
    "BST": 1, "WEST": 1, "CET": 1, "MET": 1, "CEST": 2, "MEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "ICT": 7, "WIB": 7,
    "CST": 8, "BJT": 8, "HKT": 8, "SGT": 8, "MYT": 8, "PHT": 8, "AWST": 8,
    "JST": 9, "KST": 9, "ACST": 9.5, "AEST": 10, "ACDT": 10.5, "AEDT": 11, "NZST": 12, "NZDT": 13,
    "ADT": -3, "EDT": -4, "EST": -5, "CDT": -5, "MDT": -6, "MST": -7, "PDT": -7, "PST": -8,
    "AKDT": -8, "AKST": -9, "HST": -10,
}
_ZONE_NAMES = {name: timezone(timedelta(hours=hours)) for name, hours in _HOURS.items()}
_MILITARY = frozenset("ABCDEFGHIKLMNOPQRSTUVWXY")

_MONTHS = {name: number for number, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
     ("nov", "november"), ("dec", "december")), start=1) for name in names}

# Unix timestamps accepted: 2000-01-01 to 2100-01-01. Anything else made of digits is not a date we trust.
_TIMESTAMP_RANGE = (946_684_800, 4_102_444_800)
_TIMESTAMP = re.compile(r"\d{9,13}(?:\.\d+)?")

_TIME = r"""
    (?:(?P<cn_half>上午|早上|凌晨|中午|下午|晚上)\s*)?
    (?P<hour>\d{1,2})\s*[:时點点]\s*(?P<minute>\d{1,2})
    (?:\s*[:分]\s*(?P<second>\d{1,2})(?:[.,](?P<fraction>\d+))?)?
    (?:\s*(?P<half>[AaPp])\.?[Mm]\.?(?![A-Za-z]))?
"""
_YEAR_FIRST = re.compile(r"""
    (?<!\d)(?P<year>\d{4})\s*(?P<sep>[-/.年])\s*(?P<month>\d{1,2})\s*(?:(?P=sep)|月)\s*(?P<day>\d{1,2})(?!\d)\s*日?
    (?:(?:\s*T\s*|[\s,]*)""" + _TIME + r""")?
    (?P<rest>.*)
""", re.VERBOSE | re.DOTALL)
# A zone name must end where the time's annotation ends: `11:10 A股` is about A-shares, not zone Alpha.
_ZONE = re.compile(r"\s*(?:(?P<name>[A-Za-z]{1,5})(?=[\s+\-,;]|$))?\s*(?P<offset>[+-]\d{1,2}(?::?\d{2})?(?!\d))?")
_COMMENT = re.compile(r"\([^)]*\)")
_ENGLISH_TOKEN = re.compile(r"""
    (?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)
  | (?P<signed>[+-]\d{1,4}(?::\d{2})?)
  | (?P<number>\d+)(?:st|nd|rd|th)?
  | (?P<word>[A-Za-z]+)
""", re.VERBOSE)
_ENGLISH_TIME = re.compile(r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?")


def parse_date(text: str | None, default_tz: tzinfo) -> datetime | None:
    """Aware datetime in the offset the text gives, else in `default_tz`; None when no date is found."""
    if not text:
        return None
    cleaned = " ".join(unicodedata.normalize("NFKC", text[:256]).split())
    try:
        return (_from_timestamp(cleaned, default_tz) or _from_year_first(cleaned, default_tz)
                or _from_month_name(cleaned, default_tz))
    except (ValueError, OverflowError):  # a field out of range: 2022-02-30, 25:00, +99:00
        return None


def zone_for_text(sample: str, fallback: tzinfo) -> tzinfo:
    """China's zone when the sample is mostly Chinese, else `fallback`.

    Mostly Chinese: Han characters are at least half of the letters, and kana or Hangul are under a tenth
    of them (Japanese and Korean text holds Han characters too, but is not on Beijing time)."""
    # Counted by the regex engine and str.isalpha, in C: a Python loop over the characters costs more. Most
    # samples are decided before the other letters need counting.
    sample = sample[:20_000]
    han = sum(map(len, _HAN_RUNS.findall(sample)))
    if not han:
        return fallback
    kana_or_hangul = sum(map(len, _KANA_OR_HANGUL_RUNS.findall(sample)))
    if kana_or_hangul * 10 >= han:
        return fallback
    other = sum(map(str.isalpha, _HAN_KANA_OR_HANGUL.sub("", sample)))
    return CHINA if han >= other + kana_or_hangul else fallback


def _from_timestamp(text: str, default_tz: tzinfo) -> datetime | None:
    if not _TIMESTAMP.fullmatch(text):
        return None
    value = float(text)
    for seconds in (value, value / 1000):
        if _TIMESTAMP_RANGE[0] <= seconds < _TIMESTAMP_RANGE[1]:
            return datetime.fromtimestamp(seconds, default_tz)
    return None


def _from_year_first(text: str, default_tz: tzinfo) -> datetime | None:
    m = _YEAR_FIRST.search(text)
    if not m:
        return None
    hour, minute, second, micro = _clock(m)
    zone = _zone(m["rest"]) if m["hour"] else None
    return datetime(int(m["year"]), int(m["month"]), int(m["day"]), hour, minute, second, micro,
                    tzinfo=zone or default_tz)


def _from_month_name(text: str, default_tz: tzinfo) -> datetime | None:
    """Dates whose month is an English name, fields in any of the usual orders (RFC 822, asctime, Java,
    JavaScript, US prose). Unknown words (weekdays, right or wrong, `at`, `of`) are skipped."""
    day = month = year = None
    clock: re.Match[str] | None = None
    half: str | None = None
    zone: tzinfo | None = None
    zone_named = False
    for token in _ENGLISH_TOKEN.finditer(_COMMENT.sub(" ", text)):
        kind, value = token.lastgroup, token[token.lastgroup or 0]
        if kind == "time" and clock is None:
            clock = _ENGLISH_TIME.fullmatch(value)
        elif kind == "signed" and clock is not None:
            zone = _offset(value)  # after the time a signed number is the offset, also in GMT+0800
        elif kind in ("number", "signed"):  # before the time a sign is a separator: 09-Feb-2022
            digits = value.lstrip("+-")
            if len(digits) == 4 and year is None:
                year = int(digits)
            elif len(digits) <= 2 and day is None:
                day = int(digits)
            elif len(digits) <= 2 and year is None:
                year = _four_digit_year(int(digits))
            else:
                return None
        elif kind == "word":
            word = value.lower()
            if month is None and word in _MONTHS:
                month = _MONTHS[word]
            elif word in ("am", "pm"):
                half = word[0]
            elif clock is not None and not zone_named:  # only the first word after the time names a zone
                zone, zone_named = _named_zone(value), True
    if day is None or month is None or year is None:
        return None
    hour, minute, second, micro = _clock(clock) if clock else (0, 0, 0, 0)
    if half:
        hour = _twelve_hour(hour, half)
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=zone or default_tz)


def _clock(m: re.Match[str]) -> tuple[int, int, int, int]:
    """(hour, minute, second, microsecond) from a match with the `_TIME` groups; midnight without a time."""
    if not m["hour"]:
        return 0, 0, 0, 0
    hour = int(m["hour"])
    groups = m.groupdict()
    if groups.get("half"):
        hour = _twelve_hour(hour, groups["half"].lower())
    elif groups.get("cn_half"):
        hour = _chinese_half_day(hour, groups["cn_half"])
    second = min(int(m["second"] or 0), 59)  # a leap second lands on :59
    micro = int((m["fraction"] or "0")[:6].ljust(6, "0"))
    return hour, int(m["minute"]), second, micro


def _twelve_hour(hour: int, half: str) -> int:
    return hour % 12 + (12 if half == "p" else 0)


def _chinese_half_day(hour: int, word: str) -> int:
    """12-hour clock with 上午 (morning), 中午 (noon), 下午 (afternoon), 晚上 (evening), 凌晨 (small hours)."""
    if word in ("下午", "晚上") and hour < 12 or word == "中午" and hour < 11:
        return hour + 12
    if word in ("凌晨", "早上", "上午") and hour == 12:
        return 0
    return hour


def _four_digit_year(year: int) -> int:
    """RFC 5322 §4.3: two-digit years below 50 are 20xx, the others 19xx."""
    return 2000 + year if year < 50 else 1900 + year


def _zone(rest: str) -> tzinfo | None:
    """The zone written right after the time: `Z`, `+08:00`, `+0800`, `+08`, `CST`, `GMT+8`; else None."""
    m = _ZONE.match(_COMMENT.sub(" ", rest))
    if m is None:
        return None
    if m["offset"]:
        return _offset(m["offset"])
    return _named_zone(m["name"]) if m["name"] else None


def _named_zone(name: str) -> tzinfo | None:
    if name in _MILITARY:
        return timezone.utc
    return _ZONE_NAMES.get(name.upper())


def _offset(text: str) -> tzinfo:
    """`+8`, `+08`, `+0800`, `+08:00`, `+530` → a fixed offset; raises ValueError beyond ±23:59."""
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    if int(minutes) >= 60:
        raise ValueError(f"bad UTC offset {text}")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
