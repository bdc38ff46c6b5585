"""The one posting type every source adapter produces, and its columnar (polars) schema.

An adapter turns an API body into ``Posting`` rows; ``raw_postings`` writes them to Parquet with
``POSTING_SCHEMA``; ``jobs`` reads that Parquet back, deduplicates, hashes and syncs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl


@dataclass(slots=True)
class Posting:
    """One job posting as a source published it, already normalized to plain values.

    ``description`` is clean text (HTML already converted); timestamps are timezone-aware UTC.
    """

    source: str  # ATS name: greenhouse, lever, ashby, smartrecruiters, workday, hn
    board: str  # board token / company slug inside that ATS
    source_job_id: str
    company: str
    title: str
    locations: list[str] = field(default_factory=list)
    remote: bool | None = None  # only when the API says so; extraction fills the rest later
    workplace_type: str | None = None  # remote | hybrid | onsite, when the API says so
    description: str = ""
    department: str | None = None
    employment_type: str | None = None
    posted_at: datetime | None = None
    source_updated_at: datetime | None = None
    salary_min: float | None = None
    salary_max: float | None = None
    salary_currency: str | None = None
    salary_period: str | None = None  # hour | day | week | month | year
    salary_text: str | None = None
    apply_url: str | None = None

    def as_row(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


_UTC = pl.Datetime("us", "UTC")

POSTING_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String,
    "board": pl.String,
    "source_job_id": pl.String,
    "company": pl.String,
    "title": pl.String,
    "locations": pl.List(pl.String),
    "remote": pl.Boolean,
    "workplace_type": pl.String,
    "description": pl.String,
    "department": pl.String,
    "employment_type": pl.String,
    "posted_at": _UTC,
    "source_updated_at": _UTC,
    "salary_min": pl.Float64,
    "salary_max": pl.Float64,
    "salary_currency": pl.String,
    "salary_period": pl.String,
    "salary_text": pl.String,
    "apply_url": pl.String,
}


def postings_frame(postings: list[Posting]) -> pl.DataFrame:
    """Postings as a DataFrame with exactly ``POSTING_SCHEMA`` (an empty list gives an empty frame)."""
    return pl.DataFrame([p.as_row() for p in postings], schema=POSTING_SCHEMA)
