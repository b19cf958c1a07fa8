import pytest

from crawler.extract.boilerplate import clean_body, is_boilerplate
from crawler.extract.bylines import Credit

ARTICLE = "央行今日开展1200亿元7天期逆回购操作，中标利率维持2.20%不变，当日实现净投放200亿元，市场流动性保持合理充裕。"


@pytest.mark.parametrize("line", [
    "责任编辑：张晓明",
    "责任编辑 张晓明",
    "（责任编辑：张晓明）",
    "【编辑:刘欢】",
    "编辑：",
    "校对：王芳",
    "审核：李强",
    "更多行情资讯，尽在华夏财经APP",
    "打开证券日讯APP，查看更多",
    "下载东方商报客户端",
    "扫码下载APP，阅读全文",
    "扫描二维码，关注我们",
    "关注华夏财经微信公众号",
    "分享到：微博 微信 QQ空间",
    "我要评论",
    "Share this article",
    "Share on Facebook Twitter Email",
    "Comments",
    "12 Comments",
    "Advertisement",
    "Advertisement · Scroll to continue",
    "Scroll to continue with content",
    "广告",
    "Sign up for our Morning Briefing newsletter",
    "Get the best of our journalism in your inbox with our Daily newsletter",
    "All rights reserved",
    "© 2020 Coastline Wire. All rights reserved.",
    "Copyright © 2020 华夏财经网 版权所有",
    "证券日讯网版权所有，未经书面授权禁止转载",
    "违法和不良信息举报电话：010-12345678",
    "首页 | 股票 | 基金 | 期货",
    "Read more: Gold slips as dollar firms ahead of jobs data",
    "上一篇：央行开展逆回购操作",
    "下一篇：8月LPR报价出炉",
    "下一页",
    "Previous",
    "Next story",
    "Loading Comments...",
    "Topics: oil, OPEC, commodities",
    "标签：央行 逆回购 流动性",
])
def test_boilerplate_lines_are_dropped(line: str) -> None:
    body = f"{ARTICLE}\n\n{line}\n\n{ARTICLE}"
    assert clean_body(body).text == f"{ARTICLE}\n\n{ARTICLE}"


@pytest.mark.parametrize("paragraph", [
    # long paragraphs that merely contain a trigger word
    "有市场人士提醒，投资者可以打开券商APP查询逆回购行情，但需要注意，季末资金需求上升可能推高短期利率，不宜过度解读"
    "单日的资金面波动，更应关注央行中期借贷便利的续作安排。",
    "The company said subscribers to its newsletter business grew by a third last year, and that it would sign up more "
    "advertisers as the economy recovers from the slump of the spring, according to its quarterly filing.",
    # short ones that are news, not widgets
    "Sign up for a streaming account now costs $11.99 a month.",
    "Share prices fell 3% in early trading.",
    "记者获悉，央行今日开展逆回购操作。",
    "By the end of the year, output rose 5%.",
    "用户可在手机银行APP上办理该业务。",
    "编辑部表示将继续跟进此事。",
    "Next, the central bank will publish its minutes.",
    "上一篇报道中，我们介绍了逆回购的基本原理。",
])
def test_article_text_is_kept(paragraph: str) -> None:
    assert clean_body(paragraph).text == paragraph
    assert not is_boilerplate(paragraph)


def test_related_heading_drops_the_list_that_follows() -> None:
    body = (f"{ARTICLE}\n\n## 相关阅读\n\n- 央行：保持流动性合理充裕\n- 8月LPR报价出炉\n\n"
            "逆回购利率连续四个月保持不变")
    assert clean_body(body).text == ARTICLE


@pytest.mark.parametrize("heading", ["相关新闻", "热门排行", "Related coverage", "Read more", "More from Markets",
                                     "Related Videos", "- ### Recent Slide Shows", "相关视频"])
def test_related_headings_in_both_languages(heading: str) -> None:
    body = f"{ARTICLE}\n\n{heading}\n\n- Gold slips as dollar firms\n- Stocks edge higher on tech gains"
    assert clean_body(body).text == ARTICLE


def test_prose_after_a_related_heading_is_kept() -> None:
    prose = "分析人士认为，资本市场改革持续推进，券商投行业务与财富管理业务有望持续受益，板块估值仍处于历史中低位置。"
    body = f"{ARTICLE}\n\n相关新闻\n\n- 北向资金单日净买入超百亿元\n\n{prose}"
    assert clean_body(body).text == f"{ARTICLE}\n\n{prose}"


def test_credit_lines_leave_the_body_and_are_returned() -> None:
    cleaned = clean_body(f"来源：新华社 作者：王爱文\n\n{ARTICLE}\n\n记者 李明\n\nBy Jane Doe and John Roe")
    assert cleaned.text == ARTICLE
    assert cleaned.credits == (
        Credit("source", "新华社"), Credit("author", "王爱文"), Credit("author", "李明"),
        Credit("author", "Jane Doe and John Roe"),
    )


def test_a_dateline_above_the_text_is_a_credit_but_a_dated_event_below_is_text() -> None:
    event = "2020-08-31 09:30 央行宣布开展逆回购"
    cleaned = clean_body(f"2020年08月31日 12:56 华夏财经网\n\n{ARTICLE}\n\n{event}")
    assert cleaned.text == f"{ARTICLE}\n\n{event}"
    assert cleaned.credits == (Credit("date", "2020年08月31日 12:56"), Credit("source", "华夏财经网"))


def test_qr_code_images_are_dropped_and_other_images_kept() -> None:
    body = f"![](https://img.example.cn/qrcode_app.png)\n\n![央行大楼](https://img.example.cn/pboc.jpg)\n\n{ARTICLE}"
    assert clean_body(body).text == f"![央行大楼](https://img.example.cn/pboc.jpg)\n\n{ARTICLE}"


def test_code_and_tables_are_left_alone() -> None:
    body = "```\nAdvertisement\n```\n\n| 广告 | 收入 |\n|---|---|\n| Advertisement | 12 |"
    assert clean_body(body).text == body
