"""Extraction quality and speed on a corpus of real pages with ground truth, next to plain trafilatura.

    .venv/bin/python benchmarks/extraction.py --corpus ../shared/corpus [--source NAME]... [--misses N]

The corpus layout is that of `shared/corpus` (its README.md): `pages/<source>/NNN.html[.gz]` with the truth
in `NNN.json` ({"url", "title", "body", "author", "date", "gt_level", ...}), and optionally `MANIFEST.tsv`
with a `lang` column (without it the language is guessed from the truth's script). The project ships no
third-party pages: the corpus is an argument.

"ours" is exactly what the archiver runs on a fetched page: the site rule for the page's host (shipped
`config/sites.yaml`, or the files given with --sites), then `crawler.extract.article.extract_page`. "plain" is
trafilatura with its defaults on the page's bytes: `bare_extraction(page_bytes, url=url, with_metadata=True)`,
whose text and comments are what `trafilatura.extract(page_bytes, url=url)` returns.

Scores, per language and per source:
- body F1: bag-of-tokens F1 against the full-body truth (`gt_level: full-body`); tokens are the NFKC-folded,
  lower-cased words, each CJK character a token of its own; Markdown (images, emphasis, escapes) is turned
  into the text a reader sees first. The mean over pages.
- date: share of pages whose truth gives a day (`YYYY-M-D…`) where the extracted date falls on that day (in
  the truth's UTC offset when it states one, else in the date's own).
- author: share of pages whose truth names an author where the extracted author shares a name with it
  (names split on commas, "and", 、 and, in Chinese, spaces; "By" removed). Sources whose authors the corpus
  calls unreliable are left out.
  Date and author are scored on full-body and partial truth (not on date-only or weak truth).
- snippets: on partial truth, the share of required snippets found (`body_contains`, `body_prefix`) and of
  forbidden ones absent (`body_excludes`).
- time: median CPU time per page of the whole extraction (body and metadata) for each extractor, run one
  after the other on the same page; CPU time, as the machine's cores are shared.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import html
import json
import re
import statistics
import sys
import time
import unicodedata
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable

import trafilatura
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.errors import ExtractionError  # noqa: E402
from crawler.extract.article import extract_page  # noqa: E402
from crawler.extract.rules import SiteRules, configured_site_rules  # noqa: E402

# The corpus README: newspaper4k's "authors field is unreliable" (library output, unrelated names).
UNRELIABLE_AUTHORS = frozenset({"newspaper4k"})
SCORED_METADATA_LEVELS = frozenset({"full-body", "partial"})
# Where a page has no URL in its truth, it is extracted as if served from here.
PLACEHOLDER_URL = "https://corpus.invalid/{source}/{name}.html"

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})")
_OFFSET = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z)$")
_MARKDOWN_IMAGE = re.compile(r"!\[(?:\\.|[^\]\\])*\]\([^)]*\)")
_MARKDOWN_EMPHASIS = re.compile(r"(?<!\\)(?:\*+|_{2,})")
_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_NAME_SEPARATORS = re.compile(r"\s*(?:[,;，；、&/]|\band\b)\s*", re.IGNORECASE)
_BY = re.compile(r"^\s*by\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    source: str
    name: str
    lang: str
    url: str
    body: bytes
    truth: dict


@dataclass(frozen=True)
class Result:
    body: str
    author: str | None
    published: datetime | str | None
    seconds: float


@dataclass
class Scores:
    body_f1: list[float] = field(default_factory=list)
    date: list[bool] = field(default_factory=list)
    author: list[bool] = field(default_factory=list)
    snippets: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


# --- corpus ---------------------------------------------------------------------------------------------


def load_corrections(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    """(source, page) → {field: corrected value} from a corrections file (see benchmarks/corpus-corrections.yaml)."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    corrections: dict[tuple[str, str], dict[str, str]] = {}
    for entry in entries:
        source, name = entry["page"].split("/")
        corrections.setdefault((source, name), {})[entry["field"]] = entry["corrected"]
    return corrections


