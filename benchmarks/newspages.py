"""Generated news pages for the benchmarks: Chinese and English finance articles in the markup real portals use.

Each page is 20-80 kB: a head with metadata, inline CSS and script, a top bar, a navigation of a few dozen
channels, a breadcrumb, the article (title, date and source line, share bar, 6-30 paragraphs with a
subheading, a quote and a captioned image or two, an editor's credit), keywords, a "related" list, comments
placeholder, a sidebar of ranked headlines and a quote table, a footer of links, and analytics scripts.
Article text is assembled at random from phrase pools with numbers of its own, so no two articles are the
same story (the crawler deduplicates by content). Deterministic: page `n` is the same on every run.

`page(n, base)` returns a `Page` with its URL, the HTML bytes and the ground truth (title, the body's
paragraphs as plain text, date, author).
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape

CST = timezone(timedelta(hours=8))
EPOCH = datetime(2024, 3, 1, 8, 0, tzinfo=CST)


@dataclass(frozen=True)
class Page:
    n: int
    lang: str
    path: str
    html: bytes
    title: str
    body: str
    """The article's text as a reader sees it: paragraphs, subheading and quote, one per line."""
    published: datetime
    author: str


# --- Chinese ----------------------------------------------------------------------------------------------

ZH_SUBJECTS = ["国家统计局", "中国人民银行", "证监会", "财政部", "商务部", "国家发改委", "国家金融监督管理总局", "国家外汇管理局",
               "海关总署", "上海证券交易所", "深圳证券交易所", "工业和信息化部", "住房和城乡建设部", "农业农村部",
               "多家券商", "某大型公募基金", "业内人士", "市场分析人士", "一位接近监管的人士", "地方财政部门"]
ZH_COMPANIES = ["贵州茅台", "宁德时代", "比亚迪", "招商银行", "中国平安", "隆基绿能", "五粮液", "美的集团", "格力电器",
                "海康威视", "中信证券", "东方财富", "药明康德", "迈瑞医疗", "紫金矿业", "长江电力", "中国移动", "工商银行"]
ZH_TIMES = ["今年以来", "上半年", "前三季度", "近期", "本周", "截至上月末", "一季度", "去年同期", "过去十二个月", "年初至今"]
ZH_VERBS = ["持续加大", "稳步推进", "明显回升", "小幅回落", "保持稳定", "显著改善", "逐步恢复", "有所放缓", "加快落地",
            "进一步优化", "大幅增长", "温和上行"]
ZH_OBJECTS = ["对实体经济的支持力度", "居民消费需求", "制造业投资", "基础设施建设", "房地产市场预期", "外贸进出口",
              "科技创新投入", "中小企业融资", "绿色低碳转型", "资本市场改革", "跨境资金流动", "就业形势",
              "新能源汽车产销", "光伏组件出口", "城乡居民收入", "社会融资规模", "银行间市场流动性", "债券发行节奏"]
ZH_TAILS = ["同比增长{p}%", "环比下降{p}%", "规模达到{b}亿元", "较年初增加{b}亿元", "占比提高{q}个百分点",
            "涉及金额约{b}亿元", "覆盖{c}个省份", "带动就业{c}万人", "预计全年增速在{p}%左右", "创下近{c}个月新高"]
ZH_CONNECT = ["分析人士指出，", "业内认为，", "值得注意的是，", "与此同时，", "数据显示，", "据了解，", "此外，",
              "对此，", "从结构上看，", "总体而言，", ""]
ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
ZH_GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "涛", "明", "超", "霞", "平", "刚", "桂英"]
ZH_CHANNELS = ["首页", "新闻", "财经", "股票", "基金", "期货", "外汇", "黄金", "债券", "理财", "银行", "保险", "信托",
               "港股", "美股", "新股", "科创板", "创业板", "宏观", "产经", "公司", "科技", "汽车", "房产", "消费",
               "专栏", "视频", "直播", "数据", "研报", "行情", "自选股", "博客", "论坛"]


