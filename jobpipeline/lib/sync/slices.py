"""A partition cut into slices of whole jobs, so a sync plans and writes one slice at a time and its
memory follows the slice, not the partition: ``cut_into_slices`` → ``Slice``s.

Each slice is planned with ``plan_sync(..., closings=False)`` and written in the sync's one
transaction; a last closing pass records the boards' scrapes and plans every ``closed_at`` once,
over the partition's boards, as a one-shot sync does. The store after the slices and the closing
pass is the one-shot sync's, row for row (job ids included), because:

- A slice holds whole *connected groups*: a dedup key's postings (every row of a posting goes
  with the key of its first row, as ``deduplicate`` keys it) together with every other key that
  meets it in a stored job, through a known posting (postings stay with their job, and two keys
  in one job are planned together: the canonical one speaks for the job; keys in several jobs
  merge them) or through the job's own ``dedup_key`` (a new group joins the first job with its
  key). So no job is read or written by two slices, and each slice sees its jobs as they were
  before the sync, as the one-shot plan does.
- New job ids are taken once, before the first slice, for every group the one-shot plan would
  give a new job (no known posting, no stored job of its key that a merge does not take away), in
  the one-shot plan's order (by canonical posting); each slice gets its own, and checks it asked
  for exactly those.
- ``closed_at`` depends on every posting of a board (the vanished ones too): only the closing pass
  plans it, when the slices have written every sighting, new posting and merge; the jobs the
  slices' merges grew are recomputed there as a one-shot sync recomputes its merge survivors.

A component bigger than the slice size is one slice of its own (a slice never splits a job).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from jobpipeline.lib.normalize import dedup_keys
from jobpipeline.lib.sync.plan import ALIAS, DEDUP_KEY_SCHEMA, Scope, StoreState, plan_merges

KEYED_SCHEMA = {**{c: pl.String for c in ALIAS}, "dedup_key": pl.String, "first": pl.Boolean}
# Postings handled at once where a sync goes over the whole partition: keyed, matched to the store,
# closed (``sync.close_in_batches``). Bounds those steps' memory; a larger batch saves per-batch work.
POSTING_BATCH = 100_000


@dataclass
class Slice:
    """One slice of a partition: its rows (increasing, so ``deduplicate`` sees them in the
    partition's order) and the store as its plan reads it."""

    rows: np.ndarray  # int64
    jobs: int  # groups (dedup keys) in the slice
    state: SliceState


class SliceState:
    """``StoreState`` for one slice's plan: the slice's known postings and the jobs of its dedup
    keys (read once for the whole partition: no other slice writes them), and its pre-allocated
    new job ids; every other read goes to the store."""

    def __init__(self, store: StoreState, known: pl.DataFrame, same_key: pl.DataFrame, new_ids: list[int]) -> None:
        self.store, self.known, self.same_key, self.new_ids = store, known, same_key, new_ids

    def postings_of_boards(self, scope: Scope) -> pl.DataFrame:
        return self.known  # a slice plans no closings: it only needs its own postings

    def jobs(self, job_ids: list[int]) -> pl.DataFrame:
        return self.store.jobs(job_ids)

    def jobs_by_dedup_key(self, dedup_keys: list[str]) -> pl.DataFrame:
        return self.same_key.filter(pl.col("dedup_key").is_in(dedup_keys))

    def hash_history(self, job_ids: list[int]) -> pl.DataFrame:
        return self.store.hash_history(job_ids)

    def latest_skips(self, scope: Scope, except_on: date, except_boards: Scope) -> pl.DataFrame:
        return self.store.latest_skips(scope, except_on, except_boards)

    def successful_scrape_days(self, scope: Scope, after: date) -> pl.DataFrame:
        return self.store.successful_scrape_days(scope, after)

    def postings_of_jobs(self, job_ids: list[int]) -> pl.DataFrame:
        return self.store.postings_of_jobs(job_ids)

    def new_job_ids(self, count: int) -> list[int]:
        if count != len(self.new_ids):
            raise RuntimeError(
                f"sliced sync: a slice planned {count} new jobs where the cut foresaw {len(self.new_ids)}; "
                "the slices would not give the one-shot sync's store, so nothing is written"
            )
        return self.new_ids


def posting_keys(listed: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """(source, board, source_job_id, dedup_key, first) of every row of ``listed``
    (``source.Postings.listed()``: batches of rows, the descriptions only hashed), in its order;
    every row of a posting carries the key of the posting's first row (``first``), as
    ``deduplicate`` keys it. Rows are hashed ``POSTING_BATCH`` at a time and only their keys are
    kept, so a million postings never stand as Python strings, nor their titles and companies as a
    frame, at once."""
    parts = [
        part.select(*ALIAS, dedup_key=pl.Series(dedup_keys(part, part["description_hash"]), dtype=pl.String))
        for part in batched_frames(listed, POSTING_BATCH)
    ]
    keyed = pl.concat(parts) if parts else pl.DataFrame(schema={c: pl.String for c in [*ALIAS, "dedup_key"]})
    in_order = alias_sorted(keyed)
    first = first_rows(keyed, in_order)
    if in_order:  # a raw partition (written sorted): a posting's rows are neighbours, its first row leads
        key = pl.when(first).then("dedup_key").forward_fill()
    else:
        key = pl.col("dedup_key").first().over(ALIAS)
    return keyed.with_columns(dedup_key=key, first=first).cast(KEYED_SCHEMA)


def batched_frames(frames: Iterable[pl.DataFrame], rows: int) -> Iterator[pl.DataFrame]:
    """``frames`` (a raw partition's row groups, say) regrouped into frames of ``rows`` rows (the
    last one shorter)."""
    pending: list[pl.DataFrame] = []
    held = 0
    for frame in frames:
        pending.append(frame)
        held += frame.height
        while held >= rows:
            whole = pl.concat(pending)
            yield whole.head(rows)
            pending, held = [whole.slice(rows)], held - rows
    if held:
        yield pl.concat(pending)


def alias_sorted(frame: pl.DataFrame) -> bool:
    """Whether ``frame``'s rows are in (source, board, source_job_id) order, as a raw partition is
    written: then a posting's rows are found by comparing neighbours, in a pass, where a hash table
    over a million rows would cost hundreds of MB."""
    s, b, i = (pl.col(c) for c in ALIAS)
    ps, pb, pi = (pl.col(c).shift() for c in ALIAS)
    ordered = (s > ps) | ((s == ps) & ((b > pb) | ((b == pb) & (i >= pi))))
    return frame.height < 2 or bool(frame.select(ordered.fill_null(True).all()).item())


def first_rows(frame: pl.DataFrame, in_order: bool) -> pl.Series:
    """True on the first row of each posting (source, board, source_job_id) of ``frame``;
    ``in_order``: ``alias_sorted(frame)``."""
    if in_order:
        return frame.select(pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift()) for c in ALIAS])).to_series()
    return frame.select(pl.struct(ALIAS).is_first_distinct()).to_series()


