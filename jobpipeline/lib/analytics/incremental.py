"""What ``job_snapshot`` needs from the store since its last build, read from the change feed
(``lib/changes.py``) instead of every job: ``build.py`` applies it.

A daily sync restamps most open jobs (``last_seen`` moves) and rewrites a few: the feed carries the
restamps' and closings' new values, so only inserted or rewritten jobs, and jobs whose content hash
gained an enrichment, are read again (with their enrichments). The update is refused, and the
snapshot rebuilt in full, when the feed cannot vouch for it: no position recorded (a first build, a
store off SQLite), the position pruned or belonging to another store, or more than ``MAX_SHARE`` of
the jobs (and more than ``MIN_READ``) to read again (a first sync, a backfill: one full read is
cheaper).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from jobpipeline.lib.analytics import load
from jobpipeline.lib.analytics.sqlite_reader import read_queries
from jobpipeline.lib.changes import OPS, Position, changes_since

MAX_SHARE = 0.2  # of the snapshot's rows: read again beyond this (and MIN_READ), and the snapshot is rebuilt in full
MIN_READ = 10_000


@dataclass
class SnapshotUpdate:
    """``job_snapshot``'s update from ``position`` to ``reaches``: ``seen`` (id, first_seen,
    last_seen) and ``closed`` (id, closed_at) set in place, the rows of ``drop`` (id) deleted, and
    ``store_job`` / ``store_enrichment`` (the rows read again) built and inserted."""

    reaches: Position
    changes: int
    seen: pl.DataFrame
    closed: pl.DataFrame
    drop: pl.DataFrame
    store_job: pa.Table
    store_enrichment: pa.Table
    store_jobs: int  # jobs in the store when read: the snapshot must have as many after the update
    also: dict[str, pa.Table]  # the other reads asked for, by name

    def describe(self) -> str:
        return (
            f"incremental: {self.changes} store changes; {self.store_job.num_rows:,} jobs read again, "
            f"{self.seen.height:,} restamped, {self.closed.height:,} closed or reopened, {self.drop.height:,} dropped or replaced"
        )


def read_update(
    engine: sa.Engine, position: Position, snapshot_rows: int, also: dict[str, tuple[str, str | None]] | None = None
) -> SnapshotUpdate | str:
    """The update from ``position``, or why the snapshot must be rebuilt in full. ``also``: other
    reads of the store by name, (sql, rowid-range table) as ``load.read_many`` takes them, read with
    the update's own (one child process, not two) into ``SnapshotUpdate.also``."""
    also = also or {}
    if load.sqlite_path(engine) is None:
        return "the change feed is kept on SQLite only"
    with engine.connect() as conn:
        try:
            found = changes_since(conn, position)
        except sa.exc.OperationalError as exc:  # a store without the feed's table
            return f"the store has no change feed ({exc.orig})"
        if found is None:
            return f"the store's change feed no longer reaches back to change {position[0]} (pruned, or another store)"
        changes, reaches = found
        by_op = {op: changes.filter(pl.col("op") == op) for op in OPS}  # in the feed's order
        content = by_op["content"]["id"].unique()
        hashes = by_op["enriched"]["content_hash"].unique()
        if content.len() + hashes.len() > max(MAX_SHARE * snapshot_rows, MIN_READ):
            return f"{content.len() + hashes.len():,} jobs or content hashes changed: more than {MAX_SHARE:.0%} of {snapshot_rows:,} jobs"
    store_job, store_enrichment, store_jobs, *others = _read(
        engine, content.sort().to_list(), hashes.sort().to_list(), snapshot_rows, list(also.values())
    )
    return SnapshotUpdate(
        reaches=reaches,
        changes=changes["seq"].n_unique(),
        seen=_last_per_id(by_op["seen"], "first_seen", "last_seen"),
        closed=_last_per_id(by_op["closed"], "closed_at"),
        drop=pl.concat([by_op["gone"]["id"], content, pl.Series("id", store_job.column("id").to_pylist(), pl.Int64)])
        .unique()
        .to_frame("id"),
        store_job=store_job,
        store_enrichment=store_enrichment,
        store_jobs=store_jobs,
        also=dict(zip(also, others, strict=True)),
    )


def _last_per_id(rows: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Each id's latest values: the last row of each id, the feed's rows being in order (changes in
    ``seq`` order, the rows of one change in write order)."""
    return rows.unique("id", keep="last", maintain_order=True).select("id", *columns)


def _read(engine: sa.Engine, ids: list[int], hashes: list[str], snapshot_rows: int, also: list[tuple[str, str | None]]) -> list:
    """``load.JOB_COLUMNS`` of the jobs ``ids`` and of the jobs holding content ``hashes``, the ok
    enrichments of their content, the store's job count, then the tables of ``also``: in one child
    reading with ADBC where the store is big (as the full read), else through SQLAlchemy. The ids
    and hashes are written into the SQL (integers; quoted text), as the child takes no parameters."""
    quoted = ", ".join("'" + h.replace("'", "''") + "'" for h in hashes)
    where = (
        " OR ".join([f"id IN ({', '.join(str(int(i)) for i in ids)})"] * bool(ids) + [f"content_hash IN ({quoted})"] * bool(hashes)) or "0"
    )
    found = load.enrichment_table(engine)
    enrichments = (
        f"{load.enrichment_sql(*found)} AND content_hash IN (SELECT content_hash FROM job WHERE {where})" if found else "SELECT 1 AS none"
    )
    queries = [
        (f"SELECT {', '.join(load.JOB_COLUMNS)} FROM job WHERE {where}", None),
        (enrichments, None),
        ("SELECT count(*) AS jobs FROM job", None),
        *also,
    ]
    path = load.sqlite_path(engine)
    if path is not None and snapshot_rows >= load.ADBC_MIN_ROWS:
        tables = read_queries(path, queries)
    else:
        tables = load.read_many(engine, queries)
    return [tables[0], tables[1] if found else load.empty_enrichment(), int(tables[2].column(0)[0].as_py()), *tables[3:]]
