"""Cheap facts about the store's size, for the sensor that decides when to rebuild the analytics.

Every fact is read from an index or the file system, never a scan of the job rows: ``count(*)`` walks
the smallest index, closed jobs come from the ``closed_at`` index, enrichments from the cache's key.
(``max(updated_at)`` would scan every row: there is no index on it.) Rows that change without
changing any count (a job's content rewritten) still grow the store's bytes, the second trigger.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from jobpipeline.lib.analytics.load import enrichment_table, sqlite_path


@dataclass(frozen=True)
class StoreFacts:
    jobs: int = 0
    closed_jobs: int = 0
    enrichments: int = 0
    store_bytes: int = 0  # SQLite file + its WAL; 0 for a server database

    def to_cursor(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_cursor(cls, cursor: str | None) -> StoreFacts | None:
        """The facts kept in a sensor cursor (None for no cursor, or one this code cannot read)."""
        if not cursor:
            return None
        try:
            data = json.loads(cursor)
            return cls(**{k: int(data.get(k, 0)) for k in ("jobs", "closed_jobs", "enrichments", "store_bytes")})
        except (ValueError, TypeError, AttributeError):
            return None

    def run_key(self) -> str:
        """One key per store state: a tick that sees the same state again cannot launch twice."""
        return f"analytics-{self.jobs}-{self.closed_jobs}-{self.enrichments}-{self.store_bytes}"


@dataclass(frozen=True)
class Growth:
    rows: int  # jobs added + jobs closed (or reopened) + enrichments added, since the last build
    bytes: int

    def crosses(self, min_rows: int, min_bytes: int) -> bool:
        """True when either threshold is reached (a threshold of 0 is off)."""
        return (min_rows > 0 and self.rows >= min_rows) or (min_bytes > 0 and self.bytes >= min_bytes)


def read_store_facts(engine: sa.Engine) -> StoreFacts:
    with engine.connect() as conn:
        jobs = conn.exec_driver_sql("SELECT count(*) FROM job").scalar_one()
        closed = conn.exec_driver_sql("SELECT count(*) FROM job WHERE closed_at IS NOT NULL").scalar_one()
        found = enrichment_table(engine)
        enrichments = conn.exec_driver_sql(f"SELECT count(*) FROM {found[0]}").scalar_one() if found else 0
    size = 0
    path = sqlite_path(engine)
    if path is not None:
        for file in (path, path.with_name(path.name + "-wal")):
            try:
                size += os.stat(file).st_size
            except FileNotFoundError:
                pass
    return StoreFacts(jobs=int(jobs), closed_jobs=int(closed), enrichments=int(enrichments), store_bytes=size)


def growth(since: StoreFacts | None, now: StoreFacts) -> Growth:
    """How far the store moved since ``since`` (everything, when the analytics were never built)."""
    since = since or StoreFacts()
    rows = abs(now.jobs - since.jobs) + abs(now.closed_jobs - since.closed_jobs) + abs(now.enrichments - since.enrichments)
    return Growth(rows=rows, bytes=abs(now.store_bytes - since.store_bytes))
