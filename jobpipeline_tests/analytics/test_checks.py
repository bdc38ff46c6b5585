"""Asset checks on `jobs` (the store) and on the analytics (DuckDB) pass on clean data, fail on crafted data."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from jobpipeline.defs.analytics import checks
from jobpipeline.defs.analytics.assets import analytics
from jobpipeline.defs.analytics.resources import AnalyticsDuckDBResource
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.analytics import load
from jobpipeline.lib.postings import BoardOutcome, postings_frame
from jobpipeline.lib.sync import sync_postings

TODAY = datetime.now(UTC).date()


def store_checks(store) -> dict[str, dg.AssetCheckResult]:
    resource = StoreResource(database_url=store.url)
    return {fn.check_key.name: fn(store=resource) for fn in checks.JOBS_CHECKS}


def analytics_checks(store, analytics_db) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    result = dg.materialize(
        [analytics],
        resources={"store": StoreResource(database_url=store.url), "duckdb": AnalyticsDuckDBResource(database=str(analytics_db))},
        raise_on_error=False,
    )
    assert result.success
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def execute(store, sql: str, **params) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def scrape_today(store, failed: int = 0) -> None:
    """Today's partition: acme ok, plus ``failed`` failing boards."""
    outcomes = [BoardOutcome(source="lever", board=f"down{i}", ok=False, http_status=503) for i in range(failed)]
    acme = BoardOutcome(source="greenhouse", board="acme", ok=True)
    sync_postings(store.engine, postings_frame([]), seen_on=TODAY, outcomes=[acme, *outcomes])


def test_store_checks_pass_on_a_clean_fresh_store(store):
    scrape_today(store)
    got = store_checks(store)
    assert {name: r.passed for name, r in got.items()} == {
        "open_content_hash_unique": True,
        "salary_range_valid": True,
        "title_and_company_present": True,
        "board_failure_share": True,
    }


def test_freshness_of_the_daily_scrape_is_a_policy_not_a_check_that_runs_only_when_jobs_is_built():
    from jobpipeline.definitions import defs

    graph = defs().resolve_asset_graph()
    deadlines = {
        key: getattr(graph.get(dg.AssetKey(key)).freshness_policy, "deadline_cron", None)
        for key in ("raw_postings", "jobs", "enriched_jobs")
    }
    assert deadlines == {"raw_postings": "0 9 * * *", "jobs": "0 9 * * *", "enriched_jobs": "0 10 * * *"}
    assert "scraped_today" not in {fn.check_key.name for fn in checks.JOBS_CHECKS}


# The hash rule groups; on a SQLite store its hashes are read and grouped in DuckDB, through
# SQLAlchemy on a small store and the ADBC child on a large one (forced here).
READS = pytest.mark.parametrize("read", ["driver", "adbc"])


def reading(monkeypatch, read: str) -> None:
    if read == "adbc":
        monkeypatch.setattr(load, "ADBC_MIN_ROWS", 0)


@READS
def test_duplicate_open_content_hash_fails(store, monkeypatch, read):
    reading(monkeypatch, read)
    execute(
        store,
        "UPDATE job SET content_hash = (SELECT content_hash FROM job WHERE id = :a) WHERE id = :b",
        a=store.ids["A1"],
        b=store.ids["G1"],
    )
    result = store_checks(store)["open_content_hash_unique"]
    assert not result.passed and result.metadata["duplicated_hashes"].value == 1
    shared = store.engine.connect().exec_driver_sql(f"SELECT content_hash FROM job WHERE id = {store.ids['A1']}").scalar()
    assert result.metadata["examples"].value == [f"{shared} x2"]


@READS
def test_a_duplicate_hash_on_a_closed_job_is_fine(store, monkeypatch, read):
    reading(monkeypatch, read)
    execute(
        store,
        "UPDATE job SET content_hash = (SELECT content_hash FROM job WHERE id = :a) WHERE id = :b",
        a=store.ids["A1"],
        b=store.ids["A3"],
    )  # A3 is closed
    assert store_checks(store)["open_content_hash_unique"].passed


