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
  before the sync, as the one-shot plan does: the cut keeps only which stored jobs each slice
  has, and a slice reads their postings when it is planned.
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

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from jobpipeline.lib.normalize import dedup_keys, keys_in_order
from jobpipeline.lib.sync.plan import (
    ALIAS,
    ALIAS_SCHEMA,
    DEDUP_KEY_SCHEMA,
    HISTORY_SCHEMA,
    JOB_SCHEMA,
    Scope,
    StoreState,
    plan_merges,
    scope_frame,
)

KEYED_SCHEMA = {**{c: pl.String for c in ALIAS}, "dedup_key": pl.String, "first": pl.Boolean}
# Postings handled at once where a sync goes over the whole partition: keyed, matched to the store,
# closed (``sync.close_in_batches``). Bounds those steps' memory; a larger batch saves per-batch work.
POSTING_BATCH = 100_000
# Rows hashed into dedup keys at once (``posting_keys``): their Python strings and tuples are that
# step's peak (a million postings: 100,000 at once peaked ~30 MB higher; 5,000 no lower than 20,000).
KEY_BATCH = 20_000
# A slice holds at most ``slice_jobs`` jobs new to the store, or NEW_WEIGHT / KNOWN_WEIGHT times as
# many jobs it knows (restamped, a few rewritten), which hold less while planned and written; a
# mix weighs each kind so. A 700k-posting day (94 % known) in slices of 20,000 and 50,000 jobs,
# four runs each: 29.2 against 27.8 s median (37.8 against 34.2 CPU-s), peak 414 against 440 MB;
# a cold 100k in slices of 50,000 new jobs grew ~60 MB more than in 20,000 (bench/RESULTS.md).
NEW_WEIGHT, KNOWN_WEIGHT = 5, 2


@dataclass
class Slice:
    """One slice of a partition: its rows (increasing, so ``deduplicate`` sees them in the
    partition's order) and the store as its plan reads it."""

    rows: np.ndarray  # int64
    jobs: int  # groups (dedup keys) in the slice
    state: SliceState


class SliceRows:
    """The rows of ``frame`` at ``rows`` (increasing), gathered only when read: every slice's rows of
    one frame of the whole partition, without a second copy of it sorted by slice."""

    def __init__(self, frame: pl.DataFrame, rows: np.ndarray) -> None:
        self.frame, self.rows = frame, rows

    def read(self) -> pl.DataFrame:
        return self.frame.select(pl.all().gather(self.rows))


