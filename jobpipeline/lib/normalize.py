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

from collections.abc import Callable, Sequence

import polars as pl
import pyarrow as pa
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
# What ``dedup_keys`` and ``content_hashes`` are made by: raw partitions store both for each posting
# (``rawstore.with_digests``), marked with this. Raise it with any change to the fields hashed, their
# rendering or the key's folding, so partitions written before are keyed and hashed again on read.
HASHES_VERSION = "1"
POSTING_KEY = ("source", "board", "source_job_id")  # a posting's key: one id on one board of one source


def _folded(column: str) -> pl.Expr:
    return pl.col(column).fill_null("").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()


def description_digests(frame: pl.DataFrame) -> pl.Series:
    """xxh3-128 of each description (null hashes as empty): computed once, used by both the dedup
    key and the content hash. Slice by slice: the Arrow export copies the text, and a whole
    partition's copy was the sync's peak memory."""
    out: list[str] = []
    for part in frame.get_column("description").to_frame().iter_slices(_DIGEST_SLICE):
        out.extend(arrow_digests(part.to_series().to_arrow(compat_level=pl.CompatLevel.oldest())))
    return pl.Series(out, dtype=pl.String)


def arrow_digests(array: pa.Array | pa.ChunkedArray, digest: Callable[[memoryview], str] = xxhash.xxh3_128_hexdigest) -> list[str]:
    """``description_digests`` of an Arrow string array (a batch read from a raw partition, so a
    lazy sync hashes its descriptions batch by batch), or another ``digest`` of each text's UTF-8
    bytes. Hashes straight from the Arrow buffer: decoding 5 KB descriptions into Python strings
    and encoding them back cost 10x the hashing."""
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        # Only other layouts (string views) are cast: a cast loads pyarrow.compute, ~0.03 s of a
        # re-sync process that needs nothing else of it.
        array = array.cast(pa.large_string())
    _, offsets_buffer, data_buffer = array.buffers()
    width = "i" if pa.types.is_string(array.type) else "q"
    offsets = memoryview(offsets_buffer).cast(width)[array.offset : array.offset + len(array) + 1] if len(array) else [0]
    data = memoryview(data_buffer) if data_buffer is not None else memoryview(b"")
    return [digest(data[offsets[i] : offsets[i + 1]]) for i in range(len(array))]


_DIGEST_SLICE = 4096


def _rendered(frame: pl.DataFrame, name: str) -> pl.Series:
    """A hashed field as the text that goes into the hash (None → "", floats as Python's repr)."""
    return _rendered_fields(frame, [name]).to_series()


