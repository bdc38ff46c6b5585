"""The contracts every layer shares: a ``Board``, the ``Posting`` its adapter produces (and its
columnar schema), and the ``BoardOutcome`` of scraping it.

An adapter turns an API body into ``Posting`` rows; ``raw_postings`` writes them to Parquet with
``POSTING_SCHEMA`` and each board's ``BoardOutcome`` to ``outcomes.json``; ``jobs`` reads both back,
deduplicates, hashes and syncs, and records the outcomes in ``board_scrape``. They live in this one
module, which imports nothing of the project's, so that the config loader (``boards.py``), the
adapters (``sources/``), the scraper, the sync and the analytics all import them without a cycle.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True, slots=True)
class Board:
    """One public job board: which ATS serves it, its token there, and the company's display name."""

    ats: str
    token: str
    company: str

    @property
    def key(self) -> str:
        """``ats/token``: the board's name in logs, metadata and file names."""
        return f"{self.ats}/{self.token}"


_NULLABLE = ("http_status", "error")  # None is a value here; elsewhere a missing value, so the default
_STORED = {"stored": True}  # field metadata: a column of the store's ``board_scrape`` table


@dataclass(slots=True, kw_only=True)
class BoardOutcome:
    """One board's outcome in one scrape, without its postings and bodies: the one declaration of
    what ``outcomes.json`` keeps per board, what run metadata and logs show, and (the fields marked
    stored) what the store's ``board_scrape`` records for the partition's day.

    A new field here reaches the JSON, the metadata and the sync at once; a new *stored* field also
    needs its column on ``store.BoardScrape`` (a test compares the two).
    """

    source: str
    board: str  # the board token (an HN month for source ``hn``)
    company: str = ""
    ok: bool = field(metadata=_STORED)
    http_status: int | None = field(default=None, metadata=_STORED)  # last status seen (None: no answer at all)
    error: str | None = field(default=None, metadata=_STORED)
    n_postings: int = field(default=0, metadata=_STORED)
    n_skipped: int = 0  # listed postings that could not be read (each skipped, the board kept)
    skipped_reasons: list[str] = field(default_factory=list)  # the first few, naming posting and field
    skipped_ids: list[str] = field(default_factory=list)  # skipped but listed: the sync keeps their jobs open
    # Detail fetches (adapters whose list has no description): fetched, reused unchanged, failed (posting kept).
    n_details_fetched: int = 0
    n_details_reused: int = 0
    n_details_failed: int = 0
    details_failed_reasons: list[str] = field(default_factory=list)
    n_bytes: int = field(default=0, metadata=_STORED)  # body bytes received, retries included
    requests: int = 0  # HTTP attempts, retries included
    duration_s: float = field(default=0.0, metadata=_STORED)

    KEY_COLUMNS: ClassVar[tuple[str, ...]] = ("source", "board")

    @property
    def key(self) -> str:
        return f"{self.source}/{self.board}"

    @classmethod
    def stored_columns(cls) -> tuple[str, ...]:
        """The ``board_scrape`` columns besides (source, board, scraped_on), in declaration order."""
        return _stored_columns()

    def stored_row(self) -> dict[str, Any]:
        """(source, board) and the stored fields: one ``board_scrape`` row but its date."""
        return {name: getattr(self, name) for name in (*self.KEY_COLUMNS, *_stored_columns())}

    def outcome(self) -> BoardOutcome:
        """Just the outcome (a subclass such as ``scrape.BoardResult`` also carries postings and bodies)."""
        return BoardOutcome(**{f.name: getattr(self, f.name) for f in dataclasses.fields(BoardOutcome)})

    def as_json(self) -> dict[str, Any]:
        """The outcome as ``outcomes.json`` and run metadata keep it."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(BoardOutcome)}
        for name, value in row.items():
            if isinstance(value, list):
                row[name] = list(value)
        row["duration_s"] = round(self.duration_s, 3)
        return row

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: str | None = None) -> BoardOutcome:
        """An outcome read back from ``outcomes.json``, also as older code wrote it.

        Fields a partition predates take their defaults (``skipped_ids`` and the detail counts came
        later; HN months carry no ``source`` or ``company``), keys that are not fields (an HN month's
        thread) are left out, and ``source`` (the partition's) fills or overrides the stored one. A
        row without its board or ``ok`` is a ``ValueError`` naming what is missing."""
        names = _field_names()
        values = {k: v for k, v in data.items() if k in names and (v is not None or k in _NULLABLE)}
        if source is not None:
            values["source"] = source
        missing = [name for name in ("source", "board", "ok") if name not in values]
        if missing:
            raise ValueError(f"board outcome without {', '.join(missing)}: {dict(data)!r:.200}")
        if not isinstance(values["ok"], bool):
            raise ValueError(f"board outcome {values['source']}/{values['board']}: ok must be true or false, got {values['ok']!r}")
        return BoardOutcome(**values)


@functools.cache
def _field_names() -> frozenset[str]:  # once: a partition at 3.5 M open postings has 50,000 boards' outcomes to read
    return frozenset(f.name for f in dataclasses.fields(BoardOutcome))


@functools.cache
def _stored_columns() -> tuple[str, ...]:  # once: a sync records a row per board, and fields() is slow
    return tuple(f.name for f in dataclasses.fields(BoardOutcome) if f.metadata.get("stored"))


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


@functools.cache
def posting_schema() -> dict[str, pl.DataType]:
    """``POSTING_SCHEMA``: the postings' columns as polars types."""
    import polars as pl

    utc = pl.Datetime("us", "UTC")
    return {
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
        "posted_at": utc,
        "source_updated_at": utc,
        "salary_min": pl.Float64,
        "salary_max": pl.Float64,
        "salary_currency": pl.String,
        "salary_period": pl.String,
        "salary_text": pl.String,
        "apply_url": pl.String,
    }


def __getattr__(name: str) -> Any:
    """``POSTING_SCHEMA``, the postings' columns as polars types, built on first use: a scrape that
    only fetches and parses (the adapters, ``lib.scrape``) so never loads polars (~24 MB, 0.08 s)."""
    if name == "POSTING_SCHEMA":
        return posting_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def postings_frame(postings: list[Posting]) -> pl.DataFrame:
    """Postings as a DataFrame with exactly ``POSTING_SCHEMA`` (an empty list gives an empty frame)."""
    import polars as pl

    return pl.DataFrame([p.as_row() for p in postings], schema=posting_schema())
