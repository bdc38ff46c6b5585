"""Sync one partition's postings into the store: new, changed, unchanged and vanished jobs.

Everything a sync writes is a function of the set of partitions synced so far, not of their order,
so a backfill of last month after today's run leaves the same store as a date-ordered run:

- ``first_seen`` / ``last_seen`` are the min / max partition dates a job (or posting) was seen on.
- A job's content comes from its canonical posting, the smallest (source, board, source_job_id)
  among all its postings, as seen on that posting's latest partition; ``updated_at`` is the
  earliest date its current hash was seen.
- A posting's ``closed_at`` is the first *successful* scrape of its board after its ``last_seen``
  (recorded in ``board_scrape``); a job is closed when all its postings are, and reopens if seen again.
- Jobs carrying user data (favorite, notes, status) keep their content: a sync moves only their
  timestamps, and records the newer hash in ``job_hash_history``.

One transaction per sync; reads and writes are bulk statements, never one ORM round trip per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timezone
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from jobpipeline.lib.normalize import deduplicate
from jobpipeline.lib.postings import POSTING_SCHEMA
from jobpipeline.lib.store import BoardScrape, Job, JobHashHistory, JobPosting, writer

JOB = Job.__table__
POSTING = JobPosting.__table__
HISTORY = JobHashHistory.__table__
SCRAPE = BoardScrape.__table__

CONTENT_COLUMNS = [c for c in POSTING_SCHEMA if c not in ("source", "board", "source_job_id")]
_ALIAS = ["source", "board", "source_job_id"]
_CHUNK = 500
_SCRAPE_DEFAULTS = {"ok": True, "http_status": None, "error": None, "n_postings": 0, "n_bytes": 0, "duration_s": 0.0}


@dataclass
class SyncResult:
    postings: int = 0  # postings in the partition
    jobs: int = 0  # distinct jobs after dedup
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    frozen: int = 0  # changed upstream but kept as the user saw it
    closed: int = 0
    reopened: int = 0
    touched_ids: list[int] = field(default_factory=list, repr=False)  # jobs inserted or rewritten

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "touched_ids"}


def sync_postings(
    engine: sa.Engine,
    postings: pl.DataFrame,
    *,
    seen_on: date,
    scraped_boards: Iterable[tuple[str, str]],
    board_outcomes: Sequence[dict[str, Any]] = (),
    now: datetime | None = None,
) -> SyncResult:
    """Sync ``postings`` (``POSTING_SCHEMA`` rows) seen on ``seen_on`` into the store.

    ``scraped_boards`` are the (source, board) pairs scraped successfully for this partition: their
    postings missing from ``postings`` count as vanished. ``board_outcomes`` (dicts with the
    ``BoardScrape`` columns but ``scraped_on``) records failed boards too; failed boards close nothing.
    """
    now = now or datetime.now(timezone.utc)
    scope = sorted(set(scraped_boards) | {(s, b) for s, b in postings.select("source", "board").unique().iter_rows()})
    groups = deduplicate(postings)
    result = SyncResult(postings=postings.height, jobs=groups.height)
    with writer(engine).begin() as conn:
        _record_scrapes(conn, seen_on, scraped_boards, board_outcomes)
        known = _load_aliases(conn, scope)
        groups = _assign_jobs(conn, groups, known)
        new_ids = _insert_new_jobs(conn, groups.filter(pl.col("job_id").is_null()), seen_on, now, result)
        groups = groups.update(new_ids, on="dedup_key")
        _update_existing_jobs(conn, groups.filter(~pl.col("dedup_key").is_in(new_ids["dedup_key"].implode())), seen_on, now, result)
        _upsert_aliases(conn, groups, known, seen_on)
        _close_vanished(conn, scope, now, result)
    return result


# --- steps -------------------------------------------------------------------------------------


def _record_scrapes(conn: sa.Connection, seen_on: date, scraped_boards: Iterable[tuple[str, str]], outcomes: Sequence[dict[str, Any]]) -> None:
    rows = {(o["source"], o["board"]): {**o, "scraped_on": seen_on} for o in outcomes}
    for source, board in scraped_boards:
        rows.setdefault((source, board), {"source": source, "board": board, "scraped_on": seen_on, "ok": True})
    if not rows:
        return
    values = [{**_SCRAPE_DEFAULTS, **row} for row in rows.values()]
    _upsert(conn, SCRAPE, values, ["source", "board", "scraped_on"], lambda ex: {c: ex[c] for c in _SCRAPE_DEFAULTS})


def _load_aliases(conn: sa.Connection, scope: list[tuple[str, str]]) -> pl.DataFrame:
    """Every known posting of the boards in scope."""
    schema = {"source": pl.String, "board": pl.String, "source_job_id": pl.String, "job_id": pl.Int64,
              "first_seen": pl.Date, "last_seen": pl.Date, "closed_at": pl.Date}
    rows: list[tuple] = []
    cols = [POSTING.c[name] for name in schema]
    for source, boards in _by_source(scope).items():
        for chunk in _chunks(boards):
            stmt = sa.select(*cols).where(POSTING.c.source == source, POSTING.c.board.in_(chunk))
            rows.extend(conn.execute(stmt).all())
    return pl.DataFrame(rows, schema=schema, orient="row")


def _assign_jobs(conn: sa.Connection, groups: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """Give each group its job id: via a known posting first, else a job with the same dedup key."""
    via_alias = (
        groups.select("dedup_key", "aliases")
        .explode("aliases")
        .unnest("aliases")
        .join(known.select(*_ALIAS, "job_id"), on=_ALIAS, how="inner")
        .group_by("dedup_key")
        .agg(pl.col("job_id").min())
    )
    groups = groups.join(via_alias, on="dedup_key", how="left")
    missing = groups.filter(pl.col("job_id").is_null())["dedup_key"].to_list()
    found: list[tuple[str, int]] = []
    for chunk in _chunks(missing):
        stmt = sa.select(JOB.c.dedup_key, sa.func.min(JOB.c.id)).where(JOB.c.dedup_key.in_(chunk)).group_by(JOB.c.dedup_key)
        found.extend(conn.execute(stmt).all())
    if found:
        by_key = pl.DataFrame(found, schema={"dedup_key": pl.String, "job_id": pl.Int64}, orient="row")
        groups = groups.update(by_key, on="dedup_key")
    return groups


def _insert_new_jobs(conn: sa.Connection, new: pl.DataFrame, seen_on: date, now: datetime, result: SyncResult) -> pl.DataFrame:
    result.new = new.height
    if new.is_empty():
        return pl.DataFrame(schema={"dedup_key": pl.String, "job_id": pl.Int64})
    rows = new.select("dedup_key", "content_hash", *_ALIAS, *CONTENT_COLUMNS).with_columns(
        first_seen=pl.lit(seen_on), last_seen=pl.lit(seen_on), content_seen=pl.lit(seen_on),
        updated_at=pl.lit(seen_on), synced_at=pl.lit(now).dt.replace_time_zone("UTC"), favorite=pl.lit(False),
    )
    _bulk_insert(conn, JOB, rows)
    found: list[tuple] = []
    for chunk in _chunks(new["dedup_key"].to_list()):
        found.extend(conn.execute(sa.select(JOB.c.dedup_key, sa.func.max(JOB.c.id)).where(JOB.c.dedup_key.in_(chunk)).group_by(JOB.c.dedup_key)).all())
    new_ids = pl.DataFrame(found, schema={"dedup_key": pl.String, "job_id": pl.Int64}, orient="row")
    history = new.select("dedup_key", "content_hash").join(new_ids, on="dedup_key").select("job_id", "content_hash")
    _upsert_history(conn, history.with_columns(first_seen=pl.lit(seen_on)).to_dicts())
    result.touched_ids.extend(new_ids["job_id"].to_list())
    return new_ids


def _update_existing_jobs(conn: sa.Connection, groups: pl.DataFrame, seen_on: date, now: datetime, result: SyncResult) -> None:
    if groups.is_empty():
        return
    # Two groups can meet in one job (e.g. its description changed on one source only): the
    # canonical one, first in (source, board, source_job_id) order, speaks for the job.
    groups = groups.sort(*_ALIAS).unique("job_id", keep="first", maintain_order=True)
    current = _load_jobs(conn, groups["job_id"].unique().to_list())
    g = groups.join(current, on="job_id", how="inner", suffix="_old")
    alias = pl.concat_str(_ALIAS, separator="\x1f")
    alias_old = pl.concat_str([f"{c}_old" for c in _ALIAS], separator="\x1f")
    d = pl.lit(seen_on)
    g = g.with_columns(
        # The job's content belongs to its canonical posting (smallest key): it takes over when a
        # smaller one appears, and only its own later sightings rewrite the content.
        newer=(alias < alias_old) | ((alias == alias_old) & (d >= pl.col("content_seen"))),
        differs=pl.col("content_hash") != pl.col("content_hash_old"),
        has_user=pl.col("favorite") | pl.col("notes").is_not_null() | pl.col("status").is_not_null(),
    )
    rewrite = g.filter(pl.col("newer") & pl.col("differs") & ~pl.col("has_user"))
    result.changed = rewrite.height
    result.touched_ids.extend(rewrite["job_id"].to_list())
    result.frozen = g.filter(pl.col("newer") & pl.col("differs") & pl.col("has_user")).height
    result.unchanged = g.height - result.changed - result.frozen

    # Every differing hash goes to history; an equal hash only when seen earlier than recorded.
    history = g.filter(pl.col("differs") | (d < pl.col("updated_at"))).select("job_id", "content_hash")
    _upsert_history(conn, history.with_columns(first_seen=d).to_dicts())

    if not rewrite.is_empty():
        first_seen_of_hash = _history_dates(conn, rewrite.select("job_id", "content_hash"))
        rows = (
            rewrite.select("job_id", "dedup_key", "content_hash", *_ALIAS, *CONTENT_COLUMNS)
            .join(first_seen_of_hash, on=["job_id", "content_hash"], how="left")
            .with_columns(content_seen=d, synced_at=pl.lit(now))
        )
        cols = ["dedup_key", "content_hash", *_ALIAS, *CONTENT_COLUMNS, "content_seen", "updated_at", "synced_at"]
        stmt = JOB.update().where(JOB.c.id == sa.bindparam("b_id")).values({c: sa.bindparam(f"b_{c}") for c in cols})
        conn.execute(stmt, _bind_rows(rows.rename({"job_id": "id"}), ["id", *cols]))

    # Timestamps: first/last seen, content_seen for same content, updated_at for earlier sightings.
    stamps = g.filter(~pl.col("job_id").is_in(rewrite["job_id"].implode())).select(
        "job_id",
        first_seen=pl.min_horizontal("first_seen", d),
        last_seen=pl.max_horizontal("last_seen", d),
        content_seen=pl.when(pl.col("newer") & ~pl.col("differs")).then(pl.max_horizontal("content_seen", d)).otherwise("content_seen"),
        updated_at=pl.when(~pl.col("differs")).then(pl.min_horizontal("updated_at", d)).otherwise("updated_at"),
        dirty=(d < pl.col("first_seen")) | (d > pl.col("last_seen"))
        | (~pl.col("differs") & ((d < pl.col("updated_at")) | (pl.col("newer") & (d > pl.col("content_seen"))))),
    ).filter("dirty")
    stamps_rewrite = rewrite.select("job_id", first_seen=pl.min_horizontal("first_seen", d), last_seen=pl.max_horizontal("last_seen", d))
    for frame, cols in ((stamps, ["first_seen", "last_seen", "content_seen", "updated_at"]), (stamps_rewrite, ["first_seen", "last_seen"])):
        if frame.is_empty():
            continue
        stmt = (
            JOB.update().where(JOB.c.id == sa.bindparam("b_id"))
            .values({**{c: sa.bindparam(f"b_{c}") for c in cols}, "synced_at": now})
        )
        conn.execute(stmt, _bind_rows(frame.rename({"job_id": "id"}), ["id", *cols]))


def _upsert_aliases(conn: sa.Connection, groups: pl.DataFrame, known: pl.DataFrame, seen_on: date) -> None:
    incoming = groups.select("job_id", "content_hash", "aliases").explode("aliases").unnest("aliases")
    rows = incoming.join(known.select(*_ALIAS, "first_seen", "last_seen"), on=_ALIAS, how="left")
    dirty = rows.filter(pl.col("last_seen").is_null() | (pl.col("last_seen") < seen_on) | (pl.col("first_seen") > seen_on))
    if dirty.is_empty():
        return
    values = dirty.select(*_ALIAS, "job_id", "content_hash").with_columns(first_seen=pl.lit(seen_on), last_seen=pl.lit(seen_on)).to_dicts()

    def on_conflict(ex: Any) -> dict:
        later = ex.last_seen >= POSTING.c.last_seen
        return {
            "first_seen": sa.case((ex.first_seen < POSTING.c.first_seen, ex.first_seen), else_=POSTING.c.first_seen),
            "last_seen": sa.case((later, ex.last_seen), else_=POSTING.c.last_seen),
            "content_hash": sa.case((later, ex.content_hash), else_=POSTING.c.content_hash),
        }

    _upsert(conn, POSTING, values, _ALIAS, on_conflict)


def _close_vanished(conn: sa.Connection, scope: list[tuple[str, str]], now: datetime, result: SyncResult) -> None:
    """Derive ``closed_at`` of every posting in scope from the board's successful scrapes, then of their jobs."""
    aliases = _load_aliases(conn, scope)
    if aliases.is_empty():
        return
    scrapes: list[tuple] = []
    for source, boards in _by_source(scope).items():
        for chunk in _chunks(boards):
            stmt = sa.select(SCRAPE.c.source, SCRAPE.c.board, SCRAPE.c.scraped_on).where(
                SCRAPE.c.ok, SCRAPE.c.source == source, SCRAPE.c.board.in_(chunk)
            )
            scrapes.extend(conn.execute(stmt).all())
    scrape_days = pl.DataFrame(scrapes, schema={"source": pl.String, "board": pl.String, "scraped_on": pl.Date}, orient="row").sort("scraped_on")
    derived = aliases.sort("last_seen").join_asof(
        scrape_days, left_on="last_seen", right_on="scraped_on", by=["source", "board"],
        strategy="forward", allow_exact_matches=False, check_sortedness=False,
    )
    changed = derived.filter(pl.col("closed_at").ne_missing(pl.col("scraped_on")))
    if changed.is_empty():
        return
    stmt = (
        POSTING.update()
        .where(POSTING.c.source == sa.bindparam("b_source"), POSTING.c.board == sa.bindparam("b_board"),
               POSTING.c.source_job_id == sa.bindparam("b_source_job_id"))
        .values(closed_at=sa.bindparam("b_closed_at"))
    )
    conn.execute(stmt, _bind_rows(changed.select(*_ALIAS, closed_at="scraped_on"), [*_ALIAS, "closed_at"]))

    # A job is closed when every posting of it is closed (at the latest of their dates).
    job_ids = changed["job_id"].unique().to_list()
    postings: list[tuple] = []
    jobs: list[tuple] = []
    for chunk in _chunks(job_ids):
        postings.extend(conn.execute(sa.select(POSTING.c.job_id, POSTING.c.closed_at).where(POSTING.c.job_id.in_(chunk))).all())
        jobs.extend(conn.execute(sa.select(JOB.c.id, JOB.c.closed_at).where(JOB.c.id.in_(chunk))).all())
    state = (
        pl.DataFrame(postings, schema={"job_id": pl.Int64, "closed_at": pl.Date}, orient="row")
        .group_by("job_id")
        .agg(new=pl.when(pl.col("closed_at").null_count() > 0).then(None).otherwise(pl.col("closed_at").max()))
        .join(pl.DataFrame(jobs, schema={"job_id": pl.Int64, "old": pl.Date}, orient="row"), on="job_id")
        .filter(pl.col("new").ne_missing(pl.col("old")))
    )
    result.closed += state.filter(pl.col("old").is_null()).height
    result.reopened += state.filter(pl.col("new").is_null()).height
    if not state.is_empty():
        stmt = JOB.update().where(JOB.c.id == sa.bindparam("b_id")).values(closed_at=sa.bindparam("b_closed_at"), synced_at=now)
        conn.execute(stmt, _bind_rows(state.select(id="job_id", closed_at="new"), ["id", "closed_at"]))