def distinct_rows(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The distinct rows of ``frame``'s ``columns``, sorted by them: found by sorting and comparing
    neighbours, which for a million rows of two integer columns holds ~60 MB, where polars' hashed
    ``unique`` held ~290 MB (and the cut has several such sets of every key)."""
    ordered = frame.select(columns).sort(columns)
    return ordered.filter(pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift()) for c in columns]))


def as_number(column: str) -> pl.Expr:
    """A dedup key (16 hex digits, ``normalize.dedup_keys``) as the UInt64 it spells; ``f"{n:016x}"``
    spells it back, and the numbers sort as the strings do."""
    return pl.col(column).str.to_integer(base=16, dtype=pl.UInt64)


def connected_keys(keys: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """(dedup_key, rank, component) of ``keys`` (each key once, with its ``rank``): ``edges``
    (dedup_key, job_id) join keys that meet in one job; a component is named by its smallest key."""
    parent: dict[Any, Any] = {}

    def root(key: Any) -> Any:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    edges = distinct_rows(edges, ["job_id", "dedup_key"])
    job = pl.col("job_id")
    shared = edges.filter((job == job.shift()) | (job == job.shift(-1))).group_by("job_id").agg("dedup_key")  # jobs of 2+ keys
    for group in shared["dedup_key"].to_list():
        for other in group[1:]:
            first, second = root(group[0]), root(other)
            if first != second:
                parent[max(first, second)] = min(first, second)
    dtype = keys.schema["dedup_key"]
    roots = pl.DataFrame(
        {"dedup_key": list(parent), "component": [root(k) for k in parent]}, schema={"dedup_key": dtype, "component": dtype}
    )
    return keys.join(roots, on="dedup_key", how="left", maintain_order="left").with_columns(component=pl.coalesce("component", "dedup_key"))


def pack(components: pl.DataFrame, slice_jobs: int) -> pl.DataFrame:
    """(component, slice): components (with each key's ``rank``) in the order of their first
    canonical posting, packed into slices of at most ``slice_jobs`` keys; a bigger component is a
    slice alone.

    Why that order and not a hash range: new job ids follow the canonical postings (as in one plan
    of it all), so each slice appends its jobs, texts and postings after the last slice's. Slices
    by hash range spread each slice's ids over the whole range, and SQLite's inserts into the
    middle of its tables made a cold sync of 100k postings about twice as slow."""
    sizes = components.group_by("component").agg(size=pl.len(), rank=pl.col("rank").min()).sort("rank")
    numbers = batch_numbers(sizes["size"].to_list(), slice_jobs)
    return sizes.select("component", "size").with_columns(slice=pl.Series(numbers, dtype=pl.Int64))


def batch_numbers(sizes: list[int], limit: int) -> list[int]:
    """The batch of each item of ``sizes``, in order, packed greedily into batches of at most
    ``limit`` (an item bigger than that is a batch alone): slices of components, batches of boards."""
    numbers, current, filled = [], 0, 0
    for size in sizes:
        if filled and filled + size > limit:
            current, filled = current + 1, 0
        numbers.append(current)
        filled += size
    return numbers


def known_postings(keys: pl.DataFrame, store: StoreState) -> pl.DataFrame:
    """The stored postings (``ALIAS_SCHEMA``) of ``keys``'s postings, with their ``dedup_key``:
    read and matched ``POSTING_BATCH`` postings at a time, each batch against the stored postings of
    its own boards (a board cut by two batches is read twice, each time for its own postings), so
    neither the store's postings of the partition's boards nor a join table over them all stand
    at once."""
    parts = []
    for part in keys.iter_slices(POSTING_BATCH):
        boards = sorted(set(part.select("source", "board").unique().iter_rows()))
        parts.append(store.postings_of_boards(boards).join(part, on=ALIAS, how="inner"))
    return pl.concat(parts) if parts else store.postings_of_boards([]).join(keys, on=ALIAS, how="inner")


def cut_into_slices(keyed: pl.DataFrame, store: StoreState, *, slice_jobs: int) -> list[Slice]:
    """A partition's postings (``keyed``: each row's posting key and dedup key, ``posting_keys``)
    cut into slices of whole connected groups of at most ``slice_jobs`` jobs (see
    the module's docstring), each with its known postings and new job ids. Reads the store before
    any slice is written: the partition's stored postings, its jobs of the partition's keys, and the
    jobs the one-shot plan would merge."""
    if slice_jobs < 1:
        raise ValueError(f"sync slice size must be at least 1 job, got {slice_jobs}")
    # Inside the cut a dedup key is its 64-bit value (the key is an xxh3-64 in hex): a quarter of
    # the string's memory in each of the cut's frames over every key, and cheaper to join and group.
    keys = keyed.filter("first").select(*ALIAS, dedup_key=as_number("dedup_key"))
    known = known_postings(keys, store)
    links = distinct_rows(known, ["dedup_key", "job_id"])
    # One plan's group order: by canonical posting, the first of each key in posting-key order (a
    # raw partition's keys come in that order already).
    ordered = keys if alias_sorted(keys) else keys.sort(ALIAS)
    canonical = ordered.select("dedup_key").filter(pl.col("dedup_key").is_first_distinct()).with_row_index("rank")
    del keys, ordered
    # A group's same-key jobs matter only when none of its postings is known (``assign_jobs``): a
    # re-sync, where every group is linked, reads none.
    unlinked = canonical.join(links, on="dedup_key", how="anti")["dedup_key"].to_list()
    same_key = store.jobs_by_dedup_key([f"{key:016x}" for key in unlinked]).cast(DEDUP_KEY_SCHEMA)
    same_key_number = same_key.select(as_number("dedup_key"), "job_id")
    components = connected_keys(canonical, pl.concat([links, same_key_number]))
    slices = components.join(pack(components, slice_jobs), on="component").select("dedup_key", "slice")
    del components

    # The groups the one-shot plan gives new jobs, in its order (by canonical posting).
    merged_into, _, _ = plan_merges(links, store)
    kept_same_key = same_key_number.filter(~pl.col("job_id").is_in(merged_into["job_id"].implode()))
    unassigned = (
        canonical.join(links, on="dedup_key", how="anti")
        .join(kept_same_key, on="dedup_key", how="anti")
        .join(slices, on="dedup_key")
        .sort("rank")
    )
    del canonical, links
    new_ids = unassigned.select("slice", job_id=pl.Series(store.new_job_ids(unassigned.height), dtype=pl.Int64))

    # Each slice's rows, increasing: one array of every row by slice, each slice a view of it.
    placed = (
        keyed.select(as_number("dedup_key"))
        .with_row_index("row")
        .join(slices, on="dedup_key", how="left", maintain_order="left")
        .sort("slice", maintain_order=True)
    )
    numbers = placed.get_column("row").cast(pl.Int64).to_numpy()
    counts = placed.group_by("slice", maintain_order=True).len()
    jobs_of = dict(slices.group_by("slice").len().iter_rows())
    no_known, no_same_key = known.drop("dedup_key").clear(), same_key.clear()
    known_of = views_by_slice(known.drop("dedup_key"), known.get_column("dedup_key"), slices)
    del known
    same_key_of = views_by_slice(same_key, same_key_number.get_column("dedup_key"), slices)
    ids_of = {number: ids for number, ids in new_ids.group_by("slice").agg("job_id").iter_rows()}
    cut, start = [], 0
    for number, count in counts.iter_rows():
        state = SliceState(store, known_of.get(number, no_known), same_key_of.get(number, no_same_key), ids_of.get(number, []))
        cut.append(Slice(rows=numbers[start : start + count], jobs=jobs_of[number], state=state))
        start += count
    return cut


def views_by_slice(frame: pl.DataFrame, keys: pl.Series, slices: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """``frame``'s rows by the slice of their dedup key (``keys``, row for row; ``slices``: dedup_key,
    slice), each slice's rows in their order: views of one copy of ``frame`` sorted by slice. A join
    and ``partition_by`` held two more copies of the partition's stored postings at once (each
    ~200 MB at a million postings)."""
    number = keys.to_frame("dedup_key").join(slices, on="dedup_key", how="left", maintain_order="left").get_column("slice")
    ordered = frame.with_columns(number.alias("__slice")).sort("__slice", maintain_order=True)
    views, start = {}, 0
    for length, value in ordered.get_column("__slice").rle().struct.unnest().iter_rows():
        views[value] = ordered.slice(start, length).drop("__slice")
        start += length
    return views