ZH_WORDS = ("经济 市场 投资 消费 金融 银行 证券 基金 保险 信贷 利率 汇率 债券 股票 指数 行业 企业 公司 产业 制造 "
            "科技 创新 研发 芯片 电池 光伏 风电 储能 汽车 地产 房价 土地 财政 税收 预算 赤字 货币 流动 资金 资本 "
            "融资 上市 并购 重组 分红 回购 估值 盈利 营收 利润 成本 价格 物价 通胀 需求 供给 出口 进口 贸易 关税 "
            "物流 航运 港口 铁路 能源 原油 煤炭 电力 钢铁 有色 化工 医药 医疗 疫苗 消费 零售 电商 餐饮 旅游 文化 "
            "农业 粮食 养殖 生猪 水产 乡村 城市 区域 园区 基建 项目 工程 规划 改革 开放 监管 政策 规则 制度 风险 "
            "合规 信息 披露 审计 会计 评级 违约 担保 杠杆 期限 结构 总量 增量 存量 收入 就业 人口 养老 教育 住房 "
            "保障 数字 平台 数据 算力 模型 软件 网络 通信 卫星 航空 船舶 装备 机械 材料 稀土 黄金 白银 期货 期权 "
            "外资 外汇 跨境 离岸 人民币 美元 欧元 日元 港元 民营 国有 中小 龙头 头部 新兴 传统 绿色 低碳 循环 转型").split()
ZH_VERBS2 = ("推动 促进 支持 引导 稳定 扩大 提升 加强 完善 优化 压降 化解 防范 落实 深化 拓展 培育 发展 规范 调整 "
             "放宽 收紧 释放 带动 拉动 提振 修复 巩固 强化 加快").split()


def _zh_words(rng: random.Random, k: int) -> str:
    return "".join(rng.choice(ZH_WORDS) for _ in range(k))


def _zh_sentence(rng: random.Random) -> str:
    tail = rng.choice(ZH_TAILS).format(p=f"{rng.uniform(0.1, 30):.1f}", b=rng.randint(12, 98000),
                                       q=f"{rng.uniform(0.1, 5):.1f}", c=rng.randint(2, 60))
    who = rng.choice(ZH_SUBJECTS + ZH_COMPANIES)
    return (f"{rng.choice(ZH_CONNECT)}{who}{rng.choice(ZH_TIMES)}{rng.choice(ZH_VERBS2)}{_zh_words(rng, rng.randint(2, 4))}"
            f"，{_zh_words(rng, 2)}{rng.choice(ZH_VERBS)}{_zh_words(rng, rng.randint(1, 3))}，{tail}。")


def _zh_headline(rng: random.Random) -> str:
    return (f"{rng.choice(ZH_SUBJECTS + ZH_COMPANIES)}：{rng.choice(ZH_TIMES)}{rng.choice(ZH_OBJECTS)}"
            f"{rng.choice(ZH_VERBS)}，{rng.choice(ZH_TAILS).format(p=rng.randint(2, 40), b=rng.randint(10, 9000), q=rng.randint(1, 5), c=rng.randint(2, 30))}")


def _zh_name(rng: random.Random) -> str:
    return rng.choice(ZH_SURNAMES) + rng.choice(ZH_GIVEN) + (rng.choice(ZH_GIVEN) if rng.random() < 0.5 else "")


# --- English ----------------------------------------------------------------------------------------------

EN_SUBJECTS = ["The Federal Reserve", "The Treasury Department", "The European Central Bank", "Analysts at Goldman Sachs",
               "Economists at JPMorgan", "The Commerce Department", "The Labor Department", "Investors",
               "Bond traders", "The Bank of England", "Fund managers", "Chief executives", "Regulators in Brussels",
               "Oil producers", "The International Monetary Fund", "Retail sales data"]
EN_COMPANIES = ["Apple", "Microsoft", "Nvidia", "Tesla", "Exxon Mobil", "JPMorgan Chase", "Amazon", "Alphabet",
                "Meta Platforms", "Berkshire Hathaway", "Boeing", "Intel", "Walmart", "Pfizer", "Ford"]
