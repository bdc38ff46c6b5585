"""Data checks: on ``jobs`` (in the store, run with each ``jobs`` materialization) and on the
analytics tables (in DuckDB, evaluated inside the ``analytics`` step on its own connection).

The rules themselves are portable SQL in ``jobpipeline.lib.analytics.quality``.
"""


import os
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone

import dagster as dg
import duckdb

from jobpipeline.defs.jobs.resources import StoreResource
from jobpipeline.lib.analytics import quality

DEFAULT_MAX_BOARD_FAILURE_SHARE = 0.2


def max_board_failure_share() -> float:
    """Above this share of failed boards on the latest day, the failure-share check warns."""
    return float(os.environ.get("JOBPIPELINE_MAX_BOARD_FAILURE_SHARE", DEFAULT_MAX_BOARD_FAILURE_SHARE))


def today() -> date:
    return datetime.now(timezone.utc).date()


def _result(outcome: quality.Outcome, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR, **kwargs) -> dg.AssetCheckResult:
    metadata = {k: (dg.MetadataValue.json(v) if isinstance(v, list) else v) for k, v in outcome.metadata.items()}
    return dg.AssetCheckResult(passed=outcome.passed, severity=severity, description=outcome.description,
                               metadata=metadata, **kwargs)


# --- on `jobs`, in the store -------------------------------------------------------------------


def _store_query(store: StoreResource) -> quality.Query:
    def query(sql: str) -> list[tuple]:
        with store.engine().connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql).all()]

    return query


@dg.asset_check(asset="jobs", name="open_content_hash_unique", description="No two open jobs share a content hash.")
def jobs_open_content_hash_unique(store: StoreResource) -> dg.AssetCheckResult:
    return _result(quality.open_content_hash_unique(_store_query(store)))


@dg.asset_check(asset="jobs", name="salary_range_valid", description="salary_min <= salary_max wherever both are known.")
def jobs_salary_range_valid(store: StoreResource) -> dg.AssetCheckResult:
    return _result(quality.salary_range_valid(_store_query(store)))


@dg.asset_check(asset="jobs", name="title_and_company_present", description="No job with an empty title or company.")
def jobs_title_and_company_present(store: StoreResource) -> dg.AssetCheckResult:
    return _result(quality.title_and_company_present(_store_query(store)))


@dg.asset_check(asset="jobs", name="scraped_today", description="Freshness: today's (UTC) partition has been scraped.")
def jobs_scraped_today(store: StoreResource) -> dg.AssetCheckResult:
    return _result(quality.scraped_today(_store_query(store), today()))


@dg.asset_check(asset="jobs", name="board_failure_share",
                description="Share of boards failing on the latest scraped day stays below the threshold (warns).")
def jobs_board_failure_share(store: StoreResource) -> dg.AssetCheckResult:
    return _result(quality.board_failure_share(_store_query(store), max_board_failure_share()), dg.AssetCheckSeverity.WARN)


JOBS_CHECKS = [
    jobs_open_content_hash_unique,
    jobs_salary_range_valid,
    jobs_title_and_company_present,
    jobs_scraped_today,
    jobs_board_failure_share,
]


# --- on the analytics, in DuckDB ---------------------------------------------------------------

# (asset, check name, description, severity, rule over a DuckDB query function)
_ANALYTICS_RULES: list[tuple[str, str, str, dg.AssetCheckSeverity, Callable[[quality.Query], quality.Outcome]]] = [
    ("job_snapshot", "open_content_hash_unique", "No two open jobs share a content hash.", dg.AssetCheckSeverity.ERROR,
     lambda q: quality.open_content_hash_unique(q, "job_snapshot", "job_id")),
    ("job_snapshot", "salary_range_valid", "salary_min <= salary_max (posting or extracted).", dg.AssetCheckSeverity.ERROR,
     lambda q: quality.salary_range_valid(q, "job_snapshot", "job_id")),
    ("job_snapshot", "title_and_company_present", "No job with an empty title or company.", dg.AssetCheckSeverity.ERROR,
     lambda q: quality.title_and_company_present(q, "job_snapshot", "job_id")),
    ("board_scrapes", "scraped_today", "Freshness: today's (UTC) partition has been scraped.", dg.AssetCheckSeverity.ERROR,
     lambda q: quality.scraped_today(q, today(), "board_scrapes")),
    ("board_scrapes", "board_failure_share", "Share of boards failing on the latest day stays below the threshold (warns).",
     dg.AssetCheckSeverity.WARN, lambda q: quality.board_failure_share(q, max_board_failure_share(), "board_scrapes")),
]

ANALYTICS_CHECK_SPECS = [
    dg.AssetCheckSpec(name=name, asset=asset, description=description) for asset, name, description, _, _ in _ANALYTICS_RULES
]


def evaluate_analytics_checks(con: duckdb.DuckDBPyConnection, selected: set[dg.AssetCheckKey]) -> Iterator[dg.AssetCheckResult]:
    """The selected analytics checks, evaluated on ``con``."""

    def query(sql: str) -> list[tuple]:
        return con.execute(sql).fetchall()

    for asset, name, _, severity, rule in _ANALYTICS_RULES:
        key = dg.AssetCheckKey(dg.AssetKey(asset), name)
        if key in selected:
            yield _result(rule(query), severity, asset_key=asset, check_name=name)
