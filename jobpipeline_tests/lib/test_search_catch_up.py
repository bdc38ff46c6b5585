"""The search index catches up at every sync: jobs a crashed run synced but never indexed (the
index is refreshed after the sync's commit) are indexed by the next sync's refresh, whichever
boards that sync touched. On a real SQLite file with FTS5."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from jobpipeline.lib.store import create_schema, refresh_search_index, search_jobs
from jobpipeline_tests.lib.test_sync import D1, D2, D3, posting, sync

OTHER = ("lever", "globex")


def titles(engine, query: str) -> set[str]:
    return {row.title for row in search_jobs(engine, query)}


def test_jobs_synced_by_a_run_that_crashed_before_indexing_are_indexed_by_the_next_sync(engine):
    sync(engine, [posting("a1", "Rust Engineer"), posting("a2", "Data Engineer")], D1)  # crash: no refresh
    assert titles(engine, "Rust") == set()
    sync(engine, [posting("g1", "Site Reliability Engineer", source="lever", board="globex", company="Globex")], D2, boards=[OTHER])
    indexed = refresh_search_index(engine)  # what `jobs` / `hn_jobs` run after each sync
    assert indexed == 3
    assert titles(engine, "Rust") == {"Rust Engineer"} and titles(engine, "Reliability") == {"Site Reliability Engineer"}
    assert refresh_search_index(engine) == 0  # nothing left over: the catch-up is not redone every time


def test_a_rewrite_synced_by_a_crashed_run_is_reindexed_by_the_next_sync(engine):
    sync(engine, [posting("a1", description="Build APIs in Go.")], D1)
    refresh_search_index(engine)
    sync(engine, [posting("a1", description="Build APIs in Go and Elixir.")], D2)  # rewritten; crash before indexing
    assert titles(engine, "Elixir") == set()
    sync(engine, [posting("g1", source="lever", board="globex", company="Globex")], D3, boards=[OTHER])
    refresh_search_index(engine)
    assert titles(engine, "Elixir") == {"Backend Engineer"}


def test_a_refresh_reads_what_is_pending_not_every_job_nor_the_index(engine):
    """The refresh runs after every partition: looking there for jobs missing from the index scanned
    every job and the index's copy of every text (3.3 GB at a million jobs)."""
    sync(engine, [posting("a1", "Rust Engineer"), posting("a2", "Data Engineer")], D1)
    assert refresh_search_index(engine) == 2
    sync(engine, [posting("a1", "Rust Engineer"), posting("a2", "Data Engineer", description="Spark.")], D2)  # a2 rewritten
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert refresh_search_index(engine) == 1
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as conn:
        steps = [
            (sql, row[-1])
            for sql in sent
            if sql.lstrip().upper().startswith(("SELECT", "INSERT", "DELETE"))
            for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", (0,) * sql.count("?")).all()
        ]
    # A scan of ``job``, or of the index with no constraint (a rowid lookup plans as ``INDEX n:=``).
    scans = [
        (sql, step)
        for sql, step in steps
        if re.match(r"SCAN job\b(?!_)", step) or re.fullmatch(r"SCAN job_search VIRTUAL TABLE INDEX \d+:", step)
    ]
    assert steps and not scans
    assert titles(engine, "Spark") == {"Data Engineer"} and titles(engine, "Rust") == {"Rust Engineer"}


def test_a_store_made_before_the_pending_list_has_its_unindexed_jobs_indexed_once(engine):
    sync(engine, [posting("a1", "Rust Engineer"), posting("a2", "Data Engineer")], D1)  # never indexed
    with engine.begin() as conn:  # as a store made before the pending list was
        conn.exec_driver_sql("DROP TABLE job_search_pending")
    create_schema(engine)
    assert refresh_search_index(engine) == 2
    assert titles(engine, "Rust") == {"Rust Engineer"} and titles(engine, "Data") == {"Data Engineer"}
    create_schema(engine)  # the catch-up is the migration's, not every start's
    assert refresh_search_index(engine) == 0


def test_a_refresh_goes_in_batches_and_a_crash_keeps_the_batches_it_committed(engine):
    """A first day at a million jobs re-indexes for minutes: in one transaction it held the store
    from every other sync that long, and a crash lost all of it."""
    titles_in = ["Rust Engineer", "Data Engineer", "Site Reliability Engineer", "Product Designer", "Staff Accountant"]
    sync(engine, [posting(f"a{i}", title) for i, title in enumerate(titles_in)], D1)  # five jobs marked pending
    inserts = []

    def crash_on_second_batch(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO job_search("):
            inserts.append(parameters)
            if len(inserts) == 2:
                raise RuntimeError("killed")

    sa.event.listen(engine, "before_cursor_execute", crash_on_second_batch)
    try:
        with pytest.raises(RuntimeError, match="killed"):
            refresh_search_index(engine, batch=2)
    finally:
        sa.event.remove(engine, "before_cursor_execute", crash_on_second_batch)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM job_search").scalar() == 2  # the first batch stayed
        assert conn.exec_driver_sql("SELECT count(*) FROM job_search_pending").scalar() == 3
    assert refresh_search_index(engine, batch=2) == 3  # two batches and a last one of one
    assert titles(engine, "Accountant") == {"Staff Accountant"} and titles(engine, "Rust") == {"Rust Engineer"}
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM job_search").scalar() == 5
