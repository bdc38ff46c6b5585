"""Write a ``SyncPlan`` into the store, inside the caller's transaction: every statement is a bulk
insert or update of a plan frame (``fast_sql``), in the order foreign keys need (merged jobs'
postings move before their rows go; new jobs exist before their postings)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import date

import polars as pl
import sqlalchemy as sa

from jobpipeline.lib.changes import change_frame, record_change
from jobpipeline.lib.postings import BoardOutcome, BoardOutcomes
from jobpipeline.lib.store import BoardScrape, BoardScrapeSkipped, Job, JobHashHistory, JobPosting, JobText, mark_for_search_index
from jobpipeline.lib.sync.fast_sql import bulk_insert, bulk_update, bulk_upsert, chunks, set_where_in, upsert_history
from jobpipeline.lib.sync.plan import ALIAS, SyncPlan
from jobpipeline.lib.sync.source import Postings
from jobpipeline.lib.sync.write_behind import WriteBehind

JOB = Job.__table__
TEXT = JobText.__table__
POSTING = JobPosting.__table__
HISTORY = JobHashHistory.__table__
SCRAPE = BoardScrape.__table__
SKIPPED = BoardScrapeSkipped.__table__
# A sliced sync reads a slice's texts on its writer's side thread (``WriteBehind.aside``) when they
# are at most this share of the slice's jobs, as on a day (6 % at 3.5 M open postings: the 700k
# source's sync 17.6 against 18.4 s, median of six); a first sync's slices (every job new) read
# theirs in order on the sync's thread, as before: beside it, the 3.5 M first day ran slower in two
# pairs (254.9 / 265.5 against 222.2 / 251.5 s, 270 / 273 against 232 / 254 CPU-s).
ASIDE_TEXTS_SHARE = 0.25


def apply_plan(conn: sa.Connection, plan: SyncPlan, postings: Postings | None = None) -> None:
    """Write everything ``plan`` changes; the caller's transaction makes it all or nothing.
    ``postings``: what the plan was made of, whose ``texts`` read the descriptions of a plan of thin
    postings (``text_row`` in its texts) as they are written."""
    record_scrapes(conn, plan.seen_on, plan.outcomes, plan.skipped)
    synced_at = pl.lit(plan.synced_at).dt.replace_time_zone("UTC").alias("synced_at")

    if not plan.merged_into.is_empty():
        bulk_update(conn, JOB, plan.merge_spans, ["id"])
        conn.execute(
            POSTING.update().where(POSTING.c.job_id == sa.bindparam("loser")).values(job_id=sa.bindparam("survivor")),
            [{"loser": loser, "survivor": survivor} for loser, survivor in plan.merged_into.iter_rows()],
        )
        for chunk in chunks(sorted(plan.merged_into["job_id"].to_list())):
            for table, column in ((HISTORY, HISTORY.c.job_id), (TEXT, TEXT.c.job_id), (JOB, JOB.c.id)):
                conn.execute(table.delete().where(column.in_(chunk)))

    bulk_insert(conn, JOB, plan.new_jobs)
    upsert_history(conn, plan.hash_history)
    bulk_update(conn, JOB, plan.rewrites.drop("content_changed").with_columns(synced_at), ["id"])
    if isinstance(conn, WriteBehind) and reads_texts(plan) and texts_share(plan) <= ASIDE_TEXTS_SHARE:  # behind the jobs' rows
        conn.aside(functools.partial(write_texts, conn, plan.new_texts, plan.rewritten_texts, postings))
    else:
        write_texts(conn, plan.new_texts, plan.rewritten_texts, postings)
    restamp(conn, JOB, plan.restamps, "id", plan.seen_on, synced_at)

    bulk_insert(conn, POSTING, plan.new_postings)
    # A posting seen again with its hash unchanged is restamped by its rowid; the others (a new
    # hash, or a store without rowids) by their key, a row each.
    by_rowid = pl.col("rowid").is_not_null() & ~pl.col("rehashed")
    restamp(conn, POSTING, plan.seen_postings.filter(by_rowid).select("rowid", "first_seen", "last_seen"), "rowid", plan.seen_on)
    bulk_update(conn, POSTING, plan.seen_postings.filter(~by_rowid).select(*ALIAS, "first_seen", "last_seen", "content_hash"), ALIAS)
    bulk_update(conn, POSTING, plan.posting_closings, ALIAS)
    bulk_update(conn, JOB, plan.job_closings.select("id", "closed_at", synced_at), ["id"])
    if plan.touched_ids:  # refreshed after the commit, or by the next sync
        marks = functools.partial(mark_for_search_index, job_ids=plan.touched_ids)  # reads whether the store keeps the index
        if isinstance(conn, WriteBehind):
            conn.call(marks, len(plan.touched_ids))
        else:
            marks(conn)
    record_change(conn, "sync", plan_changes(plan))


def texts_share(plan: SyncPlan) -> float:
    """The texts ``plan`` writes, per job it holds."""
    return (plan.new_texts.height + plan.rewritten_texts.height) / max(plan.jobs, 1)


def reads_texts(plan: SyncPlan) -> bool:
    """Whether ``plan``'s texts are read from its postings as they are written (thin rows)."""
    return "text_row" in plan.new_texts.columns or "text_row" in plan.rewritten_texts.columns


