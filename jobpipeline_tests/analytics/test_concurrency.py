"""Two analytics runs at once, in two processes, on one Dagster instance and one DuckDB file.

DuckDB lets one process write a file at a time; the `duckdb` pool (limit 1 from dagster.yaml's
`pools: default_limit: 1`) must queue the second run's step until the first has closed the file.
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
            capture_output=True, text=True, timeout=60,
        )
    assert other.returncode != 0 and "lock" in other.stderr.lower()


@pytest.mark.slow
def test_two_overlapping_runs_both_succeed_one_writer_at_a_time(store, analytics_db, tmp_path):
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")  # the project's instance settings
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert instance.event_log_storage.supports_global_concurrency_limits
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        # As `jobpipeline run` / `dev` do: the pool exists before two processes race to create it
        # from the default (seen once under load: both got a slot).
        ensure_pools(instance)
        assert instance.event_log_storage.get_concurrency_info("duckdb").slot_count == 1
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "STORE_URL": store.url, "ANALYTICS_DB": str(analytics_db),
           "START_AT": str(time.time() + 12), "HOLD_S": "3", "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen([sys.executable, "-m", "jobpipeline_tests.analytics.overlap_run"], env=env, cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    runs = []
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-2000:]
        runs.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["success"] for r in runs), runs
    first, second = sorted(runs, key=lambda r: r["opened"])
    # Both were launched before either let go of the file: the runs really overlapped ...
    assert max(r["launched"] for r in runs) < first["closing"]
    # ... and the pool held the second run's step back until the first step had closed the file (not
    # merely DuckDBResource's connect retries: without the pool the second step starts at once).
    assert second["step_started"] >= first["closing"]
    assert second["opened"] >= first["closing"]
    with duckdb.connect(str(analytics_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM job_snapshot").fetchall() == [(6,)]