# --- helpers -----------------------------------------------------------------------------------


def _load_jobs(conn: sa.Connection, ids: list[int]) -> pl.DataFrame:
    cols = ["id", "content_hash", *_ALIAS, "first_seen", "last_seen", "content_seen", "updated_at", "favorite", "notes", "status"]
    schema = {"job_id": pl.Int64, "content_hash_old": pl.String, **{f"{c}_old": pl.String for c in _ALIAS},
              "first_seen": pl.Date, "last_seen": pl.Date, "content_seen": pl.Date, "updated_at": pl.Date,
              "favorite": pl.Boolean, "notes": pl.String, "status": pl.String}
    rows: list[tuple] = []
    for chunk in _chunks(ids):
        rows.extend(conn.execute(sa.select(*(JOB.c[c] for c in cols)).where(JOB.c.id.in_(chunk))).all())
    return pl.DataFrame(rows, schema=schema, orient="row")


def _history_dates(conn: sa.Connection, keys: pl.DataFrame) -> pl.DataFrame:
    """``updated_at`` for rewritten jobs: the earliest date their new hash was seen."""
    rows: list[tuple] = []
    for chunk in _chunks(keys["job_id"].to_list()):
        stmt = sa.select(HISTORY.c.job_id, HISTORY.c.content_hash, HISTORY.c.first_seen).where(HISTORY.c.job_id.in_(chunk))
        rows.extend(conn.execute(stmt).all())
    return pl.DataFrame(rows, schema={"job_id": pl.Int64, "content_hash": pl.String, "updated_at": pl.Date}, orient="row")


