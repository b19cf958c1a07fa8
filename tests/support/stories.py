"""Finance stories for near-duplicate tests and benchmarks/near_duplicates.py: different stories that share
wording (the cases that must never merge) and the edits syndication makes to one story (the cases that must).

Deterministic: every generator takes a seed.
"""
from __future__ import annotations

import random

COMPANIES = ["贵州茅台", "宁德时代", "比亚迪", "招商银行", "中国平安", "隆基绿能", "美的集团", "五粮液", "恒瑞医药",
             "紫金矿业", "中信证券", "海天味业", "迈瑞医疗", "长江电力", "万华化学", "京东方A"]
CITIES = ["上海", "深圳", "北京", "杭州", "成都", "武汉", "南京", "苏州", "重庆", "广州"]
SECTORS = ["新能源", "半导体", "白酒", "医药", "银行", "券商", "光伏", "汽车", "消费电子", "有色金属"]

# A company story: each sentence a template; a story picks most of them, so two stories share much wording.
COMPANY_SENTENCES = [
    "{company}{month}月{day}日晚间发布公告称，公司前三季度实现营业收入{a}亿元，同比增长{p}%。",
    "归属于上市公司股东的净利润为{b}亿元，同比增长{q}%，基本每股收益{e}元。",
    "公司表示，业绩增长主要得益于{sector}业务的快速发展以及成本控制措施的持续推进。",
    "报告期内，公司在{city}新设{n}家子公司，研发投入达到{c}亿元，占营业收入的{r}%。",
    "截至{month}月末，公司总资产为{d}亿元，资产负债率为{s}%，经营活动现金流量净额{f}亿元。",
    "多家券商研报指出，{sector}行业景气度有望延续，维持对{company}的“买入”评级。",
    "二级市场上，{company}当日收报{g}元，涨{t}%，总市值约{h}亿元。",
    "分析人士认为，随着稳增长政策持续发力，{sector}板块估值修复仍有空间。",
    "公司同时披露，拟向全体股东每10股派发现金红利{i}元（含税），合计派发{j}亿元。",
    "对于下一阶段的发展，公司管理层表示将继续聚焦主业，加大在{city}等地的市场开拓力度。",
    "公告还显示，公司第{n}大股东在报告期内增持{k}万股，持股比例升至{u}%。",
    "业内人士表示，{company}的经营数据好于市场预期，短期内股价或将维持强势。",
]

# The daily market wrap: one template, every day; only the figures change.
MARKET_WRAP = [
    "{month}月{day}日，A股三大指数集体{move}。截至收盘，上证指数报{a}点，{move}{p}%；深证成指报{b}点，{move}{q}%；"
    "创业板指报{c}点，{move}{r}%。",
    "沪深两市成交额为{d}亿元，较上一个交易日{change}{e}亿元。北向资金全天净{flow}{f}亿元。",
    "盘面上，{sector}、{sector2}板块涨幅居前，{sector3}板块跌幅居前。",
    "个股方面，两市共有{n}只个股上涨，{k}只个股下跌，{u}只个股涨停。",
    "分析人士表示，当前市场情绪有所{mood}，短期内指数或将维持震荡格局，建议投资者关注业绩确定性较强的优质公司。",
    "展望后市，机构认为政策面仍有望保持积极，市场中长期向好的基本面没有改变，可逢低布局优质资产。",
]

FLASH = [
    "【{company}：{month}月销量同比增长{p}%】{company}公告，{month}月实现销量{a}万辆。",
    "【央行开展{a}亿元逆回购操作】中标利率为{r}%，当日有{b}亿元逆回购到期。",
    "【{company}：拟回购{a}亿元至{b}亿元股份】回购价格不超过每股{g}元。",
    "【{sector}板块拉升，{company}涨超{p}%】{company}盘中涨超{p}%，成交额{a}亿元。",
]

EDITOR_LINES = ["责任编辑：王翔", "责任编辑：李昂", "（编辑：张晓）", "校对：刘洋"]


