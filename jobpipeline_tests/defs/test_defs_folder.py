"""The definitions load themselves from ``jobpipeline/defs/`` with Dagster's own loader, so ``dg``
works on the project and a new module under ``defs/`` needs no registration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from jobpipeline.definitions import PROJECT_ROOT, defs

EXPECTED = {
    "assets": 16,
    "checks": 10,
    "schedules": {"daily_scrape_schedule", "hn_current_month_schedule"},
    "sensors": {"analytics_size_sensor", "default_automation_condition_sensor"},
    "resources": {"duckdb", "job_boards", "llm", "store"},
}


def _summary(definitions: dg.Definitions) -> dict:
    graph = definitions.resolve_asset_graph()
    return {
        "assets": len(graph.get_all_asset_keys()),
        "checks": len(graph.asset_check_keys),
        "schedules": {s.name for s in definitions.schedules or []},
        "sensors": {s.name for s in definitions.sensors or []},
        "resources": set((definitions.resources or {}).keys()),
    }


def test_the_project_definitions_are_the_defs_folder_as_dagsters_loader_reads_it() -> None:
    assert _summary(dg.load_from_defs_folder(path_within_project=PROJECT_ROOT)) == EXPECTED
    assert _summary(defs()) == EXPECTED


def test_dg_checks_and_lists_the_project(tmp_path: Path) -> None:
    dg_cli = Path(sys.executable).parent / "dg"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("")
    checked = subprocess.run([str(dg_cli), "check", "defs"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert checked.returncode == 0 and "All definitions loaded successfully" in checked.stdout + checked.stderr, checked.stderr[-3000:]
    listed = subprocess.run([str(dg_cli), "list", "defs", "--json"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "enriched_jobs" in listed.stdout and "default_automation_condition_sensor" in listed.stdout