EN_VERBS = ["raised its forecast for", "warned about", "pointed to", "reported a sharp rise in", "cut its outlook for",
            "signaled patience on", "flagged risks to", "doubled down on", "reported weaker", "braced for",
            "welcomed", "questioned the pace of"]
EN_OBJECTS = ["consumer spending", "corporate earnings", "long-term borrowing costs", "the labor market",
              "inflation expectations", "manufacturing output", "housing starts", "capital expenditure",
              "the dollar's strength", "crude inventories", "credit conditions", "supply chains", "wage growth",
              "chip demand", "small-business lending", "emerging-market debt", "the yield curve", "freight rates"]
EN_TAILS = ["up {p}% from a year earlier", "down {p}% from the prior quarter", "worth about ${b} million",
            "the highest reading in {c} months", "with {c} of the {d} economists polled agreeing",
            "after a {p}% gain last week", "according to people familiar with the matter",
            "as the benchmark index slipped {p}%", "ahead of the meeting on the {c}th",
            "a gap of {b} basis points"]
EN_OPENERS = ["", "Meanwhile, ", "Still, ", "At the same time, ", "In a note to clients, ", "On Tuesday, ",
              "Separately, ", "By contrast, ", "Even so, ", "As a result, "]
EN_FIRST = ["James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "Sarah", "Thomas",
            "Karen", "Daniel", "Nancy", "Paul", "Laura"]
EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
           "Moore", "Martin", "Thompson", "White", "Harris"]
EN_CHANNELS = ["Home", "Markets", "Business", "Economy", "Tech", "Investing", "Personal Finance", "Real Estate",
               "Energy", "Commodities", "Currencies", "Bonds", "Funds", "ETFs", "Earnings", "IPOs", "Crypto",
               "Politics", "World", "Opinion", "Video", "Podcasts", "Newsletters", "Watchlist", "Data", "Research",
               "Small Business", "Retirement", "Taxes", "Autos"]


EN_WORDS = ("growth demand supply prices costs margins revenue profit earnings guidance outlook forecast rates yields "
            "bonds stocks shares equities futures options credit loans deposits lending savings spending wages jobs "
            "payrolls hiring layoffs inflation deflation tariffs trade exports imports shipping freight logistics "
            "energy oil gas coal power solar wind batteries chips software cloud servers devices phones autos trucks "
            "housing mortgages rents construction factories output orders inventories retail consumers households "
            "banks insurers brokers funds pensions investors traders regulators lawmakers officials markets currencies "
            "dollar euro yen yuan gold silver copper steel aluminum wheat corn soybeans cattle fertilizer airlines "
            "hotels travel tourism restaurants media advertising streaming gaming semiconductors biotech vaccines "
            "hospitals drugmakers utilities railroads ports pipelines refineries mining lithium nickel rare earths "
            "startups venture buyouts mergers acquisitions dividends buybacks valuations multiples spreads volatility "
            "liquidity leverage defaults downgrades upgrades budgets deficits taxes subsidies stimulus reforms").split()
try:  # place, people, language and currency names: a vocabulary as wide as real news has
    from babel import Locale

    _EN = Locale("en")
    EN_WORDS += sorted({word.lower() for names in (_EN.territories, _EN.languages, _EN.currencies)
                        for name in names.values() for word in re.findall(r"[A-Za-z]{4,}", name)})
except ImportError:  # babel comes with dateparser; without it the text is less varied
    pass
EN_ADJ = ("stronger weaker steady sluggish robust fragile rising falling record modest sharp gradual uneven "
          "resilient volatile tight loose elevated subdued surprising expected quarterly annual regional global "
          "domestic foreign industrial corporate federal private public").split()


def _en_words(rng: random.Random, k: int) -> str:
    return " ".join(rng.choice(EN_WORDS) for _ in range(k))


_SYLLABLES = ("ka ren mo lis ta ver do nel sa rin tor vel ma quin bra dex lo fen gar hol pi ston wex ar "
              "cor del mar tin ven ber ga lu ros ham fi neth zo ral").split()


