"""A sliced sync's writes, run on a writer thread behind the slices' planning: ``WriteBehind``.

A sync in slices (``sync.sync_in_slices``) plans a slice in polars, renders its rows for the driver
(``fast_sql.driver_rows``, the descriptions read from the raw partition) and writes them: in one
thread, SQLite's inserts waited for the planning and the planning for the inserts, on one core of
two. Here ``apply_plan`` is handed a ``WriteBehind`` in place of the connection: it renders every
statement's rows in the caller's thread as before, and each statement then runs, in order, on one
writer thread that alone uses the connection until ``wait``. The driver lets go of the GIL while
SQLite steps, so the next slice is read, planned and rendered while this one's rows go into the
store's tables and indexes.

Same store, same statements, same order: a slice's plan reads only its own jobs and postings,
which no other slice writes (``slices.py``), and a read through the connection waits for the
writes before it (``slices.AfterWrites``). The queue holds at most ``DEPTH`` rendered statements
(each at most ``fast_sql.WRITE_BATCH`` rows), so memory stays bounded. An error on the writer
thread stops its later statements and is raised by the caller's next ``execute`` or ``wait``; the
caller's own error stops the writer (``close``) before the transaction rolls back.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

DEPTH = 2  # rendered statements waiting for the writer: one being rendered, two waiting, one running


class WriteBehind:
    """Stands in for ``conn`` where a plan is written: ``execute``, ``exec_driver_sql`` and ``call``
    queue work for the writer thread and return at once (results are not read back: a plan's
    writes read nothing); ``dialect`` is ``conn``'s. ``wait`` returns once every queued statement
    ran; ``close`` stops the thread."""

    def __init__(self, conn: sa.Connection, depth: int = DEPTH) -> None:
        self.conn, self.dialect = conn, conn.dialect
        self._queue: queue.Queue[Callable[[], Any] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sync-writer", daemon=True)
        self._thread.start()

    def execute(self, statement: Any, parameters: Any = None) -> None:
        self.call(lambda conn: conn.execute(statement, parameters))

    def exec_driver_sql(self, statement: str, parameters: Any = None) -> None:
        self.call(lambda conn: conn.exec_driver_sql(statement, parameters))

    def call(self, work: Callable[[sa.Connection], Any]) -> None:
        """Run ``work(conn)`` on the writer thread, after everything queued before it."""
        self._raise()
        self._queue.put(lambda: work(self.conn))

    def wait(self) -> None:
        """Block until every queued statement ran; raise the writer's error if one failed."""
        self._queue.join()
        self._raise()

    def close(self) -> None:
        """Stop the writer thread: statements still queued are dropped (the caller is failing, and
        its transaction rolls back), the one running ends first, so the connection is free after."""
        self._stopping = True
        while True:  # drop what waits, so the stop mark finds room
            try:
                self._queue.get_nowait()
                self._queue.task_done()
            except queue.Empty:
                break
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            work = self._queue.get()
            try:
                if work is None:
                    return
                if self._error is None and not self._stopping:
                    work()
            except BaseException as error:  # raised in the caller's thread
                self._error = error
            finally:
                self._queue.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
