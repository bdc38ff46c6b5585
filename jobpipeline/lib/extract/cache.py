"""The enrichment cache: one row per (content hash, model, prompt version), in the operational store.

A job whose content hash did not change is never sent to a model again; a new model or prompt
version is a different key and re-enriches. An answer that failed validation twice is a row too
(status ``failed`` with the reason), so a bad posting is not retried on every run;
``retry_failed=True`` takes them back. A transient failure of the service (server down, 429, 5xx,
401/403) never becomes a row: the job stays pending and the next run sends it again.
Reads and writes are bulk statements (chunked ``IN`` lists, one ``executemany`` upsert). The table
itself (``Enrichment``) is the store's, in ``store.py``, like every table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa

from jobpipeline.lib.changes import change_frame, record_change
from jobpipeline.lib.extract.schema import FIELD_NAMES, JobFields
from jobpipeline.lib.store import Enrichment, writer
from jobpipeline.lib.store import upsert as upsert_rows

STATUS_OK = "ok"
STATUS_FAILED = "failed"
_CHUNK = 500


def cached_hashes(engine: sa.Engine, hashes: Iterable[str], model: str, prompt_version: str, retry_failed: bool = False) -> set[str]:
    """The content hashes among ``hashes`` that already have a row for (model, prompt_version)."""
    table = Enrichment.__table__
    wanted = list(dict.fromkeys(hashes))
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(wanted), _CHUNK):
            query = sa.select(table.c.content_hash).where(
                table.c.content_hash.in_(wanted[start : start + _CHUNK]),
                table.c.model == model,
                table.c.prompt_version == prompt_version,
            )
            if retry_failed:
                query = query.where(table.c.status == STATUS_OK)
            found.update(conn.execute(query).scalars())
    return found


def enrichment_row(
    content_hash: str,
    model: str,
    prompt_version: str,
    backend: str,
    fields: JobFields | None,
    error: str | None = None,
    attempts: int = 1,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    salary_source: str | None = None,
    remote_source: str | None = None,
) -> dict:
    """One row as a plain dict (what ``upsert`` writes)."""
    row = {
        "content_hash": content_hash,
        "model": model,
        "prompt_version": prompt_version,
        "status": STATUS_OK if fields is not None else STATUS_FAILED,
        "error": error,
        "attempts": attempts,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "backend": backend,
        "created_at": datetime.now(UTC),
        "salary_source": salary_source,
        "remote_source": remote_source,
    }
    data = fields.model_dump() if fields is not None else {}
    for name in FIELD_NAMES:
        row[name] = data.get(name, [] if name in ("skills", "remote_regions") else None)
    return row


def upsert(engine: sa.Engine, rows: Sequence[dict]) -> int:
    """Insert or replace rows by primary key in one transaction; returns the number written."""
    if not rows:
        return 0
    table = Enrichment.__table__
    keys = ["content_hash", "model", "prompt_version"]
    with writer(engine).begin() as conn:
        upsert_rows(conn, table, list(rows), keys, lambda ex: {c.name: ex[c.name] for c in table.columns if c.name not in keys})
        hashes = pl.DataFrame({"content_hash": sorted({r["content_hash"] for r in rows})}, schema={"content_hash": pl.String})
        record_change(conn, "enrichment", [change_frame("enriched", hashes, content_hash="content_hash")])
    return len(rows)


def load(engine: sa.Engine, model: str | None = None, prompt_version: str | None = None) -> list[dict]:
    """All cache rows (optionally of one model / prompt version) as dicts."""
    table = Enrichment.__table__
    query = sa.select(table)
    if model is not None:
        query = query.where(table.c.model == model)
    if prompt_version is not None:
        query = query.where(table.c.prompt_version == prompt_version)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