def _en_name(rng: random.Random) -> str:
    """A proper noun of our own: companies, towns and people that appear in one story only."""
    letters = [rng.choice("bcdfghjklmnprstvwxz") + rng.choice("aeiouy") for _ in range(rng.randint(3, 5))]
    return "".join(letters).capitalize() + rng.choice(("", "n", "s", "r", "ton", "ville", "berg"))


_EN_GLUE = ("the", "of", "and", "in", "for", "with", "on", "as", "by", "to", "from", "at", "after", "while")


def _en_sentence(rng: random.Random) -> str:
    who = rng.choice(EN_SUBJECTS + EN_COMPANIES + [f"{_en_name(rng)} {rng.choice(('Corp', 'Holdings', 'Group'))}"])
    words = []
    for _ in range(rng.randint(5, 11)):
        words.append(rng.choice(EN_ADJ) if rng.random() < 0.2 else _en_name(rng) if rng.random() < 0.12
                     else rng.choice(EN_WORDS))
        if rng.random() < 0.4:
            words.append(rng.choice(_EN_GLUE))
    text = f"{rng.choice(EN_OPENERS)}{who} {rng.choice(EN_VERBS)} {' '.join(words)}"
    if rng.random() < 0.3:
        text += ", " + rng.choice(EN_TAILS).format(p=f"{rng.uniform(0.1, 30):.1f}", b=rng.randint(12, 9800),
                                                   c=rng.randint(2, 28), d=rng.randint(30, 90))
    return text[0].upper() + text[1:] + "."


def _en_headline(rng: random.Random) -> str:
    return f"{rng.choice(EN_SUBJECTS + EN_COMPANIES)} {rng.choice(EN_VERBS)} {rng.choice(EN_OBJECTS)}"


def _en_person(rng: random.Random) -> str:
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


# --- the page ---------------------------------------------------------------------------------------------

_CSS_RULES = [".{c} {{ margin: {a}px {b}px; padding: {b}px; color: #{h:06x}; font-size: {f}px; }}",
              ".{c} a:hover {{ text-decoration: underline; color: #{h:06x}; }}",
              "@media (max-width: {w}px) {{ .{c} {{ display: none; width: {a}%; }} }}",
              "#{c} > li + li {{ border-left: 1px solid #{h:06x}; line-height: {f}px; }}"]
_SCRIPT = ("window.__CONFIG__ = {config};\n(function(){{var s=document.createElement('script');s.async=true;"
           "s.src='//static.example.net/analytics/v{v}/track.js';document.head.appendChild(s);}})();\n")


def _css(rng: random.Random, rules: int) -> str:
    return "\n".join(rng.choice(_CSS_RULES).format(c=f"c{rng.randint(100, 999)}-{rng.choice('abcdefgh')}",
                                                   a=rng.randint(0, 40), b=rng.randint(0, 20),
                                                   h=rng.randint(0, 0xFFFFFF), f=rng.randint(11, 24),
                                                   w=rng.randint(320, 1440)) for _ in range(rules))


def _script(rng: random.Random, keys: int) -> str:
    config = {f"k{i}_{rng.randint(0, 99999)}": rng.choice([rng.randint(0, 10 ** 6), f"v{rng.getrandbits(40):x}",
                                                           True, None]) for i in range(keys)}
    return _SCRIPT.format(config=json.dumps(config), v=rng.randint(1, 9))


def _links(rng: random.Random, base: str, labels: list[str], prefix: str) -> str:
    return "".join(f'<li><a href="{base}/{prefix}/{rng.randint(1000, 99999)}.html" target="_blank">{escape(label)}</a></li>'
                   for label in labels)


