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
import polars as pl
import sqlalchemy as sa

from jobpipeline.lib.analytics import incremental, load
from jobpipeline.lib.changes import Position, latest_position

SQL_DIR = Path(__file__).with_name("sql")
FEED_STATE = "_store_feed"  # where each table of FOLLOWED stands in the store's change feed (a row each)
# Tables updated from the store's change feed, each at its own position; scrape_health follows
# board_scrapes (its rows are per partition of it) and stands where board_scrapes stood when built.
FOLLOWED = ("job_snapshot", "board_scrapes", "scrape_health")


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
    _feed_state(con)
    existing = existing_tables(con)
    order = plan(names, existing)
    con.execute(table_sql("_macros"))
    rows: dict[str, int] = {}
    store: dict[str, object] = {}  # the store's rows, as Arrow, registered under these names
    read_at: dict[str, Position | None] = {}  # the feed position a FOLLOWED table's store read was taken after
    if "job_snapshot" in order:
        scrapes = [name for name in ("board_scrapes", "scrape_health") if name in order]
        updated = _update_snapshot(con, engine, existing, timings, notes, scrapes) if incremental else None
        if updated is not None:
            store, reaches, followed = updated
            for name in ("job_snapshot", *followed):
                order.remove(name)
                rows[name] = row_count(con, name)
            if "board_scrapes" not in followed and "store_board_scrape" in store:  # read in full with the update
                read_at["board_scrapes"] = reaches
        elif not incremental:
            notes["job_snapshot"] = "full: asked for"
    needs = {need for name in order for need in TABLES_BY_NAME[name].store}
    if "store_board_scrape" in store:  # read with the update
        needs.discard("board_scrape")
    # Read before the store: a change committed while it is read is replayed by the next update.
    position = feed_position(engine) if needs else None
    read_at = {name: position for name in FOLLOWED} | read_at
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
                if name == "scrape_health":  # built from board_scrapes as it now stands
                    _record_position(con, engine, name, _recorded_position(con, engine, "board_scrapes"))
                elif name in FOLLOWED:
                    _record_position(con, engine, name, read_at[name])
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
    scrapes: list[str],
) -> tuple[dict[str, object], Position, list[str]] | None:
    """Bring ``job_snapshot`` up to date from the store's change feed, in one transaction; and the
    tables of ``scrapes`` (``board_scrapes``, ``scrape_health``) being built too, in another, where
    they stood at the same position (else ``board_scrapes``' store read in full is read with the
    update). Returns the store reads for the other tables (by name), the position reached, and the
    tables of ``scrapes`` updated; None (with the reason in ``notes``) when ``job_snapshot`` must
    be rebuilt in full instead."""
    stood = _recorded_position(con, engine, "job_snapshot") if {"job_snapshot", FEED_STATE} <= existing else None
    if stood is None:
        notes["job_snapshot"] = "full: no position in the store's change feed recorded (a first build, or a store off SQLite)"
        return None
    follow = [name for name in scrapes if name in existing and _recorded_position(con, engine, name) == stood]
    if "board_scrapes" not in follow:  # scrape_health follows board_scrapes' rows as updated
        follow = []
    follow_scrapes = bool(follow)
    also = {"store_board_scrape": load.BOARD_SCRAPE_QUERY} if "board_scrapes" in scrapes and not follow_scrapes else {}
    started = time.perf_counter()
    update = incremental.read_update(engine, stood, row_count(con, "job_snapshot"), _holding(con), also, scrapes=follow_scrapes)
    if isinstance(update, str):
        notes["job_snapshot"] = f"full: {update}"
        return None
    timings["read_changes"] = time.perf_counter() - started  # the feed; the store is read while the feed's values are set
    started = time.perf_counter()
    views: dict[str, object] = {
        "feed_first_seen": update.first_seen.to_arrow(),
        "feed_last_seen": update.last_seen.to_arrow(),
        "feed_closed": update.closed.to_arrow(),
        "feed_drop": update.drop.to_arrow(),
    }
    latest = None
    try:
        for name, table in views.items():
            con.register(name, table)
        con.execute("BEGIN TRANSACTION")
        try:
            for stamp in ("first_seen", "last_seen"):
                con.execute(f"UPDATE job_snapshot SET {stamp} = s.{stamp} FROM feed_{stamp} AS s WHERE job_snapshot.job_id = s.id")
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
            con.execute(_delta_sql("job_snapshot"))
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
            _record_position(con, engine, "job_snapshot", update.reaches)
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise AnalyticsBuildError(f"updating analytics table 'job_snapshot' failed: {exc}") from exc
        except BaseException:  # the store's read failed (or an interrupt): nothing of the update stays
            con.execute("ROLLBACK")
            raise
        timings["job_snapshot"] = time.perf_counter() - started
        notes["job_snapshot"] = update.describe(read.store_job.num_rows, dropped)
        followed: list[str] = []
        if follow_scrapes:
            followed = follow if _update_scrapes(con, engine, update, read, notes, timings, health="scrape_health" in follow) else []
    finally:
        update.close()
        con.execute("DROP TABLE IF EXISTS temp.job_snapshot_delta")
        if latest:
            con.execute(f"DROP {latest} IF EXISTS temp.latest_enrichment")
        for name in views:
            con.unregister(name)
    return dict(read.also), update.reaches, followed