def write_texts(conn: sa.Connection, new: pl.DataFrame, rewritten: pl.DataFrame, postings: Postings | None) -> None:
    """Insert the new jobs' texts and rewrite the rewritten ones' (``described_together``)."""
    for new_texts, rewritten_texts in described_together(new, rewritten, postings):
        bulk_insert(conn, TEXT, new_texts)
        bulk_update(conn, TEXT, rewritten_texts, ["job_id"])


def restamp(conn: sa.Connection, table: sa.Table, rows: pl.DataFrame, key: str, day: date, *also: pl.Expr) -> None:
    """Write ``rows``' stamps (the columns other than ``key``: dates) to ``table``'s rows by their
    integer ``key`` (``id``; a posting's ``rowid``), with ``also`` (one value each) on every row.

    The rows are grouped by which stamps moved (``moved_stamps``), and each group's rows get those
    stamps set to ``day``: a few statements over runs of keys (``set_where_in``), not a row each.
    Setting a stamp that already was ``day`` to ``day`` changes nothing."""
    moved = moved_stamps(rows, key, day)
    stamps = [c for c in moved.columns if c != key]
    masks = moved.select(key, mask=pl.sum_horizontal(pl.col(c).is_not_null().cast(pl.UInt8) * (1 << i) for i, c in enumerate(stamps)))
    for (mask,), group in sorted(masks.partition_by("mask", as_dict=True).items()):
        if not mask:
            raise ValueError(f"{table.name}: a restamp moves at least one stamp, to the day synced ({day})")
        values = pl.DataFrame({c: [day] for i, c in enumerate(stamps) if mask >> i & 1}).with_columns(*also)
        set_where_in(conn, table, values, key, group[key].to_numpy())


def moved_stamps(rows: pl.DataFrame, key: str, day: date) -> pl.DataFrame:
    """``rows``' ``key`` and each of its stamps (the other columns: their new values) as ``day``
    where it moved, NULL where it keeps its stored value. A stamp that moves moves to the day
    synced (first seen is the earlier of it and the day, last seen the later, and so on), so a
    new value other than ``day`` is the stored one."""
    return rows.select(key, *(pl.when(pl.col(c) == day).then(pl.lit(day, pl.Date)).alias(c) for c in rows.columns if c != key))


def stamp_runs(restamps: pl.DataFrame, day: date) -> pl.DataFrame:
    """The feed's ``stamped`` rows for a plan's job ``restamps`` (id, first_seen, last_seen, ...):
    one per run of consecutive ids whose first and last seen moved alike (``moved_stamps``), a
    stamp that did not move NULL. At a million open jobs a day's 946,342 restamps make 62,839 runs."""
    stamps = ("first_seen", "last_seen")
    moved = (
        moved_stamps(restamps.select("id", *stamps), "id", day)
        .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in stamps))  # else only content_seen or updated_at moved
        .sort(*stamps, "id")
    )
    starts = pl.any_horizontal(pl.col("id").diff() != 1, *(pl.col(c).ne_missing(pl.col(c).shift()) for c in stamps)).fill_null(True)
    runs = moved.group_by(starts.cum_sum().alias("run"), maintain_order=True).agg(
        pl.col("id").first(), pl.col("id").last().alias("last_id"), *(pl.col(c).first() for c in stamps)
    )
    return change_frame("stamped", runs, id="id", last_id="last_id", first_seen="first_seen", last_seen="last_seen")


