"""Credit lines ("作者：张三", "记者 李四", "来源：新华社", "By Jane Doe") and author names.

Credit lines are taken out of article bodies (they are metadata, not text) and the names they give serve as
a fallback author. `clean_author` normalises author values from any source (meta tags, JSON-LD, bylines).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

CreditKind = Literal["author", "source", "editor", "date"]


@dataclass(frozen=True, slots=True)
class Credit:
    kind: CreditKind
    value: str


# A credit line is short: anything longer is prose that happens to start with a label word.
_MAX_CREDIT_LINE = 80

# Han names have two to four characters; transcribed names join their parts with a middle dot.
_CJK_NAME = re.compile(r"^(?:[\u4e00-\u9fff]{2,4}|(?=.{3,12}$)[\u4e00-\u9fff]+(?:[·•][\u4e00-\u9fff]+)+)$")
_LATIN_NAME_WORD = re.compile(r"^(?:[A-Z][\w.'’-]*|[A-Z]\.)$")
_NAME_PARTICLES = frozenset({"de", "da", "del", "van", "von", "der", "den", "bin", "al", "la", "le", "du", "di", "dos"})
# Tokens that follow Chinese names in a byline without being one ("记者 李四 北京报道", "张三 摄").
_ROLE_WORD = re.compile(r"[\u4e00-\u9fff]{0,4}报道|摄影?|整理|编译|综合|撰写|采写|制图|供图|发自\S*")

_CJK_AUTHOR_LABEL = (r"(?:(?:本报|本刊|本台|本网)?(?:特约|实习|首席|见习|驻\S{1,4})?"
                     r"(?:记者|作者|撰文|撰稿|通讯员|采写)|文(?=\s*[/｜|:：]))")
# Editor, source and date labels need a colon ("编辑部…", "来源于…", "时间表…" start ordinary prose), except
# the unmistakable 责任编辑 / 责编.
_CJK_FIELD = re.compile(
    rf"(?P<author>{_CJK_AUTHOR_LABEL})\s*[:：/｜|]?\s*"
    r"|(?P<editor>(?:责任编辑|责编)\s*[:：]?|(?:值班编辑|实习编辑|编辑|校对|审核|审校|审稿|主编|终审|初审|复审|"
    r"监制|美编|统筹|策划|排版|编审|摄影|摄像)\s*[:：])\s*"
    r"|(?P<source>(?:来源|稿源|出处|转自|图片来源|图源)\s*[:：])\s*"
    r"|(?P<date>(?:发布时间|发表时间|更新时间|发布日期|时间|日期)\s*[:：])\s*"
)
_LATIN_FIELD = re.compile(
    r"(?P<author>\b(?:By|Written by|Reporting by|Additional reporting by|Words by|Text by|Story by)\s+)"
    r"|(?P<editor>\b(?:Editing by|Edited by|Writing by|Compiled by)\s+)"
    r"|(?P<source>\bSource\s*:\s*)",
    re.IGNORECASE,
)
# The outlet a reporter writes for, before the label: "光明日报记者 王建宏", "新华网黑龙江频道 记者 伊琳".
_LEADING_OUTLET = re.compile(r"^[\u4e00-\u9fff·]{2,12}\s?(?=(?:特约|实习|首席|见习)?(?:记者|通讯员))")
_LEADING_DATE = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?\s*")
_LEADING_DATE_TIME = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?(?:\s+|$)")
_MAX_DATELINE_OUTLET = 20
_BRACKETS = "()（）[]【】〔〕"
_SENTENCE_END = re.compile(r"[。！？!?.]$")

_AUTHOR_PREFIX = re.compile(rf"^\s*(?:{_CJK_AUTHOR_LABEL}|By\b|Written by\b|Reporting by\b)\s*[:：/｜|]?\s*",
                            re.IGNORECASE)
# "/ Reuters", "| Bloomberg", "· 3 min read", "(Reuters)": about the outlet, not the person.
_TRAILING_NOISE = re.compile(r"\s*[/|｜·•—–]\s+.*$|\s*[（(][^（()）]*[)）]\s*$")
_PLACE_SUFFIX = re.compile(r"\s+in\s+[A-Z][\w .'-]*$")
_NAME_SEPARATORS = re.compile(r"\s*(?:[,，、;；&]|\band\b)\s*")


def parse_credit_line(text: str) -> list[Credit] | None:
    """The fields of a short line made only of credits ("来源：新华网 作者：张三 2020-08-31 12:56",
    "By Jane Doe and John Roe"); None when the line is anything else."""
    line = text.strip().strip(_BRACKETS).strip()
    if not line or len(line) > _MAX_CREDIT_LINE:
        return None
    line = _LEADING_OUTLET.sub("", _LEADING_DATE.sub("", line))
    for pattern in (_CJK_FIELD, _LATIN_FIELD):
        credits = _credits_from_fields(line, pattern)
        if credits is not None:
            return credits
    return None


def parse_dateline(text: str) -> list[Credit] | None:
    """A date and time, alone or with a short outlet name ("2021-11-25 16:26:07", "2020年08月31日 12:56 央视网").

    Only meaningful above the article's first paragraph: further down such a line can be an event in a
    timeline."""
    line = text.strip()
    match = _LEADING_DATE_TIME.match(line)
    if not match:
        return None
    outlet = line[match.end():].strip()
    if len(outlet) > _MAX_DATELINE_OUTLET or _SENTENCE_END.search(outlet):
        return None
    return [Credit("date", match.group().strip()), *([Credit("source", outlet)] if outlet else [])]


def _credits_from_fields(line: str, pattern: re.Pattern[str]) -> list[Credit] | None:
    matches = list(pattern.finditer(line))
    if not matches or matches[0].start() != 0:
        return None
    credits: list[Credit] = []
    for match, following in zip(matches, [*matches[1:], None]):
        kind: CreditKind = match.lastgroup  # type: ignore[assignment]
        value = line[match.end():following.start() if following else len(line)]
        value = value.strip(" \t,，;；|｜·").strip(_BRACKETS).strip()
        if not _plausible_value(kind, value):
            return None
        credits.append(Credit(kind, value))
    return credits


def _plausible_value(kind: CreditKind, value: str) -> bool:
    if kind == "author":
        return bool(author_names(value, strict=True))
    if kind == "date":
        return any(ch.isdigit() for ch in value)
    if kind == "editor":  # a bare "编辑：" label line is a credit line too
        return len(value) <= 40 and not _SENTENCE_END.search(value)
    return 0 < len(value) <= 40 and not _SENTENCE_END.search(value)


def author_names(raw: str, *, strict: bool = False) -> list[str]:
    """Person names in an author value, with labels ("作者：", "By") and outlet noise ("/ Reuters") removed.

    `strict` (for lines found in article text) accepts only names and returns [] if any part is something
    else, so that "记者获悉，…" or "By the end of the year…" are not taken for bylines.
    """
    text = " ".join(raw.split())
    if strict and "，" in text:
        return []  # a Chinese comma inside a byline means a clause follows: "记者获悉，…"
    text = _AUTHOR_PREFIX.sub("", text)
    text = _TRAILING_NOISE.sub("", text)
    text = _PLACE_SUFFIX.sub("", text)
    names: list[str] = []
    for part in _NAME_SEPARATORS.split(text):
        for name in _split_cjk_names(part.strip()):
            if not name or _ROLE_WORD.fullmatch(name):
                continue
            if strict and not _looks_like_name(name):
                return []
            if "://" not in name and "@" not in name and name not in names:
                names.append(name)
    return names


def clean_author(raw: str | None) -> str | None:
    """An author value fit for the front matter ("By Jane Doe and John Roe / Reuters" → "Jane Doe, John Roe"),
    for any source: meta tags here, a feed's author field in the metadata merge."""
    names = author_names(raw) if raw else []
    return ", ".join(names) if names else None


def _split_cjk_names(part: str) -> list[str]:
    # Chinese bylines separate people with spaces ("记者 张三 李四"); Latin names contain spaces.
    return part.split() if _is_cjk(part) else [part]


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _looks_like_name(name: str) -> bool:
    if _is_cjk(name):
        return bool(_CJK_NAME.match(name))
    words = name.split()
    if not 1 <= len(words) <= 5 or len(name) > 50:
        return False
    return bool(_LATIN_NAME_WORD.match(words[0])) and all(
        _LATIN_NAME_WORD.match(word) or word.lower() in _NAME_PARTICLES for word in words
    )
