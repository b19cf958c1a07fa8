"""Speed of finance enrichment (crawler.enrich.securities) per article, stage by stage, in CPU time.

    .venv/bin/python benchmarks/enrich.py [--articles 200] [--paragraphs 10]

Articles are assembled from sentences of the kinds the tests use (Chinese and English, codes, names,
amounts, dates, URLs), so the figures say what an article of that length costs; the pipeline runs the
detection in an extraction worker when it costs more than about a millisecond. Printed: median and 90th
percentile per article for the whole detection and for its parts (text preparation, code forms, names
with word segmentation), and the one-off cost of loading the segmenter's dictionary.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

from crawler.enrich import load_companies, securities
from crawler.enrich.detect import find_codes
from crawler.enrich.text import readable

SENTENCES = [
    "贵州茅台（600519）晚间发布公告称，公司前三季度实现营业收入1053亿元，同比增长16.9%。",
    "港股方面，腾讯控股（00700）收涨3.2%，美团跌1.1%，南向资金净买入15亿港元。",
    "截至收盘，上证指数报3050.12点，涨0.52%，两市成交额9856亿元，北向资金净买入58亿元。",
    "公司以600519元的价格竞得地块，截至20230519已回购300750股，详见 https://quote.eastmoney.com/sh600519.html 。",
    "多家券商研报指出，新能源将带来增长空间，建议关注宁德时代、比亚迪等龙头企业。",
    "国家统计局公布的数据显示，5月份居民消费价格指数同比上涨0.3%，工业生产者出厂价格指数同比下降1.4%。",
    "Nvidia (NASDAQ: NVDA) reported quarterly revenue of $35 billion, up 94% from a year earlier.",
    "Shares of $AAPL slipped while Exxon Mobil (NYSE:XOM) rose 1.2%; the S&P 500 closed at 5,870.",
    "Treasury yields slipped, with the benchmark 10-year note falling five basis points to 3.9%.",
]


def cpu_ms(function, *args) -> float:
    start = time.process_time()
    function(*args)
    return (time.process_time() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--paragraphs", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(1)
    articles = ["\n\n".join("".join(rng.choices(SENTENCES, k=3)) for _ in range(args.paragraphs))
                for _ in range(args.articles)]
    table = load_companies()
    load = cpu_ms(securities, "", "美团发布公告。", table)  # the first Chinese name loads the dictionary
    prepared = [readable(a) for a in articles]
    stages = {
        "whole": [cpu_ms(securities, "", a, table) for a in articles],
        "text": [cpu_ms(readable, a) for a in articles],
        "codes": [cpu_ms(find_codes, t) for t in prepared],
        "names": [cpu_ms(table.find, t) for t in prepared],
    }
    print(f"articles: {len(articles)}, median length {statistics.median(len(a) for a in articles):.0f} characters, "
          f"name table: {len(table)} companies")
    print(f"segmenter dictionary load (once per process): {load:.0f} ms")
    for stage, times in stages.items():
        p90 = statistics.quantiles(times, n=10)[-1]
        print(f"{stage:>6}: median {statistics.median(times):.2f} ms, p90 {p90:.2f} ms per article")


if __name__ == "__main__":
    main()
