"""Company names → codes, through a table: the starter table shipped with the crawler (`companies.csv`
beside this module) and, optionally, the user's own, whose rows add to it or replace rows for the same code.

Table format: UTF-8 CSV with the header `code,name,aliases`; `aliases` is a `|`-separated list and may be
empty; lines starting with `#` are comments. Codes are written in any spelling `normalise_code` reads.

Matching is exact (case too) on names and aliases, leftmost and longest first, and never on a fragment of
another word: a Latin name must not touch a letter or digit (`Apple` is not in `Pineapple`), and a Chinese
one must be a word of its clause as the jieba segmenter cuts it, with the table's names in its dictionary
(`美团` is not in `完美团队`, `京东` is not in `北京东路`).
"""
from __future__ import annotations

import csv
import hashlib
import logging
import pickle
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from math import log
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import ConfigError
from .codes import normalise_code
from .text import is_cjk

STARTER_TABLE = "companies.csv"
HEADER = ("code", "name", "aliases")
MIN_NAME_LENGTH = 2
# A clause: where a Chinese name is checked against the segmenter's words.
_CLAUSE_BREAK = re.compile(r"[\s,.:;!?()\[\]<>\"'、。“”‘’《》【】「」『』〈〉…—·|/]")
_LATIN_EDGE = re.compile(r"[A-Za-z0-9]")
_ASCII_WORD_CHAR = re.compile(r"[a-zA-Z0-9]")  # jieba's re_eng
# Words that may follow a name inside one dictionary word (jieba knows 思科公司 as one word).
_COMPANY_WORDS = frozenset({"公司", "集团", "股份", "控股", "有限公司", "股份公司", "集团公司"})


@dataclass(frozen=True, slots=True)
class Company:
    code: str
    """Normal form (`600519.SH`, `00700.HK`, `AAPL`)."""
    name: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class NameMention:
    name: str
    """As the text wrote it (the table's name or one of its aliases)."""
    code: str


class CompanyTable:
    """Names and aliases of companies, each mapped to one code. Picklable (it crosses into worker processes)."""

    def __init__(self, companies: Iterable[Company]):
        by_code: dict[str, Company] = {}
        for company in companies:
            by_code[company.code] = company  # a later row for the same code replaces the earlier one
        self.companies = tuple(by_code.values())
        self.codes: dict[str, str] = {}
        for company in self.companies:
            for name in company.names:
                self.codes[name] = company.code  # a later table's name wins
        self._rows = pickle.dumps(tuple((c.code, c.name, c.aliases) for c in self.companies),
                                  pickle.HIGHEST_PROTOCOL)
        self._fingerprint = hashlib.sha1(self._rows).hexdigest()

    def __len__(self) -> int:
        return len(self.companies)

    def __reduce__(self):
        # The table crosses into a worker with every article: send its rows pickled once, as bytes (copied,
        # not walked, for each call: a user's table of thousands of companies would otherwise cost the parent
        # milliseconds a call), and let the worker reuse the table (compiled pattern, segmenter words) it
        # built the first time.
        return _restore_table, (self._fingerprint, self._rows)

    def code_of(self, name: str) -> str | None:
        return self.codes.get(unicodedata.normalize("NFKC", name).strip())

    def find(self, text: str) -> list[NameMention]:
        """Every name of the table in `text` (from `readable`), in order, leftmost-longest, as whole words."""
        found = []
        position = 0
        while match := self._candidate.search(text, position):
            start = match.start()
            name = next((n for n in self._by_prefix.get(text[start:start + MIN_NAME_LENGTH], ())
                         if text.startswith(n, start) and self._whole_word(text, start, start + len(n))), None)
            if name is None:
                position = start + 1
                continue
            found.append(NameMention(name, self.codes[name]))
            position = start + len(name)
        return found

    @cached_property
    def _candidate(self) -> re.Pattern:
        """Where a name may start: a first character of some name followed by a second character of some name.
        Character classes scan in C; an alternation of every name would try each name at each position, and
        the first character alone stops at twice as many places (中, 国 and their like start names)."""
        if not self.codes:
            return re.compile(r"(?!)")
        first = "".join(sorted({re.escape(name[0]) for name in self.codes}))
        second = "".join(sorted({re.escape(name[1]) for name in self.codes}))
        return re.compile(f"[{first}][{second}]")

    @cached_property
    def _by_prefix(self) -> dict[str, list[str]]:
        """Names by their first MIN_NAME_LENGTH characters, longest first."""
        index: dict[str, list[str]] = {}
        for name in sorted(self.codes, key=len, reverse=True):
            index.setdefault(name[:MIN_NAME_LENGTH], []).append(name)
        return index

    def _whole_word(self, text: str, start: int, end: int) -> bool:
        name = text[start:end]
        if _LATIN_EDGE.match(name[0]) and start > 0 and _LATIN_EDGE.match(text[start - 1]):
            return False
        if _LATIN_EDGE.match(name[-1]) and end < len(text) and _LATIN_EDGE.match(text[end]):
            return False
        if not (is_cjk(name[0]) or is_cjk(name[-1])):
            return True
        clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(text, max(0, start - 40), start)),
                           default=max(0, start - 40))
        clause_end_match = _CLAUSE_BREAK.search(text, end, end + 40)
        clause_end = clause_end_match.start() if clause_end_match else min(len(text), end + 40)
        words = _segmenter(self._cjk_names).words(text[clause_start:clause_end])
        start, end = start - clause_start, end - clause_start
        if not any(word_start == start for word_start, _ in words):
            return False
        # The name must end a word, or begin one that is the name and a word such as 公司 (思科公司).
        return any(word_end == end or (word_start == start and word_end > end
                                       and text[clause_start + end:clause_start + word_end] in _COMPANY_WORDS)
                   for word_start, word_end in words)

    @cached_property
    def _cjk_names(self) -> frozenset[str]:
        return frozenset(n for n in self.codes if any(is_cjk(ch) for ch in n))


