"""``JOBPIPELINE_SEARCH_INDEX``: a deployment that never searches its store turns the FTS5 index
off (at a million open postings its refresh cost more than the sync, and it doubled the store).
Off, ``create_schema`` drops the index and its pending marks, syncs mark nothing, the refresh does
nothing and search falls back to LIKE; on again, the next refresh indexes every job. On a real
SQLite file."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobpipeline.lib.postings import postings_frame
from jobpipeline.lib.store import create_schema, has_search_index, refresh_search_index, search_jobs
from jobpipeline.lib.sync import sync_postings
from jobpipeline_tests.lib.test_sync import BOARD, D1, D2, D3, ok_outcomes, posting, sync


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def pending(engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM job_search_pending").scalar()


def titles(engine, query: str) -> list[str]:
    return sorted(row.title for row in search_jobs(engine, query))


def test_turned_off_the_index_is_dropped_and_no_sync_marks_or_refreshes_it(engine, monkeypatch):
    sync(engine, [posting("a1", "Rust Engineer", "Tokio and async."), posting("a2", "Designer", "Figma.")], D1)
    assert refresh_search_index(engine) == 2
    sync(engine, [posting("a1", "Rust Engineer", "Tokio, async and Axum.")], D2)  # a1 rewritten: pending
    assert pending(engine) == 1

    monkeypatch.setenv("JOBPIPELINE_SEARCH_INDEX", "false")
    create_schema(engine)  # what each run's store resource does
    assert "job_search" not in tables(engine) and pending(engine) == 0
    with engine.connect() as conn:
        assert not has_search_index(conn)
        assert conn.exec_driver_sql("SELECT count(*) FROM job").scalar() == 2  # the jobs stay

    # A sync in slices marks through its writer thread, one plan through its connection: neither marks.
    for day, slice_jobs in ((D2, 0), (D3, 1)):
        rows = postings_frame([posting("a3", "Data Engineer", f"Spark on {day}."), posting("a1", "Rust Engineer", f"Axum on {day}.")])
        result = sync_postings(engine, rows, seen_on=day, outcomes=ok_outcomes(BOARD), slice_jobs=slice_jobs)
        assert result.touched_ids and pending(engine) == 0
        assert refresh_search_index(engine) == 0
    assert "job_search" not in tables(engine)
    # Search still answers, by LIKE on the phrase, over title and description.
    assert titles(engine, "spark") == ["Data Engineer"]
    assert titles(engine, "Engineer") == ["Data Engineer", "Rust Engineer"]


def test_turned_on_again_the_next_refresh_indexes_every_job(engine):
    sync(engine, [posting("a1", "Rust Engineer", "Tokio."), posting("a2", "Designer", "Figma.")], D1)
    create_schema(engine, search_index=False)
    sync(engine, [posting("a1", "Rust Engineer", "Tokio."), posting("a2", "Designer", "Figma and Sketch.")], D2)
    create_schema(engine, search_index=True)
    assert "job_search" in tables(engine) and pending(engine) == 2  # every job, the unchanged one too
    assert refresh_search_index(engine) == 2
    assert titles(engine, "sketch") == ["Designer"] and titles(engine, "tokio") == ["Rust Engineer"]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM job_search").scalar() == 2
    assert refresh_search_index(engine) == 0  # caught up once


def test_a_bad_value_names_the_variable(engine, monkeypatch):
    monkeypatch.setenv("JOBPIPELINE_SEARCH_INDEX", "sometimes")
    with pytest.raises(ValueError, match="(?i)search_index"):
        create_schema(engine)
    assert "job_search" in tables(engine)


def test_the_default_keeps_the_index(tmp_path):
    from jobpipeline.lib.store import get_engine

    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_schema(engine)
    assert "job_search" in tables(engine)
    sync(engine, [posting("a1", "Rust Engineer", "Tokio.")], D1)
    assert pending(engine) == 1 and refresh_search_index(engine) == 1
    assert titles(engine, "tokio") == ["Rust Engineer"]
    engine.dispose()
