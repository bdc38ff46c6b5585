"""Reading the operational store into Arrow tables, for DuckDB to scan without copying.

DuckDB's sqlite extension downloads itself at first use, which an offline machine cannot do, so the
store is read here: on SQLite through ADBC (C, straight into Arrow; in a child process, see
``sqlite_reader``), elsewhere through SQLAlchemy + polars. Only the columns the analytics need are read (never descriptions), and only
with SELECT.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from jobpipeline.lib.analytics.sqlite_reader import ChildReader, untyped_nulls_as_text
from jobpipeline.lib.postings import BoardOutcome
from jobpipeline.lib.store import Enrichment

# What the analytics and the snapshot need; user fields (favorite, notes, status) and descriptions
# stay in the store, where they are edited.
JOB_COLUMNS: tuple[str, ...] = (
    "id",
    "content_hash",
    "source",
    "board",
    "company",
    "title",
    "locations",
    "remote",
    "workplace_type",
    "department",
    "employment_type",
    "posted_at",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "apply_url",
    "first_seen",
    "last_seen",
    "closed_at",
)
BOARD_SCRAPE_COLUMNS: tuple[str, ...] = ("source", "board", "scraped_on", *BoardOutcome.stored_columns())
# The enrichment cache's fields the analytics use; a missing one reads as NULL.
ENRICHMENT_COLUMNS: tuple[str, ...] = (
    "content_hash",
    "model",
    "prompt_version",
    "skills",
    "seniority",
    "employment_type",
    "remote",
    "remote_regions",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "years_experience_min",
    "visa_sponsorship",
    "salary_source",
)
ENRICHMENT = Enrichment.__table__
ENRICHED_AT = Enrichment.__table__.c.created_at.name  # decides "latest" among several ok rows of one content hash
BOARD_SCRAPE_QUERY = (f"SELECT {', '.join(BOARD_SCRAPE_COLUMNS)} FROM board_scrape", "board_scrape")  # (sql, rowid-range table)
ADBC_MIN_ROWS = 50_000  # from this many rows in a table, a SQLite store is read with ADBC


def read_many(engine: sa.Engine, queries: list[tuple[str, str | None]], measure: tuple[str, ...] = ()) -> list[pa.Table]:
    """Several SELECTs, each optionally read in rowid ranges of a table.

    A large SQLite store is read by ADBC in a child process (``sqlite_reader``: about 0.1 s to start,
    then several times faster than Python's driver); a small one, and any server, through SQLAlchemy.
    Large: the largest of the range tables and of ``measure`` (tables queries read but not in ranges).
    """
    with StoreReads(engine, [t for _, t in queries if t] + list(measure)) as reads:
        reads.submit(queries)
        return reads.result()


class StoreReads:
    """``read_many`` in two steps, its reader ready before the queries are known: on a large store
    (the largest of ``tables``, as ``read_many`` measures) the ADBC child starts at once, so its
    start-up overlaps what the caller does before ``submit``, and its reads what it does before
    ``result``. Use it as a context manager: leaving stops a child still running."""

    def __init__(self, engine: sa.Engine, tables: list[str]):
        path = sqlite_path(engine)
        self._engine = engine
        self._child = ChildReader(path) if path is not None and _largest(engine, tables) >= ADBC_MIN_ROWS else None
        self._queries: list[tuple[str, str | None]] = []

    def submit(self, queries: list[tuple[str, str | None]]) -> None:
        self._queries = queries
        if self._child is not None:
            self._child.submit(queries)

    def result(self) -> list[pa.Table]:
        if self._child is not None:
            return self._child.result()
        with self._engine.connect() as conn:
            frames = [pl.read_database(sql, conn, infer_schema_length=None) for sql, _ in self._queries]
        return [untyped_nulls_as_text(lists_as_json(frame).to_arrow()) for frame in frames]

    def close(self) -> None:
        if self._child is not None:
            self._child.close()

    def __enter__(self) -> StoreReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _largest(engine: sa.Engine, tables: list[str]) -> int:
    """Rows of the largest of ``tables``, roughly (max rowid: no scan)."""
    largest = 0
    with engine.connect() as conn:
        for table in tables:
            try:
                largest = max(largest, conn.exec_driver_sql(f"SELECT max(rowid) FROM {table}").scalar() or 0)
            except sa.exc.OperationalError:  # WITHOUT ROWID
                largest = max(largest, conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)
    return largest


def lists_as_json(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns (PostgreSQL's JSON comes back decoded) as JSON text, as SQLite keeps them."""
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    return frame.with_columns(
        pl.struct(pl.col(name).alias("v")).struct.json_encode().str.strip_prefix('{"v":').str.strip_suffix("}").alias(name)
        for name in lists
    )


def sqlite_path(engine: sa.Engine) -> Path | None:
    """The file behind a SQLite engine (None for other databases and in-memory SQLite)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    return Path(engine.url.database).resolve()


def enrichment_table(engine: sa.Engine) -> tuple[str, list[str]] | None:
    """(table name, columns it has) of the enrichment cache, or None while the store has none.

    The columns are the database's: a store created before a column was added lacks it, and the
    analytics read it as NULL."""
    inspector = sa.inspect(engine)
    if not inspector.has_table(ENRICHMENT.name):
        return None
    return ENRICHMENT.name, [c["name"] for c in inspector.get_columns(ENRICHMENT.name)]


def enrichment_sql(table: str, columns: list[str], dialect: str) -> str:
    """The ok rows of the enrichment cache ``table`` (with ``columns``), in ``dialect``'s SQL.

    On SQLite the status is compared as ``+status``, which keeps the planner off ``status``'s
    index: nearly every row is ok, so walking it reads the whole cache, a row lookup each. An
    update's read of the enrichments of 53,658 content hashes (``incremental``) at a million jobs
    took 0.86-0.92 s that way, and 0.27-0.29 s by the cache's key; the full read, in rowid
    ranges, takes as long either way."""
    present = set(columns)
    select = [c if c in present else f"NULL AS {c}" for c in ENRICHMENT_COLUMNS]
    select.append(f"CAST({ENRICHED_AT} AS TEXT) AS enriched_at" if ENRICHED_AT in present else "NULL AS enriched_at")
    # Only ok rows: a failed extraction says nothing about the job.
    return f"SELECT {', '.join(select)} FROM {table} WHERE {'+' if dialect == 'sqlite' else ''}status = 'ok'"


def empty_enrichment() -> pa.Table:
    return pa.table({c: pa.array([], pa.string()) for c in (*ENRICHMENT_COLUMNS, "enriched_at")})


def read_store(engine: sa.Engine, jobs: bool = True, board_scrapes: bool = True) -> dict[str, pa.Table]:
    """The store's rows the analytics read, in one go: ``store_job`` and ``store_enrichment`` (ok rows;
    empty with the same columns when there is no cache yet), ``store_board_scrape``."""
    found = enrichment_table(engine) if jobs else None
    queries: dict[str, tuple[str, str | None]] = {}
    if jobs:
        queries["store_job"] = (f"SELECT {', '.join(JOB_COLUMNS)} FROM job", "job")
        if found:
            queries["store_enrichment"] = (enrichment_sql(*found, engine.dialect.name), found[0])
    if board_scrapes:
        queries["store_board_scrape"] = BOARD_SCRAPE_QUERY
    tables = dict(zip(queries, read_many(engine, list(queries.values()))))
    if jobs and not found:
        tables["store_enrichment"] = empty_enrichment()
    return tables
