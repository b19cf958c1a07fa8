"""Company names → codes: the shipped table, a user's table over it, whole-word matching, clear errors."""
from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest

from crawler.enrich import Company, CompanyTable, load_companies, read_table, securities
from crawler.errors import ConfigError


@pytest.fixture(scope="module")
def table() -> CompanyTable:
    return load_companies()


@pytest.fixture(scope="module")
def worker() -> Iterator[ProcessPoolExecutor]:
    """Names are matched in a process of their own, as the crawler does: the segmenter's dictionary (about
    80 MB) stays out of the test process, whose memory the tests that run the crawler as a child inherit."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.fixture
def found(worker: ProcessPoolExecutor):
    def find(text: str, table: CompanyTable) -> tuple[tuple[str, ...], tuple[str, ...]]:
        result = worker.submit(securities, "", text, table).result(timeout=60)
        return result.tickers, result.companies

    return find


def test_the_starter_table_knows_the_largest_names(table):
    assert {table.code_of(n) for n in ("贵州茅台", "宁德时代", "腾讯控股", "Apple", "Nvidia", "Berkshire Hathaway")} == {
        "600519.SH", "300750.SZ", "00700.HK", "AAPL", "NVDA", "BRK.B"}
    assert len(table) >= 200


@pytest.mark.parametrize("sentence, tickers, companies", [
    ("贵州茅台三季报出炉：净利润同比增长15.3%", ("600519.SH",), ("贵州茅台",)),
    ("多家券商研报指出，新能源将带来增长空间，建议关注宁德时代、比亚迪等龙头企业。",
     ("002594.SZ", "300750.SZ"), ("宁德时代", "比亚迪")),
    ("此外，美团董事长表示，公司将继续加大研发投入。", ("03690.HK",), ("美团",)),
    ("京东方A与京东集团同日发布公告。", ("000725.SZ", "09618.HK"), ("京东方A", "京东集团")),
    ("腾讯控股股价大涨，腾讯旗下微信用户数再创新高。", ("00700.HK",), ("腾讯控股",)),
    ("思科公司发布财报，营收超预期。", ("CSCO",), ("思科",)),
    ("Nvidia shares rose 3% after Apple's keynote; JPMorgan Chase analysts raised targets.",
     ("AAPL", "JPM", "NVDA"), ("Nvidia", "Apple", "JPMorgan Chase")),
    ("Exxon Mobil and Goldman Sachs led gains, while Berkshire Hathaway slipped.",
     ("BRK.B", "GS", "XOM"), ("Exxon Mobil", "Goldman Sachs", "Berkshire Hathaway")),
    ("贵州茅台（600519）发布公告称，茅台酒出厂价上调。", ("600519.SH",), ("贵州茅台",)),
])
def test_names_and_aliases_find_their_codes(table, sentence, tickers, companies, found):
    assert found(sentence, table) == (tickers, companies)


@pytest.mark.parametrize("sentence", [
    "完美团队在北京东路举办活动，千万科技企业参会。",  # 美团, 京东, 万科 across word boundaries
    "高通胀压力下，伊利诺伊州的农民转种小麦。",  # 高通 in 高通胀, 伊利 in 伊利诺伊
    "他联想到了一碗小米粥。",  # 联想 the verb is no alias; 小米 inside 小米粥
    "成交行情清淡，新建行政楼投入使用。",  # 交行 and 建行 across words
    "Pineapple growers and Intelligence agencies met; AppleCare is a plan.",  # Latin names inside words
    "An apple a day; tesla is a unit; the alphabet has 26 letters.",  # case matters
])
def test_names_never_match_fragments_of_other_words(table, sentence, found):
    assert found(sentence, table) == ((), ())


def test_longest_name_first(table, found):
    assert found("京东方A今日涨停。", table) == (("000725.SZ",), ("京东方A",))
    assert found("JPMorgan Chase and JPMorgan", table) == (("JPM",), ("JPMorgan Chase",))


def test_names_inside_urls_do_not_count(table, found):
    assert found("来源：https://example.com/Apple/moutai.html [原文](https://example.com/贵州茅台/Apple)", table) == (
        (), ())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "companies.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_user_table_adds_to_and_overrides_the_shipped_one(tmp_path, found):
    user = write(tmp_path, "code,name,aliases\n"
                           "# our own names\n"
                           "688256,寒武纪科技,寒武纪|Cambricon\n"  # the shipped row for 688256.SH is replaced
                           "sz300033,同花顺,\n"  # a new company, its code in another spelling
                           "601318.SH,平安集团,\n")  # an alias of a listed code
    table = load_companies(user)
    assert table.code_of("同花顺") == "300033.SZ"
    assert table.code_of("Cambricon") == "688256.SH"
    assert table.code_of("平安集团") == "601318.SH"
    assert table.code_of("中国平安") is None  # the row for 601318.SH was replaced by the user's
    assert found("同花顺与寒武纪科技双双涨停。", table) == (("300033.SZ", "688256.SH"), ("同花顺", "寒武纪科技"))


def test_a_header_only_table_changes_nothing(tmp_path):
    assert len(load_companies(write(tmp_path, "code,name,aliases\n"))) == len(load_companies())


@pytest.mark.parametrize("text, message", [
    ("code,name,aliases\n600519,贵州茅台\nABCDEFGH,Foo,\n", r"companies\.csv:3: 'ABCDEFGH' is not a security code"),
    ("code,name,aliases\n123456,某公司,\n", r"companies\.csv:2: '123456' is not a security code"),
    ("code,name\n600519\n", r"companies\.csv:2: expected 'code,name,aliases'.*found 1 field"),
    ("code,name,aliases\n600519,贵州茅台,a,b\n", r"companies\.csv:2: expected.*found 4 field"),
    ("name,code\n贵州茅台,600519\n", r"companies\.csv:1: the first line must be the header 'code,name,aliases'"),
    ("code,name,aliases\n600519,茅,\n", r"companies\.csv:2: name '茅' is too short"),
    ("code,name,aliases\n600519,贵州茅台,茅台||国酒\n", r"companies\.csv:2: an empty alias"),
    ("code,name,aliases\n600519,贵州茅台,\n000858,五粮液,贵州茅台\n",
     r"companies\.csv:3: '贵州茅台' is already the name of 600519\.SH \(line 2\)"),
])
def test_a_bad_table_is_refused_naming_file_and_line(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_companies(write(tmp_path, text))


def test_a_missing_or_unreadable_table_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.csv: company table not found \(enrich\.companies"):
        load_companies(tmp_path / "nope.csv")
    (tmp_path / "gbk.csv").write_bytes("code,name,aliases\n600519,贵州茅台,\n".encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_companies(tmp_path / "gbk.csv")


def test_a_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("code,name,aliases\n300033,同花顺,\n", encoding="utf-8-sig")
    assert load_companies(path).code_of("同花顺") == "300033.SZ"


def test_the_shipped_table_is_valid_and_its_names_unique():
    rows = list(read_table(Path("crawler/enrich/companies.csv").read_text(encoding="utf-8"), "companies.csv"))
    assert len({r.code for r in rows}) == len(rows)


def test_a_table_crosses_into_worker_processes_whole():
    table = CompanyTable([Company("600519.SH", "贵州茅台", ("茅台",)), Company("AAPL", "Apple")])
    copy = pickle.loads(pickle.dumps(table))
    assert copy.companies == table.companies and copy.code_of("茅台") == "600519.SH"


def test_a_table_crosses_as_bytes_pickled_once_and_is_rebuilt_once_per_process():
    table = CompanyTable(Company(f"6{n:05d}.SH", f"公司{n}") for n in range(2000))
    sent = pickle.dumps(table)
    # The rows travel as one bytes object, not as thousands of tuples to walk for every call.
    assert sum(isinstance(item, tuple) for item in pickle.loads(pickle.dumps(table.__reduce__()[1]))) == 0
    assert pickle.loads(sent) is pickle.loads(pickle.dumps(table))
    assert pickle.loads(sent).code_of("公司1999") == "601999.SH"


def _spans_ours_and_jiebas(clauses: list[str], names: frozenset[str]) -> list[tuple[str, list, list]]:
    """In the worker: each clause whose word spans differ between our cut and jieba's own tokenize."""
    from crawler.enrich.names import _segmenter

    segmenter = _segmenter(names)
    differing = []
    for clause in clauses:
        ours = segmenter.words(clause)
        theirs = [(start, end) for _word, start, end in segmenter._tokenizer.tokenize(clause, HMM=False)]
        if ours != theirs:
            differing.append((clause, ours, theirs))
    return differing


