import hashlib
import random

from crawler.fingerprint import BANDS, MIN_NEAR_CHARS, SIGNATURE_SIZE, Fingerprint, fingerprint

SENTENCES = [
    "国家统计局今日公布的数据显示，十月份居民消费价格指数同比上涨百分之零点二，环比持平。",
    "分析人士指出，食品价格回落是主要原因，猪肉价格同比下降超过三成，鲜菜价格有所上涨。",
    "扣除食品和能源价格后的核心通胀保持稳定，服务价格温和上涨，市场需求逐步恢复。",
    "工业生产者出厂价格指数同比下降百分之二点六，降幅比上月收窄零点二个百分点。",
    "业内人士认为，稳增长政策持续发力，内需有望进一步改善，物价水平将保持在合理区间。",
    "央行此前表示，将继续实施稳健的货币政策，保持流动性合理充裕，支持实体经济发展。",
]


def story(seed: int, n: int = 12) -> str:
    rng = random.Random(seed)
    return "\n\n".join(rng.choice(SENTENCES) + f"第{seed}号报道第{i}段，数据来源于{seed * 7 + i}家机构的调查。"
                       for i in range(n))


def test_identical_bodies_have_identical_fingerprints_whatever_the_markup():
    body = story(1)
    assert fingerprint(body) == fingerprint("![图](http://x/1.jpg)\n\n" + body.replace("\n\n", "\n\n  "))


def test_a_copy_with_a_source_line_and_a_cut_paragraph_is_contained():
    original = story(2)
    paragraphs = original.split("\n\n")
    copy = "（来源：新华社）" + "\n\n".join(paragraphs[:-2])
    a, b = fingerprint(original), fingerprint(copy)
    assert a.containment(b) >= 0.9
    assert set(a.bands()) & set(b.bands())


def test_different_stories_from_one_template_are_not():
    a, b = fingerprint(story(3)), fingerprint(story(4))
    assert a.containment(b) < 0.9


def test_short_bodies_have_no_fingerprint():
    assert fingerprint("【快讯】央行开展1000亿元逆回购操作。") is None
    assert fingerprint("x" * (MIN_NEAR_CHARS - 1)) is None


def test_signature_round_trips_through_bytes_and_has_one_key_per_band():
    fp = fingerprint(story(5))
    assert Fingerprint.from_bytes(fp.to_bytes()) == fp
    assert len(fp.signature) == SIGNATURE_SIZE and len(set(fp.bands())) == BANDS


def test_signatures_never_change_they_are_stored():
    # Computed once with the first implementation: any change to shingling, hashing or binning that alters
    # them leaves every stored signature unmatchable.
    body = ("国家统计局今日发布数据，2022年1月份，全国居民消费价格同比上涨0.9%。其中，城市上涨1.0%，农村上涨0.7%；"
            "食品价格下降3.8%，非食品价格上涨2.0%。Consumer prices rose 0.9 percent in January from a year earlier, "
            "the statistics bureau said on Wednesday. ") * 2
    found = fingerprint(body)
    assert found.shingles == 149
    assert found.signature[:3] == (15160376787652793, 143660603532924068, 94074307448600604)
    assert hashlib.sha256(found.to_bytes()).hexdigest() == \
        "ebd2270bc34ae18496a31441a4adfff864003b486a42fb824a27c2f2fe302d1c"


def _shingle_hash_by_definition(text: str) -> set[int]:
    """Each shingle's UTF-32 as a 128-bit integer, times the multiplier, middle 64 bits: one at a time."""
    from crawler.fingerprint import _MULTIPLIER, SHINGLE

    data = text.encode("utf-32-le")
    return {(int.from_bytes(data[4 * i:4 * (i + SHINGLE)], "little") * _MULTIPLIER >> 128) & (1 << 64) - 1
            for i in range(len(text) - SHINGLE + 1)}


def test_shingle_hashes_are_the_definition_computed_lane_by_lane(monkeypatch):
    import crawler.fingerprint as module

    rng = random.Random(3)
    # CJK, ASCII, characters beyond the BMP and the extremes of a 32-bit lane unit
    alphabet = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于" + "abcXYZ0189 ,." + "\U00020000\U0001F600\x00\U0010FFFF"
    texts = ["", "abc", "abcd", "abcde"] + ["".join(rng.choices(alphabet, k=rng.randint(0, 600))) for _ in range(300)]
    for text in texts:
        assert module._shingle_hashes(text) == _shingle_hash_by_definition(text), text
    monkeypatch.setattr(module, "_LANES_PER_PRODUCT", 5)  # many products per text, and a short last one
    for text in texts[:60]:
        assert module._shingle_hashes(text) == _shingle_hash_by_definition(text), text
