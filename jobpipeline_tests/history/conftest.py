"""Fixtures for the history domain: the shipped HN recordings through Dagster, stores compared by natural key."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from jobpipeline.defs.history.assets import HN_POSTINGS, hn_month
from jobpipeline.defs.resources import ReplayJobBoards, StoreResource

# The recorded months and their postings (jobpipeline_tests/hn: 219 / 647 / 408).
RECORDED = {"2011-04": 219, "2019-11": 647, "2020-02": 408}
DEAD = "http://127.0.0.1:9"  # nothing listens on port 9: any request fails at once


def resources(store_url: str, **job_boards) -> dict:
    return {"job_boards": ReplayJobBoards(**job_boards), "store": StoreResource(database_url=store_url)}


def materialize_month(
    month: str, store_url: str, instance: dg.DagsterInstance, *, selection=None, config: dict | None = None, **job_boards
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [hn_month],
        selection=selection,
        partition_key=month,
        instance=instance,
        resources=resources(store_url, **job_boards),
        run_config={"ops": {"hn_month": {"config": config}}} if config else None,
        raise_on_error=False,
    )


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (mat,) = [m for m in result.asset_materializations_for_node("hn_month") if m.asset_key == dg.AssetKey(asset)]
    return {k: v.value for k, v in mat.metadata.items()}


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    return failure.step_failure_data.error.message


@pytest.fixture
def store_url(home: Path) -> str:
    return f"sqlite:///{home / 'store.db'}"


@pytest.fixture(scope="session")
def recorded_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``raw/hn/<month>/`` of the three recorded months, fetched once from the shipped replay corpus."""
    home = tmp_path_factory.mktemp("recorded_raw")
    with pytest.MonkeyPatch.context() as mp, dg.DagsterInstance.ephemeral() as instance:
        mp.setenv("JOBPIPELINE_HOME", str(home))
        for month in RECORDED:
            result = materialize_month(month, f"sqlite:///{home / 'unused.db'}", instance, selection=[HN_POSTINGS])
            assert result.success, month
    return home / "raw" / "hn"


@pytest.fixture
def raw_on_disk(home: Path, recorded_raw: Path) -> Path:
    """The recorded months' raw partitions copied under this test's JOBPIPELINE_HOME."""
    shutil.copytree(recorded_raw, home / "raw" / "hn")
    return home / "raw" / "hn"


def store_by_natural_key(url: str) -> dict[str, list[tuple]]:
    """Everything a sync decides, keyed by (source, board, source_job_id) instead of row ids and wall clock."""
    engine = sa.create_engine(url)
    queries = {
        "postings": """
            SELECT p.source, p.board, p.source_job_id, p.content_hash, p.first_seen, p.last_seen, p.closed_at,
                   j.source, j.board, j.source_job_id
            FROM job_posting p JOIN job j ON j.id = p.job_id ORDER BY 1, 2, 3""",
        "jobs": """
            SELECT source, board, source_job_id, dedup_key, content_hash, company, title, description, locations,
                   salary_text, apply_url, posted_at, first_seen, last_seen, content_seen, updated_at, closed_at
            FROM job_full ORDER BY 1, 2, 3""",
        "hash_history": """
            SELECT j.source, j.board, j.source_job_id, h.content_hash, h.first_seen
            FROM job_hash_history h JOIN job j ON j.id = h.job_id ORDER BY 1, 2, 3, 4""",
        "board_scrapes": "SELECT source, board, scraped_on, ok, n_postings FROM board_scrape ORDER BY 1, 2, 3",
    }
    try:
        with engine.connect() as conn:
            return {name: [tuple(row) for row in conn.exec_driver_sql(sql)] for name, sql in queries.items()}
    finally:
        engine.dispose()


@pytest.fixture
def ephemeral_instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance
