"""How the sync's frames reach the database fast: bulk reads into polars and driver-level executemany.

None of this decides anything; it moves rows. On SQLite each function takes a path measured to be
several times faster than SQLAlchemy's usual one (the reason is written beside each); on any other
database (PostgreSQL) it uses SQLAlchemy as usual, so the SQL stays dialect-neutral there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa

from jobpipeline.lib.store import JobHashHistory, upsert

HISTORY = JobHashHistory.__table__
CHUNK = 500  # bound values per IN list off SQLite (and per statement everywhere else)
WRITE_BATCH = 5_000  # rows per executemany: bounded, since rows become Python objects here
# Values per IN list on SQLite, bound (SQLite >= 3.32 takes 32,766 variables a statement). Not
# literals: the driver keeps its last 128 statements prepared, and 100 statements of 10,000 literal
# keys each (the jobs of a cold million's dedup keys) held ~190 MB until the sync's end.
SQLITE_IN_CHUNK = 10_000
FETCH_ROWS = 20_000  # rows read into Python at once before they become a frame
RANGE_RUN = 64  # this many consecutive integer keys are read as one BETWEEN range, not an IN list


def select_frame(conn: sa.Connection, stmt: sa.Select, schema: dict[str, Any], column: sa.Column, values: list) -> pl.DataFrame:
    """``stmt`` restricted to ``column IN values`` (in chunks), as a frame with ``schema``.

    On SQLite the statement is rendered (its IN lists bound, ``SQLITE_IN_CHUNK`` values each) and
    read through the driver's own cursor (in the connection's transaction), and dates (ISO text)
    and booleans (0/1) are parsed in polars: SQLAlchemy's per-value result processing was a third
    of a re-sync, and its Row objects two fifths of what remained (0.50 against 0.31 s for 100k job
    rows). Elsewhere SQLAlchemy reads it as usual."""
    if conn.dialect.name != "sqlite":
        rows = [row for chunk in chunks(values) for row in conn.execute(stmt.where(column.in_(chunk))).all()]
        return pl.DataFrame(rows, schema=schema, orient="row")
    raw = {k: pl.String if t == pl.Date else pl.Int64 if t == pl.Boolean else t for k, t in schema.items()}
    frames = [pl.DataFrame(schema=raw)]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    ranges, values = integer_runs(values)
    wheres: list[tuple[Any, Sequence]] = [(column.between(sa.literal(low), sa.literal(high)), ()) for low, high in ranges]
    for chunk in chunks(values, SQLITE_IN_CHUNK):
        if all(type(v) in (int, str) for v in chunk):
            wheres.append((column.op("IN")(sa.literal_column(f"({', '.join('?' * len(chunk))})")), chunk))
        else:
            wheres.append((column.in_(chunk), ()))
    for where, bound in wheres:
        cursor.execute(str(stmt.where(where).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})), bound)
        while rows := cursor.fetchmany(FETCH_ROWS):  # as frames batch by batch: never a whole result as Python tuples
            frames.append(pl.DataFrame(rows, schema=raw, orient="row"))
    cursor.close()
    return from_sqlite(pl.concat(frames), schema)


def from_sqlite(frame: pl.DataFrame, schema: dict[str, Any]) -> pl.DataFrame:
    """``frame`` (columns named as ``schema``'s, as SQLite stores them: dates as ISO text, booleans
    as 0/1) with ``schema``'s types: what ``select_frame`` and the read-ahead's ADBC results share."""
    return frame.select(
        pl.col(name).cast(pl.String).str.to_date("%Y-%m-%d")
        if kind == pl.Date
        else pl.col(name).cast(pl.Int64).cast(pl.Boolean)
        if kind == pl.Boolean
        else pl.col(name).cast(kind)
        for name, kind in schema.items()
    )


def integer_runs(values: Sequence) -> tuple[list[tuple[int, int]], list]:
    """``values`` split into runs of at least ``RANGE_RUN`` consecutive integers, (low, high) each,
    and the values left over (all of them when they are not all integers). SQLite turns a literal IN
    list into a temporary b-tree before it looks anything up: 0.34 s for 200k job ids, where a scan
    of the same ids as one range took 0.035 s; a re-sync asks for whole runs of ids (jobs were
    numbered in the order slices are cut in). ``values``: a list, or an integer array."""
    if len(values) < RANGE_RUN:
        return [], values.tolist() if isinstance(values, np.ndarray) else list(values)  # Python ints: the drivers bind them
    if isinstance(values, list) and not all(type(v) is int for v in values):
        return [], values
    ordered = np.asarray(values, dtype=np.int64)
    if not (ordered[1:] > ordered[:-1]).all():  # already distinct and sorted, as a slice's known jobs are: no sort
        ordered = np.unique(ordered)
    cuts = np.flatnonzero(np.diff(ordered) != 1) + 1
    starts, ends = np.concatenate(([0], cuts)), np.concatenate((cuts, [len(ordered)]))
    long = ends - starts >= RANGE_RUN
    ranges = list(zip(ordered[starts[long]].tolist(), ordered[ends[long] - 1].tolist(), strict=True))
    return ranges, ordered[np.repeat(~long, ends - starts)].tolist()


def upsert_history(conn: sa.Connection, rows: pl.DataFrame) -> None:
    """Record (job, hash, first seen), keeping the earlier date of a hash already recorded."""
    if rows.is_empty():
        return
    if conn.dialect.name == "sqlite":  # a backfill day writes a row per known job: the driver's path
        bulk_insert(
            conn,
            HISTORY,
            rows,
            on_conflict="ON CONFLICT (job_id, content_hash) DO UPDATE SET first_seen = min(excluded.first_seen, first_seen)",
        )
        return
    upsert(
        conn,
        HISTORY,
        rows.to_dicts(),
        ["job_id", "content_hash"],
        lambda ex: {"first_seen": sa.case((ex.first_seen < HISTORY.c.first_seen, ex.first_seen), else_=HISTORY.c.first_seen)},
    )


def bulk_insert(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame, on_conflict: str = "") -> None:
    """INSERT many rows with the driver's executemany (see ``driver_rows``); ``on_conflict`` is SQLite's clause."""
    if frame.is_empty():
        return
    if conn.dialect.name != "sqlite":
        conn.execute(sa.insert(table), frame.to_dicts())
        return
    names, marks = ", ".join(frame.columns), ", ".join(placeholder(table, c) for c in frame.columns)
    for part in frame.iter_slices(WRITE_BATCH):
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks}) {on_conflict}", driver_rows(table, part))


def bulk_upsert(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame, keys: list[str]) -> None:
    """INSERT many rows, or UPDATE every non-key column of ``frame`` where a row with the same
    ``keys`` (a unique key of ``table``) is stored already: the driver's executemany on SQLite."""
    if frame.is_empty():
        return
    values = [c for c in frame.columns if c not in keys]
    if conn.dialect.name != "sqlite":
        upsert(conn, table, frame.to_dicts(), keys, lambda ex: {c: ex[c] for c in values})
        return
    updates = ", ".join(f"{c} = excluded.{c}" for c in values)
    bulk_insert(conn, table, frame, on_conflict=f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")


def bulk_update(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame, keys: list[str]) -> None:
    """UPDATE many rows by primary key: every non-key column of ``frame`` is set."""
    if frame.is_empty():
        return
    values = [c for c in frame.columns if c not in keys]
    if conn.dialect.name != "sqlite":
        stmt = (
            table.update().where(*(table.c[k] == sa.bindparam(f"k_{k}") for k in keys)).values({c: sa.bindparam(f"v_{c}") for c in values})
        )
        conn.execute(stmt, frame.rename({c: f"{'k' if c in keys else 'v'}_{c}" for c in frame.columns}).to_dicts())
        return
    ordered = frame.select(*values, *keys)
    sql = f"UPDATE {table.name} SET {', '.join(f'{c} = {placeholder(table, c)}' for c in values)} WHERE {' AND '.join(f'{k} = ?' for k in keys)}"
    for part in ordered.iter_slices(WRITE_BATCH):
        conn.exec_driver_sql(sql, driver_rows(table, part))


def set_where_in(conn: sa.Connection, table: sa.Table, values: pl.DataFrame, column: str, keys: Sequence[int]) -> None:
    """UPDATE ``table`` SET ``values`` (one row: the same values for every row) WHERE ``column``
    (an integer key; ``rowid`` on SQLite) IN ``keys``: runs of consecutive keys as one BETWEEN range
    each (in one executemany), the rest in IN lists. A restamp sets one day on most of a
    partition's rows, numbered in runs: a statement a run, not a row each (on SQLite 0.3 s for 100k
    job rows against 1.2 s, and 0.06 s for 100k postings by rowid against 0.6 s by their key)."""
    if values.is_empty() or len(keys) == 0:
        return
    ranges, rest = integer_runs(keys)
    if conn.dialect.name != "sqlite":
        stmt = table.update().values(values.to_dicts()[0])
        if ranges:
            where = table.c[column].between(sa.bindparam("low"), sa.bindparam("high"))
            conn.execute(stmt.where(where), [{"low": low, "high": high} for low, high in ranges])
        for chunk in chunks(rest):
            conn.execute(stmt.where(table.c[column].in_(chunk)))
        return
    row = driver_rows(table, values)[0]
    sql = f"UPDATE {table.name} SET {', '.join(f'{c} = {placeholder(table, c)}' for c in values.columns)} WHERE {column}"
    if ranges:
        conn.exec_driver_sql(f"{sql} BETWEEN ? AND ?", [(*row, low, high) for low, high in ranges])
    for chunk in chunks(rest, SQLITE_IN_CHUNK):
        conn.exec_driver_sql(f"{sql} IN ({', '.join('?' * len(chunk))})", (*row, *chunk))


def long_text(column: sa.Column) -> bool:
    """Whether ``column`` holds long text (``info={"long_text": True}``: a job's description), which
    the driver is given as its UTF-8 bytes and SQLite casts back to TEXT (``placeholder``)."""
    return bool(column.info.get("long_text"))


def placeholder(table: sa.Table, column: str) -> str:
    """The driver's placeholder for ``column`` of ``table``: ``CAST(? AS TEXT)`` for long text,
    bound as bytes. The same TEXT value is stored, but a Python ``str`` of non-ASCII text is decoded
    from polars' UTF-8 and encoded back by the driver: 100k descriptions (~300 MB) bound as bytes
    took 0.6 s less (rows and executemany 0.3 against 0.6 s for 50k). Not for short columns: the
    cast of 20 short strings a row made 100k job rows 0.8 s slower."""
    return "CAST(? AS TEXT)" if long_text(table.c[column]) else "?"


def driver_rows(table: sa.Table, frame: pl.DataFrame) -> list[tuple]:
    """Rows rendered in polars exactly as SQLAlchemy stores them on SQLite, for the driver's
    executemany: SQLAlchemy's per-row bind processing was most of a sync's time. Long text is
    rendered as its UTF-8 bytes (``placeholder``)."""
    schema = frame.schema
    rendered = frame.with_columns(
        [pl.col(c).cast(pl.Binary) for c, t in schema.items() if t == pl.String and long_text(table.c[c])]
        + [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in schema.items() if t == pl.Date]
        + [
            pl.col(c).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
            for c, t in schema.items()
            if isinstance(t, pl.Datetime)
        ]
        + [pl.col(c).cast(pl.Int8) for c, t in schema.items() if t == pl.Boolean]
    )
    json_columns = [c for c in frame.columns if isinstance(table.c[c].type, sa.JSON)]
    if json_columns:  # polars writes the JSON: '{"c":[…]}' with the wrapper sliced off
        rendered = rendered.with_columns(
            pl.struct(c).struct.json_encode().str.slice(len(c) + 4).str.head(-1).alias(c) for c in json_columns
        )
    return rendered.rows()


def allocate_ids(conn: sa.Connection, table: sa.Table, count: int) -> Sequence[int]:
    """``count`` fresh ids for ``table``'s integer primary key ``id``, taken inside the write
    transaction, so rows are inserted with their ids instead of inserted and read back by key.

    SQLite: the ids after the largest one (what SQLite itself gives a table without AUTOINCREMENT),
    safe because the sync holds the database's write lock (BEGIN IMMEDIATE) from its first read.
    PostgreSQL: from the column's sequence, which other writers share."""
    if count == 0:
        return []
    if conn.dialect.name == "sqlite":  # a range: a cold million's ids as a list of ints held ~36 MB
        largest = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
        return range(largest + 1, largest + 1 + count)
    sequence = sa.func.pg_get_serial_sequence(table.name, "id")
    stmt = sa.select(sa.func.nextval(sequence)).select_from(sa.func.generate_series(1, count))
    return [int(i) for i in conn.execute(stmt).scalars()]


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
