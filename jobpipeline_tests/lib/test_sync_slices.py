"""A sync in slices of whole jobs (``jobpipeline.lib.sync.slices``) leaves the store a one-shot
sync leaves, every table row for row (job ids included), over random histories with merges,
closings, skipped postings, failed boards and user data, also when it reads the raw partition
lazily (``source.PartitionPostings``: thin rows, the descriptions read only as they are written),
with or without the description digests, dedup keys and posting hashes stored in it; and a slice really bounds the jobs one plan
holds and the descriptions one read of the partition brings into memory, and a sync reads only the
descriptions it writes."""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import jobpipeline.lib.sync as sync_module
from jobpipeline import settings as jp_settings
from jobpipeline.lib import normalize, rawstore
from jobpipeline.lib.ingest import sync_raw_partition
from jobpipeline.lib.postings import BoardOutcome, BoardOutcomes, Posting, postings_frame
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.store import Job, JobPosting, create_schema, get_engine
from jobpipeline.lib.sync import PartitionPostings, read_ahead, sync_postings, write_behind
from jobpipeline.lib.sync import plan as plan_module
from jobpipeline.lib.sync import slices as slices_module
from jobpipeline.lib.sync import source as source_module
from jobpipeline.lib.sync import state as state_module

DAYS = [date(2026, 11, day) for day in (1, 2, 3, 4)]
NOW = datetime(2026, 11, 5, 8, tzinfo=UTC)
BOARDS = [("greenhouse", "acme"), ("lever", "acme")]
TITLES = ["Backend Engineer", "Data Engineer"]
# Few texts, so postings of different ids meet in one group, and a rewrite splits or joins groups.
DESCRIPTIONS = ["Build APIs.", "Build APIs. Also Denver.", "Pipelines."]
LOCATIONS = ["Berlin", "Paris"]
ONE_SHOT = 10**9


def posting(board: int, posting_id: str, title: int, description: int, location: int) -> Posting:
    source, board_name = BOARDS[board]
    return Posting(
        source=source,
        board=board_name,
        source_job_id=posting_id,
        company="Acme",
        title=TITLES[title],
        locations=[LOCATIONS[location]],
        description=DESCRIPTIONS[description],
        posted_at=datetime(2026, 10, 1, 9, 30, tzinfo=UTC),
    )


postings_of_a_day = st.lists(
    st.builds(
        posting,
        st.integers(0, 1),
        st.sampled_from(["1", "2", "3", "4"]),
        st.integers(0, 1),
        st.integers(0, 2),
        st.integers(0, 1),
    ),
    max_size=8,
)
a_day = st.fixed_dictionaries(
    {
        "postings": postings_of_a_day,
        "ok": st.tuples(st.booleans(), st.booleans()),  # per board: did its scrape succeed
        "skipped": st.lists(st.sampled_from(["1", "2", "3", "4"]), max_size=2, unique=True),
    }
)
user_edit = st.tuples(st.sampled_from(["1", "2", "3", "4"]), st.sampled_from(["favorite", "notes", "status"]))
history = st.fixed_dictionaries(
    {
        "days": st.lists(a_day, min_size=len(DAYS), max_size=len(DAYS)),
        "order": st.permutations(range(len(DAYS))),
        "edits": st.lists(st.tuples(st.integers(0, len(DAYS) - 1), user_edit), min_size=1, max_size=5),
    }
)


def sync_day(engine, day: dict, seen_on: date, slice_jobs: int, raw_dir: Path | None = None, written: str = "hashed"):
    """One day's sync, from a frame, or (``raw_dir``) from its raw partition written there, read
    lazily; ``written``: "hashed" as written now (the description digests, each posting's dedup key
    and hash stored), "digested" as written before the keys and hashes were stored, "undigested"
    as written before the digests were."""
    outcomes = [
        BoardOutcome(source=source, board=board, ok=ok, skipped_ids=list(day["skipped"]) if ok and i == 0 else [])
        for i, ((source, board), ok) in enumerate(zip(BOARDS, day["ok"], strict=True))
    ]
    postings = postings_frame(day["postings"])
    if raw_dir is not None:
        partition = RawPartition.at(raw_dir, "mixed", seen_on.isoformat())
        partition.write(postings, [], {})
        if written == "undigested":
            drop_digests(partition)
        elif written == "digested":
            drop_hashes(partition)
        postings = PartitionPostings(partition)
    return sync_postings(engine, postings, seen_on=seen_on, outcomes=outcomes, now=NOW, slice_jobs=slice_jobs)


def edit_user_data(engine, posting_id: str, field: str) -> None:
    """User data on the job holding greenhouse/acme/``posting_id``, if stored."""
    job, alias = Job.__table__, JobPosting.__table__
    owner = alias.select().with_only_columns(alias.c.job_id).where(alias.c.board == "acme", alias.c.source == "greenhouse")
    values = {"favorite": {"favorite": True}, "notes": {"notes": "call Tue"}, "status": {"status": "applied"}}[field]
    with engine.begin() as conn:
        conn.execute(job.update().where(job.c.id.in_(owner.where(alias.c.source_job_id == posting_id).scalar_subquery())).values(**values))


def drop_digests(partition: RawPartition) -> None:
    """Rewrite ``partition``'s postings as they were written before the digests were stored."""
    frame = pl.read_parquet(partition.postings_path).drop(rawstore.DIGEST_COLUMN, rawstore.KEY_COLUMN, rawstore.HASH_COLUMN)
    frame.write_parquet(partition.postings_path, compression="zstd", row_group_size=rawstore.ROW_GROUP_ROWS)


def drop_hashes(partition: RawPartition) -> None:
    """Rewrite ``partition``'s postings as they were written before each posting's dedup key and
    hash were stored (the description digests kept)."""
    frame = pl.read_parquet(partition.postings_path).drop(rawstore.KEY_COLUMN, rawstore.HASH_COLUMN)
    frame.write_parquet(partition.postings_path, compression="zstd", row_group_size=rawstore.ROW_GROUP_ROWS)


def every_table(engine) -> dict[str, list[tuple]]:
    """Every table of the store, each row as stored, in a fixed order; but the change feed
    (``store_change``), one entry per plan written and stamped with the wall clock, whose replay
    the analytics tests check (``test_incremental.py``)."""
    with engine.connect() as conn:
        names = (
            conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'store_change' ORDER BY name")
            .scalars()
            .all()
        )
        tables = {}
        for name in names:
            width = len(conn.exec_driver_sql(f'SELECT * FROM "{name}" LIMIT 0').cursor.description)
            order = ", ".join(str(i) for i in range(1, width + 1))
            tables[name] = conn.exec_driver_sql(f'SELECT * FROM "{name}" ORDER BY {order}').all()
    return tables


def replay(days: list[dict], order: list[int], edits: list[tuple], directory: Path, slice_jobs: int, lazy: str = ""):
    """``days`` synced in ``order`` into a new store, with ``edits`` of user data after their step
    (``lazy``: each day from its raw partition, read lazily, written as ``sync_day``'s ``written``
    says); returns the store's engine and each sync's result."""
    engine = get_engine(f"sqlite:///{directory}/store-{slice_jobs}-{lazy}.db")
    create_schema(engine)
    results = []
    for step, index in enumerate(order):
        raw_dir = directory / f"raw-{slice_jobs}-{lazy}" if lazy else None
        results.append(sync_day(engine, days[index], DAYS[index], slice_jobs, raw_dir, written=lazy or "hashed"))
        for posting_id, field in (edit for after, edit in edits if after == step):
            edit_user_data(engine, posting_id, field)
    return engine, results


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history,
    st.sampled_from(
        [
            (1, "", False),
            (1, "hashed", False),
            (1, "hashed", True),
            (1, "digested", False),
            (1, "digested", True),
            (1, "undigested", False),
            (ONE_SHOT, "hashed", False),
            (ONE_SHOT, "digested", False),
            (ONE_SHOT, "undigested", False),
        ]
    ),
)
def test_a_sync_in_slices_leaves_every_table_as_one_sync_of_it_all(history, way):
    """Slices of one job (the smallest there is), or one plan of thin rows read lazily, against
    the one-shot plan of a frame, after every sync; ``lazy``: each day's raw partition is read
    from disk, in row groups of 2 rows, as written now (each posting's digest, dedup key and hash
    stored) or before (no keys and hashes; nor digests); ``ahead``:
    the slices' store reads done ahead by a child process (``read_ahead.py``, in windows of 3
    jobs), as a partition of 20,000 postings or more is synced."""
    slice_jobs, lazy, ahead = way
    with tempfile.TemporaryDirectory() as directory, pytest.MonkeyPatch.context() as patch:
        patch.setattr(rawstore, "ROW_GROUP_ROWS", 2)
        patch.setattr(slices_module, "POSTING_BATCH", 3)  # a partition keyed, matched to the store and closed in batches
        patch.setattr(slices_module, "KEY_BATCH", 2)
        patch.setattr(read_ahead, "MIN_POSTINGS", 0 if ahead else 10**9)
        patch.setattr(read_ahead, "WINDOW_JOBS", 3)
        whole, whole_results = replay(history["days"], history["order"], history["edits"], Path(directory), ONE_SHOT)
        sliced, sliced_results = replay(history["days"], history["order"], history["edits"], Path(directory), slice_jobs, lazy)
        assert every_table(sliced) == every_table(whole)
        for one_shot, in_slices in zip(whole_results, sliced_results, strict=True):
            assert in_slices.as_dict() == one_shot.as_dict()
            assert sorted(in_slices.touched_ids) == sorted(one_shot.touched_ids)
            for name in ("merged", "unmerged", "frozen", "closed", "reopened", "changed"):
                if getattr(one_shot, name):
                    event(f"a sync {name} jobs")  # what the histories exercised: --hypothesis-show-statistics
        whole.dispose()
        sliced.dispose()