class SliceState:
    """``StoreState`` for one slice's plan: the stored jobs of its postings (as ids: their postings
    are read when the slice is planned), the jobs of its dedup keys (read once for the whole
    partition: no other slice writes them), and its pre-allocated new job ids; every other read
    goes to the store."""

    def __init__(self, store: StoreState, known_jobs: np.ndarray, same_key: SliceRows, new_ids: np.ndarray) -> None:
        self.store, self.known_jobs, self.same_key, self.new_ids = store, known_jobs, same_key, new_ids
        self._read: tuple[pl.DataFrame, pl.DataFrame] | None = None
        self._take: Callable[[], tuple[pl.DataFrame, pl.DataFrame]] | None = None

    def read_ahead(self, take: Callable[[], tuple[pl.DataFrame, pl.DataFrame]] | None) -> None:
        """Where the stored postings and rows of ``known_jobs`` come from when read ahead
        (``read_ahead.StoreReadAhead.take``; None: nowhere, or no longer). Taken when the plan first
        reads the store, not before it starts: the plan deduplicates its rows first, and the child
        reads meanwhile (the first slice waited ~0.05 s for it)."""
        self._take, self._read = take, None

    @property
    def read(self) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        if self._take is not None:
            self._read, self._take = self._take(), None
        return self._read

    def postings_of_boards(self, scope: Scope) -> pl.DataFrame:
        if len(self.known_jobs) == 0 and self.read is None:  # a slice of new jobs only: none of its postings is stored
            return pl.DataFrame(schema=ALIAS_SCHEMA)
        # A slice plans no closings: of its boards' stored postings it needs only its own, those of
        # its known jobs, which no earlier slice wrote (slices share no job). Read when it is
        # planned, not kept from the cut: a million stored postings held for every slice were a
        # third of the sync's peak.
        if self.read is not None:
            return self.read[0].join(scope_frame(scope), on=["source", "board"], how="semi")
        return self.store.postings_of_boards(scope).filter(pl.col("job_id").is_in(self.known_jobs))

    def jobs(self, job_ids: list[int]) -> pl.DataFrame:
        if not job_ids:  # a slice of new jobs: asked for none (and waits for no write)
            return pl.DataFrame(schema=JOB_SCHEMA)
        if self.read is None:
            return self.store.jobs(job_ids)
        wanted = pl.Series("job_id", job_ids, dtype=pl.Int64).unique()
        read = self.read[1].filter(pl.col("job_id").is_in(wanted.implode()))
        missing = wanted.filter(~wanted.is_in(read.get_column("job_id").implode())).to_list()  # jobs not known: same-key ones
        return pl.concat([read, self.store.jobs(missing)]) if missing else read

    def jobs_by_dedup_key(self, dedup_keys: list[str]) -> pl.DataFrame:
        return self.same_key.read().filter(pl.col("dedup_key").is_in(dedup_keys))

    def hash_history(self, job_ids: list[int]) -> pl.DataFrame:
        return self.store.hash_history(job_ids) if job_ids else pl.DataFrame(schema=HISTORY_SCHEMA)

    def latest_skips(self, scope: Scope, except_on: date, except_boards: Collection[tuple[str, str]]) -> pl.DataFrame:
        return self.store.latest_skips(scope, except_on, except_boards)

    def successful_scrape_days(self, scope: Scope, after: date) -> pl.DataFrame:
        return self.store.successful_scrape_days(scope, after)

    def postings_of_jobs(self, job_ids: list[int]) -> pl.DataFrame:
        return self.store.postings_of_jobs(job_ids)

    def posting_jobs_of_boards(self, scope: Scope) -> pl.DataFrame:
        return self.store.posting_jobs_of_boards(scope)

    def new_job_ids(self, count: int) -> Sequence[int]:
        if count != len(self.new_ids):
            raise RuntimeError(
                f"sliced sync: a slice planned {count} new jobs where the cut foresaw {len(self.new_ids)}; "
                "the slices would not give the one-shot sync's store, so nothing is written"
            )
        return self.new_ids.tolist()


class AfterWrites:
    """``store`` (a ``StoreState``) whose every read first calls ``wait``: how a slice is planned
    while the slice before it is written on another thread (``sync.sync_in_slices``). Its reads
    through the sync's connection wait for that write to end, since a connection runs one statement
    at a time; what it reads is the same either way, as no slice writes another's jobs or postings.
    A slice whose reads came ahead (``read_ahead.py``), or that has no stored jobs, plans without
    waiting, so its planning runs beside the write."""

    def __init__(self, store: StoreState, wait: Callable[[], Any]) -> None:
        self._store, self._wait = store, wait

    def __getattr__(self, name: str) -> Any:
        read = getattr(self._store, name)

        def after_writes(*args: Any, **kwargs: Any) -> Any:
            self._wait()
            return read(*args, **kwargs)

        return after_writes


