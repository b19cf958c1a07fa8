"""What makes two items the same article: keys (canonical URL, feed GUID) and a hash of the normalised body.

Pure functions; the state database stores what they return.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from .urls import canonical_url

_MD_IMAGE_OR_LINK = re.compile(r"!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)")
_HTML_TAG = re.compile(r"<[^>]+>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
# Everything but letters and digits: punctuation, whitespace, Markdown markers, full-width forms alike.
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def url_key(url: str) -> str:
    return "url:" + canonical_url(url)


def guid_key(feed_url: str, guid: str) -> str:
    # GUIDs are only unique within a feed ("123" means different stories on different sites).
    return f"guid:{feed_url} {guid.strip()}"


def normalized_text(markdown: str) -> str:
    """The words of a body, without markup, images, link targets, punctuation, spacing or case."""
    text = _MD_IMAGE_OR_LINK.sub(lambda m: m.group(1) or "", markdown)
    text = _HTML_TAG.sub("", text)
    text = _ENTITY.sub("", text)
    text = unicodedata.normalize("NFKC", text).casefold()
    return _NOT_WORD.sub("", text)


def content_hash(markdown: str) -> str:
    """Same text, same hash, whatever the page template, image or spacing around it."""
    return hash_of_normalized(normalized_text(markdown))


def hash_of_normalized(text: str) -> str:
    """`content_hash` of a body whose `normalized_text` is `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
