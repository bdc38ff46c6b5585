"""``jobpipeline query``: read-only SQL against the analytics file, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from jobpipeline.cli import main
from jobpipeline.lib.analytics import build


@pytest.fixture
def built(store, analytics_db):
    with duckdb.connect(str(analytics_db)) as con:
        build.build(con, store.engine)
    return analytics_db


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["query", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def fingerprint(path) -> list:
    with duckdb.connect(str(path), read_only=True) as con:
        return (
            con.execute("SELECT table_name, estimated_size FROM duckdb_tables() ORDER BY 1").fetchall()
            + con.execute("SELECT count(*) FROM job_snapshot").fetchall()
        )


def test_select_prints_a_table(capsys, built):
    code, out, _ = run(capsys, "--db", str(built), "SELECT company, opened FROM company_hiring_velocity ORDER BY week, company")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["company", "opened"]
    assert lines[2].split() == ["Acme", "3"]
    assert lines[-1] == "(3 rows)"


def test_csv_and_json_formats(capsys, built):
    sql = "SELECT skill, jobs, week FROM skill_demand_weekly WHERE skill = 'Python' ORDER BY week"
    code, out, _ = run(capsys, "--db", str(built), sql, "--format", "csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [["skill", "jobs", "week"], ["Python", "4", "2026-01-05"], ["Python", "1", "2026-01-12"]]
    code, out, _ = run(capsys, "--db", str(built), sql, "--format", "json")
    assert json.loads(out) == [{"skill": "Python", "jobs": 4, "week": "2026-01-05"}, {"skill": "Python", "jobs": 1, "week": "2026-01-12"}]


def test_list_shows_tables_with_columns(capsys, built):
    code, out, _ = run(capsys, "--db", str(built), "--list")
    assert code == 0
    for table in build.TABLES_BY_NAME:
        assert f"\n{table}\n" in f"\n{out}"
    assert "salary_annual_min" in out
    code, out, _ = run(capsys, "--db", str(built), "--list", "--format", "json")
    assert [c["column"] for c in json.loads(out)["salary_bands"]] == ["seniority", "work_mode", "currency", "jobs", "p25", "p50", "p75"]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM job_snapshot",
        "DROP TABLE salary_bands",
        "CREATE TABLE x AS SELECT 1",
        "UPDATE job_snapshot SET title = 'x'",
        "INSERT INTO salary_bands SELECT * FROM salary_bands",
        "COPY job_snapshot TO 'leak.csv'",
        "ATTACH 'other.duckdb' AS other",
        "SELECT 1; DROP TABLE job_snapshot",
    ],
)
def test_writes_are_refused_and_change_nothing(capsys, built, sql, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = fingerprint(built)
    code, out, err = run(capsys, "--db", str(built), sql)
    assert code == 2 and out == ""
    assert err.startswith("jobpipeline query: ") and len(err.strip().splitlines()) == 1
    assert fingerprint(built) == before
    assert not (tmp_path / "leak.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_malformed_sql_gets_a_clear_error(capsys, built):
    code, _, err = run(capsys, "--db", str(built), "SELEC * FROM job_snapshot")
    assert code == 2 and "SQL syntax error" in err


def test_unknown_table_points_at_list(capsys, built):
    code, _, err = run(capsys, "--db", str(built), "SELECT * FROM nope")
    assert code == 2 and "nope" in err and "--list" in err


def test_reading_other_files_is_refused(capsys, built):
    code, _, err = run(capsys, "--db", str(built), "SELECT * FROM read_csv('/etc/passwd')")
    assert code == 2 and "disabled" in err


def test_missing_database_says_how_to_build_it(capsys, tmp_path):
    code, _, err = run(capsys, "--db", str(tmp_path / "none.duckdb"), "SELECT 1")
    assert code == 2 and "materialize the analytics" in err
    assert not (tmp_path / "none.duckdb").exists()


def test_default_path_comes_from_settings(capsys, built, monkeypatch):
    monkeypatch.setenv("JOBPIPELINE_ANALYTICS_DB", str(built))
    code, out, _ = run(capsys, "SELECT count(*) AS n FROM job_snapshot", "--format", "json")
    assert code == 0 and json.loads(out) == [{"n": 6}]


def test_a_reader_waits_for_a_rebuild_and_then_says_so(built):
    import subprocess
    import sys
    import time

    from jobpipeline.lib.analytics.query import QueryError, run_query

    writer = subprocess.Popen(
        # holds the write lock until its stdin closes, however slow the machine is
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(built)!r}); print('locked', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(QueryError, match="being rebuilt"):
            run_query(built, "SELECT 1", wait_s=0.5)
        assert time.monotonic() - started >= 0.5
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    assert run_query(built, "SELECT count(*) FROM job_snapshot").rows == [(6,)]
