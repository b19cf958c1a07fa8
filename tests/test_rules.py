"""Site rules: the rules file format, its validation (file, line, key), matching by host and path, and how
rules from several files and the feed's own keys combine."""
from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import load_config
from crawler.errors import ConfigError
from crawler.extract.page import compile_selector
from crawler.extract.rules import (SHIPPED_RULES, SiteRules, configured_site_rules, load_site_rules, merge_rules,
                                   pattern_matches)
from crawler.models import ExtractRules

BASE_RULES = """\
sites:
  - name: Example Finance
    hosts: [example.cn]
    article_selector: "#artibody"
    drop_selectors: [".appendQr_wrap"]
  - hosts: finance.example.cn
    date_selector: ".date-source .date"
    drop_selectors: [".share-bar"]
  - name: Example markets section
    hosts: [finance.example.cn/markets]
    author_selector: ".byline"
"""


def write(tmp_path: Path, text: str, name: str = "sites.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_load_with_their_origin(tmp_path: Path) -> None:
    path = write(tmp_path, BASE_RULES)
    rules = list(load_site_rules([path]))
    assert [rule.name for rule in rules] == ["Example Finance", "finance.example.cn", "Example markets section"]
    assert rules[0].origin == f"{path}:2"
    assert rules[1].patterns == ("finance.example.cn",)  # one host may be written without a list
    assert rules[0].rules == ExtractRules(article_selector="#artibody", drop_selectors=(".appendQr_wrap",))


@pytest.mark.parametrize("pattern, url, matches", [
    ("example.cn", "https://example.cn/a.html", True),
    ("example.cn", "https://finance.example.cn/a.html", True),
    ("example.cn", "https://badexample.cn/a.html", False),
    ("example.cn", "https://example.cn.evil.com/a.html", False),
    ("finance.example.cn/markets", "https://finance.example.cn/markets/2020/a.html", True),
    ("finance.example.cn/markets", "https://finance.example.cn/markets", True),
    ("finance.example.cn/markets", "https://finance.example.cn/marketsplus/a.html", False),
    ("finance.example.cn/markets", "https://finance.example.cn/roll/a.html", False),
])
def test_host_patterns(pattern: str, url: str, matches: bool) -> None:
    assert pattern_matches(pattern, url) is matches


def test_rules_apply_from_least_to_most_specific_and_drops_add_up(tmp_path: Path) -> None:
    rules = load_site_rules([write(tmp_path, BASE_RULES)])
    resolved = rules.resolve("https://finance.example.cn/markets/2020/a.html")
    assert resolved.rules == ExtractRules(article_selector="#artibody", drop_selectors=(".appendQr_wrap", ".share-bar"),
                                          date_selector=".date-source .date", author_selector=".byline")
    assert [entry.split(" (")[0] for entry in resolved.applied] == [
        "site Example Finance", "site finance.example.cn", "site Example markets section"]
    assert rules.resolve("https://other.cn/a.html").rules == ExtractRules()
    assert rules.resolve("https://other.cn/a.html").applied == ()


def test_a_later_file_overrides_an_earlier_one_key_by_key(tmp_path: Path) -> None:
    shipped = write(tmp_path, BASE_RULES)
    mine = write(tmp_path, 'sites:\n  - hosts: [example.cn]\n    article_selector: "div.main-text"\n'
                           '    encoding: gbk\n', "mine.yaml")
    resolved = load_site_rules([shipped, mine]).resolve("https://www.example.cn/a.html")
    assert resolved.rules.article_selector == "div.main-text"
    assert resolved.rules.encoding == "gbk"
    assert resolved.rules.drop_selectors == (".appendQr_wrap",)  # kept from the shipped rule
    assert resolved.applied[-1] == f"site example.cn ({mine}:2)"


def test_the_feeds_keys_come_last(tmp_path: Path) -> None:
    rules = load_site_rules([write(tmp_path, BASE_RULES)])
    feed = ExtractRules(article_selector="#feed-body", drop_selectors=(".ad",), image_selector="meta[name=x]")
    resolved = rules.resolve("https://finance.example.cn/a.html", feed, "快讯")
    assert resolved.rules.article_selector == "#feed-body"
    assert resolved.rules.date_selector == ".date-source .date"
    assert resolved.rules.drop_selectors == (".appendQr_wrap", ".share-bar", ".ad")
    assert resolved.applied[-1] == "feed 快讯"


def test_merge_keeps_what_the_specific_rule_leaves_unset() -> None:
    general = ExtractRules(article_selector="#a", date_selector=".d", drop_selectors=(".x",))
    merged = merge_rules(general, ExtractRules(author_selector=".who", drop_selectors=(".x", ".y")))
    assert merged == ExtractRules(article_selector="#a", date_selector=".d", author_selector=".who",
                                  drop_selectors=(".x", ".y"))


@pytest.mark.parametrize("text, message", [
    ("sites:\n  - hosts: [example.cn]\n    article_selector: 'div['\n",
     r"sites\.yaml:3: sites\[0\]\.article_selector: invalid CSS selector 'div\['"),
    ("sites:\n  - hosts: [example.cn]\n    drop_selectors: ['.ok', 'p::']\n",
     r"sites\.yaml:3: sites\[0\]\.drop_selectors: invalid CSS selector 'p::'"),
    ("sites:\n  - hosts: [example.cn]\n    date_selecter: '.date'\n",
     r"sites\.yaml:3: sites\[0\]\.date_selecter: unknown key"),
    ("sites:\n  - article_selector: '#a'\n", r"sites\.yaml:2: sites\[0\]\.hosts: required key is missing"),
    ("sites:\n  - hosts: []\n", r"sites\.yaml:2: sites\[0\]\.hosts: list at least one host"),
    ("sites:\n  - hosts: ['http://']\n", r"sites\.yaml:2: sites\[0\]\.hosts.*is not a host name"),
    ("sites:\n  - hosts: [example.cn]\n    encoding: klingon\n",
     r"sites\.yaml:3: sites\[0\]\.encoding: unknown encoding 'klingon'"),
    ("sites:\n  - hosts: [example.cn]\n  article_selector: '#a'\n", r"sites\.yaml:3: not valid YAML"),
    ("- hosts: [example.cn]\n", r"sites\.yaml: a site rules file is a mapping with one key, sites"),
])
def test_invalid_rules_are_refused_with_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_site_rules([write(tmp_path, text)])


def test_a_missing_rules_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.yaml: site rules file not found \(check extract\.sites"):
        load_site_rules([tmp_path / "nowhere.yaml"])


def test_an_empty_file_holds_no_rules(tmp_path: Path) -> None:
    assert len(load_site_rules([write(tmp_path, "# nothing yet\n")])) == 0


def test_the_shipped_rules_are_valid_and_name_real_sites() -> None:
    rules = load_site_rules([SHIPPED_RULES])
    assert len(rules) >= 8
    for rule in rules:
        assert rule.origin.startswith(str(SHIPPED_RULES))
        for selector in (rule.rules.article_selector, rule.rules.date_selector, rule.rules.author_selector,
                         rule.rules.image_selector, *rule.rules.drop_selectors):
            if selector:
                compile_selector(selector)
    assert rules.resolve("https://finance.sina.com.cn/china/2022-02-09/doc-ikyamrmz1234567.shtml").rules \
        .article_selector == "#artibody"


def test_configured_rules_are_the_shipped_ones_then_the_users(tmp_path: Path) -> None:
    mine = write(tmp_path, "sites:\n  - hosts: [finance.sina.com.cn]\n    author_selector: '.show_author'\n")
    resolved = configured_site_rules([mine]).resolve("https://finance.sina.com.cn/roll/a.shtml")
    assert resolved.rules.article_selector == "#artibody"
    assert resolved.rules.author_selector == ".show_author"
    assert isinstance(configured_site_rules(), SiteRules)


# --- configuration keys -----------------------------------------------------------------------------------

FEED = """\
extract:
  sites: [{sites}]
feeds:
  - url: https://rsshub.app/sina/finance
    name: 新浪财经－国內
    source: 新浪财经
    category: 金融
    date_selector: "{date}"
    encoding: {encoding}
"""


def config(tmp_path: Path, *, sites: str = "", date: str = ".date", encoding: str = "gbk") -> Path:
    return write(tmp_path, FEED.format(sites=sites, date=date, encoding=encoding), "feeds.yaml")


def test_feed_keys_and_rules_files_in_the_configuration(tmp_path: Path) -> None:
    settings = load_config(config(tmp_path, sites="my-sites.yaml, more.yaml"), environ={})
    assert settings.extract.sites == (Path("my-sites.yaml"), Path("more.yaml"))
    (feed,) = settings.feeds
    assert feed.rules == ExtractRules(date_selector=".date", encoding="gbk")


def test_feed_selectors_and_encoding_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"feeds\.yaml:8: feeds\[0\]\.date_selector: invalid CSS selector"):
        load_config(config(tmp_path, date="span["), environ={})
    with pytest.raises(ConfigError, match=r"feeds\.yaml:9: feeds\[0\]\.encoding: unknown encoding 'gbkk'"):
        load_config(config(tmp_path, encoding="gbkk"), environ={})


def test_rules_files_from_the_environment(tmp_path: Path) -> None:
    settings = load_config(config(tmp_path), environ={"CRAWLER_EXTRACT_SITES": "a.yaml,b.yaml"})
    assert settings.extract.sites == (Path("a.yaml"), Path("b.yaml"))
