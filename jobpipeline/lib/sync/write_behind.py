"""A sliced sync's writes, run on a writer thread behind the slices' planning: ``WriteBehind``.

A sync in slices (``sync.sync_in_slices``) plans a slice in polars, renders its rows for the driver
(``fast_sql.driver_rows``, the descriptions read from the raw partition) and writes them: in one
thread, SQLite's inserts waited for the planning and the planning for the inserts, on one core of
two. Here ``apply_plan`` is handed a ``WriteBehind`` in place of the connection: it renders every
statement's rows in the caller's thread as before, and each statement then runs, in order, on one
writer thread that alone uses the connection until ``wait``. The driver lets go of the GIL while
SQLite steps, so the next slice is read, planned and rendered while this one's rows go into the
store's tables and indexes.

What a slice reads to write, the descriptions of the jobs it inserts or rewrites (a row group of the
raw partition decompressed for each: 3.1 s of the sync's thread on a 700,000-posting day), is read
on a third thread (``aside``), in order, and its statements are queued from there: the sync's
thread plans the next slice meanwhile.

Same store, same statements, in the same order but for the texts, which follow their jobs' rows
later: a slice's plan reads only its own jobs and postings, which no other slice writes
(``slices.py``), and a read through the connection waits for the writes before it
(``slices.AfterWrites``), or reads through another connection that sees the store as it was
(``sync.store_as_it_was``). At most ``QUEUED_ROWS`` rendered rows wait, so memory stays bounded.
An error on the writer or side thread stops the later work and is raised by the caller's next
``execute`` or ``wait``; the caller's own error stops both threads (``close``) before the
transaction rolls back.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

# Rows of rendered parameters that may wait for the writer thread, besides the statement it runs.
# A day's statements are many and small (restamps as ranges, a few rewrites each), a first sync's
# few and big (5,000 job rows; a row group's 2,048 descriptions, ~6 MB): counted in rows, the
# planning thread runs many statements ahead on a day (a 200k-posting day's slices 0.4 s faster
# than with two statements) while a first sync holds no more rows than with two.
QUEUED_ROWS = 5_000


class WriteBehind:
    """Stands in for ``conn`` where a plan is written: ``execute``, ``exec_driver_sql`` and ``call``
    queue work for the writer thread and return at once (results are not read back: a plan's
    writes read nothing), waiting first while ``queued_rows`` rows wait already; ``dialect`` is
    ``conn``'s. ``aside`` runs work that queues statements (from any thread) on a thread of its
    own, in order. ``wait`` returns once all of it ran, and every queued statement; ``close``
    stops both threads."""

    def __init__(self, conn: sa.Connection, queued_rows: int = QUEUED_ROWS) -> None:
        self.conn, self.dialect = conn, conn.dialect
        self._capacity = queued_rows
        self._queue: deque[tuple[Callable[[sa.Connection], Any] | None, int]] = deque()
        self._queued = 0  # rows waiting, and the statement running
        self._changed = threading.Condition()
        self._error: BaseException | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sync-writer", daemon=True)
        self._thread.start()
        self._aside: deque[Callable[[], Any] | None] = deque()
        self._aside_busy = False  # a piece of ``aside`` work is running
        self._aside_thread: threading.Thread | None = None  # started by the first ``aside``

    def aside(self, work: Callable[[], Any]) -> None:
        """Run ``work()`` on the side thread, after the side work queued before it; what it queues
        (``execute``, ``call``) runs after what the caller queued before this call. An error fails
        the sync as a writer's does."""
        with self._changed:
            self._raise()
            if self._stopping:
                raise RuntimeError("the sync's writes are stopped")
            if self._aside_thread is None:
                self._aside_thread = threading.Thread(target=self._run_aside, name="sync-reader", daemon=True)
                self._aside_thread.start()
            self._aside.append(work)
            self._changed.notify_all()

    def execute(self, statement: Any, parameters: Any = None) -> None:
        self.call(lambda conn: conn.execute(statement, parameters), rows_of(parameters))

    def exec_driver_sql(self, statement: str, parameters: Any = None) -> None:
        self.call(lambda conn: conn.exec_driver_sql(statement, parameters), rows_of(parameters))

    def call(self, work: Callable[[sa.Connection], Any], rows: int = 1) -> None:
        """Run ``work(conn)`` on the writer thread, after everything queued before it; ``rows``:
        what it holds, counted against ``queued_rows``."""
        with self._changed:
            while self._queue and self._queued + rows > self._capacity and self._error is None and not self._stopping:
                self._changed.wait()
            self._raise()
            if self._stopping:
                raise RuntimeError("the sync's writes are stopped")
            self._queue.append((work, rows))
            self._queued += rows
            self._changed.notify_all()

    def wait(self) -> None:
        """Block until the side work and every queued statement ran; raise the first error."""
        with self._changed:
            while (self._queued or self._aside or self._aside_busy) and self._error is None:
                self._changed.wait()
            self._raise()

    def close(self) -> None:
        """Stop the writer thread: statements still queued are dropped (the caller is failing, and
        its transaction rolls back), the one running ends first, so the connection is free after."""
        with self._changed:
            self._stopping = True
            self._queue.clear()
            self._queue.append((None, 0))
            self._aside.clear()
            self._aside.append(None)
            self._changed.notify_all()
        self._thread.join()
        if self._aside_thread is not None:
            self._aside_thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._queue:
                    self._changed.wait()
                work, rows = self._queue.popleft()
            if work is None:
                return
            try:
                if self._error is None and not self._stopping:
                    work(self.conn)
            except BaseException as error:  # raised in the caller's thread
                with self._changed:
                    if self._error is None:
                        self._error = error
            finally:
                with self._changed:
                    self._queued -= rows
                    self._changed.notify_all()

    def _run_aside(self) -> None:
        while True:
            with self._changed:
                while not self._aside:
                    self._changed.wait()
                work = self._aside.popleft()
                if work is None:
                    return
                self._aside_busy = True
            try:
                if self._error is None and not self._stopping:
                    work()
            except BaseException as error:  # raised in the caller's thread
                with self._changed:
                    if self._error is None and not self._stopping:
                        self._error = error
            finally:
                with self._changed:
                    self._aside_busy = False
                    self._changed.notify_all()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


def rows_of(parameters: Any) -> int:
    """The rows a statement's parameters hold: a list of rows (executemany), else one."""
    return len(parameters) if isinstance(parameters, list) and parameters else 1
