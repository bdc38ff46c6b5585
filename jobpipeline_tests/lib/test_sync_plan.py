"""The sync's decisions are a plan of frames made without a database: ``plan_sync`` against
``FrameState`` (the store as plain frames) says what a partition changes before anything is written,
and planning against the database itself gives the same plan."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from jobpipeline.lib.normalize import deduplicate
from jobpipeline.lib.postings import BoardOutcome, Posting, postings_frame
from jobpipeline.lib.store import create_schema, get_engine, writer
from jobpipeline.lib.sync import FrameState, SyncResult, plan_sync, sync_postings
from jobpipeline.lib.sync.plan import DayScrapes, plan_posting_closings, skipped_ids
from jobpipeline.lib.sync.state import DatabaseState

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)
ACME = BoardOutcome(source="greenhouse", board="acme", ok=True)


def posting(job_id: str, title: str, description: str = "Build APIs.") -> Posting:
    return Posting(source="greenhouse", board="acme", source_job_id=job_id, company="Acme", title=title, description=description)


def stored(p: Posting, job_id: int, first_seen: date, last_seen: date) -> dict:
    """One job as a sync would have stored it, as table rows."""
    group = deduplicate(postings_frame([p])).row(0, named=True)
    job = {
        "id": job_id,
        "dedup_key": group["dedup_key"],
        "content_hash": group["content_hash"],
        "source": p.source,
        "board": p.board,
        "source_job_id": p.source_job_id,
        "first_seen": first_seen,
        "last_seen": last_seen,
        "content_seen": last_seen,
        "updated_at": first_seen,
        "closed_at": None,
        "favorite": False,
        "notes": None,
        "status": None,
    }
    alias = {
        "source": p.source,
        "board": p.board,
        "source_job_id": p.source_job_id,
        "job_id": job_id,
        "content_hash": group["content_hash"],
        "first_seen": first_seen,
        "last_seen": last_seen,
        "closed_at": None,
    }
    return {"job": job, "alias": alias, "history": {"job_id": job_id, "content_hash": group["content_hash"], "first_seen": first_seen}}


def frame_state(*rows: dict, scrape_days: list[date]) -> FrameState:
    empty = FrameState()
    return FrameState(
        job=pl.DataFrame([r["job"] for r in rows], schema=empty.job.schema),
        job_posting=pl.DataFrame([r["alias"] for r in rows], schema=empty.job_posting.schema),
        job_hash_history=pl.DataFrame([r["history"] for r in rows], schema=empty.job_hash_history.schema),
        board_scrape=pl.DataFrame([("greenhouse", "acme", d, True) for d in scrape_days], schema=empty.board_scrape.schema, orient="row"),
    )


def test_a_partition_is_planned_without_a_database():
    kept, edited, gone = posting("1", "Backend Engineer"), posting("2", "Data Engineer"), posting("3", "Designer")
    state = frame_state(stored(kept, 7, D1, D2), stored(edited, 8, D1, D2), stored(gone, 9, D1, D2), scrape_days=[D1, D2])
    partition = [kept, posting("2", "Data Engineer", "Build pipelines in Spark."), posting("4", "Recruiter")]

    plan = plan_sync(postings_frame(partition), state, seen_on=D3, outcomes=[ACME], synced_at=NOW)

    assert plan.new_jobs.select("id", "source_job_id", "first_seen").rows() == [(10, "4", D3)]  # after the largest id
    assert plan.rewrites.select("id", "content_changed", "updated_at", "first_seen").rows() == [(8, True, D3, D1)]
    assert plan.restamps.select("id", "last_seen", "content_seen").rows() == [(7, D3, D3)]
    assert plan.new_postings.select("source_job_id", "job_id").rows() == [("4", 10)]
    assert sorted(plan.seen_postings["source_job_id"]) == ["1", "2"]
    assert plan.posting_closings.rows() == [("greenhouse", "acme", "3", D3)]
    assert plan.job_closings.rows() == [(9, D3, None)]
    assert sorted(plan.touched_ids) == [8, 10]
    assert SyncResult.of(plan).as_dict() == {
        "postings": 3,
        "jobs": 3,
        "new": 1,
        "changed": 1,
        "unchanged": 1,
        "frozen": 0,
        "closed": 1,
        "reopened": 0,
        "merged": 0,
        "unmerged": 0,
    }


def test_a_failed_board_plans_no_closing():
    state = frame_state(stored(posting("1", "Backend Engineer"), 1, D1, D1), scrape_days=[D1])
    failed = BoardOutcome(source="greenhouse", board="acme", ok=False, http_status=503)
    plan = plan_sync(postings_frame([]), state, seen_on=D2, outcomes=[failed], synced_at=NOW)
    assert plan.posting_closings.is_empty() and plan.job_closings.is_empty() and plan.new_jobs.is_empty()


def test_a_days_scrapes_are_made_once_and_close_each_batch_of_boards_by_its_own():
    """The closing pass plans batches of boards from one ``DayScrapes`` of the sync: a board given
    twice is one row (ok, one of its outcomes being ok), and a batch closes the postings of its
    own boards scraped successfully that day."""
    outcomes = [
        BoardOutcome(source="greenhouse", board="acme", ok=False, http_status=503),
        BoardOutcome(source="greenhouse", board="acme", ok=True),
        BoardOutcome(source="greenhouse", board="beta", ok=True),
        BoardOutcome(source="greenhouse", board="gamma", ok=False, http_status=503),
    ]
    scrapes = DayScrapes.of(outcomes, D2)
    assert scrapes.recorded == {("greenhouse", "acme"), ("greenhouse", "beta"), ("greenhouse", "gamma")}
    assert scrapes.ok.rows() == [("greenhouse", "acme", D2), ("greenhouse", "beta", D2)]
    assert sorted(scrapes.rows.rows()) == [("greenhouse", board, D2) for board in ("acme", "beta", "gamma")]

    def open_posting(board: str, job_id: int) -> dict:
        return {"source": "greenhouse", "board": board, "source_job_id": "1", "job_id": job_id, "last_seen": D1, "closed_at": None}

    aliases = pl.DataFrame([open_posting(b, i) for i, b in enumerate(("acme", "beta", "gamma"), start=1)])
    state, skipped = FrameState(), skipped_ids(outcomes)
    closed = [
        plan_posting_closings(aliases.filter(pl.col("board") == board), [("greenhouse", board)], state, scrapes=scrapes, skipped=skipped)
        for board in ("acme", "beta", "gamma")
    ]
    assert [batch.rows() for batch in closed] == [
        [("greenhouse", "acme", "1", 1, D2)],
        [("greenhouse", "beta", "1", 2, D2)],
        [],  # gamma's scrape failed: nothing closes
    ]


@pytest.fixture
def engine(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_schema(engine)
    return engine


def test_planning_against_frames_of_the_store_gives_the_database_plan(engine):
    """``FrameState`` is a faithful stand-in: tables read into frames plan exactly as the database does."""
    day1 = [posting("1", "Backend Engineer"), posting("2", "Data Engineer"), posting("3", "Designer")]
    day2 = [posting("1", "Backend Engineer"), posting("2", "Data Engineer", "Spark now."), posting("4", "Recruiter")]
    sync_postings(engine, postings_frame(day1), seen_on=D1, outcomes=[ACME], now=NOW)
    sync_postings(
        engine,
        postings_frame(day2),
        seen_on=D2,
        outcomes=[BoardOutcome(source="greenhouse", board="acme", ok=True, skipped_ids=["3"])],
        now=NOW,
    )
    day3 = postings_frame([posting("2", "Data Engineer", "Back to APIs."), posting("5", "Engineer")])
    with writer(engine).begin() as conn:
        from_db = plan_sync(day3, DatabaseState(conn), seen_on=D3, outcomes=[ACME], synced_at=NOW)
        conn.rollback()
    with engine.connect() as conn:
        tables = {
            name: pl.read_database(f"SELECT {'rowid, ' if name == 'job_posting' else ''}* FROM {name}", conn)
            for name in ("job", "job_posting", "job_hash_history", "board_scrape", "board_scrape_skipped")
        }
    dates = [
        pl.col(c).cast(pl.String).str.to_date()
        for c in ("first_seen", "last_seen", "content_seen", "updated_at", "closed_at", "scraped_on")
    ]
    frames = {name: frame.with_columns([d for d in dates if d.meta.output_name() in frame.columns]) for name, frame in tables.items()}
    frames["job"] = frames["job"].with_columns(pl.col("favorite").cast(pl.Boolean))
    frames["board_scrape"] = frames["board_scrape"].with_columns(pl.col("ok").cast(pl.Boolean))
    from_frames = plan_sync(day3, FrameState(**frames), seen_on=D3, outcomes=[ACME], synced_at=NOW)

    for name in ("new_jobs", "rewrites", "restamps", "new_postings", "seen_postings", "posting_closings", "job_closings", "hash_history"):
        assert getattr(from_frames, name).sort(pl.all()).equals(getattr(from_db, name).sort(pl.all())), name
    assert SyncResult.of(from_frames) == SyncResult.of(from_db)
    assert SyncResult.of(from_db).as_dict() == {
        "postings": 2,
        "jobs": 2,
        "new": 1,
        "changed": 1,
        "unchanged": 0,
        "frozen": 0,
        "closed": 3,
        "reopened": 0,
        "merged": 0,
        "unmerged": 0,
    }
