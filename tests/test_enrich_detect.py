"""Securities in real-looking sentences: every form papers, wires and quote sites use, and the traps."""
from __future__ import annotations

import pytest

from crawler.enrich import CompanyTable, Securities, normalise_code, securities
from crawler.enrich.codes import a_share_exchange

NO_NAMES = CompanyTable([])


def tickers(text: str, table: CompanyTable = NO_NAMES) -> tuple[str, ...]:
    return securities("", text, table).tickers


# --- normal forms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelled, normal", [
    ("600519", "600519.SH"), ("SH600519", "600519.SH"), ("sh600519", "600519.SH"), ("600519.SS", "600519.SH"),
    ("600519.sh", "600519.SH"), ("600519.XSHG", "600519.SH"), ("688981", "688981.SH"),
    ("000001", "000001.SZ"), ("SZ000858", "000858.SZ"), ("300750", "300750.SZ"), ("000001.XSHE", "000001.SZ"),
    ("430047", "430047.BJ"), ("830799", "830799.BJ"), ("870508", "870508.BJ"), ("920819", "920819.BJ"),
    ("BJ430047", "430047.BJ"),
    ("00700.HK", "00700.HK"), ("0700.HK", "00700.HK"), ("700.HK", "00700.HK"), ("HK00700", "00700.HK"),
    ("hk0700", "00700.HK"), ("09988", "09988.HK"), ("700", "00700.HK"),
    ("AAPL", "AAPL"), ("aapl", "AAPL"), ("$NVDA", "NVDA"), ("NASDAQ:AAPL", "AAPL"), ("NYSE:XOM", "XOM"),
    ("BRK.B", "BRK.B"), ("brk-b", "BRK.B"), ("BRK/B", "BRK.B"), ("NVDA.O", "NVDA"), ("AAPL.US", "AAPL"),
    (" 600519.SH ", "600519.SH"),
])
def test_every_spelling_of_a_code_has_one_normal_form(spelled, normal):
    assert normalise_code(spelled) == normal


@pytest.mark.parametrize("text", ["123456", "999999", "20230519", "600519元", "TOOLONG", "", "贵州茅台", "1.5%"])
def test_what_is_no_code_has_no_normal_form(text):
    assert normalise_code(text) is None


def test_the_exchange_follows_from_the_code_range():
    assert [a_share_exchange(c) for c in ("601318", "688111", "002594", "301269", "430047", "920001")] == [
        "SH", "SH", "SZ", "SZ", "BJ", "BJ"]
    assert a_share_exchange("100000") is None and a_share_exchange("510300") is None  # bonds and funds


# --- mainland A shares ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence, expected", [
    ("贵州茅台（600519）晚间发布公告称，公司前三季度实现营业收入1053亿元。", ("600519.SH",)),
    ("贵州茅台(600519.SH)今日收涨2.35%，报1688.00元/股。", ("600519.SH",)),
    ("截至收盘，SH600519报1688元，SZ000858报150.2元。", ("000858.SZ", "600519.SH")),
    ("行情显示，sh601318盘中一度翻红。", ("601318.SH",)),
    ("据Wind数据，600519.SS与000001.XSHE均获北向资金增持。", ("000001.SZ", "600519.SH")),
    ("宁德时代公告，公司股票代码：300750，将于下周一复牌。", ("300750.SZ",)),
    ("证券代码：002594    证券简称：比亚迪    公告编号：2024-001", ("002594.SZ",)),
    ("该公司A股代码为688981，H股同步上市。", ("688981.SH",)),
    ("北交所上市公司诺思兰德（430047）披露年报。", ("430047.BJ",)),
    ("中国平安（601318.SH，02318.HK）两地股价同步走高。", ("02318.HK", "601318.SH")),
    ("券商板块中，中信证券（600030）、东方财富（300059）涨幅居前。", ("300059.SZ", "600030.SH")),
    ("本周调研密集的个股包括（600519、000858、300750）。", ("000858.SZ", "300750.SZ", "600519.SH")),
    ("贵州茅台（６００５１９）全角数字也能识别。", ("600519.SH",)),
])
def test_a_shares_in_the_forms_papers_use(sentence, expected):
    assert tickers(sentence) == expected


