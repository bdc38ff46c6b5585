"""Sync one partition's postings into the store: new, changed, unchanged and vanished jobs.

Everything a sync writes is a function of the set of partitions synced so far, not of their order,
so a backfill of last month after today's run leaves the same store as a date-ordered run:

- ``first_seen`` / ``last_seen`` are the min / max partition dates a job (or posting) was seen on.
- A job's content comes from its canonical posting, the smallest (source, board, source_job_id)
  among all its postings, as seen on that posting's latest partition; ``updated_at`` is the
  earliest date its current hash was seen.
- A posting's ``closed_at`` is the first *successful* scrape of its board after its ``last_seen``
  (recorded in ``board_scrape``); a job is closed when all its postings are, and reopens if seen again.
  A posting a successful scrape listed but could not read (its id in ``board_scrape_skipped``)
  counts as seen that day for closing only: ``closed_at`` follows the later of ``last_seen`` and its
  latest skipped day, while ``last_seen`` and the content stay as last read (a skip is no sighting
  of content). Skips are kept per (board, day) even for postings not stored yet, so a backfill that
  stores the posting later closes it as a date-ordered run would.
- Jobs carrying user data (favorite, notes, status) keep their content: a sync moves only their
  timestamps, and records the newer hash in ``job_hash_history``.
- A posting stays with its job once seen there, and postings seen as one job in any partition stay
  one job: when a partition's group spans postings of several jobs (one posting was rewritten apart
  from the others and synced first), those jobs merge: into the one with user data if any, else
  the one whose canonical posting is smallest. Jobs with user data are never dropped or rewritten,
  so two of them stay apart.

One transaction per sync (``BEGIN IMMEDIATE`` on SQLite). Reads are bulk selects into polars, the
diff is computed in polars, writes are executemany statements of only the rows that change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timezone
from typing import Any

import polars as pl
import sqlalchemy as sa

from jobpipeline.lib.normalize import deduplicate
from jobpipeline.lib.postings import POSTING_SCHEMA, BoardOutcome
from jobpipeline.lib.store import BoardScrape, BoardScrapeSkipped, Job, JobHashHistory, JobPosting, JobText, mark_for_search_index, upsert, writer

JOB = Job.__table__
TEXT = JobText.__table__
POSTING = JobPosting.__table__
HISTORY = JobHashHistory.__table__
SCRAPE = BoardScrape.__table__
SKIPPED = BoardScrapeSkipped.__table__

_ALIAS = ["source", "board", "source_job_id"]
JOB_CONTENT = [c for c in POSTING_SCHEMA if c not in ("source", "board", "source_job_id", "description")]
_CHUNK = 500
_WRITE_BATCH = 5_000
_SQLITE_LITERAL_CHUNK = 10_000  # literal IN lists have no bound-variable limit
# A job row carrying user data: never rewritten or dropped by a sync.
_HAS_USER = pl.col("favorite") | pl.col("notes").is_not_null() | pl.col("status").is_not_null()


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
    merged: int = 0  # jobs folded into another job they turned out to be
    unmerged: int = 0  # jobs left apart although one group spans them: two of them carry user data
    touched_ids: list[int] = field(default_factory=list, repr=False)  # jobs inserted or rewritten

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "touched_ids"}

    def add(self, other: SyncResult) -> None:
        for name, value in other.as_dict().items():
            setattr(self, name, getattr(self, name) + value)
        self.touched_ids.extend(other.touched_ids)


def sync_postings(
    engine: sa.Engine,
    postings: pl.DataFrame,
    *,
    seen_on: date,
    outcomes: Sequence[BoardOutcome],
    now: datetime | None = None,
) -> SyncResult:
    """Sync ``postings`` (``POSTING_SCHEMA`` rows) seen on ``seen_on`` into the store.

    ``outcomes`` are the partition's boards, each recorded in ``board_scrape``. The successful ones
    (``ok``) count as scraped: their postings missing from ``postings`` count as vanished, and their
    ``skipped_ids`` (listed, but unreadable) are not vanished, so not closed from this day (their
    content stays as last read). Failed boards close nothing.
    """
    now = now or datetime.now(timezone.utc)
    scraped_boards = [(o.source, o.board) for o in outcomes if o.ok]
    skipped_ids = sorted({(o.source, o.board, posting_id) for o in outcomes if o.ok for posting_id in o.skipped_ids})
    groups = deduplicate(postings)
    scope = sorted(set(scraped_boards) | set(postings.select("source", "board").unique().iter_rows()))
    result = SyncResult(postings=postings.height, jobs=groups.height)
    with writer(engine).begin() as conn:
        _record_scrapes(conn, seen_on, outcomes, skipped_ids)
        known = _load_aliases(conn, scope)
        links = (  # (dedup_key, job_id): the jobs each group's known postings belong to
            groups.select("dedup_key", "aliases").explode("aliases").unnest("aliases")
            .join(known.select(*_ALIAS, "job_id"), on=_ALIAS, how="inner")
            .select("dedup_key", "job_id").unique()
        )
        known, links, merged_into = _merge_jobs(conn, known, links, result)
        groups = _assign_jobs(conn, groups, links)
        new_ids = _insert_new_jobs(conn, groups.filter(pl.col("job_id").is_null()), seen_on, now, result)
        groups = groups.update(new_ids, on="dedup_key")
        existing = groups.filter(~pl.col("dedup_key").is_in(new_ids["dedup_key"].implode()))
        _update_existing_jobs(conn, existing, seen_on, now, result)
        aliases = _write_aliases(conn, groups, known, seen_on)
        _close_vanished(conn, scope, aliases, seen_on, now, result, also=merged_into)
        mark_for_search_index(conn, result.touched_ids)  # refreshed after the commit, or by the next sync
    return result


def record_board_outcomes(engine: sa.Engine, seen_on: date, outcomes: Sequence[BoardOutcome]) -> int:
    """Record board outcomes in ``board_scrape`` without syncing postings: how a partition whose
    every board failed (it syncs nothing) still shows its outage to ``scrape_health`` and the checks.
    Failed boards close nothing; a later successful scrape of the day overwrites these rows."""
    with writer(engine).begin() as conn:
        _record_scrapes(conn, seen_on, outcomes)
    return len(outcomes)


def close_ended_board(engine: sa.Engine, source: str, board: str, closed_on: date, now: datetime | None = None) -> SyncResult:
    """Record that ``board`` is over as of ``closed_on``: a successful scrape that day that listed
    nothing, so every posting of it closes then (unless another board keeps its job open).

    A finished HN month is such a board: its thread counts as scraped empty on the 1st of the next
    month. The result counts only closings (and reopenings)."""
    ended = BoardOutcome(source=source, board=board, ok=True)
    return sync_postings(engine, pl.DataFrame(schema=POSTING_SCHEMA), seen_on=closed_on, outcomes=[ended], now=now)


# --- steps -------------------------------------------------------------------------------------


def _record_scrapes(
    conn: sa.Connection, seen_on: date, outcomes: Sequence[BoardOutcome], skipped_ids: Sequence[tuple[str, str, str]] = (),
) -> None:
    """Upsert the day's ``board_scrape`` rows, and replace the day's skipped ids of those boards."""
    rows = {(o.source, o.board): {**o.stored_row(), "scraped_on": seen_on} for o in outcomes}
    if rows:
        upsert(conn, SCRAPE, list(rows.values()), ["source", "board", "scraped_on"], lambda ex: {c: ex[c] for c in BoardOutcome.stored_columns()})
    for source, boards in _by_source(sorted(rows)).items():  # a re-scrape of the day replaces its skips
        for chunk in _chunks(boards):
            conn.execute(SKIPPED.delete().where(SKIPPED.c.source == source, SKIPPED.c.scraped_on == seen_on, SKIPPED.c.board.in_(chunk)))
    if skipped_ids:
        _bulk_insert(conn, SKIPPED, pl.DataFrame(skipped_ids, schema=_ALIAS, orient="row").with_columns(scraped_on=pl.lit(seen_on)))


_ALIAS_SCHEMA = {"source": pl.String, "board": pl.String, "source_job_id": pl.String, "job_id": pl.Int64,
                 "content_hash": pl.String, "first_seen": pl.Date, "last_seen": pl.Date, "closed_at": pl.Date}


def _load_aliases(conn: sa.Connection, scope: list[tuple[str, str]]) -> pl.DataFrame:
    """Every known posting of the boards in scope."""
    stmt = sa.select(*(POSTING.c[name] for name in _ALIAS_SCHEMA))
    frames = [
        _select_frame(conn, stmt.where(POSTING.c.source == source), _ALIAS_SCHEMA, POSTING.c.board, boards)
        for source, boards in _by_source(scope).items()
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=_ALIAS_SCHEMA)


def _assign_jobs(conn: sa.Connection, groups: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Give each group its job id: via a known posting first, else a job with the same dedup key."""
    groups = groups.join(links.group_by("dedup_key").agg(pl.col("job_id").min()), on="dedup_key", how="left")
    missing = groups.filter(pl.col("job_id").is_null())["dedup_key"].to_list()
    stmt = sa.select(JOB.c.dedup_key, sa.func.min(JOB.c.id)).group_by(JOB.c.dedup_key)
    found = _select_frame(conn, stmt, {"dedup_key": pl.String, "job_id": pl.Int64}, JOB.c.dedup_key, missing)
    if not found.is_empty():
        groups = groups.update(found, on="dedup_key")
    return groups