def _upsert_history(conn: sa.Connection, rows: list[dict]) -> None:
    if rows:
        _upsert(conn, HISTORY, rows, ["job_id", "content_hash"], lambda ex: {
            "first_seen": sa.case((ex.first_seen < HISTORY.c.first_seen, ex.first_seen), else_=HISTORY.c.first_seen)
        })


def _upsert(conn: sa.Connection, table: sa.Table, rows: list[dict], keys: list[str], set_: Any) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, in the engine's own dialect (SQLite or PostgreSQL)."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is None:
        raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {conn.dialect.name!r}")
    stmt = dialect.insert(table)
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=set_(stmt.excluded)), rows)


def _bulk_insert(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """INSERT many rows. On SQLite the values are rendered in polars, as SQLAlchemy would store them,
    and handed to the driver's executemany: per-row bind processing was most of a cold sync.
    RETURNING is avoided: on SQLite it forces one statement per row."""
    if conn.dialect.name != "sqlite":
        conn.execute(sa.insert(table), frame.to_dicts())
        return
    rendered = frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        + [pl.col(c).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S%.6f") for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
        + [pl.col(c).cast(pl.Int8) for c, t in frame.schema.items() if t == pl.Boolean]
    )
    json_columns = [i for i, c in enumerate(frame.columns) if isinstance(table.c[c].type, sa.JSON)]
    rows = rendered.rows()
    if json_columns:
        rows = [tuple(json.dumps(v) if i in json_columns else v for i, v in enumerate(row)) for row in rows]
    names = ", ".join(frame.columns)
    marks = ", ".join("?" * len(frame.columns))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)


def _bind_rows(frame: pl.DataFrame, columns: list[str]) -> list[dict]:
    return frame.select(columns).rename({c: f"b_{c}" for c in columns}).to_dicts()


def _by_source(scope: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for source, board in scope:
        grouped.setdefault(source, []).append(board)
    return grouped


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