# --- Hong Kong ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence, expected", [
    ("腾讯控股（00700.HK）今日发布第三季度业绩。", ("00700.HK",)),
    ("Tencent (0700.HK) rose 3% in Hong Kong trading.", ("00700.HK",)),
    ("港股方面，腾讯控股（00700）收涨3.2%，美团（03690）跌1.1%。", ("00700.HK", "03690.HK")),
    ("港交所数据显示，阿里巴巴（09988）获南向资金净买入。", ("09988.HK",)),
    ("恒生指数收涨1.5%，小米集团（01810）领涨。", ("01810.HK",)),
    ("公司股份代号：700，于香港联合交易所主板上市。", ("00700.HK",)),
    ("Tencent Holdings (HKEX: 700) announced a buyback.", ("00700.HK",)),
    ("行情软件中输入HK00700即可查询。", ("00700.HK",)),
])
def test_hong_kong_codes(sentence, expected):
    assert tickers(sentence) == expected


@pytest.mark.parametrize("sentence", [
    "该公司（00700）发布公告称，拟回购股份。",  # no Hong Kong word in the sentence
    "港股通标的名单（2023）年度调整完成。",  # a year
    "港股市场成交额（10250）亿港元。",  # an amount, and no leading zero
])
def test_a_bracketed_number_is_a_hong_kong_code_only_in_hong_kong_context(sentence):
    assert tickers(sentence) == ()


# --- US -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence, expected", [
    ("Apple Inc. (NASDAQ: AAPL) reported record services revenue.", ("AAPL",)),
    ("Exxon Mobil Corp (NYSE:XOM) raised its dividend.", ("XOM",)),
    ("Berkshire Hathaway (NYSE: BRK.B) and (NYSE: BRK-A) both fell.", ("BRK.A", "BRK.B")),
    ("英伟达（纳斯达克：NVDA）盘后大涨8%。", ("NVDA",)),
    ("纽交所：BABA 盘前上涨。", ("BABA",)),
    ("Traders piled into $TSLA and $NVDA calls; $AAPL lagged.", ("AAPL", "NVDA", "TSLA")),
    ("$BRK.B is Buffett's vehicle.", ("BRK.B",)),
    ("英伟达（NVDA.O）与苹果（AAPL.US）双双走高。", ("AAPL", "NVDA")),
    ("Reuters: Exxon (XOM.N) shares slipped.", ("XOM",)),
])
def test_us_tickers(sentence, expected):
    assert tickers(sentence) == expected


@pytest.mark.parametrize("sentence", [
    "The deal is worth $5 billion, or about US$5.2bn, and $A10 million in Australia.",
    "The $USD index rose while $SPX and $VIX ended flat.",
    "The Nasdaq: A record close, said the headline.",  # "A" after an exchange name, outside brackets
    "Chief executive (CEO) pay and gross domestic product (GDP) and (ETF) flows (AI)",
    "The U.N. and U.S. agencies said (U.N.) meetings went on.",
])
def test_us_lookalikes_are_not_tickers(sentence):
    assert tickers(sentence) == ()


# --- traps ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence", [
    "公司以600519元的价格竞得该地块。",  # amount
    "截至20230519，公司累计回购股份。",  # date
    "会议定于2023年05月19日召开，会期600519分钟。",
    "公司控股股东持有300750股，占总股本的0.01%。",  # count
    "本次发行价格为（300750.00元），募集资金（600000）万元。",  # prices and amounts in brackets
    "毛利率为60.0519%，同比提升（1.5%）。",  # percentages
    "投资者热线：021-60051900，传真：(0755)83912345，客服电话400-600-5190。",  # phone numbers
    "注册地址：上海市浦东新区，邮编：200120。",  # postcode
    "身份证号码：110105199003071234，统一社会信用代码：91520000214413520X。",  # ID numbers
    "行政区划代码：110105，组织机构代码：600519000。",  # other codes
    "详见 https://quote.eastmoney.com/sh600519.html 与 http://stock.finance.sina.com.cn/600519.SH/ 页面。",
    "行情见 finance.sina.com.cn/realstock/company/sz000858/nc.shtml 。",  # host name without a scheme
    "联系邮箱：ir600519.sh@example.com。",  # e-mail address
    "[点击查看](https://xueqiu.com/S/SH600519) 与 ![](/images/600519.SH.png)",  # Markdown link targets
    "上证指数（000001）收涨0.5%，深证成指（399001）涨0.8%。",  # indices
    "该基金（510300）与国债（019547）成交活跃。",  # codes of no share range
    "全年营收（2023）与（2024）年度对比。",
    "Revenue rose to 600519 yuan; order 20230519 shipped; call (212) 555-0100.",
])
def test_traps_name_no_security(sentence):
    assert tickers(sentence) == ()


def test_nothing_found_is_empty():
    assert securities("央行：降准释放长期资金", "", NO_NAMES) == Securities()
