"""Building the analytics tables in DuckDB from the operational store.

Each table is one ``sql/<name>.sql`` (``CREATE OR REPLACE TABLE <name> AS …``). Tables that read the
store get its rows as Arrow registered under ``store_*`` names; the rest read other analytics tables.
``build`` runs any subset in dependency order, adding upstream tables the database does not have yet.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import sqlalchemy as sa

from jobpipeline.lib.analytics import incremental, load
from jobpipeline.lib.changes import Position, latest_position

SQL_DIR = Path(__file__).with_name("sql")
FEED_STATE = "_store_feed"  # the store's change feed position job_snapshot stands at (one row)


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
    *,
    incremental: bool = True,
    notes: dict[str, str] | None = None,
) -> dict[str, int]:
    """Build ``names`` (default: every table) from the store into ``con``; returns rows per table built.

    Each table is replaced in its own transaction, so a reader never sees a half-built one.
    ``job_snapshot`` is updated from the store's change feed where it can be (``incremental.py``:
    only what changed since its last build is read), else rebuilt from every job; ``incremental=False``
    rebuilds it regardless. ``timings``, when given, receives seconds per step (``read_changes`` or
    ``read_store``, then each table); ``notes`` says how ``job_snapshot`` was built and why.
    """
    timings = {} if timings is None else timings
    notes = {} if notes is None else notes
    existing = existing_tables(con)
    order = plan(names, existing)
    con.execute(table_sql("_macros"))
    rows: dict[str, int] = {}
    store: dict[str, object] = {}  # the store's rows, as Arrow, registered under these names
    if "job_snapshot" in order:
        also = {"store_board_scrape": load.BOARD_SCRAPE_QUERY} if any("board_scrape" in TABLES_BY_NAME[n].store for n in order) else {}
        updated = _update_snapshot(con, engine, existing, timings, notes, also) if incremental else None
        if updated is not None:
            order.remove("job_snapshot")
            rows["job_snapshot"] = row_count(con, "job_snapshot")
            store = updated
        elif not incremental:
            notes["job_snapshot"] = "full: asked for"
    needs = {need for name in order for need in TABLES_BY_NAME[name].store}
    if "store_board_scrape" in store:  # read with the update
        needs.discard("board_scrape")
    # Read before the store: a change committed while it is read is replayed by the next update.
    position = feed_position(engine) if "jobs" in needs else None
    latest, started = None, time.perf_counter()
    if needs:
        store |= load.read_store(engine, jobs="jobs" in needs, board_scrapes="board_scrape" in needs)
    for name, table in store.items():
        con.register(name, table)
    if "jobs" in needs:
        latest = _latest_enrichment(con)
    if needs:
        timings["read_store"] = time.perf_counter() - started
    try:
        for name in order:
            started = time.perf_counter()
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(table_sql(name))
                if name == "job_snapshot":
                    _record_position(con, engine, position)
                con.execute("COMMIT")
            except duckdb.Error as exc:
                con.execute("ROLLBACK")
                raise AnalyticsBuildError(f"building analytics table {name!r} failed: {exc}") from exc
            rows[name] = row_count(con, name)
            timings[name] = time.perf_counter() - started
    finally:
        if latest:
            con.execute(f"DROP {latest} IF EXISTS temp.latest_enrichment")
        for view in store:
            con.unregister(view)
    return {name: rows[name] for name in plan(names, existing) if name in rows}


def _update_snapshot(
    con: duckdb.DuckDBPyConnection,
    engine: sa.Engine,
    existing: set[str],
    timings: dict[str, float],
    notes: dict[str, str],
    also: dict[str, tuple[str, str | None]],
) -> dict[str, object] | None:
    """Bring ``job_snapshot`` up to date from the store's change feed, in one transaction, reading
    the store reads ``also`` with it (returned by name); None (with the reason in ``notes``) when it
    must be rebuilt in full instead."""
    stood = _recorded_position(con, engine) if {"job_snapshot", FEED_STATE} <= existing else None
    if stood is None:
        notes["job_snapshot"] = "full: no position in the store's change feed recorded (a first build, or a store off SQLite)"
        return None
    started = time.perf_counter()
    update = incremental.read_update(engine, stood, row_count(con, "job_snapshot"), also)
    if isinstance(update, str):
        notes["job_snapshot"] = f"full: {update}"
        return None
    timings["read_changes"] = time.perf_counter() - started  # the feed; the store is read while the feed's values are set
    started = time.perf_counter()
    views: dict[str, object] = {
        "feed_seen": update.seen.to_arrow(),
        "feed_closed": update.closed.to_arrow(),
        "feed_drop": update.drop.to_arrow(),
    }
    latest = None
    try:
        for name, table in views.items():
            con.register(name, table)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "UPDATE job_snapshot SET first_seen = s.first_seen, last_seen = s.last_seen FROM feed_seen AS s WHERE job_snapshot.job_id = s.id"
            )
            con.execute(
                "UPDATE job_snapshot SET closed_at = c.closed_at, is_open = c.closed_at IS NULL "
                "FROM feed_closed AS c WHERE job_snapshot.job_id = c.id"
            )
            con.execute("DELETE FROM job_snapshot WHERE job_id IN (SELECT id FROM feed_drop)")
            read = update.fetch()
            views |= {"store_job": read.store_job, "store_enrichment": read.store_enrichment}
            for name in ("store_job", "store_enrichment"):
                con.register(name, views[name])
            latest = _latest_enrichment(con)
            con.execute(_delta_sql())
            (dropped,) = con.execute(
                "SELECT count(*) FROM (SELECT id FROM feed_drop UNION SELECT job_id FROM temp.job_snapshot_delta)"
            ).fetchone()
            con.execute("DELETE FROM job_snapshot WHERE job_id IN (SELECT job_id FROM temp.job_snapshot_delta)")
            con.execute("INSERT INTO job_snapshot BY NAME SELECT * FROM temp.job_snapshot_delta")
            held = row_count(con, "job_snapshot")
            if held != read.store_jobs:  # a write the feed did not see (or one between the reads): rebuild
                con.execute("ROLLBACK")
                notes["job_snapshot"] = f"full: the update left {held:,} jobs where the store holds {read.store_jobs:,}"
                return None
            _record_position(con, engine, update.reaches)
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise AnalyticsBuildError(f"updating analytics table 'job_snapshot' failed: {exc}") from exc
        except BaseException:  # the store's read failed (or an interrupt): nothing of the update stays
            con.execute("ROLLBACK")
            raise
    finally:
        update.close()
        con.execute("DROP TABLE IF EXISTS temp.job_snapshot_delta")
        if latest:
            con.execute(f"DROP {latest} IF EXISTS temp.latest_enrichment")
        for name in views:
            con.unregister(name)
    timings["job_snapshot"] = time.perf_counter() - started
    notes["job_snapshot"] = update.describe(read.store_job.num_rows, dropped)
    return dict(read.also)


@cache
def _delta_sql() -> str:
    """``job_snapshot.sql`` building the rows read again into ``temp.job_snapshot_delta``."""
    header = "CREATE OR REPLACE TABLE job_snapshot AS"
    sql = table_sql("job_snapshot")
    if sql.count(header) != 1:
        raise AnalyticsBuildError(f"job_snapshot.sql must create its table with one {header!r}")
    return sql.replace(header, "CREATE OR REPLACE TEMP TABLE job_snapshot_delta AS")


@cache
def fingerprint() -> str:
    """What a recorded feed position is valid for: the SQL and the columns ``job_snapshot`` is built
    from (a change to either rebuilds it in full once)."""
    parts = [table_sql(n) for n in ("_macros", "_latest_enrichment", "job_snapshot")] + [
        ",".join(load.JOB_COLUMNS),
        ",".join(load.ENRICHMENT_COLUMNS),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _store_name(engine: sa.Engine) -> str:
    path = load.sqlite_path(engine)
    return str(path) if path else engine.url.render_as_string(hide_password=True)


def feed_position(engine: sa.Engine) -> Position | None:
    """The store's newest change (None while it has none, or off SQLite)."""
    with engine.connect() as conn:
        try:
            return latest_position(conn)
        except sa.exc.OperationalError:  # a store from before the feed: create_schema adds it
            return None


def _recorded_position(con: duckdb.DuckDBPyConnection, engine: sa.Engine) -> Position | None:
    found = con.execute(
        f"SELECT seq, changed_at FROM {FEED_STATE} WHERE store = ? AND fingerprint = ?", [_store_name(engine), fingerprint()]
    ).fetchall()
    return (int(found[0][0]), str(found[0][1])) if found else None


def _record_position(con: duckdb.DuckDBPyConnection, engine: sa.Engine, position: Position | None) -> None:
    """Where ``job_snapshot`` now stands in the store's change feed, in the transaction that built it."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {FEED_STATE} (store VARCHAR, fingerprint VARCHAR, seq BIGINT, changed_at VARCHAR)")
    con.execute(f"DELETE FROM {FEED_STATE}")
    if position is not None:
        con.execute(f"INSERT INTO {FEED_STATE} VALUES (?, ?, ?, ?)", [_store_name(engine), fingerprint(), *position])


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
