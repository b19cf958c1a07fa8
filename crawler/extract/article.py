"""Article pages and feed content → Markdown body and metadata. Pure functions, run in worker processes.

trafilatura finds the body; this module feeds it text we decoded ourselves (trafilatura ignores the declared
charset and garbles GBK pages) as a tree of bounded size (trafilatura has no time limit), reduced to what
the site rule says holds the article, with layout tables turned into blocks and inline markup made fit for
Markdown. It asks for text only and puts the article's images back itself (`images`), then removes the
boilerplate and credits trafilatura leaves (`boilerplate`, `bylines`), the title it repeats and any HTML the
text could smuggle into the published post, and reads the metadata (`metadata`).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Mapping

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import use_config

from ..dates import CHINA, zone_for_text
from ..errors import ExtractionError
from ..models import Extracted, ExtractRules
from .boilerplate import clean_body, plain_text
from .bylines import Credit
from .images import place_images
from .markdown import drop_title_line, escape_for_hexo, first_image
from .metadata import BodyHints, gather, page_title, read_metadata, title_variants
from .page import (content_tree, decode_page, element_count, fragment_tree, parse_html, prepare_inline_markup,
                   text_sample, unwrap_layout_tables)

# Below MIN_EXTRACTED_SIZE characters trafilatura distrusts its result and falls back to cruder algorithms
# that take in the whole page. Its 250 is measured in Latin letters; the same news in Chinese takes about a
# third as many characters, so a Chinese flash item would always get the crude treatment (logo and nav in,
# lead image out).
_CONFIG = use_config()
_HAN_CONFIG = use_config()
_HAN_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "80")
# How much of a feed fragment's text decides whether it is Chinese (a page's: `PageSignals.page_sample`).
_LANGUAGE_SAMPLE_CHARS = 3000
_HAN_RUNS = re.compile("[\u4e00-\u9fff]+")
# trafilatura's backup extractors (jusText, readability) take time quadratic in runs of short blocks: 50 s for
# a listing of 10,000 items. Real articles stay far below this many elements (3,000 at most in our corpus);
# bigger trees get the main extractor only, which is linear.
_BACKUP_EXTRACTION_LIMIT = 5_000

# How much of the body the metadata reader gets to tell Chinese from English (dates without offset).
_BODY_SAMPLE_CHARS = 500
# A body line this long is prose: the first and last such lines tell where the article is on the page.
_PROSE_LINE_CHARS = 20


def extract_page(body: bytes, content_type: str | None, url: str, rules: ExtractRules = ExtractRules(), *,
                 now: datetime | None = None) -> Extracted:
    """The article on a fetched page; ExtractionError when the page is not an HTML article. Dates later than
    `now` (the fetch; default: the clock) are not the publication's."""
    tree = parse_html(decode_page(body, content_type, url, rules.encoding), url)
    signals = gather(tree, url)
    title = page_title(signals)
    content = content_tree(tree, rules, url)
    unwrap_layout_tables(content)
    prepare_inline_markup(content)
    markdown = _trafilatura_markdown(content, url, short_input=False, dense=_mostly_han(signals.page_sample))
    placed = place_images(markdown or "", content)
    chinese = zone_for_text(signals.page_sample, timezone.utc) is CHINA
    cleaned = clean_body(placed.markdown, chinese=chinese)
    body = drop_title_line(cleaned.text, title_variants(signals, title))
    text = escape_for_hexo(body)
    if not _has_text(text):
        raise ExtractionError(url, "no article text found")
    # The lines were found on the page already, unless rules made the extraction work on a copy of it.
    line_starts = placed.line_starts if content is tree else None
    metadata = read_metadata(signals, title, _hints(cleaned.credits, body, line_starts), rules, now=now)
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
    tree = fragment_tree(html, url)
    prepare_inline_markup(tree)
    dense = _mostly_han(text_sample(tree, _LANGUAGE_SAMPLE_CHARS))
    markdown = _trafilatura_markdown(tree, url, short_input=True, dense=dense)
    return escape_for_hexo(clean_body(markdown or "").text)


def _trafilatura_markdown(tree: HtmlElement, url: str, *, short_input: bool, dense: bool) -> str | None:
    return trafilatura.extract(
        tree,
        url=url,
        output_format="markdown",
        # A page's images are placed by `place_images`; a feed's fragment is all article, images included.
        include_images=short_input,
        include_tables=True,
        include_links=False,
        include_comments=False,
        # A feed's fragment is all article: trafilatura's precision rules would drop a two-line flash item.
        favor_recall=short_input,
        fast=element_count(tree) > _BACKUP_EXTRACTION_LIMIT,
        deduplicate=False,
        with_metadata=False,
        config=_HAN_CONFIG if dense else _CONFIG,
    )


def _hints(credits: tuple[Credit, ...], body: str, line_starts: Mapping[str, HtmlElement] | None) -> BodyHints:
    prose = [line for line in body.splitlines()
             if len(plain_text(line)) >= _PROSE_LINE_CHARS and not line.lstrip().startswith(("|", "#"))]
    return BodyHints(credits=credits, first_image=first_image(body), sample_text=body[:_BODY_SAMPLE_CHARS],
                     first_line=prose[0] if prose else "", last_line=prose[-1] if prose else "",
                     line_starts=line_starts)


def _has_text(markdown: str) -> bool:
    return any(plain_text(line) for line in markdown.splitlines())


def _mostly_han(sample: str) -> bool:
    # Counted by the regex engine and str.isalpha, in C: a Python loop over the 3,000 characters costs more.
    # Without Han characters (English pages) the letters need no counting.
    han = sum(map(len, _HAN_RUNS.findall(sample)))
    return han > 0 and han * 2 >= sum(map(str.isalpha, sample)) > 0
