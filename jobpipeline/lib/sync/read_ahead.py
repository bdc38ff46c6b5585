"""A sliced sync's store reads, done ahead in a child process: ``StoreReadAhead``.

Each slice of a sync (``slices.py``) reads two things of the store when it is planned: the stored
postings of its known jobs and those jobs' rows. Through Python's ``sqlite3`` that cost a 100k
re-sync ~1.3 s of its ~5 s, on the sync's one busy core. On a SQLite file the slices' reads go
instead to a child process that reads them with ADBC into Arrow files
(``analytics.sqlite_reader.ReadSession``), on the other core, while the parent keys, plans and
writes; the parent maps each slice's files when the slice comes up. (A thread reading through a
second ``sqlite3`` connection gained less and cost ~90 MB more peak: the driver makes a Python
object a value, under the GIL. ADBC cannot run in the sync's own process: two copies of SQLite in
one process must not open one database, ``sqlite_reader``'s docstring.)

The same child first reads, for the cut, which job each stored posting of the partition's boards
belongs to (``posting_jobs``, batch after batch of boards): at 1M postings ~2 s through
``sqlite3``, ~10 % of a re-sync's wall time saved.

Why another connection reads what the sync's own would: a slice reads only the store as it was
before the sync (no other slice writes its jobs or their postings: ``slices.py``), the sync holds
SQLite's write lock (``BEGIN IMMEDIATE``) from before its first read until it commits, so no other
writer commits meanwhile, and in WAL mode another connection never sees the sync's uncommitted
writes. So the child reads exactly the store the sync started from. Not on PostgreSQL (other
writers may commit meanwhile) nor on an in-memory database: there the slices read as before.

Slices are read in windows of about ``WINDOW_JOBS`` known jobs (the first slice alone, so the sync
starts planning soon), one request to the child a window, two windows asked ahead of the one being
planned: at most three windows' rows stand at once (in ``/dev/shm``, mapped, not copied).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from jobpipeline.lib.analytics.sqlite_reader import ReadSession
from jobpipeline.lib.sync.fast_sql import SQLITE_IN_CHUNK, chunks, from_sqlite, integer_runs
from jobpipeline.lib.sync.plan import ALIAS_SCHEMA, JOB_SCHEMA, POSTING_JOB_SCHEMA, Scope
from jobpipeline.lib.sync.state import JOB, JOBS_READ, POSTING, POSTING_JOBS_READ, POSTINGS_READ, by_source

# A smaller partition reads inline: a child's start (~0.1 s of CPU; 0.25 s when this was set) would cost more than it saves.
MIN_POSTINGS = 20_000
WINDOW_JOBS = 20_000  # known jobs read in one batch (their postings and rows): 5.5 MB of Arrow, measured
CHILD_WORKERS = 1  # threads the child reads on: one core for it, one for the sync


def store_file(conn: sa.Connection) -> Path | None:
    """The SQLite file of the sync's store where another connection reads it as it was before the
    sync (see the module's docstring); None on PostgreSQL and on SQLite in memory."""
    database = conn.engine.url.database
    if conn.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def for_sync(conn: sa.Connection, postings: int) -> StoreReadAhead | None:
    """A read-ahead for a sliced sync of ``postings`` postings through ``conn``, started; None
    where the slices read inline: PostgreSQL, SQLite in memory (``store_file``), or fewer than
    ``MIN_POSTINGS`` postings."""
    database = store_file(conn)
    return StoreReadAhead(database) if database is not None and postings >= MIN_POSTINGS else None


class StoreReadAhead:
    """The stored postings and job rows of each slice's known jobs, read ahead by one child a
    batch (a window of slices) at a time. The child starts at once (it loads pyarrow and the driver
    while the parent keys and cuts the partition); ``plan`` gives it the slices' known jobs;
    ``take(i)`` then gives slice i's reads, in slice order: (its known jobs' stored postings,
    ``ALIAS_SCHEMA``; their job rows, ``JOB_SCHEMA``). ``close`` stops the child."""

    def __init__(self, database: Path, window_jobs: int | None = None) -> None:
        self.window_jobs = WINDOW_JOBS if window_jobs is None else window_jobs
        self.known_jobs: Sequence[np.ndarray] = []
        self.windows: list[range] = []
        self._session = ReadSession(database, workers=CHILD_WORKERS)
        self._window, self._tables = -1, []
        self._per_board: list[pl.DataFrame] = []  # the stored postings of each board ``posting_jobs`` read

    def plan(self, known_jobs: Sequence[np.ndarray]) -> bool:
        """Read these slices' known jobs (``known_jobs[i]``: slice i's, increasing) in windows of
        about ``window_jobs`` jobs. False, and the child stopped, when no slice knows a job (a
        first sync of these boards reads nothing)."""
        self.known_jobs = known_jobs
        if not any(len(jobs) for jobs in known_jobs):
            self.close()
            return False
        start, size = 0, 0
        for number, jobs in enumerate(known_jobs):
            size += len(jobs)
            # The first slice is a window of its own: the sync waits for it before it plans anything.
            if size >= self.window_jobs or number in (0, len(known_jobs) - 1):
                self.windows.append(range(start, number + 1))
                start, size = number + 1, 0
        self._ask(0)
        self._ask(1)
        return True

    def posting_jobs(self, board_batches: Sequence[Scope]) -> Iterator[pl.DataFrame]:
        """The job of each stored posting of each batch of boards (``POSTING_JOB_SCHEMA``), batch
        after batch, two batches asked ahead: what the cut matches the partition's postings
        against (``slices.known_links``), read on the other core and ~3x faster than through
        ``sqlite3``. Asked before ``plan``: the child answers in the order it is asked."""

        def ask(number: int) -> None:
            if number < len(board_batches):
                self._session.ask(
                    [
                        (rendered_boards(POSTING_JOBS_READ, source, boards), None)
                        for source, boards in by_source(board_batches[number]).items()
                    ]
                )

        ask(0)
        ask(1)
        for number in range(len(board_batches)):
            tables = self._session.answer()
            ask(number + 2)
            frames = [as_frame(table, POSTING_JOB_SCHEMA) for table in tables]
            batch = pl.concat(frames) if frames else pl.DataFrame(schema=POSTING_JOB_SCHEMA)
            self._per_board.append(batch.group_by("source", "board").len())
            yield batch

    def stored_per_board(self) -> pl.DataFrame:
        """(source, board, len): the stored postings of each board that ``posting_jobs`` read (all
        of a board's: a board cut by two batches is read whole by each), counted as they passed. A
        board without one is absent."""
        counted = (
            pl.concat(self._per_board)
            if self._per_board
            else pl.DataFrame(schema={"source": pl.String, "board": pl.String, "len": pl.UInt32})
        )
        return counted.unique(["source", "board"])

    def take(self, number: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        while self._window < 0 or number not in self.windows[self._window]:
            self._window, self._tables = self._window + 1, []  # the window before is done with
            self._tables = self._session.answer()
            self._ask(self._window + 2)  # two windows asked ahead: one read while the other waits
        at = 2 * (number - self.windows[self._window].start)
        return as_frame(self._tables[at], ALIAS_SCHEMA), as_frame(self._tables[at + 1], JOB_SCHEMA)

    def close(self) -> None:
        self._tables = []
        self._session.close()

    def _ask(self, window: int) -> None:
        if window >= len(self.windows):
            return
        queries = []
        for number in self.windows[window]:
            ids = IdTerms.of(self.known_jobs[number])  # split into runs and written once, for both reads
            queries += [(rendered(POSTINGS_READ, POSTING.c.job_id, ids), None), (rendered(JOBS_READ, JOB.c.id, ids), None)]
        self._session.ask(queries)


@dataclass(frozen=True)
class IdTerms:
    """Integer ids as SQLite text: runs of ids as ranges, the rest written out in IN lists of
    ``SQLITE_IN_CHUNK`` (as ``fast_sql.select_frame`` reads them). Written here, not by
    SQLAlchemy's literal binds, which took 1.5 s of a 200k-posting day's 9 s in the sync's busy
    thread (330k values); and once per slice, for both of its reads, ids already in order not
    sorted again: a 700k-posting day's asks took 0.29 s of the sync's thread, 0.03-0.05 s so."""

    ranges: list[tuple[int, int]]
    lists: list[str]  # each: "1, 5, 9"

    @classmethod
    def of(cls, ids: np.ndarray | list[int]) -> IdTerms:
        ranges, rest = integer_runs(ids)
        return cls(ranges, [", ".join(map(str, map(int, chunk))) for chunk in chunks(rest, SQLITE_IN_CHUNK)])  # integers only

    def where(self, name: str) -> str:
        terms = [f"{name} BETWEEN {int(low)} AND {int(high)}" for low, high in self.ranges]
        terms += [f"{name} IN ({values})" for values in self.lists]
        return " OR ".join(terms) or "0"


def rendered(stmt: sa.Select, column: sa.Column, ids: IdTerms | list[int]) -> str:
    """``stmt`` (a select without a WHERE) for the rows whose ``column`` is one of ``ids``
    (integers, or ``IdTerms`` of them), as SQLite text."""
    ids = ids if isinstance(ids, IdTerms) else IdTerms.of(ids)
    return f"{_select_text(stmt, column)} WHERE {ids.where(f'{column.table.name}.{column.name}')}"  # type: ignore[attr-defined]


@functools.cache
def _select_text(stmt: sa.Select, column: sa.Column) -> str:
    """``stmt`` as SQLite text, read through ``column``'s own index where it has one: with an IN
    list beside its ranges SQLite's planner chose to scan a million stored postings (0.55 s a
    window, four of ten seconds of a 200k-posting day) over the index on job_id (0.04 s)."""
    table: sa.Table = column.table  # type: ignore[assignment]
    select = str(stmt.compile(dialect=sqlite.dialect()))
    indexes = [index.name for index in table.indexes if [c.name for c in index.columns] == [column.name]]
    if indexes:  # SQLAlchemy renders no table hints for SQLite
        select = select.replace(f"FROM {table.name}", f"FROM {table.name} INDEXED BY {indexes[0]}", 1)
    return select


def rendered_boards(stmt: sa.Select, source: str, boards: list[str]) -> str:
    """``stmt`` for the rows of these boards of ``source``, as SQLite text (``DatabaseState``'s
    per-source statement)."""
    stmt = stmt.where(POSTING.c.source == source, POSTING.c.board.in_(boards))
    return str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


def as_frame(table: Any, schema: dict[str, Any]) -> pl.DataFrame:
    """An ADBC result (dates as ISO text, booleans as 0/1) as a frame with ``schema`` (its columns
    named by position)."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return from_sqlite(frame.rename(dict(zip(frame.columns, schema, strict=True))), schema)
