"""Finance enrichment: the securities a story is about, found in its title and body.

Pure functions: `securities(title, body, table)` returns the codes written out in the text (see `detect`)
and those of the companies it names (see `names`), in one normal form (see `codes`). The pipeline runs it
in an extraction worker (it takes a few milliseconds) and stores the result on the Article; the front
matter lists it under `tickers` and `companies` and adds the codes to `tags`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .codes import normalise_code
from .detect import find_codes
from .names import Company, CompanyTable, load_companies, read_table
from .text import readable

__all__ = ["Company", "CompanyTable", "Securities", "load_companies", "normalise_code", "read_table",
           "securities"]


@dataclass(frozen=True, slots=True)
class Securities:
    tickers: tuple[str, ...] = ()
    """Normalised codes, sorted, each once."""
    companies: tuple[str, ...] = ()
    """Company names as the text wrote them, in order of first mention, one per company."""


def securities(title: str, body: str, table: CompanyTable) -> Securities:
    text = readable(f"{title}\n{body}")
    codes = find_codes(text)
    companies: dict[str, str] = {}
    for mention in table.find(text):
        codes.add(mention.code)
        companies.setdefault(mention.code, mention.name)
    return Securities(tuple(sorted(codes)), tuple(companies.values()))