def page(n: int, base: str = "") -> Page:
    """Article `n`: Chinese for even n, English for odd n. `base` prefixes the page's own links."""
    rng = random.Random(n * 7919 + 17)
    zh = n % 2 == 0
    published = EPOCH + timedelta(minutes=37 * n)
    sentence, headline, name = (_zh_sentence, _zh_headline, _zh_name) if zh else (_en_sentence, _en_headline, _en_person)
    title = f"{headline(rng)}{'（' + str(n) + '）' if zh else f' ({n})'}"
    author = name(rng)
    # English words are longer: fewer sentences make articles of a similar reading length (and give two
    # unrelated English stories the small overlap of 4-character shingles that real ones have).
    paragraphs = [("".join if zh else " ".join)(sentence(rng) for _ in range(rng.randint(2, 5) if zh else rng.randint(1, 3)))
                  for _ in range(rng.randint(8, 26) if zh else rng.randint(5, 16))]
    subheading = headline(rng)
    quote = sentence(rng)
    at = rng.randint(1, len(paragraphs) - 1)
    if zh:
        path = f"/china/{published:%Y-%m-%d}/doc-ikm{n:08d}.shtml"
        site, channels, related_label = "新浪财经", ZH_CHANNELS, "相关阅读"
        date_text = f"{published:%Y年%m月%d日 %H:%M}"
        credit = f"责任编辑：{name(rng)}"
        byline = f"文/记者 {author}"
    else:
        path = f"/markets/{published:%Y/%m/%d}/story-{n}/"
        site, channels, related_label = "Market Wire", EN_CHANNELS, "Related Coverage"
        date_text = f"{published.astimezone(timezone.utc):%B %d, %Y %I:%M %p} UTC"
        credit = f"Editing by {name(rng)}"
        byline = f"By {author}"
    url = base + path
    image = f"{base}/img/{published:%Y%m}/{n}-{rng.getrandbits(32):x}.jpg"
    caption = headline(rng)

    body_parts = []
    for i, paragraph in enumerate(paragraphs):
        if i == at:
            body_parts.append(f"<h2>{escape(subheading)}</h2>")
            body_parts.append(f'<div class="img_wrapper"><img src="{image}" alt="{escape(caption)}">'
                              f'<span class="img_descr">{escape(caption)}</span></div>')
        if i == at + 1 or (i == at and i == len(paragraphs) - 1):
            body_parts.append(f"<blockquote><p>{escape(quote)}</p></blockquote>")
        body_parts.append(f"<p>{escape(paragraph)}</p>")
    truth_lines = []
    for i, paragraph in enumerate(paragraphs):
        if i == at:
            truth_lines.append(subheading)
        if i == at + 1 or (i == at and i == len(paragraphs) - 1):
            truth_lines.append(quote)
        truth_lines.append(paragraph)

    other_headlines = [headline(rng) for _ in range(60)]
    nav = _links(rng, base, rng.sample(channels, k=min(len(channels), rng.randint(20, 34))), "channel")
    top = _links(rng, base, rng.sample(channels, k=12), "top")
    related = _links(rng, base, other_headlines[:rng.randint(6, 12)], "news")
    hot = "".join(f'<li><span class="num">{i}</span><a href="{base}/hot/{rng.randint(10000, 99999)}.html">'
                  f'{escape(h)}</a><span class="views">{rng.randint(1000, 999999)}</span></li>'
                  for i, h in enumerate(other_headlines[12:12 + rng.randint(15, 30)], 1))
    more = _links(rng, base, other_headlines[42:42 + rng.randint(8, 18)], "more")
    quotes = "".join(f"<tr><td>{escape(c)}</td><td>{rng.uniform(5, 2000):.2f}</td><td>{rng.uniform(-10, 10):+.2f}%</td>"
                     f"<td>{rng.randint(10, 9999)}万</td></tr>"
                     for c in rng.sample(ZH_COMPANIES if zh else EN_COMPANIES, k=10))
    footer = _links(rng, base, [f"{c} {rng.randint(1, 99)}" for c in rng.sample(channels, k=20)] * 2, "about")
    jsonld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                         "datePublished": published.isoformat(), "author": {"@type": "Person", "name": author},
                         "image": [image], "publisher": {"@type": "Organization", "name": site}},
                        ensure_ascii=False)
    keywords = ", ".join(rng.sample(ZH_OBJECTS if zh else EN_OBJECTS, k=4))
    css = _css(rng, rng.randint(30, 420))
    script_head = _script(rng, rng.randint(30, 500))
    script_tail = _script(rng, rng.randint(20, 120))
    comments = ("<div class=\"comment-box\" id=\"comments\"><h3>" + ("我要评论" if zh else "Comments") +
                "</h3><textarea placeholder=\"" + ("文明上网，理性发言" if zh else "Join the conversation") +
                "\"></textarea><button>" + ("发布" if zh else "Post") + "</button></div>")
    share = ("<div class=\"share-bar\"><span>" + ("分享到：" if zh else "Share:") + "</span>"
             + "".join(f'<a class="share-{s}" href="#">{s}</a>' for s in ("weibo", "wechat", "qzone", "twitter",
                                                                           "facebook", "email")) + "</div>")
    lang = "zh-CN" if zh else "en"
    html = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{escape(title)}_{escape(site)}</title>
