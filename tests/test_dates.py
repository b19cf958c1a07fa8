from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crawler.dates import parse_date, zone_for_text

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def offset(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


@pytest.mark.parametrize("text, expected", [
    # RFC 822 / 2822
    ("Wed, 09 Feb 2022 11:10:19 +0800", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("Wed, 09 Feb 2022 03:10:19 GMT", datetime(2022, 2, 9, 3, 10, 19, tzinfo=UTC)),
    ("Wed, 09 Feb 2022 03:10:19 UT", datetime(2022, 2, 9, 3, 10, 19, tzinfo=UTC)),
    ("Wed, 09 Feb 2022 03:10:19 -0000", datetime(2022, 2, 9, 3, 10, 19, tzinfo=UTC)),
    ("Wed, 09 Feb 2022 11:10 +0800", datetime(2022, 2, 9, 11, 10, tzinfo=offset(8))),
    ("09 Feb 2022 11:10:19 +0800", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("Wed, 9 Feb 22 11:10:19 +0800", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("Sun, 06 Nov 94 08:49:37 GMT", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
    ("Mon, 09 Feb 2022 11:10:19 +0800", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),  # wrong weekday
    ("Thurs, 10 Feb 2022 11:10:19 +0800", datetime(2022, 2, 10, 11, 10, 19, tzinfo=offset(8))),
    ("Wed, 09 Feb 2022 03:10:19 Z", datetime(2022, 2, 9, 3, 10, 19, tzinfo=UTC)),
    ("Wed, 09 Feb 2022 03:10:19 A", datetime(2022, 2, 9, 3, 10, 19, tzinfo=UTC)),  # military: RFC 5322 says UTC
    ("Wed, 09 Feb 2022 03:10:19 Y", datetime(2022, 2, 9, 3, 10, 19, tzinfo=UTC)),
    ("Wed, 09 February 2022 11:10:19 +0800", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("Wed, 09 Feb 2022 11:10:19 +0800 (CST)", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("Wed, 09 Feb 2022 11:10:19 GMT+8", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("Wed, 09 Feb 2022 11:10:19 +0530", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(5.5))),
    # zone abbreviations: CST is China here
    ("Wed, 09 Feb 2022 11:10:19 CST", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("Wed, 09 Feb 2022 11:10:19 cst", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("Wed, 09 Feb 2022 11:10:19 EST", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(-5))),
    ("Wed, 09 Jun 2022 11:10:19 EDT", datetime(2022, 6, 9, 11, 10, 19, tzinfo=offset(-4))),
    ("Wed, 09 Feb 2022 11:10:19 PST", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(-8))),
    ("Wed, 09 Jun 2022 11:10:19 PDT", datetime(2022, 6, 9, 11, 10, 19, tzinfo=offset(-7))),
    ("Wed, 09 Jun 2022 11:10:19 BST", datetime(2022, 6, 9, 11, 10, 19, tzinfo=offset(1))),
    ("Wed, 09 Feb 2022 11:10:19 JST", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(9))),
    ("Wed, 09 Feb 2022 11:10:19 HKT", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("Wed, 09 Feb 2022 11:10:19 SGT", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    # asctime, Java Date.toString(), JavaScript Date.toString(), prose
    ("Wed Feb  9 11:10:19 2022", datetime(2022, 2, 9, 11, 10, 19, tzinfo=NEW_YORK)),
    ("Wed Feb 09 11:10:19 CST 2022", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("Wed Feb 09 2022 11:10:19 GMT+0800 (China Standard Time)", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("February 9th, 2022 3:10 PM", datetime(2022, 2, 9, 15, 10, tzinfo=NEW_YORK)),
    ("09-Feb-2022 11:10", datetime(2022, 2, 9, 11, 10, tzinfo=NEW_YORK)),
    ("9 Feb 2022", datetime(2022, 2, 9, tzinfo=NEW_YORK)),
    # ISO 8601 / RFC 3339
    ("2022-02-09T11:10:19+08:00", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("2022-02-09T03:10:19Z", datetime(2022, 2, 9, 3, 10, 19, tzinfo=UTC)),
    ("2022-02-09T03:10:19z", datetime(2022, 2, 9, 3, 10, 19, tzinfo=UTC)),
    ("2022-02-09T03:10:19.123Z", datetime(2022, 2, 9, 3, 10, 19, 123000, tzinfo=UTC)),
    ("2022-02-09T03:10:19.123456789Z", datetime(2022, 2, 9, 3, 10, 19, 123456, tzinfo=UTC)),
    ("2022-02-09T11:10:19+0800", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("2022-02-09T11:10:19+08", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("2022-02-09T06:10:19-05:00", datetime(2022, 2, 9, 6, 10, 19, tzinfo=offset(-5))),
    ("2022-02-09T11:10+08:00", datetime(2022, 2, 9, 11, 10, tzinfo=offset(8))),
    ("2022-02-09T11:10:19", datetime(2022, 2, 9, 11, 10, 19, tzinfo=NEW_YORK)),
    ("2022-02-09 11:10:19 +0800", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("2022-02-09T11:10:19+08:00[Asia/Shanghai]", datetime(2022, 2, 9, 11, 10, 19, tzinfo=offset(8))),
    ("2022-02-09", datetime(2022, 2, 9, tzinfo=NEW_YORK)),
    # Chinese portals
    ("2020年08月31日 12:56", datetime(2020, 8, 31, 12, 56, tzinfo=NEW_YORK)),
    ("2020年8月31日12:56:07", datetime(2020, 8, 31, 12, 56, 7, tzinfo=NEW_YORK)),
    ("2020年8月31日 12时56分", datetime(2020, 8, 31, 12, 56, tzinfo=NEW_YORK)),
    ("2020年8月31日", datetime(2020, 8, 31, tzinfo=NEW_YORK)),
    ("2022年2月9日 下午3:10", datetime(2022, 2, 9, 15, 10, tzinfo=NEW_YORK)),
    ("2022年2月9日 上午11:10", datetime(2022, 2, 9, 11, 10, tzinfo=NEW_YORK)),
    ("2022-02-09 11:10:19", datetime(2022, 2, 9, 11, 10, 19, tzinfo=NEW_YORK)),
    ("2022-2-9 9:05", datetime(2022, 2, 9, 9, 5, tzinfo=NEW_YORK)),
    ("2022/02/09 11:10", datetime(2022, 2, 9, 11, 10, tzinfo=NEW_YORK)),
    ("2022/2/9 3:10 PM", datetime(2022, 2, 9, 15, 10, tzinfo=NEW_YORK)),
    ("2022.02.09", datetime(2022, 2, 9, tzinfo=NEW_YORK)),
    ("２０２０年０８月３１日　１２：５６", datetime(2020, 8, 31, 12, 56, tzinfo=NEW_YORK)),
    ("２０２２－０２－０９ １１：１０：１９", datetime(2022, 2, 9, 11, 10, 19, tzinfo=NEW_YORK)),
    ("发布时间：2022-02-09 11:10", datetime(2022, 2, 9, 11, 10, tzinfo=NEW_YORK)),
    ("时间:2022-02-09 11:10:19", datetime(2022, 2, 9, 11, 10, 19, tzinfo=NEW_YORK)),
    ("来源：新浪财经 2022-02-09 11:10", datetime(2022, 2, 9, 11, 10, tzinfo=NEW_YORK)),
    ("2022-02-09 11:10 A股收盘", datetime(2022, 2, 9, 11, 10, tzinfo=NEW_YORK)),  # "A" is no zone here
    ("2022-02-09 11:10 CST", datetime(2022, 2, 9, 11, 10, tzinfo=offset(8))),
    ("  2022-02-09\n 11:10  ", datetime(2022, 2, 9, 11, 10, tzinfo=NEW_YORK)),
])
def test_parses(text, expected):
    result = parse_date(text, NEW_YORK)
    assert result == expected
    assert result.utcoffset() == expected.utcoffset()  # the offset the text gave is kept, not converted


def test_offset_is_kept_not_converted_to_utc():
    result = parse_date("Wed, 09 Feb 2022 11:10:19 +0800", UTC)
    assert (result.hour, result.utcoffset()) == (11, timedelta(hours=8))


@pytest.mark.parametrize("text, expected", [
    ("1644376219", datetime(2022, 2, 9, 3, 10, 19, tzinfo=UTC)),
    ("1644376219123", datetime(2022, 2, 9, 3, 10, 19, 123000, tzinfo=UTC)),
    ("1644376219.5", datetime(2022, 2, 9, 3, 10, 19, 500000, tzinfo=UTC)),
])
def test_unix_timestamps(text, expected):
    assert parse_date(text, UTC) == expected


def test_timestamp_is_given_in_the_default_zone():
    result = parse_date("1644376219", SHANGHAI)
    assert (result.hour, result.tzinfo) == (11, SHANGHAI)


def test_naive_dates_take_the_default_zone():
    result = parse_date("2022-02-09 11:10:19", SHANGHAI)
    assert result.tzinfo is SHANGHAI
    assert result.utcoffset() == timedelta(hours=8)


def test_cst_is_china_not_us_central():
    assert parse_date("Wed, 09 Feb 2022 11:10:19 CST", UTC).utcoffset() == timedelta(hours=8)


def test_future_dates_are_returned_as_found():
    assert parse_date("Thu, 01 Jan 2099 08:00:00 +0800", UTC) == datetime(2099, 1, 1, 8, tzinfo=offset(8))


@pytest.mark.parametrize("text", [
    None, "", "   ", "明天", "garbage", "123", "Feb 2022", "09/02/2022",
    "2022-02-30", "2022-13-01", "2022-02-09 25:10", "Wed, 09 Feb 2022 11:10:19 +9900",
    "Seg, 09 Set 2022 11:10:19 -0300", "99999999999999", "12345678901",  # out of the timestamp range
    "x" * 100_000,
])
def test_unparseable_gives_none(text):
    assert parse_date(text, UTC) is None


def test_leap_second_lands_on_59():
    assert parse_date("2016-12-31T23:59:60Z", UTC) == datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("sample, expected", [
    ("新浪财经 A股三大指数集体高开 GDP", SHANGHAI),
    ("證券時報 要聞", SHANGHAI),
    ("Reuters Business News", UTC),
    ("", UTC),
    ("日本の株式市場は上昇した", UTC),
    ("한국 증시 상승", UTC),
    ("苹果iPhone 13系列销量突破4000万台", SHANGHAI),
    ("Apple iPhone sales in China 中国", UTC),
])
def test_zone_for_text(sample, expected):
    assert zone_for_text(sample, UTC) == expected
