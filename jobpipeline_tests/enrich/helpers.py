"""Puts real postings into a store the way the spine's ``jobs`` asset would (job + job_text rows)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import sqlalchemy as sa

from jobpipeline.lib.extract.enrich import JobInput
from jobpipeline.lib.store import Job, JobText


def job_inputs(postings: list[dict]) -> list[JobInput]:
    return [
        JobInput(
            content_hash=hashlib.sha256(f"{p['title']}\n{p['location']}\n{p['description']}".encode()).hexdigest(),
            title=p["title"],
            location=p["location"],
            description=p["description"],
        )
        for p in postings
    ]


def insert_jobs(engine: sa.Engine, postings: list[dict], api_values: dict[int, dict] | None = None) -> list[JobInput]:
    """Rows in ``job`` and ``job_text`` for ``postings``; ``api_values`` sets salary/remote columns by index."""
    inputs = job_inputs(postings)
    today = date(2026, 1, 5)
    with engine.begin() as conn:
        for i, (posting, job) in enumerate(zip(postings, inputs, strict=True)):
            extra = (api_values or {}).get(i, {})
            job_id = conn.execute(
                sa.insert(Job.__table__).values(
                    dedup_key=job.content_hash[:16],
                    content_hash=job.content_hash,
                    source="ashby",
                    board="fixture",
                    source_job_id=posting.get("origin", str(i)),
                    company="fixture",
                    title=posting["title"],
                    locations=[posting["location"]] if posting["location"] else [],
                    first_seen=today,
                    last_seen=today,
                    content_seen=today,
                    updated_at=today,
                    synced_at=datetime.now(UTC),
                    favorite=False,
                    **extra,
                )
            ).inserted_primary_key[0]
            conn.execute(sa.insert(JobText.__table__).values(job_id=job_id, description=posting["description"]))
    return inputs
