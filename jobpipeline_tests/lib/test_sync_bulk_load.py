"""A first sync into an empty store builds the ``job`` and ``job_posting`` indexes after its inserts
(cheaper than keeping them in order row by row; the speed is measured in bench/ingest.py). What
must hold: the store ends with the same indexes and rows as a sync that kept them, and a sync that
fails halfway leaves the indexes as they were."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
import sqlalchemy as sa

from jobpipeline.lib.postings import BoardOutcome, Posting, postings_frame
from jobpipeline.lib.store import Job, create_schema, get_engine, job_full
from jobpipeline.lib.sync import fast_sql, sync_postings

DAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def postings(n: int) -> pl.DataFrame:
    rows = [
        Posting(
            source="greenhouse",
            board=f"board{i % 7}",
            source_job_id=str(i),
            company=f"Company {i % 7}",
            title=f"Engineer {i // 2}",  # pairs share a title but not a description
            locations=["Berlin" if i % 3 else "Remote"],
            description=f"Build things, part {i}.",
            posted_at=datetime(2026, 10, 1, tzinfo=UTC),
        )
        for i in range(n)
    ]
    return postings_frame(rows)


def scope(frame: pl.DataFrame) -> list[BoardOutcome]:
    return [BoardOutcome(source=s, board=b, ok=True) for s, b in frame.select("source", "board").unique().rows()]


def indexes(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").all()


def stored(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        return sorted((dict(r) for r in conn.execute(job_full()).mappings()), key=lambda r: r["id"])


def test_a_first_bulk_sync_ends_with_the_same_indexes_and_rows_as_one_that_kept_them(tmp_path, monkeypatch) -> None:
    frame = postings(400)
    kept = get_engine(f"sqlite:///{tmp_path}/kept.db")
    create_schema(kept)
    sync_postings(kept, frame, seen_on=DAY, outcomes=scope(frame), now=NOW)

    monkeypatch.setattr(fast_sql, "BULK_LOAD_ROWS", 100)  # 400 postings count as a bulk load
    rebuilt = get_engine(f"sqlite:///{tmp_path}/rebuilt.db")
    create_schema(rebuilt)
    schema_indexes = indexes(rebuilt)
    assert any(name.startswith("ix_job_") for name, _ in schema_indexes)
    with rebuilt.begin() as conn:  # the drop happens: what the sync would take away
        assert fast_sql.drop_indexes_for_bulk_load(conn, [Job.__table__], 400)
        conn.rollback()
    sync_postings(rebuilt, frame, seen_on=DAY, outcomes=scope(frame), now=NOW)

    assert indexes(rebuilt) == schema_indexes == indexes(kept)
    assert stored(rebuilt) == stored(kept)
    with rebuilt.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_a_first_bulk_sync_that_fails_halfway_leaves_the_indexes_and_stores_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(fast_sql, "BULK_LOAD_ROWS", 100)
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    before = indexes(engine)
    with engine.begin() as conn:  # fault injection: the posting inserts, after the job inserts, fail
        conn.exec_driver_sql("CREATE TRIGGER fail_posting BEFORE INSERT ON job_posting BEGIN SELECT RAISE(ABORT, 'injected'); END")
    frame = postings(400)
    with pytest.raises(sa.exc.IntegrityError, match="injected"):
        sync_postings(engine, frame, seen_on=DAY, outcomes=scope(frame), now=NOW)
    assert indexes(engine) == before
    assert stored(engine) == []


def test_a_sync_into_a_store_with_jobs_keeps_its_indexes_in_place(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(fast_sql, "BULK_LOAD_ROWS", 100)
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    first, more = postings(400), postings(800)
    sync_postings(engine, first, seen_on=DAY, outcomes=scope(first), now=NOW)
    with engine.begin() as conn:
        assert fast_sql.drop_indexes_for_bulk_load(conn, [Job.__table__], 400) == []
    before = indexes(engine)
    sync_postings(engine, more, seen_on=DAY, outcomes=scope(more), now=NOW)
    assert indexes(engine) == before
    assert len(stored(engine)) == 800