_RESTORED: dict[str, CompanyTable] = {}


def _restore_table(fingerprint: str, rows: bytes) -> CompanyTable:
    table = _RESTORED.get(fingerprint)
    if table is None:
        if len(_RESTORED) >= 4:  # a daemon reloading a changed table: forget the old ones
            _RESTORED.clear()
        table = _RESTORED[fingerprint] = CompanyTable(Company(*row) for row in pickle.loads(rows))
    return table


def load_companies(extra: Path | None = None) -> CompanyTable:
    """The starter table, then `extra` (the user's table) over it. ConfigError naming file and line."""
    starter = resources.files(__package__).joinpath(STARTER_TABLE)
    rows = list(read_table(starter.read_text(encoding="utf-8"), f"{STARTER_TABLE} (shipped with the crawler)"))
    if extra is not None:
        try:
            text = Path(extra).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError(f"{extra}: company table not found (enrich.companies in the configuration)") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{extra}: the company table is not UTF-8 text; save it as UTF-8 CSV") from None
        except OSError as e:
            raise ConfigError(f"{extra}: cannot read the company table: {e.strerror}") from None
        rows += read_table(text, str(extra))
    return CompanyTable(rows)


def read_table(text: str, where: str) -> Iterator[Company]:
    """Rows of a company table; ConfigError `where:line: problem` for the first bad one."""
    names: dict[str, tuple[str, int]] = {}
    lines = text.splitlines()
    content = [(number, line) for number, line in enumerate(lines, 1)
               if line.strip() and not line.lstrip().startswith("#")]
    if not content:
        return
    header_number, header_line = content[0]
    header = tuple(cell.strip().lower() for cell in next(csv.reader([header_line])))
    if header[:2] != HEADER[:2] or len(header) > 3 or header[2:] not in ((), HEADER[2:]):
        raise ConfigError(f"{where}:{header_number}: the first line must be the header 'code,name,aliases', "
                          f"found {header_line.strip()!r}")
    for number, line in content[1:]:
        cells = [cell.strip() for cell in next(csv.reader([line]))]
        if len(cells) < 2 or len(cells) > 3:
            raise ConfigError(f"{where}:{number}: expected 'code,name,aliases' (aliases may be empty), "
                              f"found {len(cells)} field(s) in {line.strip()!r}")
        code = normalise_code(cells[0])
        if code is None:
            raise ConfigError(f"{where}:{number}: {cells[0]!r} is not a security code; write it as 600519.SH, "
                              "00700.HK or AAPL")
        name = unicodedata.normalize("NFKC", cells[1])
        aliases_cell = cells[2] if len(cells) == 3 else ""
        aliases = [unicodedata.normalize("NFKC", a.strip()) for a in aliases_cell.split("|")] if aliases_cell else []
        if "" in aliases:
            raise ConfigError(f"{where}:{number}: an empty alias in {aliases_cell!r}; separate aliases with one '|'")
        for spelled in [name, *aliases]:
            if len(spelled) < MIN_NAME_LENGTH:
                raise ConfigError(f"{where}:{number}: name {spelled!r} is too short to match safely "
                                  f"(at least {MIN_NAME_LENGTH} characters)")
            if spelled in names and names[spelled][0] != code:
                other_code, other_line = names[spelled]
                raise ConfigError(f"{where}:{number}: {spelled!r} is already the name of {other_code} "
                                  f"(line {other_line}); a name can mean one company only")
            names[spelled] = (code, number)
        yield Company(code, name, tuple(dict.fromkeys(a for a in aliases if a != name)))



