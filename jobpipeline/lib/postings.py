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
import io
import itertools
from collections.abc import Mapping, Sequence
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


class BoardOutcomes:
    """A partition's board outcomes as a sync reads them: one frame (``frame``: source, board, ok,
    the stored fields and ``skipped_ids``, a row per outcome in order), not an object per board.

    At 3.5 M open postings a source's partition has 50,000 boards: their ``BoardOutcome`` objects
    took a sync 0.4-0.6 s to make from ``outcomes.json`` and 0.12-0.16 s more to walk (the boards in
    scope, the day's scrapes), on the sync's own thread before and after its slices."""

    __slots__ = ("frame",)

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    @staticmethod
    def schema() -> dict[str, pl.DataType]:
        return _outcomes_schema()

    @classmethod
    def of(cls, outcomes: Sequence[BoardOutcome] | BoardOutcomes) -> BoardOutcomes:
        """``outcomes`` as one frame (as they are, if they are one)."""
        if isinstance(outcomes, BoardOutcomes):
            return outcomes
        if not outcomes:
            return cls.empty()
        return cls._from_columns({name: [getattr(o, name) for o in outcomes] for name in cls.schema()})

    @classmethod
    def empty(cls) -> BoardOutcomes:
        """No outcomes (a slice's plan: the closing pass records the partition's), made from the
        schema alone: through ``_from_columns`` a slice's empty frame cost ~3 ms, and the first
        one of a process ~80 ms more (polars' first Series from Arrow)."""
        import polars as pl

        return cls(pl.DataFrame(schema=cls.schema()))

    @classmethod
    def from_json(cls, rows: Sequence[Mapping[str, Any]], *, source: str | None = None) -> BoardOutcomes:
        """``outcomes.json``'s rows, read as ``BoardOutcome.from_json`` reads each (``source`` fills or
        overrides the stored one, a null field takes its default), and refused as it refuses them:
        the first row without its board or a true/false ``ok`` is its ``ValueError``."""
        for row in rows:
            if not (
                isinstance(row, Mapping)
                and row.get("board") is not None
                and type(row.get("ok")) is bool
                and (source is not None or row.get("source") is not None)
            ):
                BoardOutcome.from_json(row, source=source)  # raises, naming what is missing or wrong
        defaults = _field_defaults()

        def column(name: str) -> list[Any]:
            if name == "source" and source is not None:
                return [source] * len(rows)
            if name == "skipped_ids":
                return [row.get(name) or [] for row in rows]
            if name in _NULLABLE or name not in defaults:  # nullable, or required (source, board, ok: checked above)
                return [row.get(name) for row in rows]
            default = defaults[name]
            return [default if (value := row.get(name)) is None else value for row in rows]

        return cls._from_columns({name: column(name) for name in cls.schema()})

    @classmethod
    def read_json(cls, body: bytes, *, source: str | None = None) -> BoardOutcomes | None:
        """``outcomes.json``'s body read by polars straight into columns (50,000 boards' 16.5 MB in
        0.10-0.14 s, against 0.4-0.6 s through Python's dicts; the 700k-posting source's sync
        peaked no higher for it), or None where polars cannot vouch for it as ``from_json`` reads
        it: a value polars does not read as the field's type, a row without its board, ``ok`` or
        source. The caller then reads it with ``from_json``, which refuses a bad row with its error."""
        import polars as pl

        try:
            frame = pl.read_json(io.BytesIO(body), schema=cls.schema())
        except pl.exceptions.PolarsError:
            return None
        if source is not None:
            frame = frame.with_columns(source=pl.lit(source, pl.String))
        if frame.select(pl.any_horizontal(pl.col("source", "board", "ok").is_null().any())).item():
            return None
        defaults = _field_defaults()
        return cls(
            frame.with_columns(
                *(pl.col(name).fill_null(defaults[name]) for name in cls.schema() if name in defaults and name not in _NULLABLE),
                pl.col("skipped_ids").fill_null(pl.lit([], cls.schema()["skipped_ids"])),
            )
        )

    @classmethod
    def _from_columns(cls, columns: dict[str, list[Any]]) -> BoardOutcomes:
        import polars as pl
        import pyarrow as pa

        # The id lists through Arrow's offsets: polars makes a Series of each Python list (50,000
        # mostly empty lists: 0.57 s, against ~0.02 s). Taken in as a record batch: a Series made
        # from an Arrow array imports pyarrow.compute (a first call 110-130 ms, against 67-74).
        lists = columns.pop("skipped_ids")
        offsets = pa.array(itertools.accumulate((len(ids) for ids in lists), initial=0), pa.int64())
        ids = pa.LargeListArray.from_arrays(offsets, pa.array([i for ids in lists for i in ids], pa.large_string()))
        skipped = pl.from_arrow(pa.record_batch([ids], names=["skipped_ids"])).to_series()  # type: ignore[union-attr]
        frame = pl.DataFrame(columns, schema={k: v for k, v in cls.schema().items() if k != "skipped_ids"}, strict=False)
        return cls(frame.with_columns(skipped.cast(cls.schema()["skipped_ids"])))

    def __len__(self) -> int:
        return self.frame.height

    def ok_boards(self) -> set[tuple[str, str]]:
        """(source, board) of the successful scrapes."""
        return set(self.frame.filter("ok").select("source", "board").iter_rows())


@functools.cache
def _outcomes_schema() -> dict[str, pl.DataType]:
    import polars as pl

    types = {
        "ok": pl.Boolean,
        "http_status": pl.Int64,
        "error": pl.String,
        "n_postings": pl.Int64,
        "n_bytes": pl.Int64,
        "duration_s": pl.Float64,
    }
    if set(types) != set(_stored_columns()):  # a new stored field needs its type here (and its column in board_scrape)
        raise TypeError(f"BoardOutcomes: stored fields typed {sorted(types)}, BoardOutcome's are {sorted(_stored_columns())}")
    return {"source": pl.String, "board": pl.String, **{name: types[name] for name in _stored_columns()}, "skipped_ids": pl.List(pl.String)}


@functools.cache
def _field_defaults() -> dict[str, Any]:  # the fields' plain defaults (``skipped_ids`` and the other lists have factories)
    return {f.name: f.default for f in dataclasses.fields(BoardOutcome) if f.default is not dataclasses.MISSING}


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