def posting_keys(listed: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """(source, board, source_job_id, dedup_key, first) of every row of ``listed``
    (``source.Postings.listed()``: batches of rows, the descriptions only hashed), in its order;
    every row of a posting carries the key of the posting's first row (``first``), as
    ``deduplicate`` keys it. Rows are hashed ``KEY_BATCH`` at a time and only their keys are kept,
    so a million postings never stand as Python strings, nor their titles and companies as a
    frame, at once; a raw partition that stores each posting's key (``rawstore.KEY_COLUMN``) is
    not hashed again."""
    parts = [
        part.select(*ALIAS, "dedup_key")
        if "dedup_key" in part.columns  # stored in the raw partition beside each posting
        else part.select(*ALIAS, dedup_key=pl.Series(dedup_keys(part, part["description_hash"]), dtype=pl.String))
        for part in batched_frames(listed, KEY_BATCH)
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
    return keys_in_order(frame, strictly=False)


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


def pack(components: pl.DataFrame, slice_jobs: int, known: np.ndarray | None = None) -> pl.DataFrame:
    """(dedup_key, slice): the keys of ``components`` (dedup_key, rank, component) with the slice of
    their component: components in the order of their first canonical posting, packed into slices
    of at most ``slice_jobs`` keys' weight; a heavier component is a slice alone. ``known`` (a bool a row of
    ``components``): the keys whose postings the store knows, each weighing ``KNOWN_WEIGHT`` of
    ``NEW_WEIGHT`` (a slice of known keys only holds ``NEW_WEIGHT / KNOWN_WEIGHT`` times as many).

    Why that order and not a hash range: new job ids follow the canonical postings (as in one plan
    of it all), so each slice appends its jobs, texts and postings after the last slice's. Slices
    by hash range spread each slice's ids over the whole range, and SQLite's inserts into the
    middle of its tables made a cold sync of 100k postings about twice as slow.

    Found by sorting, as ``distinct_rows`` does: a hashed group-by and join over a million
    components held ~100 MB more, at the cut's peak."""
    weight = np.where(known, KNOWN_WEIGHT, NEW_WEIGHT) if known is not None else np.full(components.height, NEW_WEIGHT)
    ordered = components.select("dedup_key", "component", "rank", weight=pl.Series(weight, dtype=pl.Int64)).sort("component", "rank")
    runs = ordered.get_column("component").rle().struct.field("len")  # each component's keys, in component order
    ends = np.cumsum(runs.to_numpy())
    weights = np.concatenate(([0], np.cumsum(ordered.get_column("weight").to_numpy())))
    sizes = pl.Series(weights[ends] - weights[ends - runs.to_numpy()], dtype=pl.Int64)  # each component's weight
    firsts = ordered.filter(pl.col("component").ne_missing(pl.col("component").shift())).select("rank")  # its first canonical posting
    by_rank = firsts.with_columns(size=sizes, component_number=pl.int_range(pl.len(), dtype=pl.Int64)).sort("rank")
    slice_of = np.empty(by_rank.height, dtype=np.int64)
    slice_of[by_rank.get_column("component_number").to_numpy()] = batch_numbers(
        by_rank.get_column("size").to_numpy(), slice_jobs * NEW_WEIGHT
    )
    return ordered.select("dedup_key", slice=pl.Series(np.repeat(slice_of, runs.to_numpy()), dtype=pl.Int64))


def batch_numbers(sizes: Sequence[int] | np.ndarray, limit: int) -> np.ndarray:
    """The batch of each item of ``sizes``, in order, packed greedily into batches of at most
    ``limit`` (an item bigger than that is a batch alone): slices of components, batches of boards.

    The greedy loop over a million sizes held them and their batch numbers as Python ints (~70 MB);
    here each batch is found by a binary search in the running total. A batch from item ``start``
    takes the items that keep it within ``limit`` and, as the loop did, any item while nothing is
    in it yet (sizes of 0 before an oversized one)."""
    ends = np.cumsum(np.asarray(sizes, dtype=np.int64))
    numbers = np.empty(len(ends), dtype=np.int64)
    start, batch = 0, 0
    while start < len(ends):
        base = ends[start - 1] if start else 0
        within = int(np.searchsorted(ends, base + limit, side="right"))
        while_empty = int(np.searchsorted(ends, base, side="right")) + 1
        stop = min(len(ends), max(within, while_empty, start + 1))
        numbers[start:stop] = batch
        start, batch = stop, batch + 1
    return numbers


def known_links(
    keys: pl.DataFrame, store: StoreState, posting_jobs: Callable[[list[Scope]], Iterable[pl.DataFrame]] | None = None
) -> pl.DataFrame:
    """(dedup_key, job_id), distinct and sorted: the stored job of each of ``keys``'s postings the
    store knows. Read and matched ``POSTING_BATCH`` postings at a time, each batch against the
    stored postings of its own boards (a board cut by two batches is read twice, each time for its
    own postings), and only the pairs kept: neither the store's postings of the partition's boards
    nor a join table over them all stand at once, and the slices read their own stored postings
    when they are planned (``SliceState``). ``posting_jobs``: reads the batches' stored postings
    (``read_ahead.StoreReadAhead.posting_jobs``); the store's, batch by batch, when None."""
    parts = [pl.DataFrame(schema={"dedup_key": keys.schema["dedup_key"], "job_id": pl.Int64})]
    batches = list(keys.iter_slices(POSTING_BATCH))
    boards = [sorted(set(part.select("source", "board").unique().iter_rows())) for part in batches]
    stored_of = posting_jobs(boards) if posting_jobs is not None else (store.posting_jobs_of_boards(scope) for scope in boards)
    for part, stored in zip(batches, stored_of, strict=True):
        parts.append(distinct_rows(stored.select(*ALIAS, "job_id").join(part, on=ALIAS, how="inner"), ["dedup_key", "job_id"]))
    return distinct_rows(pl.concat(parts), ["dedup_key", "job_id"])


def jobs_of_keys(keys: pl.Series, store: StoreState) -> pl.DataFrame:
    """Every stored job of these dedup keys (as numbers), ``DEDUP_KEY_SCHEMA``: asked
    ``POSTING_BATCH`` keys at a time, so the keys of a cold million never stand at once as Python
    strings and SQL (~200 MB)."""
    parts = [
        store.jobs_by_dedup_key([f"{key:016x}" for key in keys.slice(start, POSTING_BATCH).to_list()]).cast(DEDUP_KEY_SCHEMA)
        for start in range(0, keys.len(), POSTING_BATCH)
    ]
    return pl.concat(parts) if parts else store.jobs_by_dedup_key([]).cast(DEDUP_KEY_SCHEMA)


def cut_into_slices(
    keyed: pl.DataFrame,
    store: StoreState,
    *,
    slice_jobs: int,
    posting_jobs: Callable[[list[Scope]], Iterable[pl.DataFrame]] | None = None,
) -> list[Slice]:
    """A partition's postings (``keyed``: each row's posting key and dedup key, ``posting_keys``)
    cut into slices of whole connected groups of at most ``slice_jobs`` new jobs' weight (``pack``; see
    the module's docstring), each with its stored jobs and new job ids. Reads the store before
    any slice is written: the job of each stored posting of the partition, the jobs of the
    partition's keys, and the jobs the one-shot plan would merge. ``posting_jobs``: as
    ``known_links`` takes it."""
    if slice_jobs < 1:
        raise ValueError(f"sync slice size must be at least 1 job, got {slice_jobs}")
    # Inside the cut a dedup key is its 64-bit value (the key is an xxh3-64 in hex): a quarter of
    # the string's memory in each of the cut's frames over every key, and cheaper to join and group.
    keys = keyed.filter("first").select(*ALIAS, dedup_key=as_number("dedup_key"))
    links = known_links(keys, store, posting_jobs)
    # One plan's group order: by canonical posting, the first of each key in posting-key order (a
    # raw partition's keys come in that order already).
    ordered = keys if alias_sorted(keys) else keys.sort(ALIAS)
    canonical = ordered.select("dedup_key").filter(pl.col("dedup_key").is_first_distinct()).with_row_index("rank")
    del keys, ordered
    # A group's same-key jobs matter only when none of its postings is known (``assign_jobs``): a
    # re-sync, where every group is linked, reads none.
    unlinked = canonical.join(links, on="dedup_key", how="anti")
    same_key = jobs_of_keys(unlinked.get_column("dedup_key"), store)
    same_key_number = same_key.select(as_number("dedup_key"), "job_id")
    components = connected_keys(canonical, pl.concat([links, same_key_number]))
    slices = pack(components, slice_jobs, known_keys(components.get_column("dedup_key"), links.get_column("dedup_key")))
    del components

    # The groups the one-shot plan gives new jobs, in its order (by canonical posting).
    key = pl.col("dedup_key")  # links are sorted: a key in two jobs has a neighbour of its own
    merged_into, _, _ = plan_merges(links.filter((key == key.shift()) | (key == key.shift(-1))), store)
    kept_same_key = same_key_number.filter(~pl.col("job_id").is_in(merged_into["job_id"].implode()))
    unassigned = unlinked.join(kept_same_key, on="dedup_key", how="anti").join(slices, on="dedup_key").sort("rank")
    # Each slice's stored jobs (whose postings it reads when planned), distinct and sorted.
    known_jobs = distinct_rows(links.join(slices, on="dedup_key").select("slice", "job_id"), ["slice", "job_id"])
    known_jobs_of = split_by_slice(known_jobs.get_column("slice"), known_jobs.get_column("job_id"))
    del known_jobs, canonical, links, unlinked
    new_ids = unassigned.select("slice", job_id=pl.Series(store.new_job_ids(unassigned.height), dtype=pl.Int64))

    # Each slice's rows, increasing (views of one array of every row by slice), in slice order.
    rows_of = rows_by_slice(keyed.select(as_number("dedup_key")).to_series(), slices)
    jobs_of = dict(slices.group_by("slice").len().iter_rows())
    same_key_of = rows_by_slice(same_key_number.get_column("dedup_key"), slices)
    ids_of = split_by_slice(new_ids.get_column("slice"), new_ids.get_column("job_id"))
    no_rows = np.empty(0, dtype=np.int64)
    return [
        Slice(
            rows=rows,
            jobs=jobs_of[number],
            state=SliceState(
                store,
                known_jobs_of.get(number, no_rows),
                SliceRows(same_key, same_key_of.get(number, no_rows)),
                ids_of.get(number, no_rows),
            ),
        )
        for number, rows in rows_of.items()
    ]


def known_keys(keys: pl.Series, linked: pl.Series) -> np.ndarray:
    """Whether each of ``keys`` is among ``linked`` (sorted, as ``known_links`` gives them): by
    binary search, not a hash set over a million keys at the cut's peak."""
    found = linked.to_numpy()
    wanted = keys.to_numpy()
    if not len(found):
        return np.zeros(len(wanted), dtype=bool)
    at = np.minimum(np.searchsorted(found, wanted), len(found) - 1)
    return found[at] == wanted


def rows_by_slice(keys: pl.Series, slices: pl.DataFrame) -> dict[int, np.ndarray]:
    """The row numbers of each slice in ``keys`` (dedup keys; ``slices``: dedup_key, slice), each
    slice's increasing. The frames they index stay as they are, and each slice gathers its own rows
    when its plan reads them (``SliceRows``): a sorted copy of a frame over the whole partition,
    held beside it while it was cut into views, was a sync's peak at a million postings."""
    number = keys.to_frame("dedup_key").join(slices, on="dedup_key", how="left", maintain_order="left").get_column("slice")
    return split_by_slice(number, pl.int_range(number.len(), dtype=pl.Int64, eager=True))


def split_by_slice(numbers: pl.Series, values: pl.Series) -> dict[int, np.ndarray]:
    """``values`` by slice (``numbers``, row for row), each slice's in their order: views of one
    array sorted by slice, where lists of Python ints cost 36 bytes a value (a million of them per
    partition: every row, job and new id)."""
    ordered = pl.DataFrame({"slice": numbers, "value": values}).sort("slice", maintain_order=True)
    array = ordered.get_column("value").to_numpy()
    views, start = {}, 0
    for length, number in ordered.get_column("slice").rle().struct.unnest().iter_rows():
        views[number] = array[start : start + length]
        start += length
    return views
