"""Sync one partition's postings into the store: new, changed, unchanged and vanished jobs.

Everything a sync writes is a function of the set of partitions synced so far, not of their order,
so a backfill of last month after today's run leaves the same store as a date-ordered run:

- ``first_seen`` / ``last_seen`` are the min / max partition dates a job (or posting) was seen on.
- A job's content comes from its canonical posting, the smallest (source, board, source_job_id)
  among all its postings, as seen on that posting's latest partition; ``updated_at`` is the
  earliest date its current hash was seen.
- A posting's ``closed_at`` is the first *successful* scrape of its board after its ``last_seen``
  (recorded in ``board_scrape``); a job is closed when all its postings are, and reopens if seen again.
  A posting a successful scrape listed but could not read (its id in ``board_scrape_skipped``)
  counts as seen that day for closing only: ``closed_at`` follows the later of ``last_seen`` and its
  latest skipped day, while ``last_seen`` and the content stay as last read (a skip is no sighting
  of content). Skips are kept per (board, day) even for postings not stored yet, so a backfill that
  stores the posting later closes it as a date-ordered run would.
- Jobs carrying user data (favorite, notes, status) keep their content: a sync moves only their
  timestamps, and records the newer hash in ``job_hash_history``.
- A posting stays with its job once seen there, and postings seen as one job in any partition stay
  one job: when a partition's group spans postings of several jobs (one posting was rewritten apart
  from the others and synced first), those jobs merge: into the one with user data if any, else
  the one whose canonical posting is smallest. Jobs with user data are never dropped or rewritten,
  so two of them stay apart.

How it is built: ``slices.py`` cuts a partition bigger than ``Settings.sync_slice_jobs`` (on by
default) into slices of whole jobs, planned and written one after another (then one closing pass);
``source.py`` reads a raw partition lazily (keys and description digests first, then each slice's
rows without their descriptions, then only the descriptions of the jobs it writes, as it writes
them), so no plan holds a description; ``plan.py`` decides, in polars,
what a partition changes (a ``SyncPlan`` of frames: new jobs, rewrites, restamps, posting changes,
merges, closings), reading the store only through ``StoreState`` for the keys it needs;
``apply.py`` writes a plan (restamps as UPDATEs over runs of keys: ``apply.restamp``);
``fast_sql.py`` holds the SQLite fast paths both use (literal selects, driver executemany, JSON
rendering, ``set_where_in``) and why; ``read_ahead.py`` reads a big partition's slices'
stored rows in a child process, on the other core, ahead of their plans. One transaction
per sync (``BEGIN IMMEDIATE`` on SQLite), taken before the first read, so the plan's view of the
store and its new job ids hold until it is written.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime

import polars as pl
import sqlalchemy as sa

from jobpipeline import settings
from jobpipeline.lib.changes import change_frame, record_change
from jobpipeline.lib.memory import release_freed_memory
from jobpipeline.lib.postings import POSTING_SCHEMA, BoardOutcome, BoardOutcomes
from jobpipeline.lib.store import SQLITE_CACHE_KIB, sync_page_cache, writer
from jobpipeline.lib.sync import read_ahead
from jobpipeline.lib.sync import slices as slicing
from jobpipeline.lib.sync.apply import JOB, POSTING, apply_plan, record_scrapes
from jobpipeline.lib.sync.fast_sql import bulk_update, chunks
from jobpipeline.lib.sync.plan import (
    ALIAS,
    MOVE_SCHEMA,
    POSTING_JOB_SCHEMA,
    DayScrapes,
    Scope,
    StoreState,
    SyncPlan,
    plan_job_closings,
    plan_posting_closings,
    plan_sync,
    skipped_ids,
)
from jobpipeline.lib.sync.slices import AfterWrites, cut_into_slices, posting_keys
from jobpipeline.lib.sync.source import FramePostings, PartitionPostings, Postings
from jobpipeline.lib.sync.state import DatabaseState, FrameState
from jobpipeline.lib.sync.write_behind import WriteBehind


@dataclass
class SyncResult:
    postings: int = 0  # postings in the partition
    jobs: int = 0  # distinct jobs after dedup
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    frozen: int = 0  # changed upstream but kept as the user saw it
    closed: int = 0
    reopened: int = 0
    merged: int = 0  # jobs folded into another job they turned out to be
    unmerged: int = 0  # jobs left apart although one group spans them: two of them carry user data
    # Jobs inserted or rewritten, as 8-byte ints: a cold million as a list of Python ints held ~40 MB
    # more through the whole sync.
    touched_ids: array[int] = field(default_factory=lambda: array("q"), repr=False)

    @classmethod
    def of(cls, plan: SyncPlan) -> SyncResult:
        """What ``plan`` does, counted."""
        changed = plan.rewrites.filter(pl.col("content_changed")).height
        return cls(
            postings=plan.postings,
            jobs=plan.jobs,
            new=plan.new_jobs.height,
            changed=changed,
            unchanged=plan.existing_jobs - changed - len(plan.frozen_ids),
            frozen=len(plan.frozen_ids),
            closed=closed_jobs(plan.job_closings),
            reopened=reopened_jobs(plan.job_closings),
            merged=plan.merged_into.height,
            unmerged=plan.unmerged,
            touched_ids=array("q", plan.touched_ids),
        )

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "touched_ids"}

    def add(self, other: SyncResult) -> None:
        for name, value in other.as_dict().items():
            setattr(self, name, getattr(self, name) + value)
        self.touched_ids.extend(other.touched_ids)


def closed_jobs(job_closings: pl.DataFrame) -> int:
    """Jobs of ``job_closings`` (``SyncPlan.job_closings``) that were open and close."""
    return job_closings.filter(pl.col("was_closed_at").is_null()).height


def reopened_jobs(job_closings: pl.DataFrame) -> int:
    """Jobs of ``job_closings`` that were closed and open again."""
    return job_closings.filter(pl.col("closed_at").is_null()).height


def sync_postings(
    engine: sa.Engine,
    postings: pl.DataFrame | Postings,
    *,
    seen_on: date,
    outcomes: Sequence[BoardOutcome] | BoardOutcomes,
    now: datetime | None = None,
    slice_jobs: int | None = None,
) -> SyncResult:
    """Sync ``postings`` (``POSTING_SCHEMA`` rows: a frame, or ``source.PartitionPostings`` to read a
    raw partition lazily) seen on ``seen_on`` into the store.

    ``outcomes`` are the partition's boards, each recorded in ``board_scrape``. The successful ones
    (``ok``) count as scraped: their postings missing from ``postings`` count as vanished, and their
    ``skipped_ids`` (listed, but unreadable) are not vanished, so not closed from this day (their
    content stays as last read). Failed boards close nothing.

    A partition of more than ``slice_jobs`` postings (0: one plan) is planned and written in slices
    of at most that many jobs (``slices.py``), in the same one transaction and to the same store as
    one plan of it all (a job the store knows weighs ``slices.KNOWN_WEIGHT`` of a new one's
    ``slices.NEW_WEIGHT`` in a slice). Unset, the settings decide: slices of ``Settings.sync_slice_jobs`` jobs for
    a partition of more than ``Settings.sync_slice_above`` postings (smaller ones gain no memory
    from slices and pay their CPU).
    """
    synced_at = now or datetime.now(UTC)
    outcomes = BoardOutcomes.of(outcomes)
    slice_above = slice_jobs
    if slice_jobs is None:
        current = settings.current()
        slice_jobs, slice_above = current.sync_slice_jobs, max(current.sync_slice_jobs, current.sync_slice_above)
    postings = FramePostings(postings) if isinstance(postings, pl.DataFrame) else postings
    try:
        with writer(engine).begin() as conn, sync_page_cache(conn, postings.height) as for_index_writes:
            state = DatabaseState(conn)
            if not slice_jobs or postings.height <= slice_above:  # no slicing, or a partition too small to gain: one plan
                plan = plan_sync(postings.whole(), state, seen_on=seen_on, outcomes=outcomes, synced_at=synced_at)
                write_plan(conn, plan, postings, for_index_writes)
                return SyncResult.of(plan)
            return sync_in_slices(
                conn,
                state,
                postings,
                seen_on=seen_on,
                outcomes=outcomes,
                synced_at=synced_at,
                slice_jobs=slice_jobs,
                for_index_writes=for_index_writes,
            )
    finally:
        # What the sync freed goes back to the system, not only to the allocator: a process that
        # syncs partition after partition kept ~100 MB of each 300k-posting one (``lib/memory.py``).
        release_freed_memory()


def write_plan(conn: sa.Connection, plan: SyncPlan, postings: Postings, for_index_writes: Callable[[], None]) -> None:
    """``apply_plan``, first calling ``for_index_writes`` (``sync_page_cache``'s: the page cache
    grows to the store's size) when the plan writes index keys."""
    if plan.writes_index_keys:
        for_index_writes()
    apply_plan(conn, plan, postings)


def sync_in_slices(
    conn: sa.Connection,
    state: DatabaseState,
    postings: Postings,
    *,
    seen_on: date,
    outcomes: BoardOutcomes,
    synced_at: datetime,
    slice_jobs: int,
    for_index_writes: Callable[[], None],
) -> SyncResult:
    """``sync_postings``'s work slice by slice inside its transaction (the boards' scrapes
    recorded first), then the closing pass (``close_in_batches``: every ``closed_at``, with the
    jobs the slices' merges grew). ``for_index_writes``: as ``write_plan`` takes it."""
    ahead = read_ahead.for_sync(conn, postings.height)  # the slices' store reads, in a child, ahead of them
    try:
        keyed = posting_keys(postings.listed())  # the listed columns are dropped once keyed
        boards = sorted(set(keyed.select("source", "board").unique().iter_rows()))
        scope = sorted(outcomes.ok_boards() | set(boards))
        result, regrown = SyncResult(), []
        slices = cut_into_slices(keyed, state, slice_jobs=slice_jobs, posting_jobs=ahead.posting_jobs if ahead is not None else None)
        # The stored postings of each of the partition's boards, counted as the cut read them: the
        # closing pass sizes its batches by them (with the postings the slices add), where it read
        # them again (a 700k-posting source's 50,000 boards: 0.4 s).
        sizes = BoardSizes(ahead.stored_per_board(), boards) if ahead is not None else None
        row_keys = keyed.get_column("dedup_key")  # keyed once: each slice's plan takes its rows' keys from here
        del keyed
        if ahead is not None and not ahead.plan([part.state.known_jobs for part in slices]):
            ahead = None
        behind = WriteBehind(conn)  # the slices' statements run on a writer thread, behind their planning
        try:
            # The day's scrapes first, on the writer thread while the first slice is planned (the
            # closing pass, on one core, had waited 0.23-0.35 s for a 50,000-board source's): no
            # slice reads them (a slice plans no closings), and the closing pass comes after every
            # queued write.
            behind.call(lambda writing: record_scrapes(writing, seen_on, outcomes, skipped_ids(outcomes)))
            with store_as_it_was(conn, behind) as before:
                for number, part in enumerate(slices):
                    rows = postings.rows(part.rows).with_columns(row_keys.gather(part.rows))
                    part.state.read_ahead(functools.partial(ahead.take, number) if ahead is not None else None)
                    part.state.store = before
                    plan = plan_sync(rows, part.state, seen_on=seen_on, outcomes=outcomes, synced_at=synced_at, closings=False)
                    part.state.read_ahead(None)
                    write_plan(behind, plan, postings, lambda: behind.call(lambda _: for_index_writes()))
                    result.add(SyncResult.of(plan))
                    regrown.extend(plan.merged_into["survivor_id"].unique().to_list())
                    if sizes is not None:
                        sizes.add(plan.new_postings)
                    del plan, rows
            behind.wait()
        finally:
            behind.close()
    finally:
        if ahead is not None:
            ahead.close()
    result.add(
        close_in_batches(
            conn,
            state,
            scope=scope,
            seen_on=seen_on,
            outcomes=outcomes,
            synced_at=synced_at,
            regrown_jobs=regrown,
            batch=slicing.POSTING_BATCH,
            sizes=sizes,
        )
    )
    return result


class BoardSizes:
    """Stored postings per board after a sliced sync's slices, from what it read before them
    (``stored``: source, board, len; the boards of ``counted``, a board with no stored posting
    absent) and the postings its slices added (``add``): a sync neither deletes a posting nor
    moves one to another board. ``of(scope)`` reads the boards of ``scope`` not counted."""

    def __init__(self, stored: pl.DataFrame, counted: Scope) -> None:
        self.counted = set(counted)
        self.parts = [stored.select("source", "board", pl.col("len").cast(pl.Int64))]

    def add(self, new_postings: pl.DataFrame) -> None:
        if not new_postings.is_empty():
            self.parts.append(new_postings.group_by("source", "board").len().with_columns(pl.col("len").cast(pl.Int64)))

    def of(self, scope: Scope, state: DatabaseState) -> dict[tuple[str, str], int]:
        totals = pl.concat(self.parts).group_by("source", "board").agg(pl.col("len").sum())
        known = {(source, board): n for source, board, n in totals.iter_rows()}
        others = [board for board in scope if board not in self.counted]  # ok boards the partition lists nothing of
        return (state.postings_per_board(others) if others else {}) | {
            board: known.get(board, 0) for board in scope if board in self.counted
        }


READER_CACHE_KIB = 2_048  # page cache of the connection that reads the store as it was before the sync


@contextmanager
def store_as_it_was(conn: sa.Connection, behind: WriteBehind) -> Iterator[StoreState]:
    """What the slices' plans read of the store beyond what the read-ahead brings (the hash
    histories of the jobs they rewrite, the jobs a merge joins; every read of a partition too small
    for the read-ahead): the store as it was before the sync. On a SQLite file through a second
    connection, which sees exactly that (``read_ahead``'s docstring) and reads beside the writer
    thread, with a small page cache of its own; elsewhere through the sync's own connection, once
    the writes queued before the read have run (``slices.AfterWrites``)."""
    if read_ahead.store_file(conn) is None:
        yield AfterWrites(DatabaseState(conn), behind.wait)
        return
    with conn.engine.connect().execution_options(store_writer=False) as reader:  # BEGIN, not IMMEDIATE: a reader
        reader.exec_driver_sql(f"PRAGMA cache_size=-{READER_CACHE_KIB}")
        try:
            yield DatabaseState(reader)
        finally:
            reader.rollback()
            reader.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # as the pool gave it


def close_in_batches(
    conn: sa.Connection,
    state: DatabaseState,
    *,
    scope: Scope,
    seen_on: date,
    outcomes: BoardOutcomes,
    synced_at: datetime,
    regrown_jobs: Sequence[int],
    batch: int,
    sizes: BoardSizes | None = None,
) -> SyncResult:
    """The sliced sync's closing pass, after its slices and the day's scrapes (``record_scrapes``,
    queued before them) are written: ``closed_at`` of the postings of ``scope``, boards of at most
    ``batch`` stored postings at a time (a posting's closing depends on its own board alone), then
    of the jobs they belong to and of ``regrown_jobs`` (merge survivors of the slices), ``batch``
    jobs at a time, from their postings as now written. The store and the counts are one closing
    plan's of every board at once; the memory follows the batch, not the partition. Counts only
    closings and reopenings.
    ``sizes``: the boards' stored postings where the sync counted them (else read here)."""
    scrapes = DayScrapes.of(outcomes, seen_on)  # once: each batch of boards reads it
    skipped = skipped_ids(outcomes)
    touched = set(regrown_jobs)
    scraped_after = set(state.successful_scrape_days(scope, seen_on).select("source", "board").iter_rows())
    for boards in board_batches(state.postings_per_board(scope) if sizes is None else sizes.of(scope, state), batch):
        aliases = state.postings_to_close(boards, seen_on, scraped_after).select(*ALIAS, "job_id", "last_seen", "closed_at")
        closings = plan_posting_closings(aliases, boards, state, scrapes=scrapes, skipped=skipped)
        bulk_update(conn, POSTING, closings.drop("job_id"), ALIAS)
        touched.update(closings["job_id"].to_list())
    result, nothing = SyncResult(), pl.DataFrame(schema=POSTING_JOB_SCHEMA)
    stamp = pl.lit(synced_at).dt.replace_time_zone("UTC").alias("synced_at")
    for job_ids in chunks(sorted(touched), batch):
        closings = plan_job_closings(
            job_ids, state, posting_closings=nothing, new_postings=nothing, merged_into=pl.DataFrame(schema=MOVE_SCHEMA), new_job_ids=[]
        )
        bulk_update(conn, JOB, closings.select("id", "closed_at", stamp), ["id"])
        record_change(conn, "sync", [change_frame("closed", closings, id="id", closed_at="closed_at")])
        result.closed += closed_jobs(closings)
        result.reopened += reopened_jobs(closings)
    return result


def board_batches(sizes: dict[tuple[str, str], int], batch: int) -> list[Scope]:
    """The boards of ``sizes`` (stored postings per board), in order, packed into batches of at most
    ``batch`` postings; a bigger board is a batch alone."""
    boards = sorted(sizes)
    batches: list[Scope] = []
    for board, number in zip(boards, slicing.batch_numbers([sizes[b] for b in boards], batch), strict=True):
        if number == len(batches):
            batches.append([])
        batches[-1].append(board)
    return batches


def record_board_outcomes(engine: sa.Engine, seen_on: date, outcomes: Sequence[BoardOutcome] | BoardOutcomes) -> int:
    """Record board outcomes in ``board_scrape`` without syncing postings: how a partition whose
    every board failed (it syncs nothing) still shows its outage to ``scrape_health`` and the checks.
    Failed boards close nothing; a later successful scrape of the day overwrites these rows."""
    with writer(engine).begin() as conn:
        record_scrapes(conn, seen_on, outcomes)
    return len(outcomes)


def close_ended_board(engine: sa.Engine, source: str, board: str, closed_on: date, now: datetime | None = None) -> SyncResult:
    """Record that ``board`` is over as of ``closed_on``: a successful scrape that day that listed
    nothing, so every posting of it closes then (unless another board keeps its job open).

    A finished HN month is such a board: its thread counts as scraped empty on the 1st of the next
    month. The result counts only closings (and reopenings)."""
    ended = BoardOutcome(source=source, board=board, ok=True)
    return sync_postings(engine, pl.DataFrame(schema=POSTING_SCHEMA), seen_on=closed_on, outcomes=[ended], now=now)


__all__ = [
    "FramePostings",
    "FrameState",
    "PartitionPostings",
    "Postings",
    "SyncPlan",
    "SyncResult",
    "close_ended_board",
    "plan_sync",
    "record_board_outcomes",
    "sync_postings",
]
