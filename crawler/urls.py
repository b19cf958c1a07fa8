"""One spelling per URL, so the variants under which feeds and pages name an article collapse.

`canonical_url` applies RFC 3986 normalisation (scheme and host lower-cased, non-ASCII hosts IDNA-encoded,
default port, empty path and dot segments, percent-escapes: unreserved characters decoded, the rest
upper-cased, non-ASCII characters encoded as UTF-8), drops the fragment, and drops query parameters that
only say where a click came from. Everything else, the order of parameters included, is kept: a URL that
loses a parameter naming its article would merge two articles, which is worse than archiving one twice.

What is considered tracking (parameter names compared case-insensitively):

- everywhere: `utm_*`, the click ids of ad and mail platforms (fbclid, gclid, gclsrc, dclid, msclkid, yclid,
  twclid, igshid, mc_cid, mc_eid, _hsenc, _hsmi, mkt_tok), Alibaba's `spm`, `from` (`from=rss`,
  `from=timeline`), WeChat's `isappinstalled`, `share_from`/`share_source`/`share_medium`, and the Sina
  markers that no site uses for content: `tj`, `cre`, `rfunc`, `wm`, `sudaref`, `ivk_sa`;
- on Sina's hosts only (sina.com.cn, sina.cn, sina.com): `mod`, `loc`, `r`, `tr`, which Sina's
  recommendation stream appends but other sites use as routes (`forum.php?mod=viewthread`,
  `index.php?r=news/view`).

Article identifiers such as `id`, `p`, `aid`, `docid`, `article_id` and `newsid` are never dropped.
"""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_",)
_TRACKING = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
    "_hsenc", "_hsmi", "mkt_tok", "spm", "from", "isappinstalled", "share_from", "share_source", "share_medium",
    "tj", "cre", "rfunc", "wm", "sudaref", "ivk_sa",
})
_SITE_TRACKING: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = (
    (("sina.com.cn", "sina.cn", "sina.com"), frozenset({"mod", "loc", "r", "tr"})),
)
_DEFAULT_PORTS = {"http": 80, "https": 443}

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# An escape, or a character a URL may not hold literally (space, quotes, non-ASCII, a `%` that starts no
# escape). The stray `%` must be escaped too: left alone, `%4%41` would become `%4A` once `%41` is decoded,
# and the next pass would decode that.
_PATH_FIX = re.compile(r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~!$&'()*+,;=:@/]")
_QUERY_FIX = re.compile(r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]")
_INVISIBLE = re.compile(r"[\t\n\r]")
# WHATWG's forbidden host code points (brackets aside: urlsplit has already taken those off an IPv6 host).
_FORBIDDEN_HOST_CHARACTER = re.compile(r"[\x00-\x20#%/<>?@\\^|\x7f]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))  # stripped from both ends, as browsers do
# Browsers read `https:/host`, `https:////host` and `https:\\host` as `https://host`; so do we.
_WEB_SCHEME_SLASHES = re.compile(r"^(https?):[/\\]*", re.IGNORECASE)


@lru_cache(maxsize=4096)
def canonical_url(url: str, base: str | None = None) -> str:
    """The canonical form of `url`, resolved against `base` first; idempotent. Cached: one article's URLs
    are canonicalised a dozen times on their way through the pipeline (keys, links, failures).

    What has no canonical form comes back resolved and stripped, else unchanged: a relative URL without
    base, an http(s) URL without a valid host, one that cannot be split (an unclosed IPv6 bracket).
    """
    url = _INVISIBLE.sub("", url.strip(_C0_AND_SPACE))
    try:
        if base:  # cleaned like the URL: a space around the base would survive the join
            # Stripped again: the join can bare a control character (`0\x08;` against `0` gives `0\x08`).
            url = urljoin(_INVISIBLE.sub("", base.strip(_C0_AND_SPACE)), url).strip(_C0_AND_SPACE)
        parts = urlsplit(_WEB_SCHEME_SLASHES.sub(r"\1://", url, count=1))
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if not scheme or (scheme in _DEFAULT_PORTS and not _is_host(parts.hostname)):
        return url
    netloc = _canonical_netloc(parts.netloc, scheme)
    path = _normalise_escapes(parts.path, _PATH_FIX)
    if netloc:
        path = _remove_dot_segments(path) or "/"
    elif path.startswith("//"):  # RFC 3986 §5.3: keep a path from reading as an authority
        path = "/." + path
    query = _canonical_query(parts.query, parts.hostname or "")
    return urlunsplit((scheme, netloc, path, query, ""))


def _is_host(hostname: str | None) -> bool:
    return bool(hostname and not _FORBIDDEN_HOST_CHARACTER.search(hostname))


def _canonical_netloc(netloc: str, scheme: str) -> str:
    userinfo, _, hostport = netloc.rpartition("@")
    try:
        parts = urlsplit("//" + hostport)
        port = parts.port
    except ValueError:  # a port that is no number, a stray bracket: left for the fetcher to refuse
        return netloc.lower()
    host = _ascii_host(parts.hostname or "")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{userinfo}@{host}" if userinfo else host


def _ascii_host(host: str) -> str:
    host = host.lower()  # urlsplit leaves whatever follows a `%` (an IPv6 zone) in its case
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # an empty or over-long label: not a host we can fetch anyway
        return host


def _normalise_escapes(component: str, fix: re.Pattern[str]) -> str:
    """Unreserved characters unescaped, other escapes upper-cased, illegal characters UTF-8 escaped."""

    def repair(m: re.Match[str]) -> str:
        text = m.group()
        if len(text) == 3:
            char = chr(int(text[1:], 16))
            return char if char in _UNRESERVED else text.upper()
        return quote(text, safe="", errors="surrogatepass")  # a lone surrogate from JSON still gets one form

    return fix.sub(repair, component)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: `/a/./b/../c` → `/a/c`."""
    if "." not in path:
        return path
    segments = path.split("/")
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if len(kept) > 1:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments[-1] in (".", ".."):  # `/a/b/..` names the directory `/a/`
        kept.append("")
    return "/".join(kept)


def _canonical_query(query: str, host: str) -> str:
    dropped = _TRACKING | _site_tracking(host)
    kept = []
    for param in query.split("&"):
        if not param:
            continue
        name = unquote_plus(param.partition("=")[0]).strip().lower()
        if name in dropped or name.startswith(_TRACKING_PREFIXES):
            continue
        kept.append(_normalise_escapes(param, _QUERY_FIX))
    return "&".join(kept)


def _site_tracking(host: str) -> frozenset[str]:
    host = host.rstrip(".")
    for domains, names in _SITE_TRACKING:
        if any(host == domain or host.endswith("." + domain) for domain in domains):
            return names
    return frozenset()
