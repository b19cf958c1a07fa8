"""The text detection reads: NFKC-normalised (full-width digits, letters and punctuation become ASCII, so
`（６００５１９）` reads as `(600519)`), with every URL, e-mail address and Markdown link target blanked
out, so that `quote.eastmoney.com/sh600519.html` names no security. Blanking keeps offsets, so a match
can be shown in its sentence.
"""
from __future__ import annotations

import re
import unicodedata

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]"
_HIDDEN = re.compile(
    r"(?<=\]\()[^)\s]*(?=\))"  # Markdown link and image targets, relative or with Chinese in them too
    rf"|(?:https?|ftp)://{_URL_CHARS}+"  # URLs with a scheme
    # host names without a scheme, followed by a path or port
    rf"|(?<![A-Za-z0-9.@])(?:www\.|(?:[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*\.)+"
    rf"(?:com|cn|net|org|hk|io|gov|edu|info|biz|co|tw|jp|uk|de)(?=[/:]))(?:{_URL_CHARS}*)"
    r"|[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}",  # e-mail addresses
    re.IGNORECASE)
# Where one statement ends: a code and the words that give it its market must be in the same one.
_SENTENCE_END = re.compile(r"[。!?;\n]")


# Markdown link and image targets alone, found by their literal "](" at C speed (every article with an image
# has some); blanked first, they leave most articles with nothing else _HIDDEN could match.
_LINK_TARGET = re.compile(r"\]\(([^)\s]*)\)")
# What every other match of _HIDDEN contains, found some twenty times faster than by _HIDDEN itself, whose
# look-behind is tried at every character.
_HIDDEN_HINT = re.compile(r"://|@|www\.|\.(?:com|cn|net|org|hk|io|gov|edu|info|biz|co|tw|jp|uk|de)[/:]",
                          re.IGNORECASE)


def readable(text: str) -> str:
    """`text` normalised to NFKC with URLs, e-mail addresses and link targets replaced by spaces."""
    text = unicodedata.normalize("NFKC", text)
    if "](" in text:
        text = _LINK_TARGET.sub(lambda m: "](" + " " * len(m.group(1)) + ")", text)
    if not _HIDDEN_HINT.search(text):
        return text
    return _HIDDEN.sub(lambda m: " " * len(m.group()), text)


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (up to the nearest 。 ! ? ; or line break) holding `text[start:end]`."""
    limit = max(0, start - 300)
    before = max((m.end() for m in _SENTENCE_END.finditer(text, limit, start)), default=limit)
    after = _SENTENCE_END.search(text, end, end + 300)
    return text[before:after.start() if after else min(len(text), end + 300)]


def is_cjk(ch: str) -> bool:
    """A Chinese character (CJK unified ideographs and extension A)."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"
