"""One writer at a time, and the others wait their turn (``store.writer``): several sources' syncs
run at once in a deployment, and at a million open postings one sync holds the store for 17-21 s a day (50 s a first day),
past SQLite's 30 s busy timeout that failed the next sync ("database is locked"). A writer waits
``JOBPIPELINE_STORE_WRITE_WAIT_S``, then fails naming the store and the setting, having written
nothing. On a real SQLite file, the other writer a real ``sqlite3`` connection. (PostgreSQL:
``ops/test_postgres.py``.)"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from jobpipeline.lib.store import StoreBusyError, create_schema, refresh_search_index
from jobpipeline_tests.lib.test_sync import D1, D2, jobs_by_id, posting, sync


@contextmanager
def another_writer(engine, seconds: float) -> Iterator[None]:
    """Another process's write transaction holding the store for ``seconds``."""
    started = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(engine.url.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    started.wait(10)
    try:
        yield
    finally:
        thread.join()


def test_a_sync_waits_for_the_writer_before_it_as_long_as_the_setting_says_and_says_so(engine, monkeypatch, caplog):
    sync(engine, [posting("a1")], D1)
    assert not [r for r in caplog.records if r.name == "jobpipeline.lib.store"]  # no one else wrote: nothing said
    monkeypatch.setenv("JOBPIPELINE_STORE_WRITE_WAIT_S", "10")
    with another_writer(engine, 2.5):
        started = time.perf_counter()
        result = sync(engine, [posting("a1"), posting("a2", "Data Engineer")], D2)
        waited = time.perf_counter() - started
    assert waited >= 2 and (result.new, result.unchanged) == (1, 1)
    said = [r.getMessage() for r in caplog.records if r.name == "jobpipeline.lib.store"]
    assert len(said) == 1 and "another writer holds the store sqlite:///" in said[0]
    assert "waiting for it, up to 10 s (JOBPIPELINE_STORE_WRITE_WAIT_S)" in said[0]
    with engine.connect() as conn:  # the wait is the writer's: a connection's reads keep 30 s
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_a_writer_that_waited_too_long_names_the_store_and_the_setting_and_writes_nothing(engine, monkeypatch):
    sync(engine, [posting("a1")], D1)
    before = jobs_by_id(engine)
    monkeypatch.setenv("JOBPIPELINE_STORE_WRITE_WAIT_S", "0.5")
    with another_writer(engine, 2.5):
        started = time.perf_counter()
        with pytest.raises(
            StoreBusyError, match=r"store\.db stayed locked by another writer for 0\.5 s \(JOBPIPELINE_STORE_WRITE_WAIT_S\)"
        ):
            sync(engine, [posting("a1", description="Rewritten."), posting("a2", "Data Engineer")], D2)
        assert time.perf_counter() - started < 2
    assert jobs_by_id(engine) == before
    assert sync(engine, [posting("a1", description="Rewritten."), posting("a2", "Data Engineer")], D2).new == 1  # the store is fine after


def test_a_run_starting_beside_a_long_write_does_not_wait_for_it_when_the_schema_is_in_place(engine, monkeypatch):
    """Every run creates the schema when it first uses the store: on a store already made that is
    a read, so an enrichment or analytics run does not queue behind a sync for nothing."""
    monkeypatch.setenv("JOBPIPELINE_STORE_WRITE_WAIT_S", "0.5")
    with another_writer(engine, 2.5):
        started = time.perf_counter()
        create_schema(engine)
        assert time.perf_counter() - started < 1


def test_a_search_index_refresh_with_nothing_to_do_does_not_wait_for_a_writer(engine, monkeypatch):
    """Each ``jobs`` step refreshes the index after its sync; when nothing is pending (another
    source's refresh took it) that is a read, not a turn in the writers' queue."""
    sync(engine, [posting("a1")], D1)
    assert refresh_search_index(engine) == 1
    monkeypatch.setenv("JOBPIPELINE_STORE_WRITE_WAIT_S", "0.5")
    with another_writer(engine, 2.5):
        started = time.perf_counter()
        assert refresh_search_index(engine) == 0
        assert time.perf_counter() - started < 1
