"""Read-only access to the analytics database, for people and tools.

Writes are refused twice: the statement must parse as one SELECT (or EXPLAIN), and the connection is
opened read-only with external file access off, so even a SELECT cannot write or read other files.
DuckDB allows one writer or many readers per file across processes; while a rebuild holds the
file, a reader waits up to ``wait_s`` and then says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class QueryError(Exception):
    """A query that cannot run as asked: the message says why, in one line."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]


@contextmanager
def connect_read_only(path: str | Path, wait_s: float = 10.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the analytics file, waiting up to ``wait_s`` for a writer to finish."""
    path = Path(path)
    if not path.exists():
        raise QueryError(
            f"no analytics database at {path}: materialize the analytics assets first "
            "(`jobpipeline run`, or `analytics_job` in the Dagster UI)"
        )
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise QueryError(f"cannot open {path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise QueryError(f"{path} is being rebuilt (another process holds its write lock); try again in a few seconds") from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        con.execute("SET lock_configuration = true")  # the session cannot turn external access back on
        yield con
    finally:
        con.close()


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise ``QueryError`` unless ``sql`` is exactly one SELECT / EXPLAIN statement."""
    if not sql.strip():
        raise QueryError("empty query")
    try:
        statements = con.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise QueryError(f"SQL syntax error: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise QueryError(f"one statement at a time, got {len(statements)}")
    kind = statements[0].type
    if kind not in ALLOWED:
        raise QueryError(f"the analytics database is read-only here: only SELECT queries run, not {kind.name}")


def run_query(path: str | Path, sql: str, wait_s: float = 10.0) -> QueryResult:
    """Run one read-only SELECT against the analytics file."""
    with connect_read_only(path, wait_s) as con:
        check_read_only(con, sql)
        try:
            cursor = con.execute(sql)
            rows = cursor.fetchall()
        except duckdb.CatalogException as exc:
            raise QueryError(f"{_first_line(exc)} (see `jobpipeline query --list`)") from None
        except duckdb.Error as exc:
            raise QueryError(_first_line(exc)) from None
        return QueryResult(
            columns=[d[0] for d in cursor.description or []],
            types=[str(d[1]) for d in cursor.description or []],
            rows=rows,
        )


def list_tables(path: str | Path, wait_s: float = 10.0) -> dict[str, list[tuple[str, str]]]:
    """Every table with its (column, type) pairs, in column order."""
    with connect_read_only(path, wait_s) as con:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = 'main' AND NOT internal ORDER BY table_name, column_index"
        ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, type_ in rows:
        tables.setdefault(table, []).append((column, type_))
    return tables


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
