"""Speed of render_post (front matter and body of a post file) per post, in CPU time.

    .venv/bin/python benchmarks/frontmatter.py [--posts 3000] [--rounds 7]

Posts are assembled from the kinds of metadata the archive writes (Chinese and English titles, nested
category paths, authors, image URLs, tags, tickers, company names, syndicated URLs; one title in fifty
with an emoji, which takes libyaml's slower fallback), so the figure says what one post costs the main
process. Every round renders all posts; printed: the fastest and the median round, in µs per post. The
fastest round is the figure to compare: on a shared machine the others mostly measure the neighbours.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from crawler.archive import render_post
from crawler.models import Article

ZONE = ZoneInfo("Asia/Shanghai")
TITLES = [
    "央行：12月1日起下调金融机构存款准备金率0.25个百分点",
    "贵州茅台前三季度营收同比增长16.9% 净利润超预期",
    "港股收评：恒指涨1.2% 科技股走强 腾讯控股涨3.2%",
    "美联储宣布加息25个基点，鲍威尔称将继续关注通胀数据",
    "Nvidia beats estimates as data-center revenue nearly doubles",
    "Treasury yields slip after softer-than-expected CPI report",
    "Oil prices rise 2% on OPEC+ supply cut hopes",
    "国家统计局：5月份CPI同比上涨0.3% PPI同比下降1.4%",
    "A股三大指数集体收涨，两市成交额9856亿元",
    "Exxon Mobil to buy Pioneer Natural Resources for $59.5 billion",
]
EMOJI_TITLE = "大涨 🚀 沪指站上3100点"
FEEDS = [
    ("金融", "新浪财经", "新浪财经－国內"),
    ("金融", "新浪财经", "新浪财经－港股"),
    ("财经", "路透", "市场"),
    ("Markets", "Reuters", "Business News"),
    ("宏观", "华尔街见闻", "全球"),
]
AUTHORS = [None, "张三", "李四", "Jane Doe", "新华社记者 王五"]
TAGS = [(), ("美联储", "利率"), ("A股", "券商", "北向资金"), ("earnings", "AI"), ("原油",)]
TICKERS = [(), ("600519.SH",), ("00700.HK", "03690.HK"), ("NVDA",), ("XOM", "PXD")]
COMPANIES = [(), ("贵州茅台",), ("腾讯控股", "美团"), ("Nvidia",), ("Exxon Mobil", "Pioneer Natural Resources")]
BEIJING_TIME = timezone(timedelta(hours=8))


def make_posts(count: int, rng: random.Random) -> list[tuple[Article, list[tuple[str, str, str]], list[str]]]:
    posts = []
    for number in range(count):
        title = EMOJI_TITLE if number % 50 == 0 else rng.choice(TITLES)
        link = f"https://finance.sina.com.cn/stock/2023-11-{number % 28 + 1:02d}/doc-imz{number:08d}.shtml"
        pick = rng.randrange(len(TICKERS))
        article = Article(
            link=link,
            title=title,
            published=datetime(2023, 11, 1, tzinfo=BEIJING_TIME) + timedelta(minutes=7 * number),
            author=rng.choice(AUTHORS),
            source=rng.choice(["新浪财经", "路透", "Reuters", "华尔街见闻"]),
            image=rng.choice([None, f"https://n.sinaimg.cn/finance/crawl/{number}/w550h300.jpg"]),
            body="正文第一段。\n\n第二段。\n",
            extracted_from=rng.choice(["page", "feed"]),
            feed_url="https://rss.sina.com.cn/roll/finance/hot_roll.xml",
            category_path=rng.choice(FEEDS),
            guid=rng.choice([None, link, f"sina-{number}"]),
            tags=rng.choice(TAGS),
            tickers=TICKERS[pick],
            companies=COMPANIES[pick],
        )
        feeds = [article.category_path] + rng.sample(FEEDS, rng.choice([0, 0, 0, 1]))
        syndicated = rng.choice([[], [], [link.replace("finance.", "m.finance.")]])
        posts.append((article, feeds, syndicated))
    return posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    posts = make_posts(args.posts, random.Random(1))
    per_post = []
    for _ in range(args.rounds):
        start = time.process_time()
        for article, feeds, syndicated in posts:
            render_post(article, feeds, ZONE, syndicated)
        per_post.append((time.process_time() - start) / len(posts) * 1e6)
    print(f"render_post: {min(per_post):.0f} µs per post fastest, {statistics.median(per_post):.0f} µs median "
          f"({args.posts} posts, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