def _holding(con: duckdb.DuckDBPyConnection) -> incremental.Holding:
    """``incremental.read_update``'s ``holding``: the ids of ``job_snapshot``'s jobs holding content hashes."""

    def holding(hashes: pl.Series) -> list[int]:
        con.register("feed_hashes", hashes.to_frame("content_hash").to_arrow())
        try:
            found = con.execute("SELECT job_id FROM job_snapshot WHERE content_hash IN (SELECT content_hash FROM feed_hashes)")
            return [job_id for (job_id,) in found.fetchall()]
        finally:
            con.unregister("feed_hashes")

    return holding


def _update_scrapes(
    con: duckdb.DuckDBPyConnection,
    engine: sa.Engine,
    update: incremental.SnapshotUpdate,
    read: incremental.StoreRead,
    notes: dict[str, str],
    timings: dict[str, float],
    *,
    health: bool,
) -> bool:
    """``board_scrapes`` (and with ``health`` ``scrape_health``) brought to ``update.reaches`` in one
    transaction: the partitions (source, day) the feed says were scraped are replaced by their rows
    as read (and their health rows recomputed from those); False (nothing changed, the reason in
    ``notes``) when the result would not hold the store's number of board scrapes."""
    started = time.perf_counter()
    views = {"feed_scraped": update.scraped.to_arrow(), "store_board_scrape": read.scrapes}
    for name, table in views.items():
        con.register(name, table)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(_delta_sql("board_scrapes"))
            con.execute(
                "DELETE FROM board_scrapes USING feed_scraped AS f WHERE board_scrapes.source = f.source AND board_scrapes.scraped_on = f.day"
            )
            con.execute("INSERT INTO board_scrapes BY NAME SELECT * FROM temp.board_scrapes_delta")
            held = row_count(con, "board_scrapes")
            if held != read.store_scrapes:
                con.execute("ROLLBACK")
                notes["board_scrapes"] = f"full: the update left {held:,} board scrapes where the store holds {read.store_scrapes:,}"
                return False
            _record_position(con, engine, "board_scrapes", update.reaches)
            timings["board_scrapes"] = time.perf_counter() - started
            if health:
                started = time.perf_counter()
                con.execute(
                    "DELETE FROM scrape_health USING feed_scraped AS f WHERE scrape_health.source = f.source AND scrape_health.scraped_on = f.day"
                )
                con.execute(_health_delta_sql())
                con.execute("INSERT INTO scrape_health BY NAME SELECT * FROM temp.scrape_health_delta")
                _record_position(con, engine, "scrape_health", update.reaches)
                notes["scrape_health"] = f"incremental: {update.scraped.height:,} partitions (source x day) recomputed"
                timings["scrape_health"] = time.perf_counter() - started
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise AnalyticsBuildError(f"updating analytics table 'board_scrapes' failed: {exc}") from exc
    finally:
        con.execute("DROP TABLE IF EXISTS temp.board_scrapes_delta")
        con.execute("DROP TABLE IF EXISTS temp.scrape_health_delta")
        for name in views:
            con.unregister(name)
    notes["board_scrapes"] = (
        f"incremental: {update.scraped.height:,} partitions (source x day) read again, {read.scrapes.num_rows:,} board scrapes"
    )
    return True