def test_the_word_cut_is_jiebas_own(table, worker):
    import random

    rng = random.Random(11)
    news = ("贵州茅台晚间发布公告称，公司前三季度实现营业收入1053亿元，同比增长16.9%。港股方面，腾讯控股收涨3.2%，"
            "美团跌1.1%，南向资金净买入15亿港元。多家券商研报指出，新能源将带来增长空间，建议关注宁德时代、比亚迪等"
            "龙头企业。北京东路的完美团队在京东方科技集团举办AI+产业大会，iPhone15与Mate60 Pro同台，C919获批。"
            "Nvidia的H100芯片供不应求，A股半导体板块走强，中芯国际、北方华创涨停，上证50指数收于2,456.78点。")
    names = [n for n in table.codes if any("\u4e00" <= ch <= "\u9fff" for ch in n)]
    alphabet = list("的一是在不了有和人这中大为上个国我以要公司集团股份控股北京东路美团完美") + list(
        "aZ09+#&._%-") + [" ", "\t", "\r\n", "\n", "$", "（", "\u9fd6", "\u3400", "！"]
    clauses = [news[i:i + rng.randint(1, 90)] for i in range(0, len(news), 3)]
    clauses += ["".join(rng.choice(names + alphabet) for _ in range(rng.randint(1, 30))) for _ in range(800)]
    clauses += ["", "a", "AB12cd", "\r\n", "美团", "京东", "北京东路", "思科公司"]
    assert worker.submit(_spans_ours_and_jiebas, clauses, table._cjk_names).result(timeout=120) == []


def test_the_word_cut_breaks_a_tie_as_jieba_does(tmp_path):
    """甲|乙 and 甲乙 score exactly alike under this dictionary (total 16: log 4 - log 16 twice, log 1 - log 16
    once, all multiples of the same rounded log 2): jieba takes the longer word, and so must we."""
    import jieba

    from crawler.enrich.names import _Segmenter

    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("甲 4\n乙 4\n甲乙 1\n丙 7\n", encoding="utf-8")
    segmenter = _Segmenter()
    segmenter._tokenizer = jieba.Tokenizer(dictionary=str(dictionary))
    theirs = [(start, end) for _word, start, end in segmenter._tokenizer.tokenize("甲乙甲", HMM=False)]
    assert theirs == [(0, 2), (2, 3)]
    assert segmenter.words("甲乙甲") == theirs
