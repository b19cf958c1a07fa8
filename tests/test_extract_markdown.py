from crawler.extract.markdown import drop_title_line, escape_for_hexo, first_image

TITLE = "央行开展逆回购操作 市场流动性保持合理充裕"
TEXT = "中国人民银行以利率招标方式开展了1200亿元7天期逆回购操作。"


def test_a_heading_repeating_the_title_is_dropped() -> None:
    assert drop_title_line(f"# {TITLE}\n\n{TEXT}", [TITLE]) == TEXT


def test_a_plain_line_repeating_the_title_is_dropped() -> None:
    assert drop_title_line(f"{TITLE}\n{TEXT}", [TITLE]) == TEXT


def test_page_chrome_above_the_title_goes_with_it() -> None:
    assert drop_title_line(f"证券日讯网\n要闻\n快讯\n{TITLE}\n{TEXT}", [TITLE]) == TEXT


def test_a_title_deep_in_the_text_is_left_alone() -> None:
    body = f"{TEXT}\n\n{TITLE}\n\n{TEXT}"
    assert drop_title_line(body, [TITLE]) == body


def test_a_different_first_heading_is_kept() -> None:
    body = f"## 背景\n\n{TEXT}"
    assert drop_title_line(body, [TITLE]) == body


def test_title_comparison_ignores_markdown_escapes_and_case() -> None:
    assert drop_title_line("# Fed\\_watch: rates *on hold*\n\nText.", ["fed_watch: rates on hold"]) == "Text."


def test_script_text_cannot_become_html() -> None:
    escaped = escape_for_hexo('代码 \\<script>alert("x")\\</script> 与 <img src=x onerror=alert(1)>')
    assert "<" not in escaped
    assert escaped == '代码 &lt;script>alert("x")&lt;/script> 与 &lt;img src=x onerror=alert(1)>'


def test_entities_in_text_stay_text() -> None:
    assert escape_for_hexo("AT&T and &lt;b&gt;") == "AT&T and &amp;lt;b&amp;gt;"


def test_escaped_backslash_before_angle_bracket_survives() -> None:
    assert escape_for_hexo("C:\\\\<dir>") == "C:\\\\&lt;dir>"


def test_images_code_and_template_braces_are_kept() -> None:
    body = ("![图 <1>](https://img.example.cn/a.jpg)\n\n`a < b`\n\n```\nif a < b:\n```\n\n"
            "模板 {{ page.title }} 与 {% raw %} 原样保留")
    assert escape_for_hexo(body) == body.replace("图 <1>", "图 &lt;1>")


def test_first_image() -> None:
    assert first_image(f"{TEXT}\n\n![](https://img.example.cn/a.jpg)\n\n![b](https://img.example.cn/b.jpg)") \
        == "https://img.example.cn/a.jpg"
    assert first_image(TEXT) is None
