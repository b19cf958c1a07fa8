"""Credit lines ("作者：张三", "记者 李四", "来源：新华社", "By Jane Doe") and author names.

Credit lines are taken out of article bodies (they are metadata, not text) and the names they give serve as
a fallback author. `clean_author` normalises author values from any source (meta tags, JSON-LD, bylines).
`labelled_credits` finds "作者：张三" inside a longer header line, `trailing_credit` the "（记者 张三）" that
closes a Chinese report's last paragraph, and `looks_like_chinese_name` tells a person from an outlet where
no label says which it is ("来源：尹小雨", a name alone under the title).
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
# Tokens that follow Chinese names in a byline without being one ("记者 李四 北京报道", "张三 摄", "受访者供图"),
# and the link texts blog and forum bylines carry ("作者：张三 编辑 回复").
_ROLE_WORD = re.compile(r"[\u4e00-\u9fff]{0,5}(?:报道|供图|摄影?)|整理|编译|综合|撰写|采写|制图|发自\S*|[文图]"
                        r"|编辑|删除|回复|收藏|打印|举报|分享|评论|阅读|关注|私信")
# Blog and forum bylines count readers and comments: "作者:张三 阅读(1660) 评论(5)".
_COUNTER = re.compile(r"(?:阅读|浏览|点击|评论|回复|人气|点赞|收藏)(?:数|量|次数)?\s*[:：]?\s*[(（\[]?\s*\d+\s*[)）\]]?次?")
# A handle after an explicit Chinese label: "作者：qingshui".
_HANDLE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{1,23}$")

_CJK_AUTHOR_LABEL = (r"(?:(?:本报|本刊|本台|本网)?(?:特约|实习|首席|见习|驻\S{1,4})?"
                     r"(?:记者|原作者|作者|撰文|撰稿|执笔人|执笔|通讯员|采写)|(?:文|图文|文图|文/图)(?=\s*[/｜|:：]))")
# Editor, source and date labels need a colon ("编辑部…", "来源于…", "时间表…" start ordinary prose), except
# the unmistakable 责任编辑 / 责编.
_CJK_FIELD = re.compile(
    rf"(?P<author>{_CJK_AUTHOR_LABEL})\s*[:：/｜|]?\s*"
    r"|(?P<editor>(?:责任编辑|责编)\s*[:：]?|(?:值班编辑|实习编辑|编辑|校对|审核|审校|审稿|主编|终审|初审|复审|"
    r"监制|美编|统筹|策划|排版|编审|摄影|摄像)\s*[:：])\s*"
    r"|(?P<source>(?:来源|稿源|出处|转自|图片来源|图源)\s*[:：])\s*"
    r"|(?P<date>(?:发布时间|发表时间|更新时间|发布日期|发表日期|发稿时间|成文日期|时间|日期)\s*[:：]|(?:发表|发布)于\s*[:：]?)\s*"
    # Government documents name the issuing body: their author.
    r"|(?P<issuer>(?:发文机关|发布机构|发文单位)\s*[:：])\s*"
)
# An explicit author label inside a longer line ("连载：江南旧事 作者：罗晓东").
_LABELLED_AUTHOR = re.compile(r"(?:^|(?<=\s))(?:作者|记者|撰文|撰稿|执笔人|执笔|原作者)\s*[:：]\s*")
# "Posted by Jane Doe", or "by lanse" after the time of posting, ending the line or before "at", "on", "|".
_POSTED_BY = re.compile(
    r"(?:^|\s)(?P<posted>posted\s+)?by\s+(?P<name>[A-Za-z][\w.'-]{1,23}(?:\s[A-Z][\w.'-]*){0,2}|[\u4e00-\u9fff]{2,4})"
    r"\s*(?:[〓|｜·•-]|\b(?:at|on)\b|$)", re.IGNORECASE)
_CLOCK = re.compile(r"\d{1,2}[:：]\d{2}")
_NOBODY = frozenset({"staff", "admin", "administrator", "editor", "editors", "guest", "anonymous", "webmaster",
                     "team", "user", "匿名", "游客", "管理员", "小编"})
# A credit in brackets closing a paragraph: "……推动工业高质量发展。（记者 杨晓林）".
TRAILING_BRACKETS = re.compile(r"\s*[（(]([^（）()]{2,40})[）)]\s*$")
_LATIN_FIELD = re.compile(
    r"(?P<author>\b(?:By|Written by|Reporting by|Additional reporting by|Words by|Text by|Story by)\s+)"
    r"|(?P<editor>\b(?:Editing by|Edited by|Writing by|Compiled by)\s+)"
    r"|(?P<source>\bSource\s*:\s*)",
    re.IGNORECASE,
)
# The outlet a reporter writes for, before the label: "江南日报记者 王东阳", "江南网北方频道 记者 伊宁",
# "整合 江南日报·潮头记者 陈明远".
_LEADING_OUTLET = re.compile(r"^(?:[\u4e00-\u9fff·]{2,12}\s?){1,2}(?=(?:特约|实习|首席|见习)?(?:记者|通讯员))")
_LEADING_DATE = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?\s*")
_LEADING_DATE_TIME = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?(?:\s+|$)")
_MAX_DATELINE_OUTLET = 20
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_ENGLISH_DATELINE = re.compile(
    rf"^(?:(?:Published|Posted)(?:\s+on)?:?\s+)?(?P<date>(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?,?\s+)?"
    rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?)\s+\d{{4}}"
    rf"(?:,?\s+(?:at\s+)?\d{{1,2}}[:.]\d{{2}}(?::\d{{2}})?\s*(?:[ap]\.?m\.?)?(?:\s+[A-Z]{{2,4}})?)?)$",
    re.IGNORECASE)
_BRACKETS = "()（）[]【】〔〕"
_SENTENCE_END = re.compile(r"[。！？!?.]$")

_AUTHOR_PREFIX = re.compile(rf"^\s*(?:{_CJK_AUTHOR_LABEL}|By\b|Written by\b|Reporting by\b)\s*[:：/｜|]?\s*",
                            re.IGNORECASE)
# "/ Reuters", "| Bloomberg", "· 3 min read", "(Reuters)": about the outlet, not the person.
_TRAILING_NOISE = re.compile(r"\s*[/|｜·•—–]\s+.*$|\s*[（(][^（()）]*[)）]\s*$")
_PLACE_SUFFIX = re.compile(r"\s+in\s+[A-Z][\w .'-]*$")
# "杨晓林/文", "张三/摄": the slash introduces the person's role.
_ROLE_SLASH = re.compile(r"\s*/\s*(?=[文图摄])")
_NAME_SEPARATORS = re.compile(r"\s*(?:[,，、;；&]|\band\b)\s*")


def parse_credit_line(text: str) -> list[Credit] | None:
    """The fields of a short line made only of credits ("来源：新华网 作者：张三 2020-08-31 12:56",
    "By Jane Doe and John Roe"); None when the line is anything else."""
    line = text.strip().strip(_BRACKETS).strip()
    if not line or len(line) > _MAX_CREDIT_LINE:
        return None
    line = _LEADING_OUTLET.sub("", _LEADING_DATE.sub("", " ".join(_COUNTER.sub(" ", line).split())))
    for pattern in (_CJK_FIELD, _LATIN_FIELD):
        credits = _credits_from_fields(line, pattern)
        if credits is not None:
            return credits
    return None


def parse_posted_by(text: str) -> list[Credit] | None:
    """The poster named in a blog or forum post's footer line: "Posted by Jane Doe at 10:56 AM",
    "〓 明星话题 发布时间 2005/03/15 22:36:13 by lanse 〓"; None for anything else."""
    line = text.strip()
    if len(line) > _MAX_CREDIT_LINE or _SENTENCE_END.search(line):
        return None
    match = _POSTED_BY.search(line)
    if not match or not (match.group("posted") or _CLOCK.search(line[:match.start()])):
        return None
    if match.group("name").casefold() in _NOBODY:
        return None
    return [Credit("author", match.group("name"))]


def labelled_credits(text: str) -> list[Credit]:
    """Authors named after an explicit label anywhere in a short line ("连载：江南旧事 作者：罗晓东")."""
    line = " ".join(_COUNTER.sub(" ", text).split())
    if len(line) > _MAX_CREDIT_LINE * 2:
        return []
    credits = []
    for label in _LABELLED_AUTHOR.finditer(line):
        value = re.split(r"\s+\S{1,6}[:：]", line[label.end():], maxsplit=1)[0]
        value = value.strip(" \t,，;；|｜·").strip(_BRACKETS).strip()
        if _plausible_value("author", value, labelled=True, separated=True):
            credits.append(Credit("author", value))
    return credits


def trailing_credit(text: str) -> tuple[str, list[Credit]] | None:
    """A paragraph ending in a bracketed credit ("……发展。（记者 杨晓林）", "……（孙雨桐）"): the paragraph without
    it, and the credits; None when the brackets hold anything else."""
    match = TRAILING_BRACKETS.search(text)
    if not match:
        return None
    inner = match.group(1).strip()
    if not _is_cjk(inner):
        return None  # "(Reuters)", "(Reporting by …)": English wire copy keeps its credits in the text
    credits = parse_credit_line(inner)
    if credits is None and looks_like_chinese_name(inner):
        credits = [Credit("author", inner)]
    if not credits or any(credit.kind == "date" for credit in credits):
        return None
    return text[:match.start()].rstrip(), credits


def parse_dateline(text: str) -> list[Credit] | None:
    """A date and time, alone or with a short outlet name ("2021-11-25 16:26:07", "2020年08月31日 12:56 央视网"),
    or an English date line ("Saturday, September 10th, 2005 10:56 am", "Published March 3, 2021").

    Only meaningful above the article's first paragraph: further down such a line can be an event in a
    timeline."""
    line = text.strip()
    english = _ENGLISH_DATELINE.match(line)
    if english:
        return [Credit("date", english.group("date"))]
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
        kind: CreditKind = "author" if match.lastgroup == "issuer" else match.lastgroup  # type: ignore[assignment]
        value = line[match.end():following.start() if following else len(line)]
        value = value.strip(" \t,，;；|｜·").strip(_BRACKETS).strip()
        separated = any(mark in match.group() for mark in ":：/｜|")
        plausible = (_plausible_value("source", value) if match.lastgroup == "issuer"
                     else _plausible_value(kind, value, labelled=pattern is _CJK_FIELD, separated=separated))
        if not plausible:
            return None
        credits.append(Credit(kind, value))
    return credits


def _plausible_value(kind: CreditKind, value: str, *, labelled: bool = False, separated: bool = True) -> bool:
    if kind == "author":
        names = author_names(value, strict=True, handles=labelled and separated)
        if labelled and not separated:
            # "记者 李明" is a byline, "记者博客" a link to the reporters' blogs: without a colon, a common
            # surname must say that a name follows.
            return bool(names) and all(_has_surname(name) for name in names if _is_cjk(name))
        # After a Chinese label and a colon a blog or forum handle is a name too; after "By" it would be prose.
        return bool(names)
    if kind == "date":
        return any(ch.isdigit() for ch in value)
    if kind == "editor":  # a bare "编辑：" label line is a credit line too
        return len(value) <= 40 and not _SENTENCE_END.search(value)
    return 0 < len(value) <= 40 and not _SENTENCE_END.search(value)


def author_names(raw: str, *, strict: bool = False, handles: bool = False) -> list[str]:
    """Person names in an author value, with labels ("作者：", "By") and outlet noise ("/ Reuters") removed.

    `strict` (for lines found in article text) accepts only names and returns [] if any part is something
    else, so that "记者获悉，…" or "By the end of the year…" are not taken for bylines; with `handles`, a
    user name ("qingshui") counts as a name.
    """
    text = " ".join(raw.split())
    if strict and "，" in text:
        return []  # a Chinese comma inside a byline means a clause follows: "记者获悉，…"
    text = _AUTHOR_PREFIX.sub("", _ROLE_SLASH.sub(" ", text))
    text = _TRAILING_NOISE.sub("", text)
    text = _PLACE_SUFFIX.sub("", text)
    names: list[str] = []
    for part in _NAME_SEPARATORS.split(text):
        for name in _split_cjk_names(part.strip()):
            if not name or _ROLE_WORD.fullmatch(name):
                continue
            if strict and not looks_like_name(name) and not (handles and _HANDLE.match(name)):
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
    # Chinese bylines separate people with spaces ("记者 张三 李四"); Latin names contain spaces. A single Han
    # character is no name: "钱 波" is one person written with a space after the surname.
    if not _is_cjk(part):
        return [part]
    names: list[str] = []
    for token in part.split():
        if names and len(names[-1]) == 1 and _is_cjk(names[-1]) and _is_cjk(token) and len(token) <= 2:
            names[-1] += token
        else:
            names.append(token)
    return names


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def looks_like_name(name: str) -> bool:
    """Whether one name, as found after a byline label, is a person's: a Han name of two to four characters,
    or one to five capitalised Latin words."""
    if _is_cjk(name):
        return bool(_CJK_NAME.match(name))
    words = name.split()
    if not 1 <= len(words) <= 5 or len(name) > 50:
        return False
    return bool(_LATIN_NAME_WORD.match(words[0])) and all(
        _LATIN_NAME_WORD.match(word) or word.lower() in _NAME_PARTICLES for word in words
    )


# The most common Chinese surnames (together with the word-like ones below, about nine in ten people bear
# one). A short unlabelled text is taken for a person's name only when it starts with one and does not end
# like an organisation: "尹小雨" is a person, "新华社" and "央视网" are not.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤康施牛樊葛邢齐易乔伍庞"
    "颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳祝宁舒阮柯梅童凌裴霍涂苗盛曲翁冉骆蓝辛靳柴蒙鲍喻祁蒲滕屈饶牟艾尤穆卓缪麦褚娄"
    "窦戚岑党宫卜冷晏席米柏宗瞿桂佟臧闵苟邬卞姬师仇栾隋刁巫寇桑郎甄丛仲虞敖佘池麻苑迟邝匡鞠荆郁胥栗燕楚鄢谌奚皮粟冼蔺"
    "厉仝郜阚")
# Surnames that also start everyday words ("关于", "万元", "成交"): enough after a byline label, not alone.
_WORDLIKE_SURNAMES = frozenset("单解查成谷楼连项简伊沙荣甘尚向常温万关包符纪毕季路游管房景费卫边巩封谈班储闻")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "司徒",
                      "端木", "轩辕", "长孙", "宇文", "澹台", "南宫", "呼延", "万俟")
_ORGANISATION_ENDING = re.compile(
    r"(?:社|网|报|台|刊|站|部|局|委|院|会|所|厅|处|办|署|司|行|店|馆|校|厂|队|组|团|军|省|市|县|区|镇|村|国|州|中心|"
    r"集团|公司|日报|晚报|早报|周刊|时报|新闻|电视|电台|财经|证券|银行|在线|频道|网站|网络|客户端|视频|传媒|杂志|编辑|博客)$")
# Two-character words that start with a surname and come alone under titles (tags, sections).
_COMMON_WORDS = frozenset({"黄金", "高管", "周末", "董事", "金融", "石油", "方面", "白宫", "龙头", "任何", "许多", "韩国",
                           "范围", "严格", "毛利", "余额", "谢谢", "曾经", "马上", "陆续", "程序", "钱包", "关于",
                           "宁波", "江苏", "苏州", "郑州", "武汉", "康复", "施工", "方案", "方式", "白银", "金价",
                           "高速", "高端", "周期", "于是"})


def looks_like_chinese_name(text: str) -> bool:
    """Whether `text` is, alone, most likely a Chinese person's name: two or three Han characters (four with a
    compound surname) starting with a common surname, and not ending like an organisation."""
    name = text.strip()
    if not re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name) or name in _COMMON_WORDS or _ORGANISATION_ENDING.search(name):
        return False
    if name[:2] in _COMPOUND_SURNAMES:
        return len(name) in (3, 4)
    return len(name) in (2, 3) and name[0] in _SURNAMES and name[0] not in _WORDLIKE_SURNAMES


def _has_surname(name: str) -> bool:
    return name[:2] in _COMPOUND_SURNAMES or name[:1] in _SURNAMES or name[:1] in _WORDLIKE_SURNAMES