def load_corpus(corpus: Path, sources: Iterable[str] = (),
                corrections: dict[tuple[str, str], dict[str, str]] | None = None) -> list[Page]:
    languages = _manifest_languages(corpus)
    wanted = set(sources)
    pages = []
    for truth_file in sorted((corpus / "pages").glob("*/*.json")):
        source, name = truth_file.parent.name, truth_file.stem
        if wanted and source not in wanted:
            continue
        candidates = [truth_file.with_suffix(".html"), truth_file.with_suffix(".html.gz")]
        page_file = next((path for path in candidates if path.exists()), None)
        if page_file is None:
            continue
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        truth.update((corrections or {}).get((source, name), {}))
        body = page_file.read_bytes()
        if page_file.suffix == ".gz":
            body = gzip.decompress(body)
        relative = page_file.relative_to(corpus).as_posix()
        lang = languages.get(relative) or _guess_language(f"{truth.get('title') or ''} {truth.get('body') or ''}")
        url = truth.get("url") or PLACEHOLDER_URL.format(source=source, name=name)
        pages.append(Page(source, name, lang, url, body, truth))
    return pages


def _manifest_languages(corpus: Path) -> dict[str, str]:
    manifest = corpus / "MANIFEST.tsv"
    if not manifest.exists():
        return {}
    with manifest.open(encoding="utf-8", newline="") as rows:
        return {row["local_path"]: row.get("lang") or "" for row in csv.DictReader(rows, delimiter="\t")}


def _guess_language(text: str) -> str:
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    letters = sum(1 for ch in text if ch.isalpha())
    return "zh" if letters and han * 2 >= letters else "en" if letters else "unknown"


# --- extractors -----------------------------------------------------------------------------------------


def ours(site_rules: SiteRules) -> Callable[[Page], Result]:
    def run(page: Page) -> Result:
        started = time.process_time()
        try:
            extracted = extract_page(page.body, "text/html", page.url, site_rules.resolve(page.url).rules)
        except ExtractionError:
            return Result("", None, None, time.process_time() - started)
        seconds = time.process_time() - started
        return Result(extracted.body, extracted.author, extracted.published, seconds)

    return run


def plain(page: Page) -> Result:
    started = time.process_time()
    document = trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True)
    seconds = time.process_time() - started
    if document is None:
        return Result("", None, None, seconds)
    # What `trafilatura.extract` prints by default: the text, then the comments.
    body = "\n".join(part for part in (document.text, document.comments) if part)
    return Result(body, document.author, document.date, seconds)


# --- scoring --------------------------------------------------------------------------------------------


def reader_text(markdown: str) -> str:
    """The text a reader of the rendered Markdown sees: no images, emphasis marks, escapes or entities (the
    body has no links; list numbers stay, as the reader sees them)."""
    text = _MARKDOWN_IMAGE.sub(" ", markdown)
    text = _MARKDOWN_EMPHASIS.sub("", text)
    return html.unescape(_MARKDOWN_ESCAPE.sub(r"\1", text))


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(unicodedata.normalize("NFKC", text).lower()))


def body_f1(extracted: str, truth: str) -> float:
    got, want = tokens(reader_text(extracted)), tokens(truth)
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def same_day(extracted: datetime | str | None, truth: str) -> bool:
    want = _DAY.match(truth)
    if extracted is None or not want:
        return False
    if isinstance(extracted, str):  # trafilatura gives a day as text
        got = _DAY.match(extracted)
        return bool(got) and tuple(map(int, got.groups())) == tuple(map(int, want.groups()))
    offset = _OFFSET.search(truth.strip())
    if offset:
        extracted = extracted.astimezone(_zone(offset.group()))
    return (extracted.year, extracted.month, extracted.day) == tuple(map(int, want.groups()))


