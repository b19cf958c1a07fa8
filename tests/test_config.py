import re
from pathlib import Path

import pytest

from crawler.config import load_config, parse_duration, parse_size
from crawler.errors import ConfigError

CONTRACT = """\
archive:
  dir: archive
  timezone: Asia/Shanghai
state:
  url: sqlite:///state/crawler.sqlite3
network:
  allow_private: false
feeds:
  - url: https://rsshub.app/sina/finance
    name: 新浪财经－国內
    source: 新浪财经
    category: 金融
    interval: 10m
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "feeds.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_contract_config_is_accepted(tmp_path):
    s = load_config(write(tmp_path, CONTRACT), environ={})
    assert s.archive.dir == Path("archive")
    assert s.archive.zone.key == "Asia/Shanghai"
    assert s.state.database_url == "sqlite:///state/crawler.sqlite3"
    assert s.network.allow_private is False
    (feed,) = s.feeds
    assert feed.category_path == ("金融", "新浪财经", "新浪财经－国內")
    assert feed.interval == 600


@pytest.mark.parametrize("text,seconds", [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), (45, 45),
                                          ("1.5h", 5400), ("250ms", 0.25)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["10x", "", "-5m", "0s", True, "ten minutes"])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_sizes():
    assert parse_size("5MB") == 5_000_000
    assert parse_size("512KiB") == 512 * 1024
    assert parse_size(1000) == 1000


def test_plain_path_is_a_sqlite_file(tmp_path):
    s = load_config(write(tmp_path, CONTRACT.replace("sqlite:///state/crawler.sqlite3", "state/x.db")), environ={})
    assert s.state.database_url == "sqlite:///state/x.db"


def test_a_section_with_every_key_commented_out_takes_the_defaults(tmp_path):
    s = load_config(write(tmp_path, CONTRACT.replace("  allow_private: false", "  # allow_private: true")),
                    environ={"CRAWLER_DEDUP_POLICY": "url"})
    assert s.network.allow_private is False and s.dedup.policy == "url"


def errors_for(tmp_path, text) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    return str(info.value)


def test_unknown_key_is_refused_with_file_line_and_path(tmp_path):
    msg = errors_for(tmp_path, CONTRACT + "    colour: red\n")
    assert "feeds.yaml:14" in msg and "feeds[0].colour" in msg and "unknown key" in msg


def test_unknown_section_key_is_refused(tmp_path):
    msg = errors_for(tmp_path, CONTRACT.replace("  allow_private: false", "  allow_privat: false"))
    assert "network.allow_privat" in msg


def test_wrong_type_is_refused(tmp_path):
    msg = errors_for(tmp_path, CONTRACT.replace("allow_private: false", "allow_private: perhaps"))
    assert "network.allow_private" in msg and "feeds.yaml:7" in msg


def test_bad_interval_is_refused(tmp_path):
    msg = errors_for(tmp_path, CONTRACT.replace("interval: 10m", "interval: soon"))
    assert "feeds[0].interval" in msg and "30s, 10m" in msg


def test_missing_url_is_refused(tmp_path):
    msg = errors_for(tmp_path, CONTRACT.replace("  - url: https://rsshub.app/sina/finance\n    name:", "  - name:"))
    assert "feeds[0].url" in msg and "missing" in msg


def test_duplicate_feed_urls_are_refused(tmp_path):
    second = CONTRACT.split("feeds:\n")[1].replace("新浪财经－国內", "again")
    msg = errors_for(tmp_path, CONTRACT + second)
    assert "already listed as feeds[0]" in msg and "feeds[1].url" in msg


def test_non_http_url_is_refused(tmp_path):
    msg = errors_for(tmp_path, CONTRACT.replace("https://rsshub.app/sina/finance", "file:///etc/passwd"))
    assert "feeds[0].url" in msg and "not an http(s) URL" in msg


def test_unknown_timezone_is_refused(tmp_path):
    msg = errors_for(tmp_path, CONTRACT.replace("Asia/Shanghai", "Mars/Olympus"))
    assert "archive.timezone" in msg and "Mars/Olympus" in msg


def test_invalid_yaml_names_the_line(tmp_path):
    msg = errors_for(tmp_path, CONTRACT + "  - url: [unclosed\n")
    assert re.search(r"feeds\.yaml:\d+: not valid YAML", msg), msg


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", environ={})


def test_environment_overrides_the_file(tmp_path):
    s = load_config(write(tmp_path, CONTRACT), environ={
        "CRAWLER_ARCHIVE_DIR": "/srv/blog/source/_posts",
        "CRAWLER_NETWORK_ALLOW_PRIVATE": "true",
        "CRAWLER_NETWORK_ALLOWED_HOSTS": "rsshub.local,10.0.0.5",
        "CRAWLER_STATE_URL": "postgresql://localhost/test",
    })
    assert s.archive.dir == Path("/srv/blog/source/_posts")
    assert s.network.allow_private is True
    assert s.network.allowed_hosts == ("rsshub.local", "10.0.0.5")
    assert s.state.database_url == "postgresql://localhost/test"


def test_unknown_environment_setting_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="CRAWLER_NETWORK_ALOW_PRIVATE"):
        load_config(write(tmp_path, CONTRACT), environ={"CRAWLER_NETWORK_ALOW_PRIVATE": "1"})


def test_defaults_apply_to_feeds(tmp_path):
    text = CONTRACT.replace("    interval: 10m\n", "") + "defaults:\n  interval: 2h\n"
    s = load_config(write(tmp_path, text), environ={})
    assert s.feeds[0].interval == 7200


def test_shipped_config_is_valid():
    s = load_config(Path(__file__).parent.parent / "config" / "feeds.yaml", environ={})
    assert len(s.feeds) >= 10
    assert {f.category for f in s.feeds} >= {"金融", "Finance"}


def test_feed_selectors_are_checked(tmp_path):
    text = CONTRACT + "    article_selector: div#artibody\n    drop_selectors: ['.appendQr', 'p.editor']\n"
    feed = load_config(write(tmp_path, text), environ={}).feeds[0]
    assert feed.rules.article_selector == "div#artibody" and feed.rules.drop_selectors == (".appendQr", "p.editor")
    msg = errors_for(tmp_path, CONTRACT + "    drop_selectors: ['div[[oops']\n")
    assert "feeds[0].drop_selectors" in msg and "invalid CSS selector" in msg
