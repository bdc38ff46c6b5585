"""Two analytics runs at once, in two processes, on one Dagster instance and one DuckDB file.

DuckDB lets one process write a file at a time; the `duckdb` pool (limit 1 from dagster.yaml's
`pools: default_limit: 1`) must queue the second run's step until the first has closed the file.

The second run is launched 2 s after the first, while the first holds (or is about to hold) its
slot. Two claims in the same few milliseconds can both be granted on Dagster's SQLite storage: its
`_claim_concurrency_slot` selects a free slot and then updates it by id without re-checking that it
is still free (SQLite ignores FOR UPDATE), which CI hit once with simultaneous launches. That case
is covered by the resource's connect retries, tested below with simultaneous launches.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from jobpipeline.cli.run import ensure_pools
from jobpipeline.lib.analytics import build

REPO = Path(__file__).resolve().parents[2]


def test_a_second_writer_process_fails_on_the_lock_without_coordination(store, analytics_db):
    """Why the pool exists: DuckDB refuses a second writing process outright."""
    with duckdb.connect(str(analytics_db)) as con:
        build.build(con, store.engine, ["board_scrapes"])
        other = subprocess.run(
            [sys.executable, "-c", f"import duckdb; duckdb.connect({str(analytics_db)!r})"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert other.returncode != 0 and "lock" in other.stderr.lower()


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    """A DAGSTER_HOME with the project's dagster.yaml, its pools set as `jobpipeline run` / `dev` set
    them: the pool exists before two processes race to create it from the default."""
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        ensure_pools(instance)
    return home


@pytest.mark.slow
def test_two_overlapping_runs_both_succeed_one_writer_at_a_time(store, analytics_db, dagster_home):
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert instance.event_log_storage.supports_global_concurrency_limits
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.event_log_storage.get_concurrency_info("duckdb").slot_count == 1
    runs = _overlapping_runs(dagster_home, store, analytics_db, stagger_s=2.0)
    first, second = sorted(runs, key=lambda r: r["opened"])
    # Both were launched before either let go of the file: the runs really overlapped ...
    assert max(r["launched"] for r in runs) < first["closing"]
    # ... and the pool held the second run's step back until the first step had closed the file (not
    # merely DuckDBResource's connect retries: without the pool the second step starts at once).
    assert second["step_started"] >= first["closing"]
    assert second["opened"] >= first["closing"]


@pytest.mark.slow
def test_simultaneous_runs_both_succeed_even_if_both_get_a_slot(store, analytics_db, dagster_home):
    """The backstop: whatever the slot claims did, the writers never overlap and both runs succeed."""
    runs = _overlapping_runs(dagster_home, store, analytics_db, stagger_s=0.0)
    first, second = sorted(runs, key=lambda r: r["opened"])
    assert second["opened"] >= first["closing"]  # DuckDB's lock + the resource's connect retries


def _overlapping_runs(dagster_home: Path, store, analytics_db: Path, stagger_s: float) -> list[dict]:
    """Two ``overlap_run`` processes on one instance, the second launched ``stagger_s`` after the first."""
    start_at = time.time() + 12  # both have imported Dagster by then
    procs = []
    for i in range(2):
        env = {
            **os.environ,
            "DAGSTER_HOME": str(dagster_home),
            "STORE_URL": store.url,
            "ANALYTICS_DB": str(analytics_db),
            "START_AT": str(start_at + i * stagger_s),
            "HOLD_S": "3",
            "PYTHONPATH": str(REPO),
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "jobpipeline_tests.analytics.overlap_run"],
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=240) for p in procs]
    runs = []
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-2000:]
        runs.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["success"] for r in runs), runs
    with duckdb.connect(str(analytics_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM job_snapshot").fetchall() == [(6,)]
    return runs