def _rendered_fields(frame: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """``_rendered`` of each of these fields, as columns of one frame: one polars query renders
    them all (a query each cost a 20,000-job slice ~4 ms more), then Python mends the few values
    polars would write otherwise (``odd``: each such field's rows that need it)."""
    texts: list[pl.Expr] = []
    odd: dict[str, pl.Expr] = {}
    for name in names:
        column, dtype = pl.col(name), frame.schema[name]
        if name == "locations":
            # One location or none (most postings) is its own text; only longer lists are sorted
            # and joined, in Python (on short lists 15x faster than polars' list.sort).
            texts.append(column.list.first().fill_null(""))
            odd[name] = (column.list.len() > 1).fill_null(False)
        elif dtype == pl.Boolean:
            texts.append(pl.when(column).then(pl.lit("True")).when(~column).then(pl.lit("False")).otherwise(pl.lit("")).alias(name))
        elif dtype == pl.Float64:
            # repr is the stable, shortest round-trip form. polars writes the same text for zero
            # and finite values in [1e-4, 1e16) (tested); Python writes the others its own way
            # (1e+16, 5e-05, inf), so those few go through repr.
            texts.append(column.cast(pl.String).fill_null(""))
            plain = column.is_finite() & (column.abs().is_between(1e-4, 1e16, closed="left") | (column == 0))
            odd[name] = column.is_not_null() & ~plain
        else:
            texts.append(column.cast(pl.String).fill_null(""))
    rendered = frame.select(*texts, *(mask.alias(f"_odd_{name}") for name, mask in odd.items()))
    for name in odd:
        rows = rendered.get_column(f"_odd_{name}").arg_true()
        if rows.len():
            values = frame.get_column(name).gather(rows).to_list()
            mended = ["|".join(sorted(v)) for v in values] if name == "locations" else [repr(v) for v in values]
            rendered = rendered.with_columns(rendered.get_column(name).scatter(rows, mended))
    return rendered.select(names)


def content_hashes(frame: pl.DataFrame, digests: pl.Series | None = None) -> list[str]:
    """The content hash of every row (see module docstring for the fields)."""
    digests = description_digests(frame) if digests is None else digests
    parts = _rendered_fields(frame, [name for name in HASHED_FIELDS if name != "description"]).with_columns(description=digests)
    joined = parts.select(pl.concat_str(HASHED_FIELDS, separator=_SEP)).to_series()
    return arrow_digests(joined.to_arrow())  # the UTF-8 bytes of each text, hashed in place


def dedup_keys(frame: pl.DataFrame, digests: pl.Series | None = None) -> list[str]:
    digests = description_digests(frame) if digests is None else digests
    # The key's text joined in polars and hashed from its Arrow buffer, not a Python string and
    # tuple made per row (100,000 keys in 0.11 against 0.14 s).
    joined = frame.select(pl.concat_str(_folded("company"), _folded("title"), pl.lit(digests), separator=_SEP))
    return arrow_digests(joined.to_series().to_arrow(), xxhash.xxh3_64_hexdigest)


def keys_in_order(frame: pl.DataFrame, *, strictly: bool) -> bool:
    """Whether ``frame``'s posting keys (source, board, source_job_id) never decrease row by row,
    as a raw partition is written (``strictly``: increase, so each key is there once), in one pass
    comparing neighbours where a sort or a hash table would cost more. A null key orders nothing."""
    s, b, i = (pl.col(c) for c in POSTING_KEY)
    ps, pb, pi = (pl.col(c).shift() for c in POSTING_KEY)
    ordered = (s > ps) | ((s == ps) & ((b > pb) | ((b == pb) & ((i > pi) if strictly else (i >= pi)))))
    return frame.height < 2 or bool(frame.select((ordered.fill_null(False) | (pl.int_range(pl.len()) == 0)).all()).item())


def deduplicate(postings: pl.DataFrame) -> pl.DataFrame:
    """One row per job: postings grouped by dedup key, locations merged, hashed.

    The canonical posting of a group (whose fields the job takes) is the one with the smallest
    (source, board, source_job_id), so the result does not depend on input order. The column
    ``aliases`` lists every (source, board, source_job_id) of the group; ``description_hash`` is
    the xxh3-128 of the description.

    ``postings`` are ``POSTING_SCHEMA`` rows, or thin ones (``sync.source``): the description left
    out, its digest in ``description_hash`` and its place in ``text_row``; then each group has the
    canonical row's ``text_row`` where it would have its description.

    Rows may carry their ``dedup_key`` already (each row its posting's key, as
    ``sync.slices.posting_keys`` keys a partition before cutting it): then it is not computed again.
    Rows may carry ``posting_hash``, the content hash of their posting's job were it the job's only
    posting (as a raw partition stores it): a job of one posting listed once, with one location or
    none, has that hash, and only the other jobs are hashed here.
    """
    thin = "description" not in postings.columns
    kept = [c for c in POSTING_SCHEMA if c != "description"] + ["text_row"] if thin else list(POSTING_SCHEMA)  # each group's columns
    given = [c for c in ("dedup_key", "posting_hash") if c in postings.columns]
    if thin:
        postings = postings.select(*kept, "description_hash", *given).cast({c: POSTING_SCHEMA[c] for c in kept if c in POSTING_SCHEMA})  # type: ignore[arg-type]
        postings, descriptions = postings.with_row_index("_row"), None
    else:
        postings = postings.select(*POSTING_SCHEMA, *given).cast(POSTING_SCHEMA)  # type: ignore[arg-type]
        # Descriptions (most of a partition's bytes) stay out of the sorting and grouping below and
        # are gathered once, for the canonical rows: each reshuffle of them cost a partition's size.
        descriptions, digests = postings.get_column("description"), description_digests(postings)
        postings = postings.drop("description").with_row_index("_row").with_columns(description_hash=digests)
    # The same id twice on one board (an API listing a posting per location, as Workable does) is
    # one posting: the first row's fields, and every row's locations (merged below, by dedup key).
    ids = list(POSTING_KEY)
    listed = postings
    # Rows in strictly increasing key order (a raw partition's, read in order) are their postings,
    # sorted: made distinct and sorted, they would come back as they are.
    keyed = (
        postings if keys_in_order(postings, strictly=True) else postings.unique(subset=ids, keep="first", maintain_order=True).sort(*ids)
    )
    if "dedup_key" not in given:
        keyed = keyed.with_columns(dedup_key=pl.Series(dedup_keys(keyed, keyed["description_hash"]), dtype=pl.String))
    alias = pl.struct(*POSTING_KEY)
    located = keyed.select("dedup_key", "locations")
    if keyed.height < listed.height:  # only then: the rows unique() dropped carry locations too
        located = listed.select(*ids, "locations").join(keyed.select(*ids, "dedup_key"), on=ids).select("dedup_key", "locations")
    groups = keyed.group_by("dedup_key", maintain_order=True).agg(pl.all().first(), alias.alias("aliases"), pl.len().alias("_postings"))
    # A group's locations: each of its rows' locations once, sorted, nulls dropped. A job of one
    # posting listed once with one location or none (most jobs) has its own; only the others are
    # merged (exploded, made distinct and grouped: that over every job cost a slice ~10 ms).
    locations, count = pl.col("locations"), pl.col("locations").list.len()
    own = (
        (pl.col("_postings") == 1) & (count.is_null() | (count == 0) | ((count == 1) & locations.list.first().is_not_null()))
        if keyed.height == listed.height
        else pl.lit(False)
    )
    groups = groups.with_columns(_own=own)
    # The stored hash of a job of one posting, listed once with its own location (``_own``): the
    # hash of the canonical row's fields and that location, as ``content_hashes`` makes it below.
    stored_hashes = groups.select(pl.when("_own").then("posting_hash")).to_series() if "posting_hash" in given else None
    merging = groups.filter(~pl.col("_own")).get_column("dedup_key")
    merged_locations = (
        located.filter(pl.col("dedup_key").is_in(merging.implode()))
        .explode("locations")
        .drop_nulls("locations")
        .unique()
        .group_by("dedup_key")
        .agg(pl.col("locations").sort().alias("_merged"))
    )
    groups = (
        groups.join(merged_locations, on="dedup_key", how="left", maintain_order="left")
        .with_columns(locations=pl.when("_own").then(locations).otherwise("_merged").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .drop("_own", "_merged", "_postings")
    )
    if descriptions is not None:
        groups = groups.with_columns(description=descriptions.gather(groups["_row"]))
    groups = groups.select("dedup_key", *kept, "description_hash", "aliases")
    if stored_hashes is None:
        return groups.with_columns(content_hash=pl.Series(content_hashes(groups, groups["description_hash"]), dtype=pl.String))
    unhashed = stored_hashes.is_null().arg_true()
    if unhashed.len():
        rest = groups[unhashed]
        stored_hashes = stored_hashes.scatter(unhashed, content_hashes(rest, rest["description_hash"]))
    return groups.with_columns(content_hash=stored_hashes)
