"""Reads SQLite queries into Arrow files with ADBC, in a process of its own.

ADBC's SQLite driver carries its own copy of the SQLite library. Two copies of SQLite in one process
must never open the same database: POSIX locks belong to the process, so closing a file in one copy
drops the locks the other holds, and in WAL mode a writer elsewhere may then reset the shared-memory
index under it (SIGBUS, or a corrupt store; sqlite.org/howtocorrupt.html, "multiple copies of
SQLite"). Python's ``sqlite3`` (SQLAlchemy's driver) is the other copy, so ADBC runs here, in a
child started by ``ReadSession`` (a sliced sync's read-ahead), ``ChildReader`` or ``read_queries``
(the analytics), which imports nothing that opens SQLite. The child holds ~30 MB of its own
(measured at 100k and 1M postings, sampled) beside ~40 MB of libraries.

The child (``CHILD_MAIN``) starts before its queries are known, and loads pyarrow and the driver
(~0.09 s) while the parent prepares them: the incremental analytics update decodes the store's
change feed meanwhile.

Protocol: on stdin, a line a request (``ChildReader`` sends one; ``ReadSession`` many, one batch
after another, as a sliced sync asks for its slices' rows), the path of a JSON request file,
``{"database", "workers", "queries": [{"sql", "table", "out"}]}``.
``table`` (optional) splits the read into rowid ranges of that table, read on a thread pool (ADBC
releases the GIL while it reads); the thread that read a range writes it as an Arrow IPC file
``out.<n>``, so writing overlaps the other reads. The reply on stdout, a line a request, lists
each query's files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Self

import pyarrow as pa

BUSY_TIMEOUT_MS = 30_000
# The child's start: pyarrow without numpy and cloudpickle, both optional to it (from pyarrow 18: 16
# and 17 fail to import without numpy) and never used here (the child only moves Arrow tables from
# ADBC into IPC files), which pyarrow imports when it can.
# A child's round trip (start, one small read, exit) took 0.13-0.15 s, wall and CPU, with them and
# 0.09 s without.
CHILD_MAIN = (
    "import sys; sys.modules.update(numpy=None, cloudpickle=None); from jobpipeline.lib.analytics.sqlite_reader import main; main()"
)


class ReadSession:
    """One child reading batch after batch of queries of ``database`` with ADBC: ``ask`` hands it a
    batch of (sql, rowid-range table or None), ``answer`` waits for the oldest batch not yet
    answered and gives its tables, in order, memory-mapped (their files are removed at once: the
    memory goes with the tables). One child for many batches, so each batch costs its reads, not
    a start (~0.09 s of CPU). ``close`` (or leaving the ``with`` block) stops the child."""

    def __init__(self, database: Path, workers: int | None = None):
        self.database = database
        self.workers = workers or min(8, os.cpu_count() or 1)
        self._tmp = tempfile.TemporaryDirectory(prefix="jobpipeline-reads-", dir=_memory_dir())
        self._dir = Path(self._tmp.name)
        self._errors = open(self._dir / "stderr.txt", "w+", encoding="utf-8")
        self._process = subprocess.Popen(
            [sys.executable, "-c", CHILD_MAIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors, text=True
        )
        self._asked = 0

    def ask(self, queries: list[tuple[str, str | None]]) -> None:
        batch, self._asked = self._asked, self._asked + 1
        request = self._dir / f"request-{batch}.json"
        outs = [{"sql": sql, "table": table, "out": str(self._dir / f"{batch}-{i}")} for i, (sql, table) in enumerate(queries)]
        request.write_text(json.dumps({"database": str(self.database), "workers": self.workers, "queries": outs}), encoding="utf-8")
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(f"{request}\n")
            self._process.stdin.flush()
        except BrokenPipeError:  # the child died: answer() says why
            pass

    def answer(self) -> list[pa.Table]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait()
            self._errors.seek(0)
            errors = self._errors.read().strip()
            detail = errors.splitlines()[-1] if errors else f"exit code {code}"
            raise RuntimeError(f"reading the store {self.database} failed: {detail}")
        tables = []
        for outs in json.loads(line):
            tables.append(concat([pa.ipc.open_file(pa.memory_map(out)).read_all() for out in outs]))
            for out in outs:
                Path(out).unlink()
        return tables

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None and not pipe.closed:
                try:
                    pipe.close()
                except BrokenPipeError:
                    pass
        self._errors.close()
        self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ChildReader(ReadSession):
    """A child for one batch of queries, started at once: ``submit`` the queries when they are
    known, then ``result`` waits for the tables; ``close`` (or leaving the ``with`` block) stops a
    child still running and removes its files."""

    def submit(self, queries: list[tuple[str, str | None]]) -> None:
        """Hand the child each (sql, rowid-range table or None) to read; it ends once it has."""
        self.ask(queries)
        assert self._process.stdin is not None
        try:
            self._process.stdin.close()
        except BrokenPipeError:  # the child died starting: result() says why
            pass

    def result(self) -> list[pa.Table]:
        """The submitted queries' results, in order, as memory-mapped Arrow tables (readable after
        ``close`` removed their files)."""
        return self.answer()


def read_queries(database: Path, queries: list[tuple[str, str | None]], workers: int | None = None) -> list[pa.Table]:
    """Run each (sql, rowid-range table or None) in a child process; returns memory-mapped Arrow tables."""
    with ChildReader(database, workers) as child:
        child.submit(queries)
        return child.result()


def _memory_dir() -> str | None:
    """/dev/shm where there is one (the files never need to reach a disk), else the temp dir."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _query(database: str, sql: str) -> pa.Table:
    """One query's result, through the driver's own API: its DB-API module imports polars and
    pyarrow.dataset, which would double the child's start-up."""
    import adbc_driver_manager
    import adbc_driver_sqlite

    with (
        adbc_driver_sqlite.connect(database) as db,
        adbc_driver_manager.AdbcConnection(db) as conn,
        adbc_driver_manager.AdbcStatement(conn) as pragma,
        adbc_driver_manager.AdbcStatement(conn) as stmt,
    ):
        pragma.set_sql_query(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")  # wait out a sync's checkpoint
        pa.RecordBatchReader.from_stream(pragma.execute_query()[0]).read_all()
        # One batch for the whole result: ADBC infers each column's type from the first batch, and
        # a column that starts with NULLs would otherwise fail on its first value.
        stmt.set_options(**{"adbc.sqlite.query.batch_rows": str(1_000_000_000)})
        stmt.set_sql_query(sql)
        return untyped_nulls_as_text(pa.RecordBatchReader.from_stream(stmt.execute_query()[0]).read_all())


def _read(database: str, sql: str, out: str) -> str:
    """Run ``sql`` and write its result to the Arrow IPC file ``out``."""
    table = _query(database, sql)
    with pa.OSFile(out, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return out


def _read_in_ranges(pool: ThreadPoolExecutor, database: str, sql: str, table: str | None, parts: int, out: str) -> list[Future]:
    low = high = None
    if table and parts > 1:
        try:
            bounds = _query(database, f"SELECT min(rowid) AS low, max(rowid) AS high FROM {table}")
            low, high = bounds["low"][0].as_py(), bounds["high"][0].as_py()
        except Exception:  # a WITHOUT ROWID table: read it whole
            low = high = None
    if low is None:
        return [pool.submit(_read, database, sql, f"{out}.0")]
    where = " AND " if " WHERE " in sql.upper() else " WHERE "
    step = (high - low) // parts + 1
    return [
        pool.submit(_read, database, f"{sql}{where}rowid >= {start} AND rowid < {start + step}", f"{out}.{i}")
        for i, start in enumerate(range(low, high + 1, step))
    ]


def untyped_nulls_as_text(table: pa.Table) -> pa.Table:
    """A column NULL throughout has no type to infer (ADBC says int64, polars null): make it text,
    which the SQL casts to any type, where int64 would not cast to a date."""
    for i, column in enumerate(table.columns):
        if column.null_count == len(column) and column.type != pa.string():
            table = table.set_column(i, table.field(i).name, pa.nulls(len(column), pa.string()))
    return table


def concat(parts: list[pa.Table]) -> pa.Table:
    """Concatenate reads of one query: a column NULL throughout one part takes the others' type."""
    types: dict[str, pa.DataType] = {}
    for part in parts:
        for field, column in zip(part.schema, part.columns):
            if column.null_count < len(column):
                types.setdefault(field.name, field.type)
    fixed = []
    for part in parts:
        for i, (field, column) in enumerate(zip(part.schema, part.columns)):
            wanted = types.get(field.name, pa.string())
            if field.type != wanted:
                part = part.set_column(
                    i, field.name, pa.nulls(len(column), wanted) if column.null_count == len(column) else column.cast(wanted)
                )
        fixed.append(part)
    return pa.concat_tables(fixed)


def main() -> None:
    import adbc_driver_manager  # noqa: F401  (loaded while the parent prepares the request)
    import adbc_driver_sqlite  # noqa: F401

    while line := sys.stdin.readline():  # a request a line (``ReadSession``), or one (``ChildReader``)
        request = json.loads(Path(line.strip()).read_text(encoding="utf-8"))
        database, workers = request["database"], int(request["workers"])
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [_read_in_ranges(pool, database, q["sql"], q.get("table"), workers, q["out"]) for q in request["queries"]]
            sys.stdout.write(json.dumps([[f.result() for f in parts] for parts in futures]) + "\n")
            sys.stdout.flush()