def test_a_job_whose_postings_fall_into_two_groups_or_join_two_jobs_is_planned_in_one_slice(tmp_path):
    """Day 1: jobs of two postings each (greenhouse ids 2n, 2n+1); on day 2 both are rewritten, each
    to another text, so each job is met by two groups (dedup keys): the canonical one speaks for
    it, and the other's hash must not enter its history, which holds only if both groups are
    planned together. Then day 0, synced last, shows postings 90
    and 91 together after day 2 split them: one group meeting two jobs, merged in its slice.
    Slices of one job each, against the one-shot sync."""

    def titled(n: int, posting_id: int, description: int) -> Posting:
        return Posting(
            source="greenhouse",
            board="acme",
            source_job_id=str(posting_id),
            company="Acme",
            title=f"Engineer {n}",
            description=DESCRIPTIONS[description],
        )

    day1, day2 = [], []
    for n in range(4):
        canonical, other = (0, 1) if n % 2 else (1, 0)  # two new texts, either way round
        day1 += [titled(n, 2 * n, 2), titled(n, 2 * n + 1, 2)]
        day2 += [titled(n, 2 * n, canonical), titled(n, 2 * n + 1, other)]
    day0 = [posting(1, "90", 0, 2, 0), posting(1, "91", 0, 2, 1)]
    day2 += [posting(1, "90", 0, 1, 0), posting(1, "91", 0, 2, 1)]
    days = [{"postings": p, "ok": (True, True), "skipped": []} for p in (day0, day1, day2)]
    stores = {}
    for slice_jobs in (ONE_SHOT, 1):
        engine, results = replay(days, [1, 2, 0], [], tmp_path, slice_jobs)
        assert (results[1].changed, results[2].merged) == (4, 1)
        stores[slice_jobs] = every_table(engine)
    assert stores[1] == stores[ONE_SHOT]


def test_the_slice_size_bounds_the_jobs_each_plan_holds(tmp_path, monkeypatch):
    """Every plan of a sliced sync holds at most ``slice_jobs`` new jobs' weight (a job the store
    knows weighs ``KNOWN_WEIGHT`` of a new one's ``NEW_WEIGHT``), and together they hold the
    partition's every posting and job exactly once; the closing pass reads the boards' stored
    postings that may close (not those seen again) a batch of boards at a time and the jobs they close a batch of jobs at a time, each
    batch of at most ``POSTING_BATCH`` (a bigger board alone), and closes what one plan would."""
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    boards = [("greenhouse", f"acme{n}") for n in range(6)]
    day1 = [  # 30 jobs of two postings each (on two boards), some sharing a description; boards of 10 postings
        Posting(source=source, board=board, source_job_id=str(n), company="Acme", title=f"Engineer {n}", description=DESCRIPTIONS[n % 3])
        for n in range(30)
        for source, board in (boards[n % 3], boards[3 + n % 3])
    ]
    outcomes = [BoardOutcome(source=s, board=b, ok=True) for s, b in boards]
    sync_postings(engine, postings_frame(day1[:40]), seen_on=DAYS[0], outcomes=outcomes, now=NOW, slice_jobs=ONE_SHOT)

    planned: list[tuple[int, int]] = []
    weights: list[int] = []
    read_postings: list[int] = []
    closed_jobs: list[int] = []
    real_plan, real_postings, real_jobs = sync_module.plan_sync, sync_module.plan_posting_closings, sync_module.plan_job_closings

    def counting_plan(postings, state, **kwargs):
        plan = real_plan(postings, state, **kwargs)
        planned.append((plan.postings, plan.jobs))
        weights.append(plan.new_jobs.height * slices_module.NEW_WEIGHT + plan.existing_jobs * slices_module.KNOWN_WEIGHT)
        return plan

    def counting_postings(aliases, *args, **kwargs):
        read_postings.append(aliases.height)
        return real_postings(aliases, *args, **kwargs)

    def counting_jobs(job_ids, *args, **kwargs):
        closed_jobs.append(len(job_ids))
        return real_jobs(job_ids, *args, **kwargs)

    monkeypatch.setattr(sync_module, "plan_sync", counting_plan)
    monkeypatch.setattr(sync_module, "plan_posting_closings", counting_postings)
    monkeypatch.setattr(sync_module, "plan_job_closings", counting_jobs)
    monkeypatch.setattr(slices_module, "POSTING_BATCH", 4)
    result = sync_postings(engine, postings_frame(day1), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=4)
    # 20 jobs known (two of their postings stored), 10 new: 20 * 2 + 10 * 5 in slices of 4 * 5
    assert len(planned) >= (20 * 2 + 10 * 5) // (4 * 5) and max(weights) <= 4 * slices_module.NEW_WEIGHT
    assert (sum(p for p, _ in planned), sum(j for _, j in planned)) == (60, 30) == (result.postings, result.jobs)
    assert (result.new, result.unchanged, result.closed) == (10, 20, 0)
    # Each board (10 postings > 4) a batch alone, read once, for nothing: those stored before, open
    # and seen again, cannot close, nor can those new that day, no board being scraped after it.
    assert read_postings == [0] * 6
    assert closed_jobs == []  # nothing closed, no job read

    planned.clear()
    read_postings.clear()
    result = sync_postings(engine, postings_frame(day1[:20]), seen_on=DAYS[2], outcomes=outcomes, now=NOW, slice_jobs=4)
    assert (result.unchanged, result.closed) == (10, 20)  # jobs 10-29 vanished from both their boards
    assert read_postings == [sum(n >= 10 and n % 3 == board % 3 for n in range(30)) for board in range(6)]  # those not seen
    assert closed_jobs == [4, 4, 4, 4, 4]
    with engine.connect() as conn:
        closed = conn.execute(sa.select(Job.id).where(Job.closed_at == DAYS[2])).scalars().all()
    assert len(closed) == 20


def test_a_slice_of_jobs_the_store_knows_holds_more_of_them(tmp_path, monkeypatch):
    """A day's slices are mostly jobs the store knows, restamped: they hold less while planned and
    written than new ones, so a slice holds ``NEW_WEIGHT / KNOWN_WEIGHT`` times as many (a
    700k-posting day in slices of 50,000 jobs rather than 20,000: 34.2 against 37.8 CPU-s, medians
    of four). The store is the one-shot sync's."""
    sliced, one_shot = (get_engine(f"sqlite:///{tmp_path}/{name}.db") for name in ("sliced", "one_shot"))
    for engine in (sliced, one_shot):
        create_schema(engine)
        day, outcomes = two_boards_of_jobs(engine)
    new = [
        Posting(source="greenhouse", board="acme0", source_job_id=f"n{n}", company="Acme", title=f"Analyst {n}", description="New.")
        for n in range(8)
    ]
    planned: list[tuple[int, int]] = []
    real = sync_module.plan_sync

    def counting(*args, **kwargs):
        plan = real(*args, **kwargs)
        planned.append((plan.new_jobs.height, plan.existing_jobs))
        return plan

    monkeypatch.setattr(sync_module, "plan_sync", counting)
    sync_postings(sliced, postings_frame(day + new), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=4)
    # The 30 known jobs in slices of 10 (4 * 5 / 2), the 8 new ones in slices of 4.
    assert sorted(planned) == [(0, 10), (0, 10), (0, 10), (4, 0), (4, 0)]
    sync_postings(one_shot, postings_frame(day + new), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=ONE_SHOT)
    assert every_table(sliced) == every_table(one_shot)


def track_phases(monkeypatch) -> list[str]:
    """``[phase]`` of the sync under way: "cut" until its first plan, "plan" from then, "close"
    from its closing pass on (``sync_module``'s ``plan_sync`` and ``close_in_batches`` wrapped)."""
    phase = ["cut"]
    real_plan, real_close = sync_module.plan_sync, sync_module.close_in_batches

    def planning(*args, **kwargs):
        phase[0] = "plan"
        return real_plan(*args, **kwargs)

    def closing(*args, **kwargs):
        phase[0] = "close"
        return real_close(*args, **kwargs)

    monkeypatch.setattr(sync_module, "plan_sync", planning)
    monkeypatch.setattr(sync_module, "close_in_batches", closing)
    return phase


