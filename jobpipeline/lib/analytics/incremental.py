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

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from jobpipeline.lib.analytics import load
from jobpipeline.lib.changes import CHANGE_SCHEMA, OPS, Position, changes_since

MAX_SHARE = 0.2  # of the snapshot's rows: read again beyond this (and MIN_READ), and the snapshot is rebuilt in full
MIN_READ = 10_000


@dataclass
class StoreRead:
    """What an update reads of the store: ``store_job`` / ``store_enrichment`` (the rows read again:
    built, and inserted in place of the snapshot's rows of the same ids), ``store_jobs`` (the store's job count when
    read: the snapshot must hold as many after the update) and the other reads asked for."""

    store_job: pa.Table
    store_enrichment: pa.Table
    store_jobs: int
    also: dict[str, pa.Table]
    scrapes: pa.Table | None = None  # the board_scrape rows of the partitions scraped (``read_update(scrapes=True)``)
    store_scrapes: int | None = None  # the store's board_scrape rows when read


@dataclass
class SnapshotUpdate:
    """``job_snapshot``'s update from ``position`` to ``reaches``: ``first_seen`` (id, first_seen),
    ``last_seen`` (id, last_seen) and ``closed`` (id, closed_at) set in place, the rows of ``drop`` (id: merged away or
    rewritten) deleted, then the store's rows read again (``fetch``) put in. The store is being read
    in a child process meanwhile, so the caller applies the feed's values while it reads; ``close``
    ends that read where the update is not carried through."""

    reaches: Position
    changes: int
    first_seen: pl.DataFrame
    last_seen: pl.DataFrame
    closed: pl.DataFrame
    drop: pl.DataFrame
    scraped: pl.DataFrame  # (source, day): the partitions whose board_scrape rows were written
    reads: load.StoreReads
    names: tuple[str, ...]  # of the reads submitted, in order

    def fetch(self) -> StoreRead:
        read = dict(zip(self.names, self.reads.result(), strict=True))
        read.setdefault("store_enrichment", load.empty_enrichment())
        store_job, store_enrichment, store_jobs = read.pop("store_job"), read.pop("store_enrichment"), read.pop("store_jobs")
        scrapes, store_scrapes = read.pop(SCRAPES, None), read.pop(STORE_SCRAPES, None)
        return StoreRead(
            store_job,
            store_enrichment,
            _count(store_jobs),
            read,
            scrapes=scrapes,
            store_scrapes=None if store_scrapes is None else _count(store_scrapes),
        )

    def close(self) -> None:
        self.reads.close()

    def describe(self, read_again: int, dropped: int) -> str:
        return (
            f"incremental: {self.changes} store changes; {read_again:,} jobs read again, "
            f"{self.last_seen.height:,} last seen and {self.first_seen.height:,} first seen moved, "
            f"{self.closed.height:,} closed or reopened, {dropped:,} dropped or replaced"
        )


SCRAPES, STORE_SCRAPES = "scraped_board_scrape", "store_board_scrapes"  # the partial board_scrape read, and its table's count


def _count(table: pa.Table) -> int:
    return int(table.column(0)[0].as_py())


Holding = Callable[[pl.Series], list[int]]  # the snapshot's job ids whose content hash is one of these


def read_update(
    engine: sa.Engine,
    position: Position,
    snapshot_rows: int,
    holding: Holding,
    also: dict[str, tuple[str, str | None]] | None = None,
    *,
    scrapes: bool = False,
) -> SnapshotUpdate | str:
    """The update from ``position``, or why the snapshot must be rebuilt in full. ``holding``: the
    ids of the snapshot's jobs (as it stands at ``position``) holding given content hashes, so that
    the jobs of an enriched hash are read by id (``_jobs_to_read``). ``also``: other
    reads of the store by name, (sql, rowid-range table) as ``load.read_many`` takes them, read with
    the update's own (one child process, not two) into ``StoreRead.also``. ``scrapes``: read the
    ``board_scrape`` rows of the partitions the feed says were scraped, and the table's count, too.

    The store's reader starts first (on a large store an ADBC child, whose start-up overlaps the
    feed's decoding) and is handed its queries once the feed says which jobs changed; the returned
    update is still reading them (``SnapshotUpdate.fetch`` waits)."""
    if load.sqlite_path(engine) is None:
        return "the change feed is kept on SQLite only"
    also = also or {}
    reads = load.StoreReads(engine, ["job", *(table for _, table in also.values() if table)])
    update: SnapshotUpdate | str | None = None
    try:
        update = _from_feed(engine, position, snapshot_rows, holding, also, reads, scrapes)
        return update
    finally:
        if not isinstance(update, SnapshotUpdate):  # refused, or failed: nothing will fetch the read
            reads.close()