@READS
def test_the_hash_check_leaves_grouping_to_duckdb_not_a_temporary_b_tree_in_sqlite(store, monkeypatch, read):
    """SQLite groups by sorting into a temporary B-tree: 1.25-2.4 s for a million open jobs'
    hashes, run after every ``jobs`` partition. Every statement the check sends the store must plan
    without one."""
    reading(monkeypatch, read)
    resource = StoreResource(database_url=store.url)
    engine = resource.engine()
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        check = next(fn for fn in checks.JOBS_CHECKS if fn.check_key.name == "open_content_hash_unique")
        assert check(store=resource).passed
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    read_here = [sql for sql in sent if "closed_at IS NULL" in sql]  # the child reads with its own driver
    assert len(read_here) == (1 if read == "driver" else 0), sent
    with engine.connect() as conn:
        plans = {
            sql: [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()]
            for sql in sent
            if sql.lstrip().upper().startswith("SELECT")
        }
    assert not [(sql, step) for sql, steps in plans.items() for step in steps if "TEMP B-TREE" in step]


def test_salary_min_above_max_fails(store):
    execute(store, "UPDATE job SET salary_min = 200000 WHERE id = :a", a=store.ids["A1"])
    result = store_checks(store)["salary_range_valid"]
    assert not result.passed and result.metadata["invalid_jobs"].value == 1


@pytest.mark.parametrize("column", ["title", "company"])
def test_blank_title_or_company_fails(store, column):
    execute(store, f"UPDATE job SET {column} = '  ' WHERE id = :a", a=store.ids["G2"])
    result = store_checks(store)["title_and_company_present"]
    assert not result.passed and result.metadata["examples"].value == [store.ids["G2"]]


def test_board_failure_share_warns_above_the_threshold(store, monkeypatch):
    scrape_today(store, failed=1)  # 1 of 2 boards failed today: 50 %
    result = store_checks(store)["board_failure_share"]
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["failed_share"].value == 0.5
    monkeypatch.setenv("JOBPIPELINE_MAX_BOARD_FAILURE_SHARE", "0.5")
    assert store_checks(store)["board_failure_share"].passed


def test_analytics_checks_run_with_the_assets_and_pass_on_clean_data(store, analytics_db):
    scrape_today(store)
    got = analytics_checks(store, analytics_db)
    assert set(got) == {
        ("job_snapshot", "open_content_hash_unique"),
        ("job_snapshot", "salary_range_valid"),
        ("job_snapshot", "title_and_company_present"),
        ("board_scrapes", "scraped_today"),
        ("board_scrapes", "board_failure_share"),
    }
    assert all(e.passed for e in got.values())


def test_analytics_checks_fail_on_crafted_data(store, analytics_db):
    execute(store, "UPDATE job SET salary_min = 200000 WHERE id = :a", a=store.ids["A1"])
    execute(store, "UPDATE job SET title = '' WHERE id = :a", a=store.ids["G1"])
    execute(
        store,
        "UPDATE job SET content_hash = (SELECT content_hash FROM job WHERE id = :a) WHERE id = :b",
        a=store.ids["A1"],
        b=store.ids["G2"],
    )
    got = analytics_checks(store, analytics_db)
    failed = {key for key, e in got.items() if not e.passed}
    assert failed == {
        ("job_snapshot", "open_content_hash_unique"),
        ("job_snapshot", "salary_range_valid"),
        ("job_snapshot", "title_and_company_present"),
        ("board_scrapes", "scraped_today"),
        ("board_scrapes", "board_failure_share"),  # globex failed on the latest day: 1 of 2 boards
    }
    assert got[("board_scrapes", "board_failure_share")].severity == dg.AssetCheckSeverity.WARN


def test_checks_on_jobs_run_with_a_jobs_partition(home, tmp_path):
    """A real day x source partition of raw_postings -> jobs, replayed from one recorded board."""
    import shutil

    from jobpipeline.defs.jobs.assets import jobs
    from jobpipeline.defs.resources import ReplayJobBoards
    from jobpipeline.defs.scrape.assets import raw_postings
    from jobpipeline.defs.scrape.partitions import board_partition_key
    from jobpipeline_tests.conftest import CORPUS

    corpus = tmp_path / "corpus" / "lever"
    corpus.mkdir(parents=True)
    shutil.copy(CORPUS / "lever" / "palantir.json", corpus / "palantir.json")
    store_url = f"sqlite:///{home / 'store.db'}"
    result = dg.materialize(
        [raw_postings, jobs, *checks.JOBS_CHECKS],
        partition_key=str(board_partition_key(TODAY.isoformat(), "lever")),
        resources={"job_boards": ReplayJobBoards(replay_dir=str(corpus.parent)), "store": StoreResource(database_url=store_url)},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations == {
        "open_content_hash_unique": True,
        "salary_range_valid": True,
        "title_and_company_present": True,
        "board_failure_share": True,
    }