def test_the_cut_holds_no_stored_postings_and_each_slice_reads_its_own_when_planned(tmp_path, monkeypatch):
    """At a million postings the stored postings the cut matched to the partition, kept for every
    slice until its plan, were a third of a re-sync's peak (bench/RESULTS.md, 2026-12-03). The cut
    reads only which job each stored posting belongs to and keeps each slice's stored jobs as ids;
    a slice reads its stored postings when it is planned (its jobs', which no slice before it
    wrote). The store stays what one sync of it all leaves (the property test above)."""
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    boards = [("greenhouse", f"acme{n}") for n in range(6)]
    day = [  # 30 jobs of two postings each, on two boards
        Posting(source=source, board=board, source_job_id=str(n), company="Acme", title=f"Engineer {n}", description=DESCRIPTIONS[n % 3])
        for n in range(30)
        for source, board in (boards[n % 3], boards[3 + n % 3])
    ]
    outcomes = [BoardOutcome(source=s, board=b, ok=True) for s, b in boards]
    sync_postings(engine, postings_frame(day), seen_on=DAYS[0], outcomes=outcomes, now=NOW, slice_jobs=ONE_SHOT)

    reads, given, cuts = [], [], []
    real_rows, real_pairs = state_module.DatabaseState.postings_of_boards, state_module.DatabaseState.posting_jobs_of_boards
    real_cut = sync_module.cut_into_slices
    real_slice_rows = slices_module.SliceState.postings_of_boards

    def rows(self, scope):
        reads.append((phase[0], "rows"))
        return real_rows(self, scope)

    def pairs(self, scope):
        frame = real_pairs(self, scope)
        reads.append((phase[0], "pairs"))
        assert set(frame.columns) == {"source", "board", "source_job_id", "job_id", "closed_at"}
        return frame

    def slice_rows(self, scope):
        frame = real_slice_rows(self, scope)
        given.append(sorted(frame["source_job_id"].to_list()))
        return frame

    def cutting(*args, **kwargs):
        cut = real_cut(*args, **kwargs)
        cuts.extend(cut)
        return cut

    phase = track_phases(monkeypatch)
    monkeypatch.setattr(state_module.DatabaseState, "postings_of_boards", rows)
    monkeypatch.setattr(state_module.DatabaseState, "posting_jobs_of_boards", pairs)
    monkeypatch.setattr(slices_module.SliceState, "postings_of_boards", slice_rows)
    monkeypatch.setattr(sync_module, "cut_into_slices", cutting)
    result = sync_postings(engine, postings_frame(day), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=4)
    assert (result.unchanged, result.new, result.closed) == (30, 0, 0)
    assert [what for when, what in reads if when == "cut"] == ["pairs"]  # one batch of every board, job ids only
    assert sorted(job for part in cuts for job in part.state.known_jobs.tolist()) == list(range(1, 31))  # each stored job once
    assert len(given) == len(cuts) >= 30 * slices_module.KNOWN_WEIGHT // (4 * slices_module.NEW_WEIGHT) > 1  # slices of known jobs
    assert sorted(posting for postings in given for posting in postings) == sorted(str(n) for n in range(30) for _ in range(2))


def two_boards_of_jobs(engine, jobs: int = 30) -> tuple[list[Posting], list[BoardOutcome]]:
    """``jobs`` jobs of two postings each on six boards, synced on ``DAYS[0]``: the day's postings and outcomes."""
    boards = [("greenhouse", f"acme{n}") for n in range(6)]
    day = [
        Posting(source=source, board=board, source_job_id=str(n), company="Acme", title=f"Engineer {n}", description=DESCRIPTIONS[n % 3])
        for n in range(jobs)
        for source, board in (boards[n % 3], boards[3 + n % 3])
    ]
    outcomes = [BoardOutcome(source=s, board=b, ok=True) for s, b in boards]
    sync_postings(engine, postings_frame(day), seen_on=DAYS[0], outcomes=outcomes, now=NOW, slice_jobs=ONE_SHOT)
    return day, outcomes


class CountedSessions:
    """Every ``ReadSession`` (child) the read-ahead starts and the batches asked of it, kept to check
    that none is left running; ``sql``: every query asked replaced with it."""

    def __init__(self, monkeypatch, sql: str | None = None) -> None:
        self.started: list = []
        self.batches = 0
        counted = self

        class Session(read_ahead.ReadSession):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                counted.started.append(self)

            def ask(self, queries):
                counted.batches += 1
                super().ask([(sql, table) for _, table in queries] if sql else queries)

        monkeypatch.setattr(read_ahead, "ReadSession", Session)

    def running(self) -> int:
        return sum(session._process.poll() is None for session in self.started)


def test_a_big_partitions_slices_read_the_store_ahead_in_a_child_process(tmp_path, monkeypatch):
    """A partition of at least ``read_ahead.MIN_POSTINGS`` postings on a SQLite file: each slice's
    stored postings and job rows come from a child process (asked a window of slices at a time,
    ahead of them), not from the sync's connection, which reads only in the cut and the
    closing pass; the cut's read of the partition's stored postings (which job each belongs to)
    comes from the child too. The store is the one the slices' own reads leave, and no child
    outlives the sync."""
    read_inline = get_engine(f"sqlite:///{tmp_path}/inline.db")
    ahead = get_engine(f"sqlite:///{tmp_path}/ahead.db")
    for engine in (read_inline, ahead):
        create_schema(engine)
        day, outcomes = two_boards_of_jobs(engine)
    day = [dataclasses.replace(p, title=f"{p.title} (Senior)") if p.source_job_id in {"3", "17"} else p for p in day]  # two rewrites
    sync_postings(read_inline, postings_frame(day), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=4)

    monkeypatch.setattr(read_ahead, "MIN_POSTINGS", 60)  # this partition's size
    monkeypatch.setattr(read_ahead, "WINDOW_JOBS", 8)
    monkeypatch.setattr(slices_module, "POSTING_BATCH", 7)  # the cut's reads in batches, asked ahead
    sessions = CountedSessions(monkeypatch)
    inline = []
    phase = track_phases(monkeypatch)

    def counted(what: str, real):
        def read(self, keys, *args):
            inline.append((phase[0], what, len(keys)))
            return real(self, keys, *args)

        return read

    reads = {
        "jobs": "jobs",
        "postings_of_boards": "postings",
        "postings_to_close": "postings to close",
        "posting_jobs_of_boards": "jobs of postings",
        "postings_per_board": "postings per board",  # counted as the cut read them
    }
    for method, what in reads.items():
        monkeypatch.setattr(state_module.DatabaseState, method, counted(what, getattr(state_module.DatabaseState, method)))
    result = sync_postings(ahead, postings_frame(day), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=4)

    assert (result.unchanged, result.changed, result.new) == (28, 2, 0)
    assert [read for read in inline if read[0] == "plan"] == []
    assert {what for _, what, _ in inline} == {"postings to close"}  # the closing pass's, after the slices' writes
    # The cut's batches of postings, then the first slice, then windows of 8 jobs.
    assert len(sessions.started) == 1 and sessions.batches >= 60 // 7 + 1 + 30 // 8
    assert sessions.running() == 0
    assert every_table(ahead) == every_table(read_inline)


def test_the_closing_pass_sizes_its_batches_by_the_postings_the_cut_read_and_the_slices_added(tmp_path, monkeypatch):
    """With the store read ahead, the closing pass packs its batches of boards by the stored
    postings of each board as the cut's read counted them plus those the slices added, and reads
    the count only of the ok boards the partition lists nothing of: the sizes are what a count
    of the store gives after the sync (here a board with postings added, a board new that day,
    one whose postings all vanished, and the others seen again)."""
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    day, outcomes = two_boards_of_jobs(engine)
    emptied = ("greenhouse", "acme5")
    new = [
        Posting(source=source, board=board, source_job_id=f"new-{n}", company="Acme", title=f"Analyst {n}", description="New.")
        for n, (source, board) in enumerate([("greenhouse", "acme0")] * 3 + [("greenhouse", "acme6")] * 2)
    ]
    day = [p for p in day if (p.source, p.board) != emptied] + new
    outcomes = [*outcomes, BoardOutcome(source="greenhouse", board="acme6", ok=True)]
    monkeypatch.setattr(read_ahead, "MIN_POSTINGS", 0)
    monkeypatch.setattr(slices_module, "POSTING_BATCH", 7)
    sizes: list[dict] = []
    counted: list[list] = []
    batches, per_board = sync_module.board_batches, state_module.DatabaseState.postings_per_board
    monkeypatch.setattr(sync_module, "board_batches", lambda found, batch: sizes.append(dict(found)) or batches(found, batch))
    monkeypatch.setattr(
        state_module.DatabaseState, "postings_per_board", lambda self, scope: counted.append(scope) or per_board(self, scope)
    )
    result = sync_postings(engine, postings_frame(day), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=4)

    assert result.new == 5
    with engine.connect() as conn:
        stored = {(s, b): n for s, b, n in conn.exec_driver_sql("SELECT source, board, count(*) FROM job_posting GROUP BY 1, 2")}
        closed = conn.exec_driver_sql("SELECT DISTINCT board FROM job_posting WHERE closed_at IS NOT NULL").all()
    assert closed == [("acme5",)]
    assert stored[("greenhouse", "acme0")] == 13 and stored[("greenhouse", "acme6")] == 2 and stored[emptied] == 10
    assert sizes == [stored] and counted == [[emptied]]


