"""The store's change feed: what each write transaction changed in the rows the analytics read.

A sync or an enrichment run appends one ``store_change`` row per plan it writes, in its own
transaction, so the feed commits with the rows it describes. Its body is a small Arrow IPC frame
(zstd) of ``CHANGE_SCHEMA`` rows, one per job (or content hash) changed:

- ``seen``: the job's ``first_seen`` / ``last_seen`` are now these (merge survivors);
- ``stamped``: the jobs ``id`` to ``last_id`` were restamped: each stamp given (``first_seen``,
  ``last_seen``) is now that day, a NULL one kept its value. A day restamps most open jobs, and
  jobs are numbered in runs, so a row stands for ~15 of them (``sync.apply.stamp_runs``);
- ``closed``: its ``closed_at`` is now this (NULL: open again);
- ``content``: the job row was inserted or rewritten: read it again;
- ``gone``: the job row was deleted (merged into another);
- ``enriched``: the enrichment cache changed rows of this ``content_hash``;
- ``scraped``: ``board_scrape`` rows of this ``source`` on this ``day`` were written (a partition's
  board outcomes: re-read the partition's rows).

Values are absolute and in write order, so replaying every change after a position, in ``seq``
order, brings a copy taken at that position up to date, and replaying some twice does no harm.
The analytics use it to update ``job_snapshot`` after a daily sync without reading the store again
(``analytics/incremental.py``).

SQLite only, like the search index's pending list: SQLite's writers are serialized, so ``seq``
commits in order and a reader never sees a later change without the earlier ones. On PostgreSQL
concurrent transactions can commit sequence numbers out of order; the feed stays empty there and
the analytics rebuild in full. Changes older than ``RETENTION`` are pruned as new ones are written;
a copy older than that is rebuilt in full.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import polars as pl
import sqlalchemy as sa

from jobpipeline.lib.store import StoreChange

CHANGE = StoreChange.__table__
OPS = ("seen", "closed", "content", "gone", "enriched", "scraped", "stamped")
CHANGE_SCHEMA = {
    "op": pl.Enum(OPS),
    "id": pl.Int64,
    "last_id": pl.Int64,  # of a ``stamped`` run: the jobs id..last_id
    "first_seen": pl.Date,
    "last_seen": pl.Date,
    "closed_at": pl.Date,
    "content_hash": pl.String,
    "source": pl.String,
    "day": pl.Date,
}
RETENTION = timedelta(days=14)


def change_frame(op: str, frame: pl.DataFrame, **columns: str) -> pl.DataFrame:
    """Rows of ``op`` from ``frame``: each ``CHANGE_SCHEMA`` column from the frame column named in
    ``columns`` (``id="job_id"``), the rest NULL."""
    if op not in OPS:
        raise ValueError(f"unknown change {op!r}; known: {OPS}")
    return frame.select(
        pl.lit(op, CHANGE_SCHEMA["op"]).alias("op"),
        *(
            (pl.col(columns[name]) if name in columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in CHANGE_SCHEMA.items()
            if name != "op"
        ),
    )


def record_change(conn: sa.Connection, kind: str, parts: Iterable[pl.DataFrame]) -> None:
    """Append one change (``parts``, in write order) to the feed, inside the writer's transaction,
    stamped with the wall clock (not the sync's own ``now``, which a backfill or a test may set);
    prunes changes older than ``RETENTION``. Nothing is written off SQLite, or when nothing changed."""
    parts = [p for p in parts if not p.is_empty()]
    if conn.dialect.name != "sqlite" or not parts:
        return
    frame = pl.concat(parts)
    changed_at = datetime.now(UTC)
    body = io.BytesIO()
    frame.write_ipc(body, compression="zstd")
    conn.execute(CHANGE.delete().where(CHANGE.c.changed_at < changed_at - RETENTION))
    conn.execute(CHANGE.insert().values(changed_at=changed_at, kind=kind, body=body.getvalue()))


def decode(body: bytes) -> pl.DataFrame:
    """A change's rows in ``CHANGE_SCHEMA``: a body written before a column or an op existed gains
    the column (NULL) and today's op type, so that bodies of both ages concatenate."""
    frame = pl.read_ipc(io.BytesIO(body))
    if frame.schema != CHANGE_SCHEMA:
        frame = frame.select(
            (pl.col(name).cast(pl.String) if name == "op" else pl.col(name)).cast(dtype)
            if name in frame.columns
            else pl.lit(None, dtype).alias(name)
            for name, dtype in CHANGE_SCHEMA.items()
        )
    return frame


Position = tuple[int, str]  # (seq, changed_at as ISO text) of one change: where a reader's copy stands


def latest_position(conn: sa.Connection) -> Position | None:
    """The newest change's position, or None while the feed is empty (or off SQLite)."""
    if conn.dialect.name != "sqlite":
        return None
    row = conn.execute(sa.select(CHANGE.c.seq, CHANGE.c.changed_at).order_by(CHANGE.c.seq.desc()).limit(1)).first()
    return None if row is None else (int(row.seq), _stamp(row.changed_at))


def changes_since(conn: sa.Connection, position: Position) -> tuple[list[pl.DataFrame], Position] | None:
    """Every change after ``position``, in order, and the newest position; None when the feed
    cannot say (the position was pruned, belongs to another store, or off SQLite)."""
    if conn.dialect.name != "sqlite":
        return None
    seq, stamp = position
    rows = conn.execute(sa.select(CHANGE.c.seq, CHANGE.c.changed_at, CHANGE.c.body).where(CHANGE.c.seq >= seq).order_by(CHANGE.c.seq)).all()
    if not rows or rows[0].seq != seq or _stamp(rows[0].changed_at) != stamp:
        return None
    if [r.seq for r in rows] != list(range(seq, seq + len(rows))):  # cannot happen with SQLite's one writer
        return None
    return [decode(r.body) for r in rows[1:]], (int(rows[-1].seq), _stamp(rows[-1].changed_at))


def _stamp(moment: datetime) -> str:
    """A stored ``changed_at`` as text, the same whether the driver gives it with a zone or without."""
    return (moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment).isoformat()