# --- Chinese word boundaries ----------------------------------------------------------------------------


class _Segmenter:
    """jieba with the company names in its dictionary; loaded on first use (about a second), once a process."""

    def __init__(self):
        import jieba

        jieba.setLogLevel(logging.WARNING)  # it would announce every dictionary load on stderr
        self._jieba = jieba
        self._tokenizer = jieba.Tokenizer()
        self._names: set[str] = set()
        self._tables: set[frozenset[str]] = set()
        self._lock = threading.Lock()

    def add_names(self, names: frozenset[str]) -> None:
        if names in self._tables:
            return
        with self._lock:
            for name in names - self._names:
                # Frequency jieba suggests: just enough to keep the name whole, not enough to pull it out of
                # a stronger split (北京|东路 stays, 京东 is not cut out of it).
                self._tokenizer.add_word(name)
            self._names |= names
            self._tables.add(names)

    def words(self, clause: str) -> list[tuple[int, int]]:
        """(start, end) of each word of `clause`, as jieba cuts it with its dictionary alone: the spans of
        `Tokenizer.tokenize(clause, HMM=False)`, computed here because that is the analysis's largest cost.

        jieba builds a dict of candidate word ends for every position, then a dict of best routes through
        generators and tuples, then walks the route through two layers of generators. The same arithmetic in
        one backward pass over the positions, with lists, takes about half the time: the same floating-point
        operations in the same order (log(frequency) - log(total) + the best score from the word's end) and
        the same choice on a tie (the longer word), so the same words; tests compare with jieba itself."""
        jieba = self._jieba
        self._tokenizer.check_initialized()
        spans: list[tuple[int, int]] = []
        position = 0
        for block in jieba.re_han_default.split(clause):
            if not block:
                continue
            if jieba.re_han_default.match(block):
                self._cut_block(block, position, spans)
            else:  # jieba: whitespace runs split off as words ("\r\n" is one), every other character one word
                for piece in jieba.re_skip_default.split(block):
                    if jieba.re_skip_default.match(piece):
                        spans.append((position, position + len(piece)))
                        position += len(piece)
                        continue
                    for _ in piece:
                        spans.append((position, position + 1))
                        position += 1
                continue
            position += len(block)
        return spans

    def _cut_block(self, block: str, offset: int, spans: list[tuple[int, int]]) -> None:
        freq = self._tokenizer.FREQ
        log_total = log(self._tokenizer.total)
        size = len(block)
        score: list[float] = [0.0] * (size + 1)
        word_end = [0] * (size + 1)
        for start in range(size - 1, -1, -1):
            best: float | None = None
            best_end = start
            end = start
            fragment = block[start]
            while end < size and fragment in freq:  # every prefix of a word is in FREQ, with 0 if no word
                count = freq[fragment]
                if count:
                    candidate = log(count) - log_total + score[end + 1]
                    if best is None or candidate >= best:
                        best, best_end = candidate, end
                end += 1
                fragment = block[start:end + 1]
            if best is None:  # no word starts here: the character alone
                count = freq.get(block[start])
                best = (log(count) if count else 0.0) - log_total + score[start + 1]
            score[start], word_end[start] = best, best_end
        # Walk the best route; runs of single ASCII letters and digits are one word, as jieba joins them.
        letters_from = -1
        start = 0
        while start < size:
            end = word_end[start] + 1
            if end - start == 1 and _ASCII_WORD_CHAR.match(block, start):
                if letters_from < 0:
                    letters_from = start
            else:
                if letters_from >= 0:
                    spans.append((offset + letters_from, offset + start))
                    letters_from = -1
                spans.append((offset + start, offset + end))
            start = end
        if letters_from >= 0:
            spans.append((offset + letters_from, offset + size))


_SEGMENTER: _Segmenter | None = None


def preload_segmenter() -> None:
    """Load jieba's dictionary, with the shipped table's names in it, now: done once in the extraction pool's
    forkserver, so that every worker forked from it starts with both (shared, copy-on-write) instead of
    spending a second loading the dictionary and a third of one adding the names, which also made each worker
    copy the dictionary's pages it changed. A user's table then only adds its own names."""
    _segmenter(load_companies()._cjk_names)._tokenizer.check_initialized()


def _segmenter(names: frozenset[str]) -> _Segmenter:
    global _SEGMENTER
    if _SEGMENTER is None:
        _SEGMENTER = _Segmenter()
    _SEGMENTER.add_names(names)
    return _SEGMENTER