<meta name="keywords" content="{escape(keywords)}">
<meta name="description" content="{escape(paragraphs[0][:120])}">
<meta property="og:type" content="article"><meta property="og:title" content="{escape(title)}">
<meta property="og:image" content="{image}"><meta property="og:url" content="{url}">
<meta property="article:published_time" content="{published.isoformat()}">
<meta property="article:author" content="{escape(author)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="canonical" href="{url}"><link rel="stylesheet" href="{base}/static/css/main.{rng.getrandbits(24):x}.css">
<style>{css}</style>
<script>{script_head}</script>
<script type="application/ld+json">{jsonld}</script>
</head><body>
<div id="top-bar" class="top-bar"><ul class="top-links">{top}</ul><div class="login"><a href="{base}/login">{"登录" if zh else "Sign in"}</a></div></div>
<div class="header"><div class="logo"><a href="{base}/"><img src="{base}/static/logo.png" alt="{escape(site)}"></a></div>
<ul class="nav" id="nav">{nav}</ul>
<form class="search" action="{base}/search"><input name="q" type="text"><button>{"搜索" if zh else "Search"}</button></form></div>
<div class="breadcrumb"><a href="{base}/">{escape(site)}</a> &gt; <a href="{base}/channel/markets">{escape(channels[2])}</a> &gt; <span>{"正文" if zh else "Article"}</span></div>
<div class="wrap"><div class="main-content">
<h1 class="main-title">{escape(title)}</h1>
<div class="date-source"><span class="date">{escape(date_text)}</span> <span class="author">{escape(byline)}</span> <a class="source" href="{base}/">{escape(site)}</a></div>
{share}
<div class="article" id="artibody">
{"".join(body_parts)}
<p class="show_author">{escape(credit)}</p>
</div>
<div class="keywords">{"关键词：" if zh else "Topics: "}{escape(keywords)}</div>
{share}
<div class="related"><h3>{related_label}</h3><ul>{related}</ul></div>
{comments}
</div>
<div class="sidebar"><div class="hot"><h3>{"热门排行" if zh else "Most Read"}</h3><ol>{hot}</ol></div>
<div class="ad"><a href="{base}/ad/{rng.randint(1, 999)}"><img src="{base}/ad/banner-{rng.randint(1, 99)}.gif" alt="ad"></a></div>
<div class="quotes"><h3>{"行情" if zh else "Markets"}</h3><table><tbody>{quotes}</tbody></table></div>
<div class="more"><h3>{"更多新闻" if zh else "More News"}</h3><ul>{more}</ul></div></div></div>
<div class="footer"><ul class="footer-links">{footer}</ul>
<p>{"Copyright © 1996-2024 " + site + " All Rights Reserved 京ICP证000007号" if zh else "© 2024 " + site + ". All rights reserved. Terms of Use | Privacy Policy | Cookie Settings"}</p></div>
<script>{script_tail}</script>
</body></html>"""
    return Page(n, "zh" if zh else "en", path, html.encode("utf-8"), title, "\n".join(truth_lines), published, author)