@cache
def _health_delta_sql() -> str:
    """``scrape_health.sql`` over the scraped partitions' board scrapes only, into ``temp.scrape_health_delta``."""
    source = "FROM board_scrapes\n"
    sql = _delta_sql("scrape_health")
    if sql.count(source) != 1:
        raise AnalyticsBuildError(f"scrape_health.sql must read its rows with one {source!r}")
    changed = "(SELECT * FROM board_scrapes AS b WHERE EXISTS (SELECT 1 FROM feed_scraped AS f WHERE b.source = f.source AND b.scraped_on = f.day))"
    return sql.replace(source, f"FROM {changed} AS board_scrapes\n")


@cache
def _delta_sql(name: str) -> str:
    """``<name>.sql`` building the rows read again into ``temp.<name>_delta``."""
    header = f"CREATE OR REPLACE TABLE {name} AS"
    sql = table_sql(name)
    if sql.count(header) != 1:
        raise AnalyticsBuildError(f"{name}.sql must create its table with one {header!r}")
    return sql.replace(header, f"CREATE OR REPLACE TEMP TABLE {name}_delta AS")


@cache
def fingerprint(table: str) -> str:
    """What a recorded feed position of ``table`` is valid for: the SQL and the store columns it is
    built from (a change to either rebuilds it in full once)."""
    if table == "job_snapshot":
        parts = [table_sql(n) for n in ("_macros", "_latest_enrichment", "job_snapshot")] + [
            ",".join(load.JOB_COLUMNS),
            ",".join(load.ENRICHMENT_COLUMNS),
        ]
    else:  # board_scrapes, scrape_health
        parts = [table_sql("board_scrapes"), table_sql(table), load.BOARD_SCRAPE_QUERY[0]]
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


FEED_STATE_COLUMNS = ("table_name", "store", "fingerprint", "seq", "changed_at")


def _feed_state(con: duckdb.DuckDBPyConnection) -> None:
    """``FEED_STATE`` as this code writes it; one of an older shape (one row, no table column) is
    dropped: its tables are rebuilt in full once."""
    columns = tuple(
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main' "
            "AND table_catalog = current_database() ORDER BY ordinal_position",
            [FEED_STATE],
        ).fetchall()
    )
    if columns and columns != FEED_STATE_COLUMNS:
        con.execute(f"DROP TABLE {FEED_STATE}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {FEED_STATE} (table_name VARCHAR, store VARCHAR, fingerprint VARCHAR, seq BIGINT, changed_at VARCHAR)"
    )


def _recorded_position(con: duckdb.DuckDBPyConnection, engine: sa.Engine, table: str) -> Position | None:
    found = con.execute(
        f"SELECT seq, changed_at FROM {FEED_STATE} WHERE table_name = ? AND store = ? AND fingerprint = ?",
        [table, _store_name(engine), fingerprint(table)],
    ).fetchall()
    return (int(found[0][0]), str(found[0][1])) if found else None


def _record_position(con: duckdb.DuckDBPyConnection, engine: sa.Engine, table: str, position: Position | None) -> None:
    """Where ``table`` now stands in the store's change feed, in the transaction that built it."""
    con.execute(f"DELETE FROM {FEED_STATE} WHERE table_name = ?", [table])
    if position is not None:
        con.execute(f"INSERT INTO {FEED_STATE} VALUES (?, ?, ?, ?, ?)", [table, _store_name(engine), fingerprint(table), *position])


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
