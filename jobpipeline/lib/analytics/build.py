"""Building the analytics tables in DuckDB from the operational store.

Each table is one ``sql/<name>.sql`` (``CREATE OR REPLACE TABLE <name> AS …``). Tables that read the
store get its rows as Arrow registered under ``store_*`` names; the rest read other analytics tables.
``build`` runs any subset in dependency order, adding upstream tables the database does not have yet.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import sqlalchemy as sa

from jobpipeline.lib.analytics import load

SQL_DIR = Path(__file__).with_name("sql")


class AnalyticsBuildError(RuntimeError):
    """One table's SQL failed; the table keeps its previous contents."""


@dataclass(frozen=True)
class AnalyticsTable:
    name: str
    description: str
    deps: tuple[str, ...] = ()  # analytics tables it reads
    store: tuple[str, ...] = ()  # store reads it needs: "jobs" (job + enrichment), "board_scrape"


# In dependency order.
TABLES: tuple[AnalyticsTable, ...] = (
    AnalyticsTable("job_snapshot", "Every job in the store with its latest ok enrichment (skills, seniority, salary, …).", store=("jobs",)),
    AnalyticsTable("job_skills", "One row per enriched job and skill (a view over job_snapshot).", deps=("job_snapshot",)),
    AnalyticsTable("skill_demand_daily", "Per day: enriched jobs first seen listing each skill, and their share.", deps=("job_snapshot",)),
    AnalyticsTable(
        "skill_demand_weekly",
        "Per ISO week: enriched jobs first seen listing each skill, and their share.",
        deps=("job_snapshot", "skill_demand_daily"),
    ),
    AnalyticsTable("skill_movers", "Skills whose weekly share moved most between the last two weeks.", deps=("skill_demand_weekly",)),
    AnalyticsTable("salary_bands", "Annualized p25/p50/p75 pay of open jobs per seniority × work mode × currency.", deps=("job_snapshot",)),
    AnalyticsTable("company_hiring_velocity", "Jobs each company opened and closed per week.", deps=("job_snapshot",)),
    AnalyticsTable(
        "posting_lifetimes", "Days from first seen to closed (and age of open jobs) by company and source.", deps=("job_snapshot",)
    ),
    AnalyticsTable(
        "board_scrapes", "Every board scrape in the store: source, board, day, ok, HTTP status, error.", store=("board_scrape",)
    ),
    AnalyticsTable("scrape_health", "Boards ok / failed, postings and bytes per partition (day × source).", deps=("board_scrapes",)),
    AnalyticsTable(
        "source_coverage",
        "Per source: boards, last (ok) scrape, failure share, jobs, enriched share.",
        deps=("board_scrapes", "job_snapshot"),
    ),
)
TABLES_BY_NAME: dict[str, AnalyticsTable] = {t.name: t for t in TABLES}


@cache
def table_sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables and views of the analytics database."""
    return {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_catalog = current_database()"
        ).fetchall()
    }


def plan(names: Iterable[str] | None, existing: set[str]) -> list[str]:
    """``names`` (default: all) plus every upstream table missing from ``existing``, in build order."""
    wanted = set(TABLES_BY_NAME) if names is None else set(names)
    unknown = wanted - set(TABLES_BY_NAME)
    if unknown:
        raise ValueError(f"unknown analytics tables {sorted(unknown)}; known: {sorted(TABLES_BY_NAME)}")
    stack = list(wanted)
    while stack:
        for dep in TABLES_BY_NAME[stack.pop()].deps:
            if dep not in wanted and dep not in existing:
                wanted.add(dep)
                stack.append(dep)
    return [t.name for t in TABLES if t.name in wanted]


def build(
    con: duckdb.DuckDBPyConnection,
    engine: sa.Engine,
    names: Iterable[str] | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, int]:
    """Build ``names`` (default: every table) from the store into ``con``; returns rows per table built.

    Each table is replaced in its own transaction, so a reader never sees a half-built one.
    ``timings``, when given, receives seconds per step (``read_store``, then each table).
    """
    timings = {} if timings is None else timings
    order = plan(names, existing_tables(con))
    con.execute(table_sql("_macros"))
    needs = {need for name in order for need in TABLES_BY_NAME[name].store}
    registered: list[str] = []
    latest = None
    if needs:
        started = time.perf_counter()
        for name, table in load.read_store(engine, jobs="jobs" in needs, board_scrapes="board_scrape" in needs).items():
            con.register(name, table)
            registered.append(name)
        if "jobs" in needs:
            latest = _latest_enrichment(con)
        timings["read_store"] = time.perf_counter() - started
    rows: dict[str, int] = {}
    try:
        for name in order:
            started = time.perf_counter()
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(table_sql(name))
                con.execute("COMMIT")
            except duckdb.Error as exc:
                con.execute("ROLLBACK")
                raise AnalyticsBuildError(f"building analytics table {name!r} failed: {exc}") from exc
            rows[name] = row_count(con, name)
            timings[name] = time.perf_counter() - started
    finally:
        if latest:
            con.execute(f"DROP {latest} IF EXISTS temp.latest_enrichment")
        for view in registered:
            con.unregister(view)
    return rows


def _latest_enrichment(con: duckdb.DuckDBPyConnection) -> str:
    """``latest_enrichment``: one row per content hash; returns whether it is a TABLE or a VIEW.

    Usually the cache holds one ok row per hash already, and a view over it is enough; the window
    that picks the latest runs only when some hash has several (another model or prompt version).
    """
    (several,) = con.execute("SELECT count(*) - count(DISTINCT content_hash) FROM store_enrichment").fetchall()[0]
    if several:
        con.execute(table_sql("_latest_enrichment"))
        return "TABLE"
    con.execute("CREATE OR REPLACE TEMP VIEW latest_enrichment AS SELECT * FROM store_enrichment")
    return "VIEW"


def row_count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return int(con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])