def plan_changes(plan: SyncPlan) -> list[pl.DataFrame]:
    """What ``apply_plan`` writes to the job rows the analytics read, in its order (``lib/changes.py``)."""
    return [
        change_frame("gone", plan.merged_into, id="job_id"),
        change_frame("seen", plan.merge_spans, id="id", first_seen="first_seen", last_seen="last_seen"),
        change_frame("content", plan.new_jobs, id="id"),
        change_frame("content", plan.rewrites, id="id"),
        stamp_runs(plan.restamps, plan.seen_on),
        change_frame("closed", plan.job_closings, id="id", closed_at="closed_at"),
    ]


def described_together(
    new: pl.DataFrame, rewritten: pl.DataFrame, postings: Postings | None
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """The new and the rewritten jobs' texts as (job_id, description) rows, in batches of both when
    the descriptions are read from ``postings``: one pass over the raw partition's row groups for
    both. Two passes read each of a slice's row groups twice, since both kinds of job lie in all of
    them: 1,139 reads of a million postings' 489 row groups in a day's sync, ~6 ms each."""
    if "text_row" not in new.columns and "text_row" not in rewritten.columns:
        yield new, rewritten
        return
    wanted = pl.concat([new.with_columns(rewrite=pl.lit(False)), rewritten.with_columns(rewrite=pl.lit(True))])
    if wanted.is_empty():
        return
    if postings is None:
        raise ValueError("a plan of thin postings is written with the postings it was made of, to read its texts")
    for batch in postings.texts(wanted):
        yield batch.filter(~pl.col("rewrite")).drop("rewrite"), batch.filter("rewrite").drop("rewrite")


def record_scrapes(
    conn: sa.Connection, seen_on: date, outcomes: Sequence[BoardOutcome] | BoardOutcomes, skipped: pl.DataFrame | None = None
) -> None:
    """Upsert the day's ``board_scrape`` rows, and replace the day's skipped ids of those boards;
    the change feed gets the partitions (source, day) written, for the analytics to re-read.

    A day at 3.5 M open postings records 250,000 boards: the rows go as one frame (``bulk_upsert``:
    the driver's path on SQLite), and the skips are deleted only where the day has any (a re-scrape
    of the day)."""
    if not len(outcomes):  # a slice's plan: the closing pass records the partition's scrapes
        return
    stored = BoardOutcome.stored_columns()
    rows = (  # a board's last outcome, where one is given twice
        BoardOutcomes.of(outcomes)
        .frame.select("source", "board", *stored)
        .unique(["source", "board"], keep="last", maintain_order=True)
        .with_columns(scraped_on=pl.lit(seen_on))
    )
    if rows.is_empty():
        return
    bulk_upsert(conn, SCRAPE, rows, ["source", "board", "scraped_on"])
    sources = sorted(set(rows["source"]))
    record_change(conn, "scrape", [change_frame("scraped", pl.DataFrame({"source": sources, "day": seen_on}), source="source", day="day")])
    for source in sources:  # a re-scrape of the day replaces its skips
        if (
            conn.execute(sa.select(SKIPPED.c.board).where(SKIPPED.c.source == source, SKIPPED.c.scraped_on == seen_on).limit(1)).first()
            is None
        ):
            continue
        boards = sorted(rows.filter(pl.col("source") == source)["board"])
        for chunk in chunks(boards):
            conn.execute(SKIPPED.delete().where(SKIPPED.c.source == source, SKIPPED.c.scraped_on == seen_on, SKIPPED.c.board.in_(chunk)))
    if skipped is not None and not skipped.is_empty():
        bulk_insert(conn, SKIPPED, skipped.with_columns(scraped_on=pl.lit(seen_on)))
