"""The month-of-days simulation (``bench/simulate.py``) does what it says: the open count stays put,
every vanished posting closes its job, and a changed posting rewrites its job, through the ``jobs``
asset's own sync path on real raw partitions; every content ends enriched, as a deployment's cache."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_a_small_month_keeps_the_open_count_and_closes_exactly_what_vanished(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH / "simulate.py"),
            "--open-postings",
            "1500",
            "--days",
            "4",
            "--sources",
            "2",
            "--work-dir",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["days"] == 4 and summary["sources"] == 2
    assert summary["vanished_total"] > 0 and summary["changed_total"] > 0
    with sqlite3.connect(tmp_path / "store.db") as db:
        open_jobs, closed_jobs = db.execute(
            "SELECT count(*) FILTER (WHERE closed_at IS NULL), count(*) FILTER (WHERE closed_at IS NOT NULL) FROM job"
        ).fetchone()
        unenriched = db.execute(
            "SELECT count(DISTINCT content_hash) FROM job WHERE content_hash NOT IN (SELECT content_hash FROM enrichment WHERE status = 'ok')"
        ).fetchone()[0]
    assert unenriched == 0, "every day's contents are enriched, as a deployment's enriched_jobs does: the analytics read a full cache"
    assert open_jobs == 1500
    assert closed_jobs == summary["vanished_total"]
    # A posting redrawn and then vanished the same day is closed, not rewritten: rewrites are at most the changes.
    assert 0.9 * summary["changed_total"] <= summary["rewritten_total"] <= summary["changed_total"]
    assert not list((tmp_path / "raw").rglob("postings.parquet")), "each day's partitions are deleted once synced"