def _merge_jobs(
    conn: sa.Connection, known: pl.DataFrame, links: pl.DataFrame, result: SyncResult
) -> tuple[pl.DataFrame, pl.DataFrame, list[int]]:
    """Make one job of the jobs whose postings meet in one group (``links``); returns ``known`` and
    ``links`` re-pointed to the survivors, and the surviving ids.

    Jobs linked through groups (transitively) form one component. Its survivor is the job with user
    data if one has it (that row is only ever given timestamps), else the job whose canonical
    posting is smallest, which holds the content the merged job has anyway. The others' postings
    move to it, its first/last seen widen, and their rows, texts and hash histories go. A component
    with user data on two jobs is left as it is: neither row may be rewritten or dropped.
    """
    spanning = links.filter(pl.col("job_id").n_unique().over("dedup_key") > 1)
    if spanning.is_empty():
        return known, links, []
    parent: dict[int, int] = {}

    def root(job_id: int) -> int:
        while parent.setdefault(job_id, job_id) != job_id:
            job_id = parent[job_id]
        return job_id

    for ids in spanning.group_by("dedup_key").agg("job_id")["job_id"].to_list():
        for other in ids[1:]:
            parent[root(other)] = root(ids[0])
    cols = ["id", *_ALIAS, "first_seen", "last_seen", "favorite", "notes", "status"]
    schema = {"job_id": pl.Int64, **{c: pl.String for c in _ALIAS}, "first_seen": pl.Date, "last_seen": pl.Date,
              "favorite": pl.Boolean, "notes": pl.String, "status": pl.String}
    jobs = _select_frame(conn, sa.select(*(JOB.c[c] for c in cols)), schema, JOB.c.id, sorted(parent))
    jobs = jobs.with_columns(
        component=pl.col("job_id").map_elements(root, return_dtype=pl.Int64),
        has_user=_HAS_USER,
    ).sort(pl.col("has_user").not_(), *_ALIAS, "job_id")  # the survivor first
    moves: dict[int, int] = {}
    spans: list[tuple] = []
    for component in jobs.partition_by("component", maintain_order=True):
        if component["has_user"].sum() > 1:
            result.unmerged += component.height
            continue
        keep = component["job_id"][0]
        moves.update({loser: keep for loser in component["job_id"][1:]})
        spans.append((keep, component["first_seen"].min(), component["last_seen"].max()))
    if not moves:
        return known, links, []
    _bulk_update(conn, JOB, pl.DataFrame(spans, schema={"id": pl.Int64, "first_seen": pl.Date, "last_seen": pl.Date}, orient="row"), ["id"])
    conn.execute(POSTING.update().where(POSTING.c.job_id == sa.bindparam("loser")).values(job_id=sa.bindparam("survivor")),
                 [{"loser": loser, "survivor": survivor} for loser, survivor in moves.items()])
    losers = sorted(moves)
    for chunk in _chunks(losers):
        for table, column in ((HISTORY, HISTORY.c.job_id), (TEXT, TEXT.c.job_id), (JOB, JOB.c.id)):
            conn.execute(table.delete().where(column.in_(chunk)))
    survivors = sorted(set(moves.values()))
    result.merged += len(losers)
    result.touched_ids.extend(survivors + losers)  # the search index drops the losers
    mapping = pl.DataFrame({"job_id": losers, "into": [moves[i] for i in losers]}, schema={"job_id": pl.Int64, "into": pl.Int64})

    def repoint(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.join(mapping, on="job_id", how="left").with_columns(job_id=pl.coalesce("into", "job_id")).drop("into")

    return repoint(known), repoint(links).unique(), survivors


def _insert_new_jobs(conn: sa.Connection, new: pl.DataFrame, seen_on: date, now: datetime, result: SyncResult) -> pl.DataFrame:
    result.new = new.height
    if new.is_empty():
        return pl.DataFrame(schema={"dedup_key": pl.String, "job_id": pl.Int64})
    rows = new.select("dedup_key", "content_hash", *_ALIAS, *JOB_CONTENT).with_columns(
        first_seen=pl.lit(seen_on), last_seen=pl.lit(seen_on), content_seen=pl.lit(seen_on),
        updated_at=pl.lit(seen_on), synced_at=pl.lit(now).dt.replace_time_zone("UTC"), favorite=pl.lit(False),
    )
    _bulk_insert(conn, JOB, rows)
    # Ids back by dedup key (unique among new groups; RETURNING would cost a statement per row on SQLite).
    stmt = sa.select(JOB.c.dedup_key, sa.func.max(JOB.c.id)).group_by(JOB.c.dedup_key)
    new_ids = _select_frame(conn, stmt, {"dedup_key": pl.String, "job_id": pl.Int64}, JOB.c.dedup_key, new["dedup_key"].to_list())
    with_ids = new.drop("job_id").join(new_ids, on="dedup_key")
    _bulk_insert(conn, TEXT, with_ids.select("job_id", pl.col("description").fill_null("")))
    _upsert_history(conn, with_ids.select("job_id", "content_hash", first_seen=pl.lit(seen_on)))
    result.touched_ids.extend(new_ids["job_id"].to_list())
    return new_ids


def _update_existing_jobs(conn: sa.Connection, groups: pl.DataFrame, seen_on: date, now: datetime, result: SyncResult) -> None:
    if groups.is_empty():
        return
    # Two groups can meet in one job (e.g. its description changed on one source only): the
    # canonical one, first in (source, board, source_job_id) order, speaks for the job.
    groups = groups.sort(*_ALIAS).unique("job_id", keep="first", maintain_order=True)
    g = groups.join(_load_jobs(conn, groups["job_id"].to_list()), on="job_id", how="inner")
    alias, alias_old = pl.concat_str(_ALIAS, separator="\x1f"), pl.concat_str([f"{c}_old" for c in _ALIAS], separator="\x1f")
    d = pl.lit(seen_on)
    g = g.with_columns(
        # The job's content belongs to its canonical posting (smallest key): it takes over when a
        # smaller one appears, and only its own later sightings rewrite the content.
        takeover=alias < alias_old,
        newer=(alias < alias_old) | ((alias == alias_old) & (d >= pl.col("content_seen"))),
        differs=pl.col("content_hash") != pl.col("content_hash_old"),
        has_user=_HAS_USER,
    )
    # A smaller alias takes the job over even with an equal hash: ids, URLs and posted_at are not hashed.
    rewrite = g.filter(pl.col("newer") & (pl.col("differs") | pl.col("takeover")) & ~pl.col("has_user"))
    result.changed = rewrite.filter(pl.col("differs")).height
    result.frozen = g.filter(pl.col("newer") & pl.col("differs") & pl.col("has_user")).height
    result.unchanged = g.height - result.changed - result.frozen
    result.touched_ids.extend(rewrite["job_id"].to_list())

    # Every differing hash goes to history; an equal hash only when seen earlier than recorded.
    _upsert_history(conn, g.filter(pl.col("differs") | (d < pl.col("updated_at"))).select("job_id", "content_hash", first_seen=d))

    rewritten = rewrite.drop("updated_at").with_columns(content_seen=d).join(_history_dates(conn, rewrite), on=["job_id", "content_hash"], how="left")
    stamps = g.with_columns(
        first_seen=pl.min_horizontal("first_seen", d),
        last_seen=pl.max_horizontal("last_seen", d),
        content_seen=pl.when(pl.col("newer") & ~pl.col("differs")).then(pl.max_horizontal("content_seen", d)).otherwise("content_seen"),
        updated_at=pl.when(~pl.col("differs")).then(pl.min_horizontal("updated_at", d)).otherwise("updated_at"),
    )
    dirty = stamps.join(g.select("job_id", "first_seen", "last_seen", "content_seen", "updated_at"), on="job_id", suffix="_was").filter(
        pl.any_horizontal(pl.col(c) != pl.col(f"{c}_was") for c in ("first_seen", "last_seen", "content_seen", "updated_at"))
    )
    dirty = dirty.filter(~pl.col("job_id").is_in(rewrite["job_id"].implode()))
    rewritten = rewritten.drop("first_seen", "last_seen").join(stamps.select("job_id", "first_seen", "last_seen"), on="job_id")
    now_col = pl.lit(now).dt.replace_time_zone("UTC").alias("synced_at")
    content_cols = ["dedup_key", "content_hash", *_ALIAS, *JOB_CONTENT, "content_seen", "updated_at", "first_seen", "last_seen"]
    _bulk_update(conn, JOB, rewritten.select(id="job_id", *content_cols).with_columns(now_col), ["id"])
    _bulk_update(conn, TEXT, rewritten.select("job_id", pl.col("description").fill_null("")), ["job_id"])
    stamp_cols = ["first_seen", "last_seen", "content_seen", "updated_at"]
    _bulk_update(conn, JOB, dirty.select(id="job_id", *stamp_cols).with_columns(now_col), ["id"])


def _write_aliases(conn: sa.Connection, groups: pl.DataFrame, known: pl.DataFrame, seen_on: date) -> pl.DataFrame:
    """Insert new postings; move first/last seen (and the hash, if latest) of known ones.

    Returns every posting of the scope as it now stands (job_id, last_seen, closed_at)."""
    incoming = groups.select("job_id", "content_hash", "aliases").explode("aliases").unnest("aliases")
    rows = incoming.join(known.drop("job_id", "closed_at"), on=_ALIAS, how="left", suffix="_was")
    d = pl.lit(seen_on)
    new = rows.filter(pl.col("last_seen").is_null())
    _bulk_insert(conn, POSTING, new.select(*_ALIAS, "job_id", "content_hash", first_seen=d, last_seen=d))
    moved = rows.filter(pl.col("last_seen").is_not_null() & ((pl.col("last_seen") < d) | (pl.col("first_seen") > d)))
    latest = d >= pl.col("last_seen")
    _bulk_update(conn, POSTING, moved.select(
        *_ALIAS,
        first_seen=pl.min_horizontal("first_seen", d),
        last_seen=pl.max_horizontal("last_seen", d),
        content_hash=pl.when(latest).then("content_hash").otherwise("content_hash_was"),
    ), _ALIAS)
    seen = incoming.select(*_ALIAS, seen=d)
    return (
        pl.concat([known.select(*_ALIAS, "job_id", "last_seen", "closed_at"),
                   new.select(*_ALIAS, "job_id", last_seen=d, closed_at=pl.lit(None, dtype=pl.Date))])
        .join(seen, on=_ALIAS, how="left")
        .with_columns(last_seen=pl.max_horizontal("last_seen", "seen"))
        .drop("seen")
    )


def _close_vanished(
    conn: sa.Connection, scope: list[tuple[str, str]], aliases: pl.DataFrame, seen_on: date, now: datetime,
    result: SyncResult, also: Sequence[int] = (),
) -> None:
    """Derive ``closed_at`` of the postings in scope from the board's successful scrapes, then of
    their jobs (and of the jobs ``also`` names, e.g. those that just gained postings by a merge).

    A posting's closing counts from ``listed``: the later of its ``last_seen`` and the latest day a
    successful scrape listed it unread (``board_scrape_skipped``). Only a posting listed on
    ``seen_on`` or later, still open, or closed on or after ``seen_on`` can change (this sync moved
    its ``last_seen``, recorded its skip or wrote the scrape of ``seen_on``); the others keep theirs,
    and only scrapes after the earliest ``listed`` among these are read."""
    d = pl.lit(seen_on)
    aliases = aliases.join(_latest_skips(conn, scope), on=_ALIAS, how="left").with_columns(
        listed=pl.max_horizontal("last_seen", "skipped_on")
    )
    candidates = aliases.filter(pl.col("closed_at").is_null() | (pl.col("closed_at") >= d) | (pl.col("listed") >= d))
    if candidates.is_empty() and not also:
        return
    schema = {"source": pl.String, "board": pl.String, "scraped_on": pl.Date}
    stmt = sa.select(SCRAPE.c.source, SCRAPE.c.board, SCRAPE.c.scraped_on).where(SCRAPE.c.ok, SCRAPE.c.scraped_on > candidates["listed"].min())
    scrape_days = pl.concat(
        [_select_frame(conn, stmt.where(SCRAPE.c.source == source), schema, SCRAPE.c.board, boards) for source, boards in _by_source(scope).items()]
        or [pl.DataFrame(schema=schema)]
    ).sort("scraped_on")
    derived = candidates.sort("listed").join_asof(
        scrape_days, left_on="listed", right_on="scraped_on", by=["source", "board"],
        strategy="forward", allow_exact_matches=False, check_sortedness=False,
    )
    changed = derived.filter(pl.col("closed_at").ne_missing(pl.col("scraped_on")))
    if changed.is_empty() and not also:
        return
    _bulk_update(conn, POSTING, changed.select(*_ALIAS, closed_at="scraped_on"), _ALIAS)

    # A job is closed when every posting of it is closed (at the latest of their dates).
    job_ids = sorted(set(changed["job_id"].to_list()) | set(also))
    postings = _select_frame(conn, sa.select(POSTING.c.job_id, POSTING.c.closed_at), {"job_id": pl.Int64, "closed_at": pl.Date}, POSTING.c.job_id, job_ids)
    jobs = _select_frame(conn, sa.select(JOB.c.id, JOB.c.closed_at), {"job_id": pl.Int64, "old": pl.Date}, JOB.c.id, job_ids)
    state = (
        postings.group_by("job_id")
        .agg(new=pl.when(pl.col("closed_at").null_count() > 0).then(None).otherwise(pl.col("closed_at").max()))
        .join(jobs, on="job_id")
        .filter(pl.col("new").ne_missing(pl.col("old")))
    )
    result.closed += state.filter(pl.col("old").is_null()).height
    result.reopened += state.filter(pl.col("new").is_null()).height
    _bulk_update(conn, JOB, state.select(id="job_id", closed_at="new", synced_at=pl.lit(now).dt.replace_time_zone("UTC")), ["id"])


# --- reads -------------------------------------------------------------------------------------


def _latest_skips(conn: sa.Connection, scope: list[tuple[str, str]]) -> pl.DataFrame:
    """(source, board, source_job_id, skipped_on): the latest day each posting of the boards in
    scope was listed by a successful scrape but could not be read."""
    stmt = (
        sa.select(SKIPPED.c.source, SKIPPED.c.board, SKIPPED.c.source_job_id, sa.func.max(SKIPPED.c.scraped_on))
        .group_by(SKIPPED.c.source, SKIPPED.c.board, SKIPPED.c.source_job_id)
    )
    schema = {**{c: pl.String for c in _ALIAS}, "skipped_on": pl.Date}
    frames = [
        _select_frame(conn, stmt.where(SKIPPED.c.source == source), schema, SKIPPED.c.board, boards)
        for source, boards in _by_source(scope).items()
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def _load_jobs(conn: sa.Connection, ids: list[int]) -> pl.DataFrame:
    cols = ["id", "content_hash", *_ALIAS, "first_seen", "last_seen", "content_seen", "updated_at", "favorite", "notes", "status"]
    schema = {"job_id": pl.Int64, "content_hash_old": pl.String, **{f"{c}_old": pl.String for c in _ALIAS},
              "first_seen": pl.Date, "last_seen": pl.Date, "content_seen": pl.Date, "updated_at": pl.Date,
              "favorite": pl.Boolean, "notes": pl.String, "status": pl.String}
    return _select_frame(conn, sa.select(*(JOB.c[c] for c in cols)), schema, JOB.c.id, ids)


def _history_dates(conn: sa.Connection, keys: pl.DataFrame) -> pl.DataFrame:
    """``updated_at`` for rewritten jobs: the earliest date their new hash was seen."""
    stmt = sa.select(HISTORY.c.job_id, HISTORY.c.content_hash, HISTORY.c.first_seen)
    schema = {"job_id": pl.Int64, "content_hash": pl.String, "updated_at": pl.Date}
    return _select_frame(conn, stmt, schema, HISTORY.c.job_id, keys["job_id"].to_list())


def _select_frame(conn: sa.Connection, stmt: sa.Select, schema: dict[str, Any], column: sa.Column, values: list) -> pl.DataFrame:
    """``stmt`` restricted to ``column IN values`` (in chunks), as a frame with ``schema``.

    On SQLite the statement is rendered with literal values and read through the driver, and dates
    (ISO text) and booleans (0/1) are parsed in polars: SQLAlchemy's per-value result processing
    was a third of a re-sync. Elsewhere SQLAlchemy reads it as usual."""
    if conn.dialect.name != "sqlite":
        rows = [row for chunk in _chunks(values) for row in conn.execute(stmt.where(column.in_(chunk))).all()]
        return pl.DataFrame(rows, schema=schema, orient="row")
    raw = {k: pl.String if t == pl.Date else pl.Int64 if t == pl.Boolean else t for k, t in schema.items()}
    rows = []
    for chunk in _chunks(values, _SQLITE_LITERAL_CHUNK):
        sql = stmt.where(column.in_(chunk)).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        rows.extend(conn.exec_driver_sql(str(sql)).all())
    frame = pl.DataFrame(rows, schema=raw, orient="row")
    return frame.with_columns(
        [pl.col(k).str.to_date("%Y-%m-%d") for k, t in schema.items() if t == pl.Date]
        + [pl.col(k).cast(pl.Boolean) for k, t in schema.items() if t == pl.Boolean]
    )


# --- writes ------------------------------------------------------------------------------------


def _upsert_history(conn: sa.Connection, rows: pl.DataFrame) -> None:
    """Record (job, hash, first seen), keeping the earlier date of a hash already recorded."""
    if rows.is_empty():
        return
    if conn.dialect.name == "sqlite":  # a backfill day writes a row per known job: the driver's path
        _bulk_insert(conn, HISTORY, rows, on_conflict="ON CONFLICT (job_id, content_hash) DO UPDATE SET first_seen = min(excluded.first_seen, first_seen)")
        return
    upsert(conn, HISTORY, rows.to_dicts(), ["job_id", "content_hash"], lambda ex: {
        "first_seen": sa.case((ex.first_seen < HISTORY.c.first_seen, ex.first_seen), else_=HISTORY.c.first_seen)
    })


def _bulk_insert(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame, on_conflict: str = "") -> None:
    """INSERT many rows with the driver's executemany (see ``_driver_rows``); ``on_conflict`` is SQLite's clause."""
    if frame.is_empty():
        return
    if conn.dialect.name != "sqlite":
        conn.execute(sa.insert(table), frame.to_dicts())
        return
    names, marks = ", ".join(frame.columns), ", ".join("?" * frame.width)
    for part in frame.iter_slices(_WRITE_BATCH):  # bounded: rows become Python objects here
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks}) {on_conflict}", _driver_rows(table, part))


