"""Reads SQLite queries into Arrow files with ADBC, in a process of its own.

ADBC's SQLite driver carries its own copy of the SQLite library. Two copies of SQLite in one process
must never open the same database: POSIX locks belong to the process, so closing a file in one copy
drops the locks the other holds, and in WAL mode a writer elsewhere may then reset the shared-memory
index under it (SIGBUS, or a corrupt store; sqlite.org/howtocorrupt.html, "multiple copies of
SQLite"). Python's ``sqlite3`` (SQLAlchemy's driver) is the other copy, so ADBC runs here, in a
child started with ``read_queries``, which imports nothing that opens SQLite.

Protocol: a JSON request on stdin, ``{"database", "workers", "queries": [{"sql", "table", "out"}]}``;
each result is written as an Arrow IPC file at ``out``. ``table`` (optional) splits the read into
rowid ranges of that table, read on a thread pool (ADBC releases the GIL while it reads).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

BUSY_TIMEOUT_MS = 30_000


def read_queries(database: Path, queries: list[tuple[str, str | None]], workers: int | None = None) -> list[pa.Table]:
    """Run each (sql, rowid-range table or None) in a child process; returns memory-mapped Arrow tables."""
    workers = workers or min(8, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="jobpipeline-analytics-", dir=_memory_dir()) as tmp:
        outs = [str(Path(tmp) / f"{i}.arrow") for i in range(len(queries))]
        request = {
            "database": str(database),
            "workers": workers,
            "queries": [{"sql": sql, "table": table, "out": out} for (sql, table), out in zip(queries, outs)],
        }
        done = subprocess.run([sys.executable, "-m", __name__], input=json.dumps(request), capture_output=True, text=True)
        if done.returncode != 0:
            detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit code {done.returncode}"
            raise RuntimeError(f"reading the store {database} failed: {detail}")
        # Memory-mapped: the tables stay readable after the files are unlinked.
        return [pa.ipc.open_file(pa.memory_map(out)).read_all() for out in outs]


def _memory_dir() -> str | None:
    """/dev/shm where there is one (the files never need to reach a disk), else the temp dir."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _read(database: str, sql: str, params: tuple = ()) -> pa.Table:
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(database) as conn, conn.cursor() as cur:
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")  # wait out a sync's checkpoint
        # One batch for the whole result: ADBC infers each column's type from the first batch, and
        # a column that starts with NULLs would otherwise fail on its first value.
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1_000_000_000)})
        cur.execute(sql, params or None)
        return untyped_nulls_as_text(cur.fetch_arrow_table())


def _read_in_ranges(pool: ThreadPoolExecutor, database: str, sql: str, table: str | None, parts: int):
    low = high = None
    if table and parts > 1:
        try:
            bounds = _read(database, f"SELECT min(rowid) AS low, max(rowid) AS high FROM {table}")
            low, high = bounds["low"][0].as_py(), bounds["high"][0].as_py()
        except Exception:  # a WITHOUT ROWID table: read it whole
            low = high = None
    if low is None:
        future = pool.submit(_read, database, sql)
        return future.result
    where = " AND " if " WHERE " in sql.upper() else " WHERE "
    step = (high - low) // parts + 1
    futures = [
        pool.submit(_read, database, f"{sql}{where}rowid >= ? AND rowid < ?", (start, start + step)) for start in range(low, high + 1, step)
    ]
    return lambda: concat([f.result() for f in futures])


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
    request = json.load(sys.stdin)
    database, workers = request["database"], int(request["workers"])
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = [(q["out"], _read_in_ranges(pool, database, q["sql"], q.get("table"), workers)) for q in request["queries"]]
        for out, result in results:
            table = result()
            with pa.OSFile(out, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)


if __name__ == "__main__":
    main()
