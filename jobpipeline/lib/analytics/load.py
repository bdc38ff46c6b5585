"""Reading the operational store into Arrow tables, for DuckDB to scan without copying.

DuckDB's sqlite extension downloads itself at first use, which an offline machine cannot do, so the
store is read here: on SQLite through ADBC (C, straight into Arrow), elsewhere through
SQLAlchemy + polars. Only the columns the analytics need are read (never descriptions), and only
with SELECT.
"""

from __future__ import annotations

import importlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

JOB_COLUMNS: tuple[str, ...] = (
    "id", "content_hash", "source", "board", "company", "title", "locations", "remote", "workplace_type",
    "department", "employment_type", "posted_at", "salary_min", "salary_max", "salary_currency", "salary_period",
    "apply_url", "first_seen", "last_seen", "updated_at", "closed_at", "favorite", "status",
)
BOARD_SCRAPE_COLUMNS: tuple[str, ...] = (
    "source", "board", "scraped_on", "ok", "http_status", "error", "n_postings", "n_bytes", "duration_s",
)
# The enrichment cache's fields the analytics use; a missing one reads as NULL.
ENRICHMENT_COLUMNS: tuple[str, ...] = (
    "content_hash", "model", "prompt_version", "status", "skills", "seniority", "employment_type", "remote",
    "remote_regions", "salary_min", "salary_max", "salary_currency", "salary_period", "years_experience_min",
    "visa_sponsorship", "summary",
)
# Which of these the cache has decides "latest" among several ok rows of one content hash.
ENRICHMENT_TIME_COLUMNS: tuple[str, ...] = ("updated_at", "extracted_at", "created_at", "cached_at")
ENRICHMENT_MODULE = "jobpipeline.lib.extract.cache"
_BUSY_TIMEOUT_MS = 30_000
_ENRICHMENT_KEY = {"content_hash", "model", "prompt_version"}


@dataclass(frozen=True)
class StoreTables:
    """What the analytics read from the store, as Arrow (column types are fixed later, in SQL)."""

    job: pa.Table
    enrichment: pa.Table  # empty (same columns) when the store has no enrichment cache yet
    board_scrape: pa.Table


def read_arrow(engine: sa.Engine, sql: str) -> pa.Table:
    """Run one SELECT on the store and return Arrow.

    On a SQLite file, ADBC reads the whole result as one batch: its type inference looks at the
    first batch only, and a column that starts with NULLs would otherwise break on the first value.
    Types are fixed in SQL (dates arrive as text, booleans as 0/1), so the frame need not be typed.
    """
    path = sqlite_path(engine)
    if path is not None:
        try:
            import adbc_driver_sqlite.dbapi as adbc
        except ImportError:  # pragma: no cover - the dependency is declared; this keeps a bare env working
            adbc = None
        if adbc is not None:
            with adbc.connect(str(path)) as conn, conn.cursor() as cur:
                cur.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")  # wait out a sync's checkpoint
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1_000_000_000)})
                cur.execute(sql)
                return _untyped_nulls_as_text(cur.fetch_arrow_table())
    with engine.connect() as conn:
        return _untyped_nulls_as_text(pl.read_database(sql, conn, infer_schema_length=None).to_arrow())


def _untyped_nulls_as_text(table: pa.Table) -> pa.Table:
    """A column NULL throughout has no type to infer (ADBC says int64, polars null): make it text,
    which the SQL casts to any type, where int64 would not cast to a date."""
    for i, column in enumerate(table.columns):
        if column.null_count == len(column) and column.type != pa.string():
            table = table.set_column(i, table.field(i).name, pa.nulls(len(column), pa.string()))
    return table


def sqlite_path(engine: sa.Engine) -> Path | None:
    """The file behind a SQLite engine (None for other databases and in-memory SQLite)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    return Path(engine.url.database).resolve()


def enrichment_table(engine: sa.Engine) -> tuple[str, list[str]] | None:
    """(table name, columns) of the enrichment cache, or None while the store has none.

    Found by its key columns rather than by name, so the analytics follow the cache module.
    """
    preferred: list[str] = []
    try:
        module = importlib.import_module(ENRICHMENT_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != ENRICHMENT_MODULE:
            raise
    else:
        for value in vars(module).values():
            table = getattr(value, "__table__", None)
            if isinstance(table, sa.Table) and _ENRICHMENT_KEY <= set(table.c.keys()):
                preferred.append(table.name)
    inspector = sa.inspect(engine)
    names = inspector.get_table_names()
    for name in [*preferred, *sorted(names)]:
        if name not in names:
            continue
        columns = [c["name"] for c in inspector.get_columns(name)]
        if _ENRICHMENT_KEY | {"status", "skills"} <= set(columns):
            return name, columns
    return None


def _enrichment_sql(table: str, columns: list[str]) -> str:
    present = set(columns)
    select = [c if c in present else f"NULL AS {c}" for c in ENRICHMENT_COLUMNS]
    when = next((c for c in ENRICHMENT_TIME_COLUMNS if c in present), None)
    select.append(f"CAST({when} AS TEXT) AS enriched_at" if when else "NULL AS enriched_at")
    # Only ok rows: a failed extraction says nothing about the job.
    return f"SELECT {', '.join(select)} FROM {table} WHERE status = 'ok'"


def empty_enrichment() -> pa.Table:
    return pa.table({c: pa.array([], pa.string()) for c in (*ENRICHMENT_COLUMNS, "enriched_at")})


def read_job_tables(engine: sa.Engine) -> tuple[pa.Table, pa.Table]:
    """Jobs and their ok enrichments, read side by side (ADBC releases the GIL while it reads)."""
    found = enrichment_table(engine)
    job_sql = f"SELECT {', '.join(JOB_COLUMNS)} FROM job"
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = pool.submit(read_arrow, engine, job_sql)
        enrichments = pool.submit(read_arrow, engine, _enrichment_sql(*found)) if found else None
        return jobs.result(), enrichments.result() if enrichments else empty_enrichment()


def read_board_scrapes(engine: sa.Engine) -> pa.Table:
    return read_arrow(engine, f"SELECT {', '.join(BOARD_SCRAPE_COLUMNS)} FROM board_scrape")


def read_store(engine: sa.Engine) -> StoreTables:
    job, enrichment = read_job_tables(engine)
    return StoreTables(job=job, enrichment=enrichment, board_scrape=read_board_scrapes(engine))
