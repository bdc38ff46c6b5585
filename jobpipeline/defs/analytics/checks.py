"""Data checks: on ``jobs`` (in the store, run with each ``jobs`` materialization) and on the
analytics tables (in DuckDB, evaluated inside the ``analytics`` step on its own connection).

The rules themselves are portable SQL in ``jobpipeline.lib.analytics.quality``.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import dagster as dg
import duckdb

from jobpipeline import settings
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.analytics import quality
from jobpipeline.lib.analytics.load import read_many, sqlite_path


def max_board_failure_share() -> float:
    """Above this share of failed boards on the latest day, the failure-share check warns."""
    return settings.current().max_board_failure_share


def today() -> date:
    return datetime.now(UTC).date()


def _result(outcome: quality.Outcome, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR, **kwargs) -> dg.AssetCheckResult:
    metadata = {k: (dg.MetadataValue.json(v) if isinstance(v, list) else v) for k, v in outcome.metadata.items()}
    return dg.AssetCheckResult(passed=outcome.passed, severity=severity, description=outcome.description, metadata=metadata, **kwargs)


# --- on `jobs`, in the store -------------------------------------------------------------------


def _store_query(store: StoreResource) -> quality.Query:
    def query(sql: str) -> list[tuple]:
        with store.engine().connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql).all()]

    return query


# What a rule that groups reads of a SQLite store, to group in DuckDB instead: SQLite groups by
# sorting into a temporary B-tree, 1.25-2.4 s for the hashes of a million open jobs, where reading
# them (ADBC, in ranges on both cores) and grouping them in DuckDB took 0.7 s. Rules that only
# filter stay in SQLite (one scan, a few rows out); a server groups well on its own.
_SQLITE_READS: dict[str, tuple[str, str]] = {
    "open_content_hash_unique": ("SELECT content_hash, closed_at FROM job WHERE closed_at IS NULL", "job"),
}


def _rule_query(store: StoreResource, name: str) -> quality.Query:
    """Where ``name``'s rule runs: on the store, or in DuckDB over what ``_SQLITE_READS`` reads of a
    SQLite store (the same rows and columns the rule reads, as a table of the same name)."""
    engine = store.engine()
    if name not in _SQLITE_READS or sqlite_path(engine) is None:
        return _store_query(store)

    def query(sql: str) -> list[tuple]:
        read, table = _SQLITE_READS[name]
        (rows,) = read_many(engine, [(read, table)])
        with duckdb.connect() as con:
            con.register(table, rows)
            return con.execute(sql).fetchall()

    return query


# The five rules, checked on the store's tables and again on their analytics copies:
# (check name, description, severity, analytics table, rule(query, jobs table, job id column, scrapes table))
_RULES: list[tuple[str, str, dg.AssetCheckSeverity, str, Callable[[quality.Query, str, str, str], quality.Outcome]]] = [
    (
        "open_content_hash_unique",
        "No two open jobs share a content hash.",
        dg.AssetCheckSeverity.ERROR,
        "job_snapshot",
        lambda q, jobs, _id, _scrapes: quality.open_content_hash_unique(q, jobs),
    ),
    (
        "salary_range_valid",
        "salary_min <= salary_max wherever both are known (posting or extracted).",
        dg.AssetCheckSeverity.ERROR,
        "job_snapshot",
        lambda q, jobs, job_id, _scrapes: quality.salary_range_valid(q, jobs, job_id),
    ),
    (
        "title_and_company_present",
        "No job with an empty title or company.",
        dg.AssetCheckSeverity.ERROR,
        "job_snapshot",
        lambda q, jobs, job_id, _scrapes: quality.title_and_company_present(q, jobs, job_id),
    ),
    (
        "scraped_today",
        "Freshness: today's (UTC) partition has been scraped.",
        dg.AssetCheckSeverity.ERROR,
        "board_scrapes",
        lambda q, _jobs, _id, scrapes: quality.scraped_today(q, today(), scrapes),
    ),
    (
        "board_failure_share",
        "Share of boards failing on the latest scraped day stays below the threshold (warns).",
        dg.AssetCheckSeverity.WARN,
        "board_scrapes",
        lambda q, _jobs, _id, scrapes: quality.board_failure_share(q, max_board_failure_share(), scrapes),
    ),
]


def _store_check(name: str, description: str, severity: dg.AssetCheckSeverity, rule) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset="jobs", name=name, description=description)
    def check(store: StoreResource) -> dg.AssetCheckResult:
        return _result(rule(_rule_query(store, name), "job", "id", "board_scrape"), severity)

    return check


# Not `scraped_today` on `jobs`: a check runs when its asset is built, so it could never say that
# nothing was built today. The freshness policy on `raw_postings` and `jobs` says it instead
# (evaluated by the daemon on its own clock); the analytics keep the check on their copy.
JOBS_CHECKS = [
    _store_check(name, description, severity, rule) for name, description, severity, _, rule in _RULES if name != "scraped_today"
]


# --- on the analytics, in DuckDB ---------------------------------------------------------------

ANALYTICS_CHECK_SPECS = [dg.AssetCheckSpec(name=name, asset=table, description=description) for name, description, _, table, _ in _RULES]


def evaluate_analytics_checks(con: duckdb.DuckDBPyConnection, selected: set[dg.AssetCheckKey]) -> Iterator[dg.AssetCheckResult]:
    """The selected analytics checks, evaluated on ``con``."""

    def query(sql: str) -> list[tuple]:
        return con.execute(sql).fetchall()

    for name, _, severity, table, rule in _RULES:
        if dg.AssetCheckKey(dg.AssetKey(table), name) in selected:
            yield _result(rule(query, "job_snapshot", "job_id", "board_scrapes"), severity, asset_key=table, check_name=name)


@dg.definitions
def store_checks() -> dg.Definitions:
    return dg.Definitions(asset_checks=JOBS_CHECKS)