def _bulk_update(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame, keys: list[str]) -> None:
    """UPDATE many rows by primary key: every non-key column of ``frame`` is set."""
    if frame.is_empty():
        return
    values = [c for c in frame.columns if c not in keys]
    if conn.dialect.name != "sqlite":
        stmt = table.update().where(*(table.c[k] == sa.bindparam(f"k_{k}") for k in keys)).values({c: sa.bindparam(f"v_{c}") for c in values})
        conn.execute(stmt, frame.rename({c: f"{'k' if c in keys else 'v'}_{c}" for c in frame.columns}).to_dicts())
        return
    ordered = frame.select(*values, *keys)
    sql = f"UPDATE {table.name} SET {', '.join(f'{c} = ?' for c in values)} WHERE {' AND '.join(f'{k} = ?' for k in keys)}"
    for part in ordered.iter_slices(_WRITE_BATCH):
        conn.exec_driver_sql(sql, _driver_rows(table, part))


def _driver_rows(table: sa.Table, frame: pl.DataFrame) -> list[tuple]:
    """Rows rendered in polars exactly as SQLAlchemy stores them on SQLite, for the driver's
    executemany: SQLAlchemy's per-row bind processing was most of a sync's time."""
    schema = frame.schema
    rendered = frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in schema.items() if t == pl.Date]
        + [pl.col(c).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S%.6f") for c, t in schema.items() if isinstance(t, pl.Datetime)]
        + [pl.col(c).cast(pl.Int8) for c, t in schema.items() if t == pl.Boolean]
    )
    json_columns = [c for c in frame.columns if isinstance(table.c[c].type, sa.JSON)]
    if json_columns:  # polars writes the JSON: '{"c":[…]}' with the wrapper sliced off
        rendered = rendered.with_columns(
            pl.struct(c).struct.json_encode().str.slice(len(c) + 4).str.head(-1).alias(c) for c in json_columns
        )
    return rendered.rows()


def _by_source(scope: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for source, board in scope:
        grouped.setdefault(source, []).append(board)
    return grouped


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
