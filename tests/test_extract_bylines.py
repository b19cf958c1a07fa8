import pytest

from crawler.extract.bylines import Credit, author_names, clean_author, parse_credit_line


@pytest.mark.parametrize("line, credits", [
    ("作者：王爱文", [Credit("author", "王爱文")]),
    ("记者 李明", [Credit("author", "李明")]),
    ("记者李明", [Credit("author", "李明")]),
    ("（记者 李明 北京报道）", [Credit("author", "李明 北京报道")]),
    ("本报记者 张三 李四", [Credit("author", "张三 李四")]),
    ("江南日报记者 王东阳 张小川", [Credit("author", "王东阳 张小川")]),
    ("文/张三", [Credit("author", "张三")]),
    ("来源：新华社", [Credit("source", "新华社")]),
    ("来源：证券日讯网 作者：王爱文", [Credit("source", "证券日讯网"), Credit("author", "王爱文")]),
    ("2020-08-31 14:05:33 来源：证券日讯网", [Credit("source", "证券日讯网")]),
    ("责任编辑：张晓明", [Credit("editor", "张晓明")]),
    ("By Jane Doe", [Credit("author", "Jane Doe")]),
    ("By Jane Doe and John Roe", [Credit("author", "Jane Doe and John Roe")]),
    ("Reporting by Jane Doe in London; Editing by John Roe",
     [Credit("author", "Jane Doe in London"), Credit("editor", "John Roe")]),
    ("Source: Reuters", [Credit("source", "Reuters")]),
])
def test_credit_lines(line: str, credits: list[Credit]) -> None:
    assert parse_credit_line(line) == credits


@pytest.mark.parametrize("line", [
    "记者获悉，央行今日开展逆回购操作。",
    "据江南日报记者王东阳报道，土豆丰收。",
    "编辑部的故事",
    "来源于市场的消息显示，央行将继续投放流动性。",
    "By the end of the year, stocks rose.",
    "By Tuesday, stocks had fallen.",
    "作者认为，这一政策将在明年见效，并带动相关行业的投资增长。",
])
def test_prose_is_not_a_credit_line(line: str) -> None:
    assert parse_credit_line(line) is None


@pytest.mark.parametrize("raw, author", [
    ("作者：王爱文", "王爱文"),
    ("记者 李明", "李明"),
    ("By Jane Doe / Reuters", "Jane Doe"),
    ("Jane Doe | Bloomberg", "Jane Doe"),
    ("Tom Becker (Reuters)", "Tom Becker"),
    ("Jane Doe and John Roe", "Jane Doe, John Roe"),
    ("Dana Ford, James Corey, and Tom Watkins", "Dana Ford, James Corey, Tom Watkins"),
    ("张三、李四", "张三, 李四"),
    ("记者 张三 李四 北京报道", "张三, 李四"),
    ("https://www.facebook.com/janedoe", None),
    ("", None),
])
def test_clean_author(raw: str, author: str | None) -> None:
    assert clean_author(raw) == author


def test_author_names_are_deduplicated() -> None:
    assert author_names("Jane Doe, John Roe and Jane Doe") == ["Jane Doe", "John Roe"]


def test_strict_names_refuse_anything_but_names() -> None:
    assert author_names("获悉，央行今日开展", strict=True) == []
    assert author_names("王爱文", strict=True) == ["王爱文"]
