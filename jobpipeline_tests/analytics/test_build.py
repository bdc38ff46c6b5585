"""Analytics values on the known store (conftest) against hand-computed expectations."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from jobpipeline.lib.analytics import build

from .conftest import D1, D2, D3, W1, W2, make_store


@pytest.fixture
def con(store, analytics_db):
    with duckdb.connect(str(analytics_db)) as con:
        build.build(con, store.engine)
        yield con


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_every_table_is_built_with_expected_row_counts(store, analytics_db):
    with duckdb.connect(str(analytics_db)) as con:
        counts = build.build(con, store.engine)
    assert counts == {
        "job_snapshot": 6,
        "job_skills": 11,
        "skill_demand_daily": 9,
        "skill_demand_weekly": 8,
        "skill_movers": 7,
        "salary_bands": 3,
        "company_hiring_velocity": 3,
        "posting_lifetimes": 2,
        "board_scrapes": 6,
        "scrape_health": 6,
        "source_coverage": 2,
    }


def test_snapshot_joins_the_latest_ok_enrichment_and_ignores_failed_ones(con, store):
    got = {r[0]: r[1:] for r in rows(con, "SELECT job_id, skills, seniority, enriched, prompt_version FROM job_snapshot")}
    ids = store.ids
    assert got[ids["A1"]] == (["Python", "SQL"], "senior", True, "v2")  # v1 (Java, mid) is older
    assert got[ids["A4"]][0] == ["TypeScript", "Python"]  # v2 failed: the older ok v1 counts
    assert got[ids["A4"]][1:] == ("unknown", True, "v1")
    assert got[ids["G1"]][0] == ["Kubernetes", "Python"]


def test_snapshot_lifecycle_and_work_mode(con, store):
    got = {r[0]: r[1:] for r in rows(con, "SELECT job_id, first_seen, last_seen, closed_at, is_open, work_mode FROM job_snapshot")}
    ids = store.ids
    assert got[ids["A1"]] == (D1, D3, None, True, "hybrid")
    assert got[ids["A2"]] == (D1, D2, D3, False, "remote")  # vanished from acme's ok scrape on the 12th
    assert got[ids["A3"]] == (D1, D1, D2, False, "unknown")
    assert got[ids["G1"]] == (D1, D2, None, True, "remote")  # globex failed on the 12th: stays open
    assert got[ids["G2"]] == (D2, D2, None, True, "onsite")


def test_salary_prefers_the_posting_and_is_annualized(con, store):
    got = {
        r[0]: r[1:]
        for r in rows(con, "SELECT job_id, salary_source, salary_annual_min, salary_annual_max, salary_currency FROM job_snapshot")
    }
    ids = store.ids
    assert got[ids["A1"]] == ("posting", 100_000, 140_000, "USD")
    assert got[ids["A2"]] == ("posting", 50 * 2080, 70 * 2080, "USD")  # hourly
    assert got[ids["G1"]] == ("posting", 72_000, 96_000, "EUR")  # monthly
    assert got[ids["G2"]] == ("extracted", 90_000, 110_000, "EUR")  # none on the posting
    assert got[ids["A3"]] == (None, None, None, None)


def test_a_posting_salary_the_enrichment_found_implausible_never_reaches_the_analytics(tmp_path, analytics_db):
    """Issue 14: an ATS's own impossible pay (Ashby's "$150 a year" intern) is dropped, and says so."""
    from .conftest import ENRICHMENTS, add_enrichments

    known = make_store(tmp_path / "implausible.db", enrich=False)
    with known.engine.connect() as conn:
        hashes = dict(conn.exec_driver_sql("SELECT source_job_id, content_hash FROM job").fetchall())
    rows_ = [(*row[:5], {**row[5], "salary_source": "extracted" if row[0] == "G2" else None}) for row in ENRICHMENTS]
    rows_.append(("A1", "m", "v3", "ok", "2026-01-13 10:00:00", {"skills": ["Python"], "salary_source": "api implausible"}))
    add_enrichments(known.engine, {k: hashes[k.lower()] for k in ("A1", "A2", "A3", "A4", "G1", "G2")}, rows_)
    with duckdb.connect(str(analytics_db)) as con:
        build.build(con, known.engine)
        got = {r[0]: r[1:] for r in rows(con, "SELECT job_id, salary_source, salary_annual_min, salary_currency FROM job_snapshot")}
        bands = rows(con, "SELECT count(*) FROM salary_bands")
    known.engine.dispose()
    assert got[known.ids["A1"]] == (None, None, None)  # 100k-140k on the posting, judged impossible: none
    assert got[known.ids["A2"]] == ("posting", 50 * 2080, "USD")
    assert got[known.ids["G2"]] == ("extracted", 90_000, "EUR")
    assert bands[0][0] >= 1


def test_skill_demand_daily_counts_and_shares(con):
    got = rows(con, "SELECT day, skill, jobs, enriched_jobs, share FROM skill_demand_daily ORDER BY day, skill")
    assert got == [
        (D1, "Figma", 1, 4, 0.25),
        (D1, "Kubernetes", 1, 4, 0.25),
        (D1, "Python", 3, 4, 0.75),
        (D1, "SQL", 1, 4, 0.25),
        (D1, "Spark", 1, 4, 0.25),  # binary order: upper case first
        (D2, "PyTorch", 1, 1, 1.0),
        (D2, "Python", 1, 1, 1.0),
        (D3, "Python", 1, 1, 1.0),
        (D3, "TypeScript", 1, 1, 1.0),
    ]


def test_skill_demand_weekly_counts_and_shares(con):
    got = rows(con, "SELECT week, skill, jobs, enriched_jobs, share FROM skill_demand_weekly ORDER BY week, skill")
    assert got == [
        (W1, "Figma", 1, 5, 0.2),
        (W1, "Kubernetes", 1, 5, 0.2),
        (W1, "PyTorch", 1, 5, 0.2),
        (W1, "Python", 4, 5, 0.8),
        (W1, "SQL", 1, 5, 0.2),
        (W1, "Spark", 1, 5, 0.2),
        (W2, "Python", 1, 1, 1.0),
        (W2, "TypeScript", 1, 1, 1.0),
    ]


def test_skill_movers_rank_the_biggest_share_change_first(con):
    got = rows(
        con, "SELECT rank, skill, week, prev_week, jobs, prev_jobs, round(share_change, 6), direction FROM skill_movers ORDER BY rank"
    )
    assert got[0] == (1, "TypeScript", W2, W1, 1, 0, 1.0, "up")
    # the rest moved by 0.2 each: ties in skill order, python up and the others down
    assert [(r[1], r[6], r[7]) for r in got[1:]] == [
        ("Figma", -0.2, "down"),
        ("Kubernetes", -0.2, "down"),
        ("PyTorch", -0.2, "down"),
        ("Python", 0.2, "up"),
        ("SQL", -0.2, "down"),
        ("Spark", -0.2, "down"),
    ]


def test_salary_bands_of_open_jobs(con):
    got = rows(con, "SELECT seniority, work_mode, currency, jobs, p25, p50, p75 FROM salary_bands ORDER BY currency, seniority")
    # A2 (hourly, USD) is closed; G2's band comes from its extracted salary
    assert got == [
        ("mid", "onsite", "EUR", 1, 100_000, 100_000, 100_000),
        ("senior", "remote", "EUR", 1, 84_000, 84_000, 84_000),
        ("senior", "hybrid", "USD", 1, 120_000, 120_000, 120_000),
    ]


def test_salary_band_quantiles_over_several_jobs(tmp_path):
    from jobpipeline.lib.postings import BoardOutcome, Posting, postings_frame
    from jobpipeline.lib.store import create_schema, get_engine
    from jobpipeline.lib.sync import sync_postings

    engine = get_engine(f"sqlite:///{tmp_path / 's.db'}")
    create_schema(engine)
    pay = [(40_000, 60_000), (60_000, 80_000), (80_000, 100_000), (100_000, 140_000), (5_000, 5_000)]
    postings = [
        Posting(
            "ashby",
            "co",
            f"p{i}",
            "Co",
            f"Role {i}",
            salary_min=lo,
            salary_max=hi,
            salary_currency="USD",
            salary_period="month" if i == 4 else "year",
            workplace_type="remote",
        )
        for i, (lo, hi) in enumerate(pay)
    ]
    sync_postings(engine, postings_frame(postings), seen_on=D1, outcomes=[BoardOutcome(source="ashby", board="co", ok=True)])
    with duckdb.connect(str(tmp_path / "a.duckdb")) as con:
        build.build(con, engine)
        got = con.execute("SELECT jobs, p25, p50, p75 FROM salary_bands").fetchall()
    # midpoints 50k, 70k, 90k, 120k, 60k (5k a month) -> sorted 50, 60, 70, 90, 120
    assert got == [(5, 60_000, 70_000, 90_000)]


def test_company_hiring_velocity_per_week(con):
    got = rows(con, "SELECT company, week, opened, closed, net FROM company_hiring_velocity ORDER BY week, company")
    assert got == [("Acme", W1, 3, 1, 2), ("Globex", W1, 2, 0, 2), ("Acme", W2, 1, 1, 0)]


def test_posting_lifetimes_by_company_and_source(con):
    got = rows(
        con,
        "SELECT company, source, jobs, closed_jobs, open_jobs, mean_days_to_close, median_days_to_close, "
        "round(p90_days_to_close, 6), median_open_age_days FROM posting_lifetimes ORDER BY company",
    )
    # Acme: A2 closed after 7 days, A3 after 1; open A1 (7 days old on the 12th) and A4 (0)
    # Globex: both open, G1 7 and G2 6 days old as of the store's last sighting (the 12th)
    assert got == [("Acme", "greenhouse", 4, 2, 2, 4.0, 4.0, 6.4, 3.5), ("Globex", "lever", 2, 0, 2, None, None, None, 6.5)]


def test_scrape_health_per_partition(con):
    got = rows(
        con,
        "SELECT scraped_on, source, boards, boards_ok, boards_failed, failed_share, failed_boards, "
        "failed_http_statuses FROM scrape_health ORDER BY scraped_on, source",
    )
    assert got[-2:] == [(D3, "greenhouse", 1, 1, 0, 0.0, [], []), (D3, "lever", 1, 0, 1, 1.0, ["globex"], [500])]
    assert all(r[4] == 0 for r in got[:-1])


def test_source_coverage(con):
    got = rows(
        con,
        "SELECT source, boards, days_scraped, last_scraped_on, last_ok_on, boards_failed_last_day, jobs, "
        "open_jobs, enriched_share FROM source_coverage ORDER BY source",
    )
    assert got == [("greenhouse", 1, 3, D3, D3, 0, 4, 2, 1.0), ("lever", 1, 3, D3, D2, 1, 2, 2, 1.0)]


def test_without_any_enrichment_the_analytics_still_build(tmp_path):
    store = make_store(tmp_path / "bare.db", enrich=False)
    with duckdb.connect(str(tmp_path / "a.duckdb")) as con:
        counts = build.build(con, store.engine)
        snapshot = con.execute("SELECT count(*), count(*) FILTER (WHERE enriched), max(len(skills)) FROM job_snapshot").fetchall()
    assert snapshot == [(6, 0, 0)]
    assert counts["job_skills"] == counts["skill_demand_weekly"] == counts["skill_movers"] == 0
    assert counts["salary_bands"] == 2  # posting salaries only: A1 (USD) and G1 (EUR)


def test_a_subset_builds_missing_upstream_tables_but_not_present_ones(store, analytics_db):
    with duckdb.connect(str(analytics_db)) as con:
        assert list(build.build(con, store.engine, ["skill_movers"])) == [
            "job_snapshot",
            "skill_demand_daily",
            "skill_demand_weekly",
            "skill_movers",
        ]
        assert list(build.build(con, store.engine, ["skill_movers"])) == ["skill_movers"]


def test_unknown_table_is_named_in_the_error(store, analytics_db):
    with duckdb.connect(str(analytics_db)) as con, pytest.raises(ValueError, match="nope"):
        build.build(con, store.engine, ["nope"])


def test_rebuild_is_idempotent(store, analytics_db):
    with duckdb.connect(str(analytics_db)) as con:
        first = build.build(con, store.engine)
        snapshot = con.execute("SELECT * FROM job_snapshot ORDER BY job_id").fetchall()
        assert build.build(con, store.engine) == first
        assert con.execute("SELECT * FROM job_snapshot ORDER BY job_id").fetchall() == snapshot


def test_dates_are_dates(con):
    assert isinstance(rows(con, "SELECT min(first_seen) FROM job_snapshot")[0][0], date)


def test_adbc_in_a_child_process_and_sqlalchemy_read_the_same_tables(store, tmp_path, monkeypatch):
    """Large SQLite stores are read by ADBC (in a child process), small ones and servers through
    SQLAlchemy + polars: both give the same tables."""
    from jobpipeline.lib.analytics import load, sqlite_reader

    def snapshot(path):
        with duckdb.connect(str(path)) as con:
            build.build(con, store.engine)
            return {name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in build.TABLES_BY_NAME}

    children = []

    class CountedChild(sqlite_reader.ChildReader):
        def __init__(self, *args, **kwargs):
            children.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(load, "ChildReader", CountedChild)
    monkeypatch.setattr(load, "ADBC_MIN_ROWS", 10**9)
    via_sqlalchemy = snapshot(tmp_path / "sqlalchemy.duckdb")
    assert children == []
    monkeypatch.setattr(load, "ADBC_MIN_ROWS", 0)
    assert snapshot(tmp_path / "adbc.duckdb") == via_sqlalchemy
    assert len(children) == 1  # one child for the job, enrichment and board-scrape reads


def test_the_child_reader_splits_a_table_into_rowid_ranges(tmp_path):
    import sqlite3

    from jobpipeline.lib.analytics.sqlite_reader import read_queries

    path = tmp_path / "r.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k TEXT, v REAL, d DATE)")
        # v is NULL throughout the first rows: each range must still agree on its type
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", [(str(i), None if i < 600 else i / 2, None) for i in range(1000)])
    (whole,) = read_queries(path, [("SELECT k, v, d FROM t WHERE k <> 'x'", "t")], workers=4)
    assert whole.num_rows == 1000 and str(whole.schema.field("v").type) == "double"
    assert sorted(whole["k"].to_pylist(), key=int) == [str(i) for i in range(1000)]


def test_the_child_reader_starts_without_polars_or_numpy(tmp_path):
    """The child imports only pyarrow and the driver: ADBC's DB-API module pulls in polars and
    pyarrow.dataset, twice the start-up of the whole child; pyarrow itself numpy and cloudpickle,
    which the child never uses (a third of the child's start). The read still comes back whole."""
    import json
    import sqlite3
    import subprocess
    import sys

    import pyarrow as pa

    from jobpipeline.lib.analytics.sqlite_reader import CHILD_MAIN

    path = tmp_path / "r.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k TEXT, v REAL, n INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", [(str(i), i / 2, None) for i in range(10)])
    request = {"database": str(path), "workers": 2, "queries": [{"sql": "SELECT k, v, n FROM t", "table": "t", "out": str(tmp_path / "0")}]}
    (tmp_path / "request.json").write_text(json.dumps(request))
    heavy = ("polars", "pyarrow.dataset", "numpy", "cloudpickle")
    child = f"{CHILD_MAIN}; print('imported', sorted(m for m in {heavy!r} if sys.modules.get(m)))"
    done = subprocess.run([sys.executable, "-c", child], input=f"{tmp_path / 'request.json'}\n", capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "imported []"
    files = json.loads(done.stdout.splitlines()[0])[0]
    read = pa.concat_tables(pa.ipc.open_file(pa.memory_map(f)).read_all() for f in files)
    assert sorted(read.to_pylist(), key=lambda r: int(r["k"])) == [{"k": str(i), "v": i / 2, "n": None} for i in range(10)]


def test_lists_decoded_by_the_driver_are_read_as_json_text():
    import polars as pl

    from jobpipeline.lib.analytics.load import lists_as_json

    frame = lists_as_json(pl.DataFrame({"skills": [["Python", 'say "hi"'], []], "n": [1, 2]}))
    assert frame["skills"].to_list() == ['["Python","say \\"hi\\""]', "[]"]
    with duckdb.connect() as con:
        con.execute(build.table_sql("_macros"))
        assert con.execute("SELECT json_strings(?)", [frame["skills"][0]]).fetchall() == [(["Python", 'say "hi"'],)]
