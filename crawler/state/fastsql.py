"""The statements every new article runs, executed on the database driver's own cursor.

A new article costs about twenty statements on the event loop. Through SQLAlchemy each one pays for
compilation-cache keys, parameter processing and result metadata: some 50 µs for a `text()` statement,
150 µs for a Core construct, several times what SQLite takes to run it. `run()` sends the SQL to the DBAPI
cursor of the connection SQLAlchemy has open, so it takes part in the same transaction (commit and rollback
stay SQLAlchemy's), and adapts the parameter style for the two drivers we ship for: sqlite3 (`:name`, as
written) and psycopg (`%(name)s`). Any other database goes through `text()` unchanged.
"""
from __future__ import annotations

import re
from collections import namedtuple
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

FAST_DIALECTS = frozenset({"sqlite", "postgresql"})
_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


class Statement:
    """SQL with `:name` parameters; the names in `expanding` take a list (`IN :keys`)."""

    def __init__(self, sql: str, *, expanding: Sequence[str] = ()):
        self.sql = sql
        self.expanding = tuple(expanding)
        portable = text(sql)
        if expanding:
            portable = portable.bindparams(*(bindparam(name, expanding=True) for name in expanding))
        self.portable = portable


class Rows:
    """The little of SQLAlchemy's Result the store uses."""

    def __init__(self, rows: list[Any]):
        self.rows = rows

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def all(self) -> list[Any]:
        return self.rows

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0][0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]


_row_types: dict[tuple[str, ...], type] = {}


def run(conn: Connection, statement: Statement, parameters: Mapping[str, Any] | Iterable[Mapping[str, Any]] = {}
        ) -> Rows:
    """Execute `statement` with one mapping of parameters, or many (a list: executemany, no rows back)."""
    dialect = conn.dialect.name
    if dialect not in FAST_DIALECTS:
        result = conn.execute(statement.portable, parameters if isinstance(parameters, Mapping) else list(parameters))
        return Rows(result.all() if result.returns_rows else [])
    many = not isinstance(parameters, Mapping)
    sql, values = (statement.sql, list(parameters)) if many else _expand(statement, parameters)
    if dialect == "postgresql":
        sql = _NAMED_PARAMETER.sub(r"%(\1)s", sql)
    driver_error = conn.dialect.loaded_dbapi.Error
    cursor = conn.connection.cursor()
    try:
        return _execute(cursor, sql, values, many)
    except driver_error as error:  # raised as SQLAlchemy would: the store turns it into a StateError
        raise DBAPIError.instance(sql, values, error, driver_error) from error
    finally:
        cursor.close()


def _execute(cursor: Any, sql: str, values: Any, many: bool) -> Rows:
    if many:
        cursor.executemany(sql, values)
        return Rows([])
    cursor.execute(sql, values)
    if cursor.description is None:
        return Rows([])
    names = tuple(column[0] for column in cursor.description)
    row_type = _row_types.get(names) or _row_types.setdefault(names, namedtuple("Row", names))
    return Rows([row_type(*row) for row in cursor.fetchall()])


def _expand(statement: Statement, parameters: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    sql, values = statement.sql, dict(parameters)
    for name in statement.expanding:
        items = list(values.pop(name))
        if not items:
            raise ValueError(f"an empty list for :{name}")
        values.update((f"{name}_{i}", item) for i, item in enumerate(items))
        sql = sql.replace(f":{name}", "(" + ", ".join(f":{name}_{i}" for i in range(len(items))) + ")", 1)
    return sql, values