def _figures(rng: random.Random) -> dict[str, object]:
    return {
        "month": rng.randint(1, 12), "day": rng.randint(1, 28), "n": rng.randint(2, 9),
        "a": f"{rng.uniform(10, 3000):.2f}", "b": f"{rng.uniform(10, 3000):.2f}", "c": f"{rng.uniform(1, 300):.2f}",
        "d": f"{rng.uniform(3000, 15000):.0f}", "e": f"{rng.uniform(0.1, 90):.2f}", "f": f"{rng.uniform(1, 200):.2f}",
        "g": f"{rng.uniform(5, 2000):.2f}", "h": f"{rng.uniform(100, 30000):.0f}", "i": f"{rng.uniform(0.5, 300):.2f}",
        "j": f"{rng.uniform(1, 500):.2f}", "k": rng.randint(100, 5000), "u": rng.randint(10, 120),
        "p": f"{rng.uniform(0.1, 60):.2f}", "q": f"{rng.uniform(0.1, 60):.2f}", "r": f"{rng.uniform(0.1, 30):.2f}",
        "s": f"{rng.uniform(10, 90):.2f}", "t": f"{rng.uniform(0.1, 10):.2f}",
        "company": rng.choice(COMPANIES), "city": rng.choice(CITIES),
        "sector": rng.choice(SECTORS), "sector2": rng.choice(SECTORS), "sector3": rng.choice(SECTORS),
        "move": rng.choice(["上涨", "下跌"]), "change": rng.choice(["放量", "缩量"]), "flow": rng.choice(["买入", "卖出"]),
        "mood": rng.choice(["回暖", "降温", "分化"]),
    }


def company_story(seed: int) -> str:
    """A company results story: 9 of the 12 template sentences, in paragraphs of two or three sentences."""
    rng = random.Random(seed)
    values = _figures(rng)
    chosen = sorted(rng.sample(range(len(COMPANY_SENTENCES)), 9))
    sentences = [COMPANY_SENTENCES[i].format(**values) for i in chosen]
    paragraphs, i = [], 0
    while i < len(sentences):
        step = rng.choice([2, 3])
        paragraphs.append("".join(sentences[i:i + step]))
        i += step
    return "\n\n".join(paragraphs)


def market_wrap(seed: int) -> str:
    """Another day's market wrap: the same wording as every other one, other figures."""
    values = _figures(random.Random(seed))
    return "\n\n".join(line.format(**values) for line in MARKET_WRAP)


def flash_item(seed: int) -> str:
    rng = random.Random(seed)
    return rng.choice(FLASH).format(**_figures(rng))


# --- what syndication does to a story -------------------------------------------------------------------


def with_source_line(body: str) -> str:
    return "（来源：新华社）" + body


def without_last_paragraph(body: str) -> str:
    return "\n\n".join(body.split("\n\n")[:-1])


def without_first_paragraph(body: str) -> str:
    return "\n\n".join(body.split("\n\n")[1:])


def with_editor_line(body: str, seed: int = 0) -> str:
    return body + "\n\n" + EDITOR_LINES[seed % len(EDITOR_LINES)]


def with_markup(body: str) -> str:
    paragraphs = body.split("\n\n")
    return "![配图](https://img.example.com/1.jpg)\n\n" + "\n\n".join(f"**{p[:6]}**{p[6:]}" for p in paragraphs)


def with_typos(body: str, count: int, seed: int = 0) -> str:
    """`count` characters replaced (a portal's own corrections, a different variant of a character)."""
    rng = random.Random(seed)
    chars = list(body)
    positions = [i for i, ch in enumerate(chars) if "\u4e00" <= ch <= "\u9fff"]
    for i in rng.sample(positions, min(count, len(positions))):
        chars[i] = "的" if chars[i] != "的" else "了"
    return "".join(chars)


def syndicated_variants(body: str, seed: int = 0) -> dict[str, str]:
    """The edits portals make to a story they carry, by name."""
    return {
        "exact": body,
        "markup": with_markup(body),
        "source line": with_source_line(body),
        "editor line": with_editor_line(body, seed),
        "last paragraph cut": without_last_paragraph(body),
        "source line and last paragraph cut": with_source_line(without_last_paragraph(body)),
        "first paragraph cut": without_first_paragraph(body),
        "three typos": with_typos(body, 3, seed),
    }