def test_a_slice_takes_its_read_ahead_once_its_rows_are_deduplicated(tmp_path, monkeypatch):
    """Each slice's plan deduplicates its rows before it takes the child's read of its stored jobs
    (the child reads meanwhile: the first slice had waited ~0.05 s for it), and takes it once."""
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    day, outcomes = two_boards_of_jobs(engine)
    monkeypatch.setattr(read_ahead, "MIN_POSTINGS", 0)
    events: list[str] = []
    deduplicate, take = plan_module.deduplicate, read_ahead.StoreReadAhead.take
    monkeypatch.setattr(plan_module, "deduplicate", lambda rows: events.append("dedup") or deduplicate(rows))
    monkeypatch.setattr(read_ahead.StoreReadAhead, "take", lambda self, number: events.append(f"take {number}") or take(self, number))
    sync_postings(engine, postings_frame(day), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=4)
    assert events == [event for number in range(len(events) // 2) for event in ("dedup", f"take {number}")]
    assert len(events) == 2 * -(-30 * slices_module.KNOWN_WEIGHT // (4 * slices_module.NEW_WEIGHT))  # 30 known jobs, 10 a slice


def test_the_days_scrapes_are_written_behind_the_first_slice_not_by_the_closing_pass(tmp_path, monkeypatch):
    """A sliced sync queues the day's ``board_scrape`` rows on its writer thread before its first
    slice's statements, so they are written while that slice is planned, not by the closing pass
    (which runs on one core); the store is the one-shot sync's."""
    sliced, one_shot = (get_engine(f"sqlite:///{tmp_path}/{name}.db") for name in ("sliced", "one_shot"))
    for engine in (sliced, one_shot):
        create_schema(engine)
        day, outcomes = two_boards_of_jobs(engine)
    phase = track_phases(monkeypatch)
    written: list[tuple[str, str, int]] = []
    real = sync_module.record_scrapes

    def recording(conn, seen_on, outcomes, *args):
        written.append((threading.current_thread().name, phase[0], len(outcomes)))
        return real(conn, seen_on, outcomes, *args)

    monkeypatch.setattr(sync_module, "record_scrapes", recording)
    day = day[:-4]  # two postings of two jobs vanish: the closing pass closes them
    sync_postings(sliced, postings_frame(day), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=4)
    assert [(thread, boards) for thread, _, boards in written] == [("sync-writer", 6)] and written[0][1] != "close"
    sync_postings(one_shot, postings_frame(day), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=ONE_SHOT)
    assert every_table(sliced) == every_table(one_shot)


def test_a_slices_plan_makes_no_frame_of_outcomes_nor_the_days_scrapes(tmp_path, monkeypatch):
    """The day's scrapes and closings are the closing pass's: a slice's plan makes no frame of
    outcomes from columns (~3 ms a slice, the first of a process ~80 ms more) nor the day's scrapes
    (~1 ms), and queues no ``board_scrape`` rows; the store is the one-shot sync's."""
    sliced, one_shot = (get_engine(f"sqlite:///{tmp_path}/{name}.db") for name in ("sliced", "one_shot"))
    for engine in (sliced, one_shot):
        create_schema(engine)
        day, outcomes = two_boards_of_jobs(engine)
    made = {"outcomes": 0, "scrapes": 0, "plans": 0}
    real_columns, real_scrapes, real_plan = BoardOutcomes._from_columns.__func__, plan_module.DayScrapes.of.__func__, sync_module.plan_sync

    def from_columns(cls, columns):
        made["outcomes"] += 1
        return real_columns(cls, columns)

    def scrapes(cls, outcomes, seen_on):
        made["scrapes"] += 1
        return real_scrapes(cls, outcomes, seen_on)

    def planning(*args, **kwargs):
        made["plans"] += 1
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(BoardOutcomes, "_from_columns", classmethod(from_columns))
    monkeypatch.setattr(plan_module.DayScrapes, "of", classmethod(scrapes))
    monkeypatch.setattr(sync_module, "plan_sync", planning)
    sync_postings(sliced, postings_frame(day[:-4]), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=4)
    # The outcomes given as objects made into one frame once; the day's scrapes made once, by the
    # closing pass; 28 known jobs in slices of 10.
    assert made == {"outcomes": 1, "scrapes": 1, "plans": 3}
    sync_postings(one_shot, postings_frame(day[:-4]), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=ONE_SHOT)
    assert every_table(sliced) == every_table(one_shot)


def closing_reads(monkeypatch) -> list[int]:
    """The postings each call of the closing pass's read (``postings_to_close``) returns, as they come."""
    read: list[int] = []
    real = state_module.DatabaseState.postings_to_close

    def counted(self, *args):
        found = real(self, *args)
        read.append(found.height)
        return found

    monkeypatch.setattr(state_module.DatabaseState, "postings_to_close", counted)
    return read


def sync_both_ways(sliced, one_shot, postings, seen_on, outcomes, slice_jobs, read: list[int]):
    """One day synced into ``sliced`` in slices of ``slice_jobs`` jobs and into ``one_shot`` in one
    plan, the stores then equal: (the sliced sync's result, the postings its closing pass read)."""
    read.clear()
    result = sync_postings(sliced, postings_frame(postings), seen_on=seen_on, outcomes=outcomes, now=NOW, slice_jobs=slice_jobs)
    reads = sum(read)
    sync_postings(one_shot, postings_frame(postings), seen_on=seen_on, outcomes=outcomes, now=NOW, slice_jobs=ONE_SHOT)
    assert every_table(sliced) == every_table(one_shot)
    return result, reads


def test_the_closing_pass_reads_only_the_postings_a_day_may_close_or_reopen(tmp_path, monkeypatch):
    """After the slices' writes, the closing pass reads of the boards' stored postings only those
    whose closing the day may change: the open ones it did not see, and the closed ones. A day
    that sees 58 of 60 postings again reads the 2 it did not see, and closes them; the next, seeing
    all 60, reads those 2 (closed) and reopens them. The store is what one plan of each day leaves."""
    sliced, one_shot = (get_engine(f"sqlite:///{tmp_path}/{name}.db") for name in ("sliced", "one-shot"))
    for engine in (sliced, one_shot):
        create_schema(engine)
        day, outcomes = two_boards_of_jobs(engine)
    read = closing_reads(monkeypatch)
    for seen_on, postings, closed, reopened in ((DAYS[1], day[2:], 1, 0), (DAYS[2], day, 0, 1)):
        result, reads = sync_both_ways(sliced, one_shot, postings, seen_on, outcomes, 4, read)
        assert (result.closed, result.reopened, reads) == (closed, reopened, 2)


def test_a_day_reads_its_new_postings_only_on_boards_scraped_after_it(tmp_path, monkeypatch):
    """A posting new on the day synced can close only by a successful scrape of its board after
    that day: a first sync reads none of its new postings; a backfill of an earlier day, once its
    boards were scraped later, reads those of the later-scraped board (the other board's new posting
    stays open), and closes the one the later scrape missed. Each store is one plan's."""
    sliced, one_shot = (get_engine(f"sqlite:///{tmp_path}/{name}.db") for name in ("sliced", "one-shot"))
    (early, late), board = (
        BOARDS,
        lambda b, n: Posting(source=b[0], board=b[1], source_job_id=str(n), company="Acme", title=f"Engineer {n}"),
    )
    read = closing_reads(monkeypatch)
    # DAYS[1]: both boards list postings 0-3; DAYS[3]: only ``late`` is scraped, without its 3.
    # Then DAYS[2] is backfilled: each board lists one more posting (5 on ``early``, 6 on ``late``).
    # Read: nothing on the first day; on DAYS[3] ``late``'s 3 (not seen); on the backfill ``late``'s
    # new 6 (its board was scraped after) and closed 3, not ``early``'s new 5 (nothing scraped it after).
    days = [
        (DAYS[1], [board(b, n) for b in (early, late) for n in range(4)], [early, late], 0),
        (DAYS[3], [board(late, n) for n in range(3)], [late], 1),
        (DAYS[2], [board(b, n) for b in (early, late) for n in (*range(4), 5 if b == early else 6)], [early, late], 2),
    ]
    for engine in (sliced, one_shot):
        create_schema(engine)
    for seen_on, postings, scraped, reads in days:
        outcomes = [BoardOutcome(source=s, board=b, ok=True) for s, b in scraped]
        assert sync_both_ways(sliced, one_shot, postings, seen_on, outcomes, 2, read)[1] == reads, seen_on
    with sliced.connect() as conn:
        closed = dict(
            conn.exec_driver_sql(
                "SELECT source || '/' || source_job_id, closed_at FROM job_posting WHERE source_job_id IN ('3', '5', '6')"
            ).all()
        )
    assert closed == {
        f"{early[0]}/3": None,
        f"{early[0]}/5": None,
        f"{late[0]}/3": DAYS[3].isoformat(),
        f"{late[0]}/6": DAYS[3].isoformat(),
    }


def test_the_closing_pass_reads_a_closed_posting_again_only_when_the_day_lists_it(tmp_path, monkeypatch):
    """A posting closed before the day and not listed since is not read (closed postings pile up
    in the store); listed unread (skipped) by the day's scrape it is read, and reopens. The store
    is one plan's each day."""
    sliced, one_shot = (get_engine(f"sqlite:///{tmp_path}/{name}.db") for name in ("sliced", "one-shot"))
    read = closing_reads(monkeypatch)
    source, board = BOARDS[0]
    listing = lambda *ids: [Posting(source=source, board=board, source_job_id=i, company="Acme", title=f"Engineer {i}") for i in ids]  # noqa: E731
    days = [  # (day, listed, skipped, postings the closing pass reads)
        (DAYS[0], listing("1", "2", "3"), [], 0),
        (DAYS[1], listing("1", "3"), [], 1),  # 2 not listed: read (open, not seen), closes
        (DAYS[2], listing("1", "3"), [], 0),  # 2 closed before the day, not listed: not read
        (DAYS[3], listing("1", "3"), ["2"], 1),  # 2 listed unread: read, reopens
    ]
    for engine in (sliced, one_shot):
        create_schema(engine)
    for seen_on, postings, skipped, reads in days:
        outcomes = [BoardOutcome(source=source, board=board, ok=True, skipped_ids=skipped)]
        assert sync_both_ways(sliced, one_shot, postings, seen_on, outcomes, 1, read)[1] == reads, seen_on
        with sliced.connect() as conn:
            closed_at = conn.exec_driver_sql("SELECT closed_at FROM job_posting WHERE source_job_id = '2'").scalar()
        assert closed_at == (DAYS[1].isoformat() if seen_on in (DAYS[1], DAYS[2]) else None), seen_on


def writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name in ("sync-writer", "sync-reader")]


@pytest.mark.parametrize("day", ["first", "rewriting"])
def test_a_slice_is_planned_while_the_slice_before_it_is_written(tmp_path, monkeypatch, day):
    """The slices' statements run on a writer thread, in order, while the next slice is planned:
    here the first slice's last statement waits until the second slice has been planned (it would
    wait forever if one thread did both). On a first sync the slices read nothing of the store; on
    a day that rewrites every job each slice reads its jobs, postings and hash histories, through a
    second connection that sees the store as it was before the sync (``sync.store_as_it_was``), so
    no plan waits for the writes (through the sync's own connection it would). The store is one
    plan's, and no thread is left."""
    sliced, one_shot = (get_engine(f"sqlite:///{tmp_path}/{name}.db") for name in ("sliced", "one-shot"))
    for engine in (sliced, one_shot):
        create_schema(engine)
        postings, outcomes = two_boards_of_jobs(engine)
    seen_on = DAYS[1]
    if day == "first":
        sliced, one_shot = (get_engine(f"sqlite:///{tmp_path}/{name}-first.db") for name in ("sliced", "one-shot"))
        for engine in (sliced, one_shot):
            create_schema(engine)
        seen_on = DAYS[0]
    else:
        postings = [dataclasses.replace(p, title=f"{p.title} (Senior)") for p in postings]
    planned, second_planned, writers = [], threading.Event(), set()
    real_plan, real_write = sync_module.plan_sync, sync_module.write_plan

    def plan(*args, **kwargs):
        found = real_plan(*args, **kwargs)
        planned.append(found)
        if len(planned) == 2:
            second_planned.set()
        return found

    def write(behind, plan, *args):
        def last_statement(conn):
            writers.add(threading.current_thread().name)
            assert second_planned.wait(timeout=10), "the second slice was not planned while the first was written"

        real_write(behind, plan, *args)
        if len(planned) == 1:
            behind.call(last_statement)

    monkeypatch.setattr(sync_module, "plan_sync", plan)
    monkeypatch.setattr(sync_module, "write_plan", write)
    result = sync_postings(sliced, postings_frame(postings), seen_on=seen_on, outcomes=outcomes, now=NOW, slice_jobs=4)
    assert len(planned) >= 30 * slices_module.KNOWN_WEIGHT // (4 * slices_module.NEW_WEIGHT) and writers == {"sync-writer"}
    assert (result.new, result.changed) == ((30, 0) if day == "first" else (0, 30))
    monkeypatch.setattr(sync_module, "plan_sync", real_plan)
    monkeypatch.setattr(sync_module, "write_plan", real_write)
    sync_postings(one_shot, postings_frame(postings), seen_on=seen_on, outcomes=outcomes, now=NOW, slice_jobs=ONE_SHOT)
    assert every_table(sliced) == every_table(one_shot)
    assert writer_threads() == []


def test_the_writer_thread_holds_a_bounded_number_of_rows(tmp_path):
    """``WriteBehind`` queues statements for its thread until ``queued_rows`` rows wait: a caller
    with more rows to queue waits for the writer (a first sync's rendered rows never pile up),
    and one statement bigger than the bound still runs, alone. Statements run in order."""
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    release, ran = threading.Event(), []
    with engine.connect() as conn:
        behind = write_behind.WriteBehind(conn, queued_rows=5)
        try:
            behind.call(lambda _: release.wait(timeout=30), rows=1)  # the writer is busy
            behind.call(lambda _: ran.append("three rows"), rows=3)  # 4 of 5 rows now
            queued = threading.Thread(target=lambda: behind.call(lambda _: ran.append("two rows"), rows=2))
            queued.start()
            queued.join(timeout=0.5)
            assert queued.is_alive() and ran == []  # 6 rows would wait: the caller waits
            release.set()
            queued.join(timeout=30)
            behind.call(lambda _: ran.append("nine rows"), rows=9)  # more than the bound: runs alone
            behind.wait()
        finally:
            behind.close()
    assert ran == ["three rows", "two rows", "nine rows"]
    assert writer_threads() == []


@pytest.mark.parametrize("failing", ["a write", "a plan"])
def test_a_slice_that_fails_on_either_thread_fails_the_sync_and_writes_nothing(tmp_path, monkeypatch, failing):
    """A statement that fails on the writer thread (the fourth slice's writes), or a plan that
    fails while the slice before it is written: the sync raises that error, the store is as
    before, and the writer thread is gone."""
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    day, outcomes = two_boards_of_jobs(engine)
    day = [dataclasses.replace(p, title=f"{p.title} (Senior)") for p in day]  # every job rewritten: every slice writes
    before = every_table(engine)
    planned = 0
    real_plan, real_write = sync_module.plan_sync, sync_module.write_plan

    def plan(*args, **kwargs):
        nonlocal planned
        planned += 1
        if failing == "a plan" and planned == 4:
            raise RuntimeError("the fourth plan failed")
        return real_plan(*args, **kwargs)

    def write(behind, plan, *args):
        real_write(behind, plan, *args)
        if failing == "a write" and planned == 4:
            behind.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")

    monkeypatch.setattr(sync_module, "plan_sync", plan)
    monkeypatch.setattr(sync_module, "write_plan", write)
    error = (sa.exc.OperationalError, "no such table: no_such_table") if failing == "a write" else (RuntimeError, "fourth plan")
    with pytest.raises(error[0], match=error[1]):
        sync_postings(engine, postings_frame(day), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=2)  # slices of 5 known jobs
    assert planned >= 4
    assert every_table(engine) == before
    assert writer_threads() == []


def test_the_read_ahead_reads_a_window_of_postings_through_the_job_id_index(tmp_path):
    """A window's known jobs, as a day at a million postings gives them (here 34 runs of ids and
    7,177 ids apart), are read through the index on ``job_posting.job_id``: for that shape of
    WHERE SQLite's planner chose a scan of every stored posting (0.55 s a window at a million)."""
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    ids = [i for run in range(34) for i in range(run * 1000, run * 1000 + 64)] + list(range(100_001, 100_001 + 2 * 7_177, 2))
    sql = read_ahead.rendered(state_module.POSTINGS_READ, state_module.POSTING.c.job_id, ids)
    with engine.connect() as conn:
        plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()]
        assert not any(step.startswith("SCAN") for step in plan), plan
        assert any("USING INDEX ix_job_posting_job_id" in step for step in plan), plan
        assert conn.exec_driver_sql(sql).all() == []


def test_a_read_ahead_child_that_fails_fails_the_sync_and_writes_nothing(tmp_path, monkeypatch):
    """A child whose read fails (here: a query of a table that is not there): the sync fails
    naming the store and what the child said, writes nothing, and leaves no child running."""
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    day, outcomes = two_boards_of_jobs(engine)
    before = every_table(engine)
    monkeypatch.setattr(read_ahead, "MIN_POSTINGS", 0)
    sessions = CountedSessions(monkeypatch, sql="SELECT id FROM no_such_table")
    with pytest.raises(RuntimeError, match=r"reading the store .*store\.db failed: .*no_such_table"):
        sync_postings(engine, postings_frame(day), seen_on=DAYS[1], outcomes=outcomes, now=NOW, slice_jobs=4)
    assert sessions.started and sessions.running() == 0
    assert every_table(engine) == before


def test_a_slice_size_below_one_is_refused_and_writes_nothing(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    day = {"postings": [posting(0, "1", 0, 0, 0), posting(0, "2", 1, 0, 0)], "ok": (True, True), "skipped": []}
    with pytest.raises(ValueError, match="slice size must be at least 1"):
        sync_day(engine, day, DAYS[0], -1)
    assert every_table(engine)["job"] == []


def test_slicing_follows_the_settings_and_is_on_by_default_for_big_partitions(tmp_path, monkeypatch):
    """Unset, a partition of more than ``SYNC_SLICE_ABOVE`` postings is synced in slices of
    ``SYNC_SLICE_JOBS`` jobs (a smaller one in one plan: slices there cost CPU and save nothing);
    JOBPIPELINE_SYNC_SLICE_JOBS sets the size, 0 turns slicing off, and JOBPIPELINE_SYNC_SLICE_ABOVE
    the partition size from which it applies."""
    outcomes = [BoardOutcome(source=s, board=b, ok=True) for s, b in BOARDS]
    day = [
        Posting(source=source, board=board, source_job_id=str(n), company="Acme", title=f"Engineer {n}", description=DESCRIPTIONS[n % 3])
        for n in range(12)
        for source, board in BOARDS
    ]
    planned: list[int] = []
    real_plan = sync_module.plan_sync

    def counting_plan(postings, state, **kwargs):
        planned.append(postings.height)
        return real_plan(postings, state, **kwargs)

    monkeypatch.setattr(sync_module, "plan_sync", counting_plan)
    monkeypatch.delenv("JOBPIPELINE_SYNC_SLICE_JOBS", raising=False)
    monkeypatch.delenv("JOBPIPELINE_SYNC_SLICE_ABOVE", raising=False)
    assert jp_settings.current().sync_slice_jobs == jp_settings.SYNC_SLICE_JOBS > 0
    assert jp_settings.current().sync_slice_above == jp_settings.SYNC_SLICE_ABOVE > jp_settings.SYNC_SLICE_JOBS
    sliced = 24 // 2 // 5 + 1  # the plans a sliced sync of these 24 postings makes: its slices (the closing pass makes none)
    for setting, above, plans in ((None, None, 1), ("0", "0", 1), ("5", None, 1), ("5", "23", sliced), ("5", "24", 1), ("5", "0", sliced)):
        for name, value in (("JOBPIPELINE_SYNC_SLICE_JOBS", setting), ("JOBPIPELINE_SYNC_SLICE_ABOVE", above)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        engine = get_engine(f"sqlite:///{tmp_path}/store-{setting}-{above}.db")
        create_schema(engine)
        planned.clear()
        sync_postings(engine, postings_frame(day), seen_on=DAYS[0], outcomes=outcomes, now=NOW)
        assert len(planned) == plans, (setting, above, planned)


class RecordingPartition(RawPartition):
    """A raw partition on disk that notes how many descriptions each of its reads returns at once,
    and from which row group."""

    reads: list[tuple[str, int]] = []
    thin_rows: list[int] = []  # rows of each read of the postings without their descriptions
    groups: list[int] = []  # the row group of each batch of descriptions read

    def read_postings(self):
        frame = super().read_postings()
        self.reads.append(("read_postings", frame.height))
        return frame

    def read_posting_columns(self, columns):
        frame = super().read_posting_columns(columns)
        self.reads.append(("read_posting_columns", frame.height if "description" in columns else 0))
        return frame

    def iter_posting_column(self, column):
        for batch in super().iter_posting_column(column):
            self.reads.append(("iter_posting_column", len(batch) if column == "description" else 0))
            yield batch

    def read_posting_rows(self, rows, columns=tuple(rawstore.POSTING_SCHEMA)):
        frame = super().read_posting_rows(rows, columns)
        self.reads.append(("read_posting_rows", frame.height if "description" in columns else 0))
        self.thin_rows.append(frame.height)
        return frame

    def iter_descriptions(self, rows):
        for numbers, batch in super().iter_descriptions(rows):
            self.reads.append(("iter_descriptions", len(batch)))
            self.groups.append(int(numbers[0]) // rawstore.ROW_GROUP_ROWS)  # groups of ROW_GROUP_ROWS rows each
            yield numbers, batch


def acme_day() -> list[Posting]:
    """60 postings of one board, in reverse key order (a scrape's order is not the file's)."""
    return [
        Posting(
            source="greenhouse",
            board="acme",
            source_job_id=str(n),
            company="Acme",
            title=f"Engineer {n}",
            description=f"{DESCRIPTIONS[n % 3]} {n}",
        )
        for n in reversed(range(60))
    ]


def acme_partition(
    tmp_path, monkeypatch, kind: type[RawPartition] = RawPartition
) -> tuple[list[Posting], list[BoardOutcome], RawPartition]:
    """``acme_day`` written as day 1's raw partition (of ``kind``), its board scraped fine, and the
    syncs set to slices of 10 jobs however small the partition."""
    monkeypatch.setenv("JOBPIPELINE_SYNC_SLICE_JOBS", "10")
    monkeypatch.setenv("JOBPIPELINE_SYNC_SLICE_ABOVE", "0")
    day = acme_day()
    outcomes = [BoardOutcome(source="greenhouse", board="acme", ok=True)]
    partition = kind.at(tmp_path / "raw", "greenhouse", DAYS[0].isoformat())
    partition.write(postings_frame(day), [o.as_json() for o in outcomes], {})
    return day, outcomes, partition


def assert_one_shot_store(engine, days: list[list[Posting]], outcomes: list[BoardOutcome], tmp_path) -> None:
    """``engine``'s store is the one that one-shot syncs of ``days`` (each as a frame, on ``DAYS``
    in order) leave."""
    one_shot = get_engine(f"sqlite:///{tmp_path}/one-shot.db")
    create_schema(one_shot)
    for seen_on, postings in zip(DAYS[: len(days)], days, strict=True):
        sync_postings(one_shot, postings_frame(postings), seen_on=seen_on, outcomes=outcomes, slice_jobs=0)
    for each in (engine, one_shot):  # the wall clock of each sync aside
        with each.begin() as conn:
            conn.exec_driver_sql("UPDATE job SET synced_at = '2026-11-05 08:00:00.000000'")
    assert every_table(engine) == every_table(one_shot)


def test_a_sync_from_disk_reads_one_slice_of_descriptions_at_a_time(tmp_path, monkeypatch):
    """``sync_raw_partition`` of 60 postings in slices of 10 jobs: no read of the partition brings
    more than a slice's descriptions into memory (the whole partition read at once did, before
    partitions were read lazily), every description is read once by slice (and once hashed, in row
    groups), and the store is the one-shot sync's of the same postings as a frame."""
    monkeypatch.setattr(rawstore, "ROW_GROUP_ROWS", 4)
    day, outcomes, partition = acme_partition(tmp_path, monkeypatch, RecordingPartition)  # written sorted: not the scrape's order
    RecordingPartition.reads, RecordingPartition.thin_rows = [], []
    lazy = get_engine(f"sqlite:///{tmp_path}/lazy.db")
    create_schema(lazy)
    sync_raw_partition(lazy, "greenhouse", DAYS[0].isoformat(), partition)
    assert max(count for _, count in RecordingPartition.reads) <= 10, RecordingPartition.reads
    assert sum(count for name, count in RecordingPartition.reads if name == "iter_descriptions") == 60  # each written once
    assert sum(RecordingPartition.thin_rows) == 60 and len(RecordingPartition.thin_rows) == 6  # a read per slice

    assert_one_shot_store(lazy, [day], outcomes, tmp_path)


def daily_partition(tmp_path, monkeypatch, engine, every: int) -> tuple[list[list[Posting]], list[BoardOutcome], RawPartition]:
    """``acme_partition`` synced as day 1, and day 2's partition, where every ``every``-th posting's
    description changed (``every`` 1: all of them)."""
    first_day, outcomes, partition = acme_partition(tmp_path, monkeypatch)
    sync_raw_partition(engine, "greenhouse", DAYS[0].isoformat(), partition)
    second_day = [dataclasses.replace(p, description=f"{p.description} (edited)") if n % every == 0 else p for n, p in enumerate(first_day)]
    partition = RawPartition.at(tmp_path / "raw", "greenhouse", DAYS[1].isoformat())
    partition.write(postings_frame(second_day), [o.as_json() for o in outcomes], {})
    return [first_day, second_day], outcomes, partition


@pytest.mark.parametrize("day", ["first", "rewriting all", "rewriting a tenth"])
def test_a_days_descriptions_are_read_beside_the_sync_while_it_plans_the_next_slice(tmp_path, monkeypatch, day):
    """The descriptions a day's slice writes (a few of its jobs: 6 % at 3.5 M open postings) are
    read from the raw partition on a side thread, not the sync's own (3.1 s of a 700,000-posting
    day's, a row group decompressed for each), which plans the next slice meanwhile: the first
    slice's texts are still being read when the second slice is planned. A slice that writes the
    texts of most of its jobs (a first sync) reads them on the sync's thread, as before. Either
    way the texts follow the slice's job rows, and the store is the one-shot sync's."""
    monkeypatch.setattr(rawstore, "ROW_GROUP_ROWS", 4)
    engine = get_engine(f"sqlite:///{tmp_path}/lazy.db")
    create_schema(engine)
    if day == "first":
        first_day, outcomes, partition = acme_partition(tmp_path, monkeypatch)
        days = [first_day]
    else:
        days, outcomes, partition = daily_partition(tmp_path, monkeypatch, engine, every=1 if day == "rewriting all" else 10)
    reading, planned_while_reading, threads = threading.Event(), threading.Event(), set()
    texts, plan = PartitionPostings.texts, sync_module.plan_sync

    def read_texts(self, wanted):
        threads.add(threading.current_thread().name)
        if not reading.is_set() and threading.current_thread() is not threading.main_thread():
            reading.set()
            planned_while_reading.wait(timeout=10)  # the first slice's read waits for the second slice's plan
        yield from texts(self, wanted)

    def plan_after_a_read(*args, **kwargs):
        if reading.is_set():
            planned_while_reading.set()
        return plan(*args, **kwargs)

    monkeypatch.setattr(PartitionPostings, "texts", read_texts)
    monkeypatch.setattr(sync_module, "plan_sync", plan_after_a_read)
    result = sync_raw_partition(engine, "greenhouse", DAYS[len(days) - 1].isoformat(), partition)
    assert (result.new, result.changed) == {"first": (60, 0), "rewriting all": (0, 60), "rewriting a tenth": (0, 6)}[day]
    if day == "rewriting a tenth":
        assert threads == {"sync-reader"} and planned_while_reading.is_set()
    else:
        assert threads == {"MainThread"}
    assert writer_threads() == []
    assert_one_shot_store(engine, days, outcomes, tmp_path)


def test_a_descriptions_read_that_fails_fails_the_sync_and_writes_nothing(tmp_path, monkeypatch):
    """A description read that fails on the side thread (a day's third slice's) fails the sync
    with its error: nothing is written, and neither thread outlives it."""
    monkeypatch.setattr(rawstore, "ROW_GROUP_ROWS", 4)
    engine = get_engine(f"sqlite:///{tmp_path}/lazy.db")
    create_schema(engine)
    _, _, partition = daily_partition(tmp_path, monkeypatch, engine, every=10)
    before, reads, texts = every_table(engine), 0, PartitionPostings.texts

    def read_texts(self, wanted):
        nonlocal reads
        reads += 1
        assert threading.current_thread().name == "sync-reader"
        if reads == 3:
            raise OSError("the partition's third read failed")
        yield from texts(self, wanted)

    monkeypatch.setattr(PartitionPostings, "texts", read_texts)
    with pytest.raises(OSError, match="third read failed"):
        sync_raw_partition(engine, "greenhouse", DAYS[1].isoformat(), partition)
    assert every_table(engine) == before
    assert writer_threads() == []


def test_texts_of_a_partition_come_by_row_whatever_rows_are_asked(tmp_path, monkeypatch):
    """``PartitionPostings.texts`` hands each wanted row its posting's description, batch by row
    group, in ``text_row`` order: rows asked in any order, a row asked twice, rows of one row group
    and of several, the other columns carried along."""
    monkeypatch.setattr(rawstore, "ROW_GROUP_ROWS", 4)
    day, _, partition = acme_partition(tmp_path, monkeypatch)
    descriptions = partition.read_postings()["description"].to_list()
    postings = PartitionPostings(partition)
    for rows in ([5], [0, 1, 2, 3], [59, 3, 17, 3, 40, 41, 0, 17], list(range(60))[::-1]):
        wanted = pl.DataFrame({"job_id": range(len(rows)), "text_row": rows})
        batches = list(postings.texts(wanted))
        got = pl.concat(batches)
        order = sorted(range(len(rows)), key=lambda i: rows[i])
        assert got["description"].to_list() == [descriptions[rows[i]] for i in order]
        assert sorted(got["job_id"].to_list()) == list(range(len(rows))) and got.columns == ["job_id", "description"]
        assert len(batches) == len({row // 4 for row in rows})  # a batch per row group read


def test_rows_of_neighbouring_row_groups_come_in_one_read_and_far_apart_ones_apart(tmp_path, monkeypatch):
    """``read_posting_rows`` reads each run of neighbouring row groups holding rows asked for at
    once (at most ``SCAN_GROUPS`` groups a read), from the first row asked to the last, and nothing
    of the groups between runs; ``iter_posting_columns`` reads the file ``LISTED_GROUPS`` groups at
    a time. Either gives the rows a read of the whole file gives, in order."""
    monkeypatch.setattr(rawstore, "ROW_GROUP_ROWS", 4)
    monkeypatch.setattr(rawstore, "SCAN_GROUPS", 3)
    monkeypatch.setattr(rawstore, "LISTED_GROUPS", 4)
    _, _, partition = acme_partition(tmp_path, monkeypatch)  # 60 rows: 15 row groups of 4
    assert partition.row_group_sizes() == [4] * 15
    whole = partition.read_postings()
    thin = [c for c in whole.columns if c != "description"]
    reads: list[tuple[int, int]] = []
    scan = RawPartition._scan

    def recorded(self, columns, first, count):
        reads.append((first, count))
        return scan(self, columns, first, count)

    monkeypatch.setattr(RawPartition, "_scan", recorded)
    for rows, expected in (
        ([1, 2, 5, 9, 10], [(1, 10)]),  # groups 0-2: one read
        ([1, 30, 31, 58], [(1, 1), (30, 2), (58, 1)]),  # groups 0, 7 and 14: one read each, none between
        (list(range(0, 60, 2)), [(0, 11), (12, 11), (24, 11), (36, 11), (48, 11)]),  # 15 neighbours, 3 at a time
    ):
        reads.clear()
        got = partition.read_posting_rows(rows, thin)
        assert reads == expected
        assert got.equals(whole.select(thin)[rows])
    reads.clear()
    batches = list(partition.iter_posting_columns(["source_job_id", "title"]))
    assert [b.height for b in batches] == [16, 16, 16, 12] and reads == [(0, 16), (16, 16), (32, 16), (48, 12)]
    assert pl.concat(batches).equals(whole.select("source_job_id", "title"))


def test_a_partition_written_before_lazy_reads_syncs_in_slices_to_the_same_store(tmp_path, monkeypatch):
    """A partition of the older layout (unsorted, one row group, as ``write_parquet`` left it) is
    read whole once, not once per slice, and its slices leave the one-shot sync's store."""
    monkeypatch.setattr(source_module, "LAZY_ROW_GROUP_MAX", 8)  # the 60-row group counts as big
    day, outcomes, partition = acme_partition(tmp_path, monkeypatch, RecordingPartition)
    postings_frame(day).write_parquet(partition.postings_path, compression="zstd")  # the older layout
    RecordingPartition.reads = []
    old = get_engine(f"sqlite:///{tmp_path}/old.db")
    create_schema(old)
    sync_raw_partition(old, "greenhouse", DAYS[0].isoformat(), partition)
    assert [name for name, _ in RecordingPartition.reads] == ["read_postings"]

    assert_one_shot_store(old, [day], outcomes, tmp_path)


@pytest.mark.parametrize("slice_above", ["0", "1000"])
def test_a_sync_reads_only_the_descriptions_it_writes(tmp_path, monkeypatch, slice_above):
    """The next day's sync of the same 60 postings, in slices or in one plan, changes no content:
    it reads no description from disk (the digests are stored beside them); a day that rewrites 3
    of them reads those 3 only. Both leave the one-shot sync's store."""
    monkeypatch.setattr(rawstore, "ROW_GROUP_ROWS", 4)
    monkeypatch.setenv("JOBPIPELINE_SYNC_SLICE_JOBS", "10")
    monkeypatch.setenv("JOBPIPELINE_SYNC_SLICE_ABOVE", slice_above)
    day = acme_day()
    outcomes = [BoardOutcome(source="greenhouse", board="acme", ok=True)]
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    changed = [dataclasses.replace(p, description=p.description + " Now remote.") if int(p.source_job_id) % 20 == 7 else p for p in day]
    read_per_day = []
    for seen_on, postings in zip(DAYS[:3], (day, day, changed), strict=True):
        partition = RecordingPartition.at(tmp_path / "raw", "greenhouse", seen_on.isoformat())
        partition.write(postings_frame(postings), [o.as_json() for o in outcomes], {})
        RecordingPartition.reads = []
        result = sync_raw_partition(engine, "greenhouse", seen_on.isoformat(), partition)
        read_per_day.append(sum(count for name, count in RecordingPartition.reads if name != "read_posting_columns"))
    assert (result.changed, read_per_day) == (3, [60, 0, 3])
    assert_one_shot_store(engine, [day, day, changed], outcomes, tmp_path)


def test_a_days_new_and_rewritten_descriptions_come_from_one_pass_over_the_row_groups(tmp_path, monkeypatch):
    """A day that rewrites some jobs and adds others reads their descriptions in one pass: each row
    group of the partition once, though most hold both kinds (read once for the new jobs and again
    for the rewritten ones, a million postings' day read its 489 row groups 1,139 times). The store
    is the one-shot sync's."""
    monkeypatch.setattr(rawstore, "ROW_GROUP_ROWS", 4)
    monkeypatch.setenv("JOBPIPELINE_SYNC_SLICE_ABOVE", "1000")  # one plan: a sliced sync makes one pass per slice
    day = acme_day()
    outcomes = [BoardOutcome(source="greenhouse", board="acme", ok=True)]
    # Day 2: every third posting rewritten, and a new posting beside each of the others.
    changed = [dataclasses.replace(p, description=p.description + " Now remote.") if int(p.source_job_id) % 3 == 0 else p for p in day]
    added = [
        dataclasses.replace(p, source_job_id=f"{p.source_job_id}b", title=f"Analyst {p.source_job_id}")
        for p in day
        if int(p.source_job_id) % 3
    ]
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    for seen_on, postings in zip(DAYS[:2], (day, changed + added), strict=True):
        partition = RecordingPartition.at(tmp_path / "raw", "greenhouse", seen_on.isoformat())
        partition.write(postings_frame(postings), [o.as_json() for o in outcomes], {})
        RecordingPartition.groups = []
        result = sync_raw_partition(engine, "greenhouse", seen_on.isoformat(), partition)
    assert (result.new, result.changed) == (len(added), 20)
    kinds = [
        "new" if key.endswith("b") else "rewritten" if int(key) % 3 == 0 else None
        for key in sorted(p.source_job_id for p in changed + added)
    ]
    groups = [set(kinds[start : start + 4]) - {None} for start in range(0, len(kinds), 4)]  # the file's row groups
    assert sum(1 for kind in groups if kind == {"new", "rewritten"}) > len(groups) // 2
    assert RecordingPartition.groups == [number for number, kind in enumerate(groups) if kind]  # each group once, in order
    assert_one_shot_store(engine, [day, changed + added], outcomes, tmp_path)


def test_a_sync_parses_the_partitions_footer_once_and_a_partition_written_again_afresh(tmp_path, monkeypatch):
    """A sliced sync opens the raw partition's file for every slice's rows and every batch of
    descriptions; the footer (8.8 ms at a million postings) is parsed once per version of the file.
    A partition written again is a new file: its footer is parsed again and its rows are read."""
    parsed: list[str] = []

    class CountingFile(pq.ParquetFile):
        def __init__(self, source, *args, metadata=None, **kwargs):
            if metadata is None:
                parsed.append(Path(source).name)
            super().__init__(source, *args, metadata=metadata, **kwargs)

    def counting_metadata(where, *args, **kwargs):
        parsed.append(Path(where).name)
        return read_metadata(where, *args, **kwargs)

    read_metadata = pq.read_metadata
    monkeypatch.setattr(pq, "ParquetFile", CountingFile)
    monkeypatch.setattr(pq, "read_metadata", counting_metadata)
    monkeypatch.setattr(rawstore, "ROW_GROUP_ROWS", 4)
    day, outcomes, partition = acme_partition(tmp_path, monkeypatch)
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    parsed.clear()
    assert sync_raw_partition(engine, "greenhouse", DAYS[0].isoformat(), partition).new == 60
    assert parsed == ["postings.parquet"]

    renamed = [dataclasses.replace(p, title=p.title.replace("Engineer", "Analyst")) for p in day[:30]]
    partition.write(postings_frame(renamed), [o.as_json() for o in outcomes], {})  # the day scraped again
    parsed.clear()
    result = sync_raw_partition(engine, "greenhouse", DAYS[0].isoformat(), partition)
    assert parsed == ["postings.parquet"]
    assert (result.postings, result.changed) == (30, 30)  # the new file's rows: the titles of its 30 postings changed


@pytest.mark.parametrize("written", ["hashed", "digested"])
def test_a_sliced_sync_keys_and_hashes_each_posting_at_most_once(tmp_path, monkeypatch, written):
    """The dedup keys the cut computes for a partition go with each slice's rows into its plan,
    which does not compute them again: 62 postings, 62 keys hashed, in slices as in one plan; and
    every job's content hashed once. A partition as written now stores each posting's key and
    hash: its sync keys none, and hashes only the jobs not of one posting with its own location
    (a job of two postings, one of two locations)."""
    hashed: dict[str, list[int]] = {"keys": [], "contents": []}
    real_keys, real_contents = normalize.dedup_keys, normalize.content_hashes

    def counting_keys(frame, digests=None):
        hashed["keys"].append(frame.height)
        return real_keys(frame, digests)

    def counting_contents(frame, digests=None):
        hashed["contents"].append(frame.height)
        return real_contents(frame, digests)

    day = [
        *acme_day(),
        Posting(
            source="greenhouse", board="acme", source_job_id="100", company="Acme", title="Engineer 0", description=f"{DESCRIPTIONS[0]} 0"
        ),
        Posting(source="greenhouse", board="acme", source_job_id="101", company="Acme", title="Lead", locations=["Paris", "Berlin"]),
    ]
    outcomes = [BoardOutcome(source="greenhouse", board="acme", ok=True)]
    for slice_above in ("0", "1000"):
        monkeypatch.setenv("JOBPIPELINE_SYNC_SLICE_JOBS", "10")
        monkeypatch.setenv("JOBPIPELINE_SYNC_SLICE_ABOVE", slice_above)
        partition = RawPartition.at(tmp_path / f"raw-{slice_above}", "greenhouse", DAYS[0].isoformat())
        partition.write(postings_frame(day), [o.as_json() for o in outcomes], {})
        if written == "digested":
            drop_hashes(partition)
        engine = get_engine(f"sqlite:///{tmp_path}/store-{slice_above}.db")
        create_schema(engine)
        with monkeypatch.context() as counting:
            counting.setattr(normalize, "dedup_keys", counting_keys)
            counting.setattr(slices_module, "dedup_keys", counting_keys)
            counting.setattr(normalize, "content_hashes", counting_contents)
            hashed["keys"].clear()
            hashed["contents"].clear()
            result = sync_raw_partition(engine, "greenhouse", DAYS[0].isoformat(), partition)
        keys, contents = (0, 2) if written == "hashed" else (62, 61)
        assert (result.postings, result.new, sum(hashed["keys"]), sum(hashed["contents"])) == (62, 61, keys, contents), slice_above
        assert_one_shot_store(engine, [day], outcomes, tmp_path / f"one-shot-{slice_above}")


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=40))
def test_the_cuts_sorted_helpers_give_what_polars_hashed_ones_give(pairs):
    """The cut keeps every key of a partition in frames at once (a million at a time), so it finds
    distinct rows by sorting (``distinct_rows``), works on keys as numbers (``as_number``) and hands
    each slice its rows of one frame (``rows_by_slice``, read through ``SliceRows``); each gives
    what the hashed polars operations, the strings and ``partition_by`` gave."""
    frame = pl.DataFrame(pairs, schema={"dedup_key": pl.Int64, "job_id": pl.Int64}, orient="row")
    assert slices_module.distinct_rows(frame, ["dedup_key", "job_id"]).rows() == sorted(set(pairs))

    slices = frame.select("dedup_key").unique().with_columns(slice=pl.col("dedup_key") % 3)
    rows = frame.with_row_index("row")
    views = {
        number: slices_module.SliceRows(rows, numbers).read()
        for number, numbers in slices_module.rows_by_slice(rows.get_column("dedup_key"), slices).items()
    }
    expected = rows.join(slices, on="dedup_key", maintain_order="left").partition_by("slice", as_dict=True, include_key=False)
    assert {number: view.rows() for number, view in views.items()} == {key[0]: part.rows() for key, part in expected.items()}


def test_dedup_keys_as_numbers_spell_back_and_sort_as_their_strings():
    keys = sorted(
        [
            *normalize.dedup_keys(postings_frame([posting(i % 2, str(i), i % 2, i % 3, i % 2) for i in range(12)])),
            "0000000000000001",
            "ffffffffffffffff",
        ]
    )
    numbers = pl.DataFrame({"dedup_key": keys}).select(slices_module.as_number("dedup_key")).to_series()
    assert numbers.dtype == pl.UInt64 and [f"{n:016x}" for n in numbers.to_list()] == keys
    assert numbers.to_list() == sorted(numbers.to_list())


@given(st.lists(st.integers(0, 12), max_size=60), st.integers(1, 10))
def test_batches_found_by_binary_search_are_the_greedy_loops(sizes, limit):
    """``batch_numbers`` packs a million components without a Python int each: it gives what the
    greedy loop gave, zero sizes and oversized items included."""
    numbers, current, filled = [], 0, 0
    for size in sizes:
        if filled and filled + size > limit:
            current, filled = current + 1, 0
        numbers.append(current)
        filled += size
    assert slices_module.batch_numbers(sizes, limit).tolist() == numbers


@given(st.lists(st.integers(0, 9), min_size=1, max_size=40, unique=True), st.data(), st.integers(1, 6))
def test_components_packed_by_sorting_are_packed_as_by_a_hashed_group_by(keys, data, slice_jobs):
    """``pack`` finds each component's size and first canonical posting by sorting; it gives each
    key the slice the hashed group-by and join gave."""
    ranks = data.draw(st.permutations(range(len(keys))))
    components = pl.DataFrame(
        {"dedup_key": keys, "rank": ranks, "component": [data.draw(st.sampled_from(keys[: i + 1])) for i in range(len(keys))]},
        schema={"dedup_key": pl.UInt64, "rank": pl.UInt32, "component": pl.UInt64},
    )
    sizes = components.group_by("component").agg(size=pl.len(), rank=pl.col("rank").min()).sort("rank")
    sizes = sizes.with_columns(slice=pl.Series(slices_module.batch_numbers(sizes["size"].to_list(), slice_jobs), dtype=pl.Int64))
    expected = components.join(sizes, on="component").select("dedup_key", "slice")
    assert sorted(slices_module.pack(components, slice_jobs).rows()) == sorted(expected.rows())


def test_keys_and_hashes_stored_by_another_version_of_them_are_made_again(tmp_path, monkeypatch):
    """A partition whose footer marks its keys and hashes as made by another ``HASHES_VERSION``
    (here: every stored one wrong) is keyed and hashed on read: its sync leaves the store the
    one-shot sync of its postings leaves; as written now, the stored ones are taken."""
    day, outcomes, partition = acme_partition(tmp_path, monkeypatch)
    assert partition.has_hashes()
    table = pq.read_table(partition.postings_path)
    wrong = table.set_column(
        table.schema.get_field_index(rawstore.HASH_COLUMN), rawstore.HASH_COLUMN, pa.array(["0" * 32] * table.num_rows, pa.large_string())
    ).set_column(
        table.schema.get_field_index(rawstore.KEY_COLUMN), rawstore.KEY_COLUMN, pa.array(["0" * 16] * table.num_rows, pa.large_string())
    )
    pq.write_table(
        wrong.replace_schema_metadata({rawstore.HASHES_KEY: b"0"}), partition.postings_path, row_group_size=rawstore.ROW_GROUP_ROWS
    )
    assert not partition.has_hashes()
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    result = sync_raw_partition(engine, "greenhouse", DAYS[0].isoformat(), partition)
    assert (result.postings, result.new) == (60, 60)
    assert_one_shot_store(engine, [day], outcomes, tmp_path)
