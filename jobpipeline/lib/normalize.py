"""Content hashing and deduplication of postings (polars in, polars out; no database).

Content hash: xxh3-128 over the fields that describe the job itself, in this order —
``company, title, locations (sorted, joined), remote, workplace_type, description, department,
employment_type, salary_min, salary_max, salary_currency, salary_period, salary_text`` — each
rendered as text (None → empty) and joined with U+001F. Ids, URLs and timestamps are left out,
so the same job on two sources hashes alike and a re-stamped ``updated_at`` is not a change.
xxh3 is specified bit-for-bit, so hashes are stable across runs, machines and Python versions.

Dedup key: xxh3-64 of casefolded company and title (non-alphanumerics collapsed) plus the xxh3
of the description (already whitespace-normalized by ``html_to_text``). Postings that share it are one job: the same job listed twice on a
board, once per location, or on several sources. Their locations are merged.
"""

from __future__ import annotations

import polars as pl
import xxhash

from jobpipeline.lib.postings import POSTING_SCHEMA

HASHED_FIELDS = (
    "company",
    "title",
    "locations",
    "remote",
    "workplace_type",
    "description",
    "department",
    "employment_type",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "salary_text",
)
_SEP = "\x1f"


def _folded(column: str) -> pl.Expr:
    return pl.col(column).fill_null("").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()


def _render(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def content_hashes(frame: pl.DataFrame) -> list[str]:
    """The content hash of every row (see module docstring for the fields)."""
    columns = [frame.get_column(name).to_list() for name in HASHED_FIELDS]
    location_index = HASHED_FIELDS.index("locations")
    description_index = HASHED_FIELDS.index("description")
    digests = []
    for values in zip(*columns):
        parts = [_render(v) for v in values]
        parts[location_index] = "|".join(sorted(values[location_index] or ()))
        parts[description_index] = _description_digest(values[description_index])
        digests.append(xxhash.xxh3_128_hexdigest(_SEP.join(parts).encode()))
    return digests


def _description_digest(description: str | None) -> str:
    # Descriptions are most of the bytes: hash them once, then hash the short joined record.
    return xxhash.xxh3_128_hexdigest((description or "").encode())


def dedup_keys(frame: pl.DataFrame) -> list[str]:
    folded = frame.select(_folded("company"), _folded("title"), pl.col("description").fill_null(""))
    return [
        xxhash.xxh3_64_hexdigest(f"{c}{_SEP}{t}{_SEP}{_description_digest(d)}".encode())
        for c, t, d in folded.iter_rows()
    ]


def deduplicate(postings: pl.DataFrame) -> pl.DataFrame:
    """One row per job: postings grouped by dedup key, locations merged, hashed.

    The canonical posting of a group (whose fields the job takes) is the one with the smallest
    (source, board, source_job_id), so the result does not depend on input order. The column
    ``aliases`` lists every (source, board, source_job_id) of the group.
    """
    postings = postings.select(list(POSTING_SCHEMA)).cast(POSTING_SCHEMA)  # type: ignore[arg-type]
    # The same id twice on one board (an API listing a posting per location) is one posting.
    postings = postings.unique(subset=["source", "board", "source_job_id"], keep="first", maintain_order=True)
    keyed = postings.with_columns(dedup_key=pl.Series(dedup_keys(postings), dtype=pl.String)).sort(
        "source", "board", "source_job_id"
    )
    alias = pl.struct("source", "board", "source_job_id")
    merged_locations = (
        keyed.select("dedup_key", "locations")
        .explode("locations")
        .drop_nulls("locations")
        .unique()
        .group_by("dedup_key")
        .agg(pl.col("locations").sort())
    )
    groups = (
        keyed.group_by("dedup_key", maintain_order=True)
        .agg(pl.all().exclude("locations").first(), alias.alias("aliases"))
        .join(merged_locations, on="dedup_key", how="left")
        .with_columns(pl.col("locations").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    )
    groups = groups.select("dedup_key", *POSTING_SCHEMA, "aliases")
    return groups.with_columns(content_hash=pl.Series(content_hashes(groups), dtype=pl.String))