def _from_feed(
    engine: sa.Engine,
    position: Position,
    snapshot_rows: int,
    holding: Holding,
    also: dict[str, tuple[str, str | None]],
    reads: load.StoreReads,
    scrapes: bool,
) -> SnapshotUpdate | str:
    with engine.connect() as conn:
        try:
            found = changes_since(conn, position)
        except sa.exc.OperationalError as exc:  # a store without the feed's table
            return f"the store has no change feed ({exc.orig})"
        if found is None:
            return f"the store's change feed no longer reaches back to change {position[0]} (pruned, or another store)"
        frames, reaches = found
        changes = pl.concat(frames) if frames else pl.DataFrame(schema=CHANGE_SCHEMA)
        by_op = {op: changes.filter(pl.col("op") == op) for op in OPS}  # in the feed's order
        content = by_op["content"]["id"].unique()
        hashes = by_op["enriched"]["content_hash"].unique()
        most = max(MAX_SHARE * snapshot_rows, MIN_READ)
        if content.len() + hashes.len() > most:
            return f"{content.len() + hashes.len():,} jobs or content hashes changed: more than {MAX_SHARE:.0%} of {snapshot_rows:,} jobs"
        ids = _jobs_to_read(content, hashes, holding)
        if len(ids) > most:
            return f"{len(ids):,} jobs to read again: more than {MAX_SHARE:.0%} of {snapshot_rows:,} jobs"
        queries = _queries(engine, ids, also)
        scraped = by_op["scraped"].select("source", "day").unique().sort("source", "day")
        if scrapes:
            queries |= _scrape_queries(scraped)
    reads.submit(list(queries.values()))
    return SnapshotUpdate(
        reaches=reaches,
        changes=len(frames),
        **_stamps(changes.filter(pl.col("op").is_in(["seen", "stamped"]))),
        closed=_last_per_id(by_op["closed"], "closed_at"),
        drop=pl.concat([by_op["gone"]["id"], content]).unique().to_frame("id"),
        scraped=scraped,
        reads=reads,
        names=tuple(queries),
    )


def _stamps(rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Each job's latest ``first_seen`` and ``last_seen`` from the feed's ``seen`` rows (both
    given, a job each) and ``stamped`` runs (a NULL stamp kept its value), apart: a day moves the
    last seen of most open jobs, the first seen of few."""
    runs = rows.with_columns(last_id=pl.coalesce("last_id", "id"))
    return {stamp: _last_per_id_of_runs(runs.filter(pl.col(stamp).is_not_null()), stamp) for stamp in ("first_seen", "last_seen")}


def _last_per_id_of_runs(runs: pl.DataFrame, value: str) -> pl.DataFrame:
    """(id, ``value``) for every id of ``runs`` (id..last_id, in the feed's order), the last run's
    value where runs overlap. A day's runs are disjoint (each job is restamped once, by the slice
    holding it): then each id is in one run, and sorting the runs (~15 times fewer than the ids)
    tells so without deduplicating a million ids."""
    ordered = runs.sort("id")
    disjoint = ordered.height < 2 or bool((ordered["id"].slice(1) > ordered["last_id"].slice(0, ordered.height - 1)).all())
    ids = (ordered if disjoint else runs).select(pl.int_ranges("id", pl.col("last_id") + 1).alias("id"), value).explode("id")
    return ids if disjoint else _last_per_id(ids, value)


def _last_per_id(rows: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Each id's latest values: the last row of each id, the feed's rows being in order (changes in
    ``seq`` order, the rows of one change in write order). The result's order is not kept (it is
    joined on id): twice as fast on a day's million restamps."""
    return rows.unique("id", keep="last", maintain_order=False).select("id", *columns)


def _jobs_to_read(content: pl.Series, hashes: pl.Series, holding: Holding) -> list[int]:
    """The ids of the jobs to read again, sorted: those inserted or rewritten (``content``) and those
    holding a content hash that gained an enrichment (``hashes``). The latter are found in the
    snapshot, not in the store, whose ``job`` table has no index on the hash (``store.DROPPED_INDEXES``):
    a lookup there scans every job, as reading the whole store costs. The snapshot stands where the
    store stood at its position, and a job's hash changes only by a rewrite, which the feed names
    (``content``), so a job holding one of ``hashes`` now is one of the snapshot's or one of
    ``content``."""
    found = holding(hashes) if hashes.len() else []
    return sorted(set(content.to_list()).union(found))


def _queries(engine: sa.Engine, ids: list[int], also: dict[str, tuple[str, str | None]]) -> dict[str, tuple[str, str | None]]:
    """The update's reads of the store, by name, for one ``StoreReads`` (one ADBC child where the
    store is big, as the full read): ``store_job`` (``load.JOB_COLUMNS`` of the jobs ``ids``, looked
    up by their key), ``store_enrichment`` (the ok enrichments of their content; absent while the
    store has no cache), ``store_jobs`` (the store's job count), and the reads of ``also``. The ids
    are written into the SQL, as the child takes no parameters."""
    where = f"id IN ({', '.join(str(int(i)) for i in ids)})" if ids else "0"
    queries = {
        "store_job": (f"SELECT {', '.join(load.JOB_COLUMNS)} FROM job WHERE {where}", None),
        "store_jobs": ("SELECT count(*) AS jobs FROM job", None),
        **also,
    }
    found = load.enrichment_table(engine)
    if found:
        queries["store_enrichment"] = (
            f"{load.enrichment_sql(*found, engine.dialect.name)} AND content_hash IN (SELECT content_hash FROM job WHERE {where})",
            None,
        )
    return queries


def _scrape_queries(scraped: pl.DataFrame) -> dict[str, tuple[str, str | None]]:
    """The ``board_scrape`` rows of the ``scraped`` partitions (source, day), and the table's count."""
    sql, _ = load.BOARD_SCRAPE_QUERY
    terms = [
        f"(source = '{source.replace(chr(39), chr(39) * 2)}' AND scraped_on = '{day.isoformat()}')" for source, day in scraped.iter_rows()
    ]
    return {
        SCRAPES: (f"{sql} WHERE {' OR '.join(terms) or '0'}", None),
        STORE_SCRAPES: ("SELECT count(*) AS scrapes FROM board_scrape", None),
    }
