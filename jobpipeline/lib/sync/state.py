"""The store as the sync plan reads it (``plan.StoreState``): from the database inside the sync's
write transaction (``DatabaseState``), or from plain frames of the tables (``FrameState``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl
import sqlalchemy as sa

from jobpipeline.lib.store import BoardScrape, BoardScrapeSkipped, Job, JobHashHistory, JobPosting
from jobpipeline.lib.sync.fast_sql import allocate_ids, select_frame
from jobpipeline.lib.sync.plan import (
    ALIAS,
    ALIAS_SCHEMA,
    CLOSING_SCHEMA,
    DEDUP_KEY_SCHEMA,
    HISTORY_SCHEMA,
    JOB_SCHEMA,
    POSTING_JOB_SCHEMA,
    SCRAPE_DAY_SCHEMA,
    SKIP_SCHEMA,
    Scope,
    scope_frame,
)

JOB = Job.__table__
POSTING = JobPosting.__table__
HISTORY = JobHashHistory.__table__
SCRAPE = BoardScrape.__table__
SKIPPED = BoardScrapeSkipped.__table__
_JOB_COLUMNS = {"job_id": "id", **{name: name for name in JOB_SCHEMA if name != "job_id"}}
# What a plan reads of a stored posting and of a job (columns in ``ALIAS_SCHEMA``'s and ``JOB_SCHEMA``'s order).
POSTINGS_READ = sa.select(*(POSTING.c[name] if name != "rowid" else sa.literal_column("job_posting.rowid") for name in ALIAS_SCHEMA))
POSTINGS_READ_ELSEWHERE = sa.select(*(POSTING.c[name] if name != "rowid" else sa.null() for name in ALIAS_SCHEMA))  # no rowid
POSTING_JOBS_READ = sa.select(*(POSTING.c[name] for name in POSTING_JOB_SCHEMA))
JOBS_READ = sa.select(*(JOB.c[column] for column in _JOB_COLUMNS.values()))


class DatabaseState:
    """Reads of the store through ``conn`` (the sync's transaction, which holds the write lock)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def postings_of_boards(self, scope: Scope) -> pl.DataFrame:
        stmt = POSTINGS_READ if self.conn.dialect.name == "sqlite" else POSTINGS_READ_ELSEWHERE
        return self._per_source(scope, stmt, POSTING, ALIAS_SCHEMA)

    def posting_jobs_of_boards(self, scope: Scope) -> pl.DataFrame:
        return self._per_source(scope, POSTING_JOBS_READ, POSTING, POSTING_JOB_SCHEMA)

    def postings_to_close(self, scope: Scope, seen_on: date, scraped_after: Collection[tuple[str, str]] = ()) -> pl.DataFrame:
        """``CLOSING_SCHEMA``: what the closing pass reads of the stored postings of these boards
        whose closing a sync of ``seen_on`` may change, after its slices' writes
        (``plan_posting_closings`` plans only those listed on ``seen_on`` or later, open, or closed
        on or after it; "listed" counts a skip):

        - open ones last seen before the day (they may close);
        - closed ones, closed on or after the day (their closing may move) or seen on or after it
          (they reopen), and those skipped on or after it (listed unread: ``board_scrape_skipped``);
        - on the boards of ``scraped_after`` (successfully scraped after ``seen_on``; boards outside ``scope`` are ignored), the ones new
          that day: a scrape synced before they were stored may have missed them.

        Not the open ones seen again: open before this sync, so no successful scrape came after
        their last sighting (it would have closed them), and none comes after it now. Not those new
        that day elsewhere: nothing after their sighting closes them. Not those closed before the
        day and not listed since: the day changes nothing of theirs, and they pile up (a closed
        posting stays in the store). So a re-sync of 100k unchanged postings, or a first sync of
        100k new ones, reads none, where each read 105,000. Only these columns: the hash and the
        rest were ~40 % of reading a million."""
        posting = POSTING.c
        columns = sa.select(*(posting[name] for name in CLOSING_SCHEMA))
        closed = posting.closed_at.is_not(None)
        may_change = sa.or_(
            sa.and_(posting.closed_at.is_(None), posting.last_seen < seen_on),
            posting.closed_at >= seen_on,
            sa.and_(closed, posting.last_seen >= seen_on),
        )
        later = scraped_after if isinstance(scraped_after, set) else set(scraped_after)
        skipped = SKIPPED.c
        skips = sa.select(skipped.source, skipped.board, skipped.source_job_id).where(skipped.scraped_on >= seen_on).distinct()
        listed_unread = self._per_source(scope, skips, SKIPPED, {name: pl.String for name in ALIAS})  # few: read first
        frames = [
            self._per_source([board for board in scope if board not in later], columns.where(may_change), POSTING, CLOSING_SCHEMA),
            self._per_source(
                [board for board in scope if board in later],
                columns.where(sa.or_(may_change, posting.first_seen == seen_on)),
                POSTING,
                CLOSING_SCHEMA,
            ),
        ]
        if not listed_unread.is_empty():  # of their boards' closed postings not otherwise read, those skipped
            boards = sorted(set(listed_unread.select("source", "board").iter_rows()))
            not_read = columns.where(closed, posting.closed_at < seen_on, posting.last_seen < seen_on)
            frames.append(self._per_source(boards, not_read, POSTING, CLOSING_SCHEMA).join(listed_unread, on=ALIAS, how="semi"))
        return pl.concat(frames)

    def postings_per_board(self, scope: Scope) -> dict[tuple[str, str], int]:
        """Stored postings of each board in ``scope`` (0 for a board with none): how the closing
        pass of a sliced sync sizes its batches of boards (``sync.close_in_batches``)."""
        stmt = sa.select(POSTING.c.source, POSTING.c.board, sa.func.count().label("postings")).group_by(POSTING.c.source, POSTING.c.board)
        counts = self._per_source(scope, stmt, POSTING, {"source": pl.String, "board": pl.String, "postings": pl.Int64})
        return {board: 0 for board in scope} | {(source, board): n for source, board, n in counts.iter_rows()}

    def jobs(self, job_ids: list[int]) -> pl.DataFrame:
        return select_frame(self.conn, JOBS_READ, JOB_SCHEMA, JOB.c.id, job_ids)

    def jobs_by_dedup_key(self, dedup_keys: list[str]) -> pl.DataFrame:
        return select_frame(self.conn, sa.select(JOB.c.dedup_key, JOB.c.id), DEDUP_KEY_SCHEMA, JOB.c.dedup_key, dedup_keys)

    def hash_history(self, job_ids: list[int]) -> pl.DataFrame:
        stmt = sa.select(HISTORY.c.job_id, HISTORY.c.content_hash, HISTORY.c.first_seen)
        return select_frame(self.conn, stmt, HISTORY_SCHEMA, HISTORY.c.job_id, job_ids)

    def latest_skips(self, scope: Scope, except_on: date, except_boards: Collection[tuple[str, str]]) -> pl.DataFrame:
        stmt = (
            sa.select(SKIPPED.c.source, SKIPPED.c.board, SKIPPED.c.source_job_id, sa.func.max(SKIPPED.c.scraped_on))
            .where(SKIPPED.c.scraped_on != except_on)
            .group_by(SKIPPED.c.source, SKIPPED.c.board, SKIPPED.c.source_job_id)
        )
        older = self._per_source(scope, stmt, SKIPPED, SKIP_SCHEMA)
        kept_today = sorted(set(scope).difference(except_boards))  # boards this sync does not re-record keep the day's skips
        stmt = sa.select(SKIPPED.c.source, SKIPPED.c.board, SKIPPED.c.source_job_id, SKIPPED.c.scraped_on).where(
            SKIPPED.c.scraped_on == except_on
        )
        today = self._per_source(kept_today, stmt, SKIPPED, SKIP_SCHEMA)
        return pl.concat([older, today]).group_by(ALIAS).agg(pl.col("skipped_on").max())

    def successful_scrape_days(self, scope: Scope, after: date) -> pl.DataFrame:
        stmt = sa.select(SCRAPE.c.source, SCRAPE.c.board, SCRAPE.c.scraped_on).where(SCRAPE.c.ok, SCRAPE.c.scraped_on > after)
        return self._per_source(scope, stmt, SCRAPE, SCRAPE_DAY_SCHEMA)

    def postings_of_jobs(self, job_ids: list[int]) -> pl.DataFrame:
        stmt = sa.select(*(POSTING.c[name] for name in POSTING_JOB_SCHEMA))
        return select_frame(self.conn, stmt, POSTING_JOB_SCHEMA, POSTING.c.job_id, job_ids)

    def new_job_ids(self, count: int) -> Sequence[int]:
        return allocate_ids(self.conn, JOB, count)

    def _per_source(self, scope: Scope, stmt: sa.Select, table: sa.Table, schema: dict) -> pl.DataFrame:
        """``stmt`` for the boards in scope: one statement per source, its boards in an IN list."""
        frames = [
            select_frame(self.conn, stmt.where(table.c.source == source), schema, table.c.board, boards)
            for source, boards in by_source(scope).items()
        ]
        return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


@dataclass
class FrameState:
    """The store as frames of its tables (columns named as in the tables): a plan without a database.

    ``job`` needs the ``JOB_SCHEMA`` columns with ``id`` for ``job_id``; the others their tables'
    columns used by the sync."""

    job: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"id": pl.Int64, "dedup_key": pl.String, **{k: v for k, v in JOB_SCHEMA.items() if k != "job_id"}}
        )
    )
    job_posting: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ALIAS_SCHEMA))
    job_hash_history: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=HISTORY_SCHEMA))
    board_scrape: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema={**SCRAPE_DAY_SCHEMA, "ok": pl.Boolean}))
    board_scrape_skipped: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={**{c: pl.String for c in ALIAS}, "scraped_on": pl.Date})
    )

    def postings_of_boards(self, scope: Scope) -> pl.DataFrame:
        postings = self.job_posting if "rowid" in self.job_posting.columns else self.job_posting.with_columns(rowid=None)
        return _in_scope(postings, scope).select(list(ALIAS_SCHEMA)).cast(ALIAS_SCHEMA)

    def posting_jobs_of_boards(self, scope: Scope) -> pl.DataFrame:
        return _in_scope(self.job_posting, scope).select(list(POSTING_JOB_SCHEMA)).cast(POSTING_JOB_SCHEMA)

    def jobs(self, job_ids: list[int]) -> pl.DataFrame:
        return self.job.filter(pl.col("id").is_in(job_ids)).select(pl.col("id").alias("job_id"), *list(JOB_SCHEMA)[1:]).cast(JOB_SCHEMA)

    def jobs_by_dedup_key(self, dedup_keys: list[str]) -> pl.DataFrame:
        return self.job.filter(pl.col("dedup_key").is_in(dedup_keys)).select("dedup_key", job_id="id").cast(DEDUP_KEY_SCHEMA)

    def hash_history(self, job_ids: list[int]) -> pl.DataFrame:
        return self.job_hash_history.filter(pl.col("job_id").is_in(job_ids)).select(list(HISTORY_SCHEMA)).cast(HISTORY_SCHEMA)

    def latest_skips(self, scope: Scope, except_on: date, except_boards: Collection[tuple[str, str]]) -> pl.DataFrame:
        replaced = pl.DataFrame([(s, b, except_on) for s, b in except_boards], schema=SCRAPE_DAY_SCHEMA, orient="row")
        kept = _in_scope(self.board_scrape_skipped, scope).join(replaced, on=["source", "board", "scraped_on"], how="anti")
        return kept.group_by(ALIAS).agg(skipped_on=pl.col("scraped_on").max()).cast(SKIP_SCHEMA)

    def successful_scrape_days(self, scope: Scope, after: date) -> pl.DataFrame:
        rows = _in_scope(self.board_scrape, scope).filter(pl.col("ok") & (pl.col("scraped_on") > after))
        return rows.select(list(SCRAPE_DAY_SCHEMA)).cast(SCRAPE_DAY_SCHEMA)

    def postings_of_jobs(self, job_ids: list[int]) -> pl.DataFrame:
        return self.job_posting.filter(pl.col("job_id").is_in(job_ids)).select(list(POSTING_JOB_SCHEMA)).cast(POSTING_JOB_SCHEMA)

    def new_job_ids(self, count: int) -> Sequence[int]:
        largest = self.job["id"].max() or 0
        return range(largest + 1, largest + 1 + count)


def _in_scope(frame: pl.DataFrame, scope: Scope) -> pl.DataFrame:
    return frame.join(scope_frame(scope), on=["source", "board"], how="semi")


def by_source(scope: Scope) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for source, board in scope:
        grouped.setdefault(source, []).append(board)
    return grouped
