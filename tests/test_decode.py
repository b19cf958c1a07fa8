import codecs

import pytest

from crawler.fetch.decode import decode, normalize_encoding

ZH = "民政部：基本公共服务资源向社区下沉，优先发展社区养老托育。镕（GBK 才有的字）" * 8


@pytest.mark.parametrize("declared", ["gb2312", "GBK", "x-gbk", "cp936", "gb18030"])
def test_legacy_chinese_charsets_widen_to_gb18030(declared):
    assert normalize_encoding(declared) == "gb18030"
    text, encoding = decode(ZH.encode("gb18030"), f"text/html; charset={declared}")
    assert (text, encoding) == (ZH, "gb18030")


def test_gbk_only_characters_survive_a_gb2312_label():
    # 镕 is not in GB2312: a strict GB2312 codec (trafilatura's path) would turn it into garbage
    body = f'<meta charset="gb2312"><p>{ZH}</p>'.encode("gbk")
    text, encoding = decode(body)
    assert encoding == "gb18030" and "镕" in text


def test_http_charset_beats_the_document():
    body = f'<meta charset="utf-8"><p>{ZH}</p>'.encode("gb18030")
    assert decode(body, "text/html; charset=GB18030") == (f'<meta charset="utf-8"><p>{ZH}</p>', "gb18030")


def test_xml_declaration_is_read():
    body = f'<?xml version="1.0" encoding="GBK"?><rss><title>{ZH}</title></rss>'.encode("gbk")
    assert decode(body)[1] == "gb18030"


def test_undeclared_gbk_is_detected():
    assert decode(f"<p>{ZH}</p>".encode("gbk")) == (f"<p>{ZH}</p>", "gb18030")


def test_undeclared_utf8_is_utf8():
    assert decode(f"<p>{ZH}</p>".encode()) == (f"<p>{ZH}</p>", "utf-8")


def test_truncated_utf8_keeps_its_encoding():
    body = f"<rss><title>{ZH}".encode()
    cut = body[:-2]  # in the middle of the last character
    text, encoding = decode(cut, "application/rss+xml; charset=utf-8")
    assert encoding == "utf-8" and text.startswith("<rss><title>民政部") and text.endswith("\ufffd")
    assert decode(cut)[1] == "utf-8"


def test_a_stray_bad_byte_does_not_flip_the_encoding():
    body = f"<p>{ZH}</p>".encode().replace("。".encode(), b"\xff", 1)
    text, encoding = decode(body, "text/html; charset=utf-8")
    assert encoding == "utf-8" and text.count("\ufffd") == 1


def test_wrong_utf8_label_on_gbk_bytes_is_corrected():
    assert decode(f"<p>{ZH}</p>".encode("gbk"), "text/html; charset=utf-8")[1] == "gb18030"


def test_latin1_label_on_utf8_text_is_corrected():
    assert decode("Euro € and 人民币".encode(), "text/html; charset=ISO-8859-1") == ("Euro € and 人民币", "utf-8")


@pytest.mark.parametrize("bom,encoding", [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                                          (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_byte_order_marks_win_and_are_removed(bom, encoding):
    text, used = decode(bom + f"<p>{ZH}</p>".encode(encoding), "text/html; charset=gbk")
    assert (text, used) == (f"<p>{ZH}</p>", encoding)


def test_utf16_xml_without_bom_is_recognised():
    body = f'<?xml version="1.0" encoding="UTF-16"?><rss>{ZH}</rss>'.encode("utf-16-le")
    assert decode(body) == (f'<?xml version="1.0" encoding="UTF-16"?><rss>{ZH}</rss>', "utf-16-le")


def test_unknown_declared_charset_falls_back_to_detection():
    assert decode(f"<p>{ZH}</p>".encode(), "text/html; charset=klingon")[1] == "utf-8"
