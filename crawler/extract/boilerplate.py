"""General rules that remove the boilerplate extraction leaves inside article bodies.

The rules work on the Markdown body, line by line, and are conservative: a line is dropped only when it is
short and matches a pattern that no sentence of an article would match ("责任编辑：王翔", "Advertisement",
"打开…APP，查看更多"), or when it belongs to a "related articles" list after a heading such as "相关阅读".
A long paragraph that merely mentions an app or a newsletter is kept. Credit lines (author, source, editor)
are dropped too but handed back, as they are the fallback author.

The patterns describe how Chinese and English news sites phrase their widgets, not any one site.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .bylines import (TRAILING_BRACKETS, Credit, looks_like_chinese_name, parse_credit_line, parse_dateline,
                      parse_posted_by, trailing_credit)

# Display width (a CJK character counts 2) above which a line is prose, whatever it contains.
_MAX_BOILERPLATE_WIDTH = 120
_MAX_HEADLINE_WIDTH = 160
_WIDE_RUNS = re.compile("[\u2e80-\U0010ffff]+")

_PROMO = re.compile(
    r"^(?:打开|下载|安装|登录|前往)\S{0,24}?(?:APP|App|app|客户端)"
    r"|尽在\S{0,24}(?:APP|App|app|客户端)$"
    r"|(?:APP|App|app|客户端)[，,、\s]*(?:查看|阅读|获取|了解|看)(?:更多|全文|详情)"
    r"|^(?:扫码|扫一扫|扫描|长按|识别)\S{0,20}(?:二维码|下载|关注|阅读|观看|订阅)"
    r"|^(?:微信|手机)?扫描\S{0,8}二维码"
    r"|^(?:欢迎|请|点击|敬请)?关注\S{0,20}(?:公众号|微信号|视频号|官方微博|抖音号|服务号)"
    r"|^(?:download|get|install|open) (?:the|our) .{0,40}\bapp\b",
    re.IGNORECASE,
)
_SHARE_OR_COMMENT = re.compile(
    r"^分享到[:：]?"
    r"|^(?:一键)?分享(?:至|到)?[:：]?\s*(?:微博|微信|QQ|朋友圈|空间)"
    r"|^(?:我要评论|发表评论|参与评论|查看评论|网友评论|评论)(?:\s*[(（]?\d*[)）]?)?$"
    r"|^share(?: this(?: article| story| page| post)?| on| via| to)?[\s:：]*"
    r"(?:(?:facebook|twitter|x|linkedin|email|e-mail|whatsapp|reddit|weibo|wechat|copy link|print)[\s,|·]*)*$"
    r"|^(?:\d+\s+)?comments?$|^(?:leave|add|post) a (?:comment|reply)$|^(?:show|view|read) (?:all )?comments$"
    r"|^loading comments\W*$",
    re.IGNORECASE,
)
# The story's tags, listed under it: "Topics: uber, libertarians", "标签：央行 降准".
_TAG_LIST = re.compile(r"^(?:topics|tags|tagged(?: with)?|filed under|keywords|标签|关键词|关键字|相关标签)\s*[:：]",
                       re.IGNORECASE)
# Paging between articles or slides: "上一篇：<headline>", "下一页", "Previous", "Next".
_PAGING = re.compile(r"^(?:上一|下一)(?:篇|页|条|张)(?:\s*[:：]|$)"
                     r"|^(?:previous|prev|next)(?: (?:article|story|post|slide|page))?$", re.IGNORECASE)
_RELATED_HEADING = re.compile(
    r"^(?:相关(?:阅读|新闻|文章|报道|推荐|链接|专题|资讯)|延伸阅读|推荐阅读|扩展阅读|热门(?:排行|文章|推荐|新闻|资讯)|"
    r"热点(?:推荐|新闻)|猜你喜欢|更多(?:精彩|阅读|新闻|推荐)|精彩推荐|往期(?:回顾|推荐|精选)|今日推荐|编辑推荐|大家都在看|"
    r"related(?: coverage| articles?| stories| news| content| reading| links| topics)?|read more|read next|"
    r"more from .{1,40}|more on this (?:story|topic)|recommended(?: for you| reading| stories)?|"
    r"most (?:read|popular|viewed)|trending(?: now| stories)?|you (?:may|might) also like|also read|see also|"
    r"further reading|top stories|latest news|related videos?|more videos|"
    r"recent (?:slide ?shows|stories|posts|articles)|相关视频|热门视频|最新文章|最新资讯)[:：]?$",
    re.IGNORECASE,
)
# "Read more: <headline>" points at another article; it is one line, not a heading over a list.
_READ_MORE_LINK = re.compile(r"^(?:read (?:more|also|next)|see also|related|相关阅读|延伸阅读|推荐阅读)\s*[:：]\s*\S",
                             re.IGNORECASE)
_AD_PART = re.compile(
    r"^(?:advertisement|advertising|ad|sponsored(?: content)?|paid (?:content|post)|scroll to continue(?: with content)?|"
    r"continue reading below|story continues below(?: advertisement)?|广告|推广|赞助内容)$",
    re.IGNORECASE,
)
_AD_SEPARATORS = re.compile(r"\s*[·•|｜—–-]\s*")
# Sign-ups name what is signed up for: "Sign up for a Hulu account" is news about Hulu, not a promo.
_NEWSLETTER = re.compile(
    r"\bnewsletters?\b.*\b(?:sign up|subscribe|inbox|delivered|get|receive)\b"
    r"|\b(?:sign up|subscribe|get)\b.*\b(?:newsletters?|in your inbox|email alerts|our briefing)\b"
    r"|^(?:点击)?订阅\S{0,20}(?:邮件|简报|早报|晚报|日报|资讯|专栏)",
    re.IGNORECASE,
)
_COPYRIGHT_OR_FOOTER = re.compile(
    r"all rights reserved|版权所有|版权归\S{0,20}所有|copyright\s*(?:©|\(c\)|&copy;|\d{4})|©\s*\d{4}|^©"
    r"|未经\S{0,15}(?:授权|许可|同意)\S{0,15}(?:不得|禁止|严禁)\S{0,4}(?:转载|使用|复制|摘编)|转载请(?:注明|联系)"
    r"|违法和不良信息举报|举报(?:电话|邮箱)|ICP(?:备|证)|公网安备|意见反馈"
    r"|^(?:关于我们|联系我们|网站地图|隐私政策|用户协议)$",
    re.IGNORECASE,
)
_PATTERNS = (_PROMO, _SHARE_OR_COMMENT, _PAGING, _TAG_LIST, _NEWSLETTER, _COPYRIGHT_OR_FOOTER)
# Navigation bars and breadcrumbs: three or more short items between separators ("首页 | 股票 | 基金").
_NAV_SEPARATORS = re.compile(r"\s*[|｜]\s*|\s+[>›»]\s+")
_MAX_NAV_ITEM_WIDTH = 16
_QR_IMAGE = re.compile(r"!\[[^\]]*(?:二维码|qr ?code)[^\]]*\]\([^)]*\)|!\[[^\]]*\]\([^)]*(?:qrcode|erweima)[^)]*\)",
                       re.IGNORECASE)

_IMAGE = re.compile(r"!\[(?:\\.|[^\]\\])*\]\([^)]*\)")
_BLOCK_MARKER = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d{1,3}[.)]\s+)+")
_EMPHASIS = re.compile(r"(?<!\\)(?:\*+|_{2,})")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SENTENCE_END = re.compile(r"[。！？!?.…”\"]$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_FENCE = re.compile(r"^\s*(?:```|~~~)")


@dataclass(frozen=True, slots=True)
class CleanBody:
    text: str
    credits: tuple[Credit, ...]


def clean_body(markdown: str, *, chinese: bool = False) -> CleanBody:
    """The body without boilerplate lines and credit lines; the credits it held. In `chinese` text a name
    alone above the first paragraph ("周立文") is a byline too."""
    kept: list[str] = []
    credits: list[Credit] = []
    in_fence = in_related_list = False
    before_prose = True  # between title and text, where datelines sit
    for line in markdown.splitlines():
        fence = _FENCE.match(line) is not None
        in_fence ^= fence
        if in_fence or fence:
            kept.append(line)  # code is content as it stands
            continue
        if line.lstrip().startswith("|"):
            kept.append(line)  # tables are content as they stand
            continue
        line = _QR_IMAGE.sub("", line)
        text = plain_text(line)
        if in_related_list and (not text or _is_related_item(line, text)):
            continue
        in_related_list = _RELATED_HEADING.match(text) is not None
        if in_related_list:
            continue
        line_credits = (parse_credit_line(text) or parse_posted_by(text)
                        or (_top_credits(text, chinese) if before_prose else None))
        if line_credits is not None:
            credits.extend(line_credits)
        elif not text or not is_boilerplate(text):
            closing = trailing_credit(text)
            if closing is not None and TRAILING_BRACKETS.search(line):
                line = TRAILING_BRACKETS.sub("", line)
                credits.extend(closing[1])
                if not closing[0]:
                    continue
            kept.append(line)
            before_prose = before_prose and not _is_prose(text)
    return CleanBody(_tidy(kept), tuple(credits))


def _top_credits(text: str, chinese: bool) -> list[Credit] | None:
    """Above the first paragraph, a dateline ("2021-11-25 16:26:07 央视网") or a name alone ("周立文") is a credit."""
    if chinese and looks_like_chinese_name(text):
        return [Credit("author", text)]
    return parse_dateline(text)


def is_boilerplate(text: str) -> bool:
    """Whether one line of plain text (no Markdown) is a widget, promo, ad or footer line."""
    if _width(text) > _MAX_BOILERPLATE_WIDTH:
        return False
    return (
        any(pattern.search(text) for pattern in _PATTERNS)
        or _READ_MORE_LINK.match(text) is not None
        or _is_ad_line(text)
        or _is_navigation(text)
    )


def plain_text(line: str) -> str:
    """A Markdown line as the text a reader sees, images left out."""
    text = _IMAGE.sub("", line)
    text = _BLOCK_MARKER.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = _ESCAPE.sub(r"\1", text)
    return text.strip(" \t\u3000\u00a0")


def _is_prose(text: str) -> bool:
    return _width(text) > _MAX_BOILERPLATE_WIDTH or _SENTENCE_END.search(text) is not None


def _is_related_item(line: str, text: str) -> bool:
    # Headlines under a "related" heading: list items, or short lines that do not end a sentence.
    if _LIST_ITEM.match(line):
        return True
    return _width(text) <= _MAX_HEADLINE_WIDTH and not _SENTENCE_END.search(text)


def _is_ad_line(text: str) -> bool:
    parts = [part for part in _AD_SEPARATORS.split(text) if part]
    return bool(parts) and all(_AD_PART.match(part) for part in parts)


def _is_navigation(text: str) -> bool:
    items = _NAV_SEPARATORS.split(text)
    return len(items) >= 3 and all(0 < _width(item) <= _MAX_NAV_ITEM_WIDTH for item in items)


def _width(text: str) -> int:
    if len(text) > _MAX_HEADLINE_WIDTH:
        return len(text)  # wider than any width compared against: no need to count
    return len(text) + sum(map(len, _WIDE_RUNS.findall(text)))


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")
