"""Images come back into the text-only extraction next to the paragraphs they sit by; what is not the
article's (logos, thumbnails of other stories, galleries around it, share buttons) stays out."""
from __future__ import annotations

from crawler.extract.article import extract_page

URL = "https://wire.example.com/markets/2022/02/09/oil/"
PARAS = [
    "Oil prices held steady on Monday as traders weighed signs of a slower recovery in demand against output cuts.",
    "Analysts said inventories in the United States fell for a fifth straight week while refinery runs rose again.",
    "The dollar strengthened against a basket of currencies, making crude more expensive for holders of other money.",
]


def extract(article: str, around: str = "") -> str:
    html = (f"<html><head><title>Oil steadies | Wire</title></head><body>"
            f"<header><img src='/static/logo.png' alt='Wire'></header>{around}"
            f"<main><h1>Oil steadies</h1>{article}</main>"
            f"<aside class='related'><a href='/other'><img src='/img/other-story.jpg'>Gold slips</a></aside>"
            f"</body></html>")
    return extract_page(html.encode(), "text/html; charset=utf-8", URL).body


def test_a_lead_image_goes_before_the_first_paragraph() -> None:
    body = extract(f"<div class='article'><figure><img src='/img/lead.jpg' alt='An oil rig'></figure>"
                   f"<p>{PARAS[0]}</p><p>{PARAS[1]}</p><p>{PARAS[2]}</p></div>")
    assert body.split("\n\n") == ["![An oil rig](https://wire.example.com/img/lead.jpg)", *PARAS]


def test_a_one_paragraph_story_keeps_the_picture_in_the_paragraph_above_it() -> None:
    """Flash items: one paragraph of text, the picture in a paragraph of its own above it (STCN's layout)."""
    html = (f"<html><head><title>Oil steadies | Wire</title></head><body>"
            f"<div class='header'><img src='/static/logo.png' alt='Wire'></div>"
            f"<div class='detail'><div class='detail-title'>Oil steadies</div><div class='detail-info'>Wire staff</div>"
            f"<div class='detail-content'><p style='text-align:center'><img src='/img/lead.jpg'></p>"
            f"<p>{PARAS[0]}</p></div></div></body></html>")
    body = extract_page(html.encode(), "text/html; charset=utf-8", URL).body
    assert body.split("\n\n") == ["![](https://wire.example.com/img/lead.jpg)", PARAS[0]]


def test_a_one_paragraph_story_right_in_the_page_body_takes_no_picture_from_around_it() -> None:
    html = (f"<html><head><title>Oil steadies | Wire</title></head><body>"
            f"<p><img src='/img/top-story.jpg'></p><h1>Oil steadies</h1><p>{PARAS[0]}</p></body></html>")
    body = extract_page(html.encode(), "text/html; charset=utf-8", URL).body
    assert "![" not in body and PARAS[0] in body


def test_an_image_between_paragraphs_stays_between_them_with_its_caption_as_alt_text() -> None:
    body = extract(f"<div class='article'><p>{PARAS[0]}</p><figure><img data-src='/img/tanks.jpg' src='data:,'>"
                   f"<figcaption>Storage tanks in Cushing, Oklahoma</figcaption></figure>"
                   f"<p>{PARAS[1]}</p><p>{PARAS[2]}</p></div>")
    image = "![Storage tanks in Cushing, Oklahoma](https://wire.example.com/img/tanks.jpg)"
    assert body.split("\n\n") == [PARAS[0], image, *PARAS[1:]]
    assert "Cushing" not in body.replace("![Storage tanks in Cushing, Oklahoma]", "")  # the caption is no paragraph


def test_an_image_right_after_the_last_paragraph_is_kept() -> None:
    body = extract(f"<div class='article'><p>{PARAS[0]}</p><p>{PARAS[1]}</p><p>{PARAS[2]}</p>"
                   f"<p><img src='/img/chart.png' alt='Brent, 12 months'></p></div>")
    assert body.endswith(f"{PARAS[2]}\n\n![Brent, 12 months](https://wire.example.com/img/chart.png)")


def test_images_that_are_not_the_articles_stay_out() -> None:
    article = (f"<div class='article'><p>{PARAS[0]}</p>"
               f"<div class='share-bar'><img src='/img/share-weibo.png' alt='share'></div>"
               f"<img src='/img/pixel.gif' width='1' height='1'>"
               f"<img src='/img/author-avatar.jpg' alt='Jane Doe'>"
               f"<p>{PARAS[1]}</p><p>{PARAS[2]}</p></div>"
               f"<div class='more-stories'><p>Read these stories and many more from our newsroom every day</p>"
               f"<img src='/img/thumb-1.jpg'></div>")
    body = extract(article, around="<div class='banner'><img src='/img/top-banner.jpg'></div>")
    assert "![" not in body


def test_a_gallery_beside_the_article_stays_out() -> None:
    gallery = "".join(f"<li><img src='/img/gallery-{n}.jpg' alt='Photo {n}'><p>Slide {n} of the show</p></li>"
                      for n in range(5))
    body = extract(f"<div class='article'><p>{PARAS[0]}</p><p>{PARAS[1]}</p><p>{PARAS[2]}</p></div>",
                   around=f"<div class='slideshow'><ul>{gallery}</ul></div>")
    assert body.split("\n\n") == PARAS


def test_the_same_image_is_placed_once() -> None:
    body = extract(f"<div class='article'><img src='/img/lead.jpg'><p>{PARAS[0]}</p>"
                   f"<noscript><img src='/img/lead.jpg'></noscript><p>{PARAS[1]}</p><img src='/img/lead.jpg'>"
                   f"<p>{PARAS[2]}</p></div>")
    assert body.count("lead.jpg") == 1


def test_an_image_is_not_put_inside_a_list() -> None:
    body = extract(f"<div class='article'><p>{PARAS[0]}</p><ul><li>{PARAS[1]}</li>"
                   f"<li><img src='/img/inline.jpg'>{PARAS[2]}</li></ul></div>")
    lines = body.split("\n")
    assert lines[lines.index("![](https://wire.example.com/img/inline.jpg)") + 2].startswith("- ")


def test_images_and_texts_in_parts_that_hold_no_article_are_passed_over() -> None:
    # The <noscript> copy of the second paragraph would otherwise be where that paragraph starts on the page,
    # and the chart would land after it, before the third.
    body = extract(f"<div class='article'><p>{PARAS[0]}</p><noscript><p>{PARAS[1]}</p></noscript>"
                   f"<img src='/img/chart.png' alt='Brent'><p>{PARAS[1]}</p>"
                   f"<nav><img src='/img/crude-map.jpg' alt='Map'></nav><template><img src='/img/card.jpg'></template>"
                   f"<p>{PARAS[2]}</p></div>")
    assert body.split("\n\n") == [PARAS[0], "![Brent](https://wire.example.com/img/chart.png)", *PARAS[1:]]
