"""Article pages and feed content → Markdown body and metadata. Pure functions, run in worker processes.

trafilatura finds the body; this module feeds it text we decoded ourselves (trafilatura ignores the declared
charset and garbles GBK pages), a tree of bounded size (trafilatura has no time limit), then removes the
boilerplate it leaves, the title it repeats and any HTML the text could smuggle into the published post.
"""
from __future__ import annotations

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import use_config

from ..errors import ExtractionError
from ..models import Extracted, ExtractRules
from .boilerplate import CleanBody, clean_body, plain_text
from .markdown import drop_title_line, escape_for_hexo, first_image
from .metadata import BodyHints, gather, page_title, read_metadata, title_variants
from .page import content_tree, decode_page, element_count, fragment_tree, parse_html, text_sample

# Below MIN_EXTRACTED_SIZE characters trafilatura distrusts its result and falls back to cruder algorithms
# that take in the whole page. Its 250 is measured in Latin letters; the same news in Chinese takes about a
# third as many characters, so a Chinese flash item would always get the crude treatment (logo and nav in,
# lead image out).
_CONFIG = use_config()
_HAN_CONFIG = use_config()
_HAN_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "80")
# How much of the page's text decides whether it is Chinese.
_LANGUAGE_SAMPLE_CHARS = 3000
# trafilatura's backup extractors (jusText, readability) take time quadratic in runs of short blocks: 50 s for
# a listing of 10,000 items. Real articles stay far below this many elements (3,000 at most in our corpus);
# bigger trees get the main extractor only, which is linear.
_BACKUP_EXTRACTION_LIMIT = 5_000

# How much of the body the metadata reader gets to tell Chinese from English (dates without offset).
_BODY_SAMPLE_CHARS = 500


def extract_page(body: bytes, content_type: str | None, url: str, rules: ExtractRules = ExtractRules()) -> Extracted:
    """The article on a fetched page; ExtractionError when the page is not an HTML article."""
    tree = parse_html(decode_page(body, content_type, url), url)
    signals = gather(tree, url)
    title = page_title(signals)
    markdown = _trafilatura_markdown(content_tree(tree, rules, url), url, short_input=False)
    cleaned = clean_body(markdown or "")
    text = escape_for_hexo(drop_title_line(cleaned.text, title_variants(signals, title)))
    if not _has_text(text):
        raise ExtractionError(url, "no article text found")
    metadata = read_metadata(signals, title, _hints(cleaned, text))
    return Extracted(
        body=text,
        title=metadata.title,
        author=metadata.author,
        published=metadata.published,
        image=metadata.image,
        canonical_url=metadata.canonical_url,
        tags=metadata.tags,
    )


def extract_feed_content(html: str, url: str) -> str:
    """Markdown body from the HTML a feed carried (content:encoded and the like), cleaned like a page's.
    Works on short fragments too; "" when the HTML holds no text."""
    if not html.strip():
        return ""
    markdown = _trafilatura_markdown(fragment_tree(html, url), url, short_input=True)
    return escape_for_hexo(clean_body(markdown or "").text)


def _trafilatura_markdown(tree: HtmlElement, url: str, *, short_input: bool) -> str | None:
    return trafilatura.extract(
        tree,
        url=url,
        output_format="markdown",
        include_images=True,
        include_tables=True,
        include_links=False,
        include_comments=False,
        # A feed's fragment is all article: trafilatura's precision rules would drop a two-line flash item.
        favor_recall=short_input,
        fast=element_count(tree) > _BACKUP_EXTRACTION_LIMIT,
        deduplicate=False,
        with_metadata=False,
        config=_HAN_CONFIG if _mostly_han(tree) else _CONFIG,
    )


def _hints(cleaned: CleanBody, text: str) -> BodyHints:
    return BodyHints(credits=cleaned.credits, first_image=first_image(text), sample_text=text[:_BODY_SAMPLE_CHARS])


def _has_text(markdown: str) -> bool:
    return any(plain_text(line) for line in markdown.splitlines())


def _mostly_han(tree: HtmlElement) -> bool:
    sample = text_sample(tree, _LANGUAGE_SAMPLE_CHARS)
    han = sum(1 for ch in sample if "\u4e00" <= ch <= "\u9fff")
    letters = sum(1 for ch in sample if ch.isalpha())
    return han * 2 >= letters > 0