def _zone(offset: str) -> timezone:
    if offset == "Z":
        return timezone.utc
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def author_names(value: str | None) -> set[str]:
    names = set()
    for part in _NAME_SEPARATORS.split(_BY.sub("", value or "")):
        pieces = part.split() if re.search(r"[\u4e00-\u9fff]", part) else [part]
        names |= {re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", piece)).casefold() for piece in pieces}
    return names - {""}


def snippet_score(extracted: str, truth: dict) -> float | None:
    text = " ".join(reader_text(extracted).split())
    checks = [" ".join(s.split()) in text for s in _snippets(truth.get("body_contains"))]
    checks += [" ".join(s.split()) not in text for s in _snippets(truth.get("body_excludes"))]
    prefix = " ".join((truth.get("body_prefix") or "").split())[:200]
    if prefix:
        checks.append(prefix in text)
    return sum(checks) / len(checks) if checks else None


def _snippets(value: object) -> list[str]:
    if isinstance(value, str):  # the corpus stores some lists as their Python repr
        try:
            value = json.loads(value.replace("'", '"'))
        except ValueError:
            value = [value]
    return [str(item) for item in value or () if str(item).strip()]


def score(page: Page, result: Result, scores: Scores) -> None:
    truth = page.truth
    scores.seconds.append(result.seconds)
    level = truth.get("gt_level")
    if level == "full-body" and truth.get("body"):
        scores.body_f1.append(body_f1(result.body, truth["body"]))
    if level == "partial":
        snippets = snippet_score(result.body, truth)
        if snippets is not None:
            scores.snippets.append(snippets)
    if level not in SCORED_METADATA_LEVELS:
        return
    if _DAY.match(truth.get("date") or ""):
        scores.date.append(same_day(result.published, truth["date"]))
    if truth.get("author") and page.source not in UNRELIABLE_AUTHORS:
        scores.author.append(bool(author_names(truth["author"]) & author_names(result.author)))


# --- report ---------------------------------------------------------------------------------------------


def _mean(values: list) -> str:
    return f"{statistics.mean(values):.3f}" if values else "–"


def _row(label: str, pages: int, mine: Scores, theirs: Scores) -> str:
    def pair(a: list, b: list) -> str:
        return f"{_mean(a)} / {_mean(b)}" if a else "–"

    times = (f"{statistics.median(mine.seconds) * 1000:.0f} / {statistics.median(theirs.seconds) * 1000:.0f}"
             if mine.seconds else "–")
    return (f"| {label} | {pages} | {pair(mine.body_f1, theirs.body_f1)} ({len(mine.body_f1)}) "
            f"| {pair(mine.date, theirs.date)} ({len(mine.date)}) | {pair(mine.author, theirs.author)} "
            f"({len(mine.author)}) | {pair(mine.snippets, theirs.snippets)} ({len(mine.snippets)}) | {times} |")


Groups = dict[tuple[str, str], tuple[Scores, Scores]]


def grouped(pages: list[Page], results: dict[str, dict[tuple[str, str], Result]]) -> tuple[Groups, Counter]:
    """(language, source) → (our scores, plain's); source "" for a whole language, language "all" for all."""
    groups: Groups = defaultdict(lambda: (Scores(), Scores()))
    counts: Counter[tuple[str, str]] = Counter()
    for page in pages:
        key = (page.source, page.name)
        for group in ((page.lang, ""), (page.lang, page.source), ("all", "")):
            counts[group] += 1
            score(page, results["ours"][key], groups[group][0])
            score(page, results["plain"][key], groups[group][1])
    return groups, counts


def report(groups: Groups, counts: Counter) -> str:
    lines = ["| language / source | pages | body F1 ours / plain (pages) | date (day) | author | snippets "
             "| median ms/page ours / plain |", "|---|---|---|---|---|---|---|"]
    languages = sorted({lang for lang, source in groups if lang != "all"},
                       key=lambda lang: (lang not in ("zh", "en"), lang))
    for lang in [*languages, "all"]:
        mine, theirs = groups[(lang, "")]
        lines.append(_row(f"**{lang}**", counts[(lang, '')], mine, theirs))
        for (group_lang, source) in sorted(groups):
            if group_lang == lang and source:
                mine, theirs = groups[(lang, source)]
                lines.append(_row(f"{lang} · {source}", counts[(lang, source)], mine, theirs))
    return "\n".join(lines)


# The targets of issue #8, as (language, score, at least).
TARGETS = (("zh", "body_f1", 0.90), ("zh", "date", 0.95), ("zh", "author", 0.80),
           ("en", "body_f1", 0.955), ("en", "date", 0.97), ("en", "author", 0.95))
MAX_TIME_RATIO = 1.3


def verdict(groups: Groups) -> str:
    lines = ["Targets (issue #8):"]
    for lang, name, least in TARGETS:
        values = getattr(groups[(lang, "")][0], name) if (lang, "") in groups else []
        value = statistics.mean(values) if values else float("nan")
        outcome = "met" if value >= least else "NOT MET"
        lines.append(f"  {lang} {name.replace('_', ' ')} >= {least}: {value:.3f} {outcome}")
    below = [f"{lang} · {source} ({statistics.mean(mine.body_f1):.4f} < {statistics.mean(theirs.body_f1):.4f})"
             for (lang, source), (mine, theirs) in sorted(groups.items())
             if source and mine.body_f1 and statistics.mean(mine.body_f1) < statistics.mean(theirs.body_f1)]
    outcome = "met" if not below else "NOT MET: " + ", ".join(below)
    lines.append(f"  no source's body F1 below plain trafilatura's: {outcome}")
    mine, theirs = groups[("all", "")]
    ratio = statistics.median(mine.seconds) / statistics.median(theirs.seconds)
    lines.append(f"  median time per page <= {MAX_TIME_RATIO}x plain's: {ratio:.2f}x "
                 f"{'met' if ratio <= MAX_TIME_RATIO else 'NOT MET'}")
    return "\n".join(lines)


def misses(pages: list[Page], results: dict[str, dict[tuple[str, str], Result]], count: int) -> str:
    """The pages where we lose most against plain trafilatura, and metadata we get wrong."""
    lines = []
    worst = []
    for page in pages:
        if page.truth.get("gt_level") == "full-body" and page.truth.get("body"):
            key = (page.source, page.name)
            mine = body_f1(results["ours"][key].body, page.truth["body"])
            theirs = body_f1(results["plain"][key].body, page.truth["body"])
            worst.append((mine - theirs, mine, theirs, page))
    for delta, mine, theirs, page in sorted(worst, key=lambda item: item[:2])[:count]:
        lines.append(f"body {page.source}/{page.name} ({page.lang}): ours {mine:.3f}, plain {theirs:.3f}")
    for page in pages:
        result = results["ours"][(page.source, page.name)]
        scores = Scores()
        score(page, result, scores)
        if not all(scores.date):
            lines.append(f"date {page.source}/{page.name}: {result.published} for {page.truth.get('date')!r}")
        if not all(scores.author):
            lines.append(f"author {page.source}/{page.name}: {result.author!r} for {page.truth.get('author')!r}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="corpus directory (pages/<source>/NNN.html + .json)")
    parser.add_argument("--source", action="append", default=[], help="only this source folder; repeatable")
    parser.add_argument("--sites", type=Path, action="append", default=[],
                        help="site rules files after the shipped config/sites.yaml; repeatable")
    parser.add_argument("--corrections", type=Path, metavar="FILE",
                        help="ground-truth values to correct before scoring, each with its evidence "
                             "(benchmarks/corpus-corrections.yaml); the printout says how many were applied")
    parser.add_argument("--misses", type=int, default=0, metavar="N",
                        help="also list the N pages where we lose most to plain trafilatura, and metadata misses")
    args = parser.parse_args(argv)
    if not (args.corpus / "pages").is_dir():
        parser.error(f"{args.corpus} has no pages/ folder (expected the layout of shared/corpus)")
    corrections = load_corrections(args.corrections) if args.corrections else {}
    pages = load_corpus(args.corpus, args.source, corrections)
    site_rules = configured_site_rules(args.sites)
    extractors = {"ours": ours(site_rules), "plain": plain}
    results: dict[str, dict[tuple[str, str], Result]] = {name: {} for name in extractors}
    warnings.simplefilter("ignore")
    for index, page in enumerate(pages):
        # Alternate which runs first, so that neither always gets the warm caches.
        order = list(extractors) if index % 2 else list(reversed(extractors))
        for name in order:
            results[name][(page.source, page.name)] = extractors[name](page)
    print(f"{len(pages)} pages from {args.corpus}; ours = crawler.extract with site rules, plain = trafilatura "
          f"{trafilatura.__version__} defaults"
          + (f"; {sum(map(len, corrections.values()))} ground-truth values corrected from {args.corrections}"
             if corrections else "") + "\n")
    groups, counts = grouped(pages, results)
    print(report(groups, counts))
    print()
    print(verdict(groups))
    if args.misses:
        print()
        print(misses(pages, results, args.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
