"""Where a sync reads a partition's postings: a frame already in memory, or a raw partition on disk
read lazily, so that a sync holds no more descriptions than it writes at once: ``Postings``.

A sync needs the partition three times: whole but thin, to cut it into slices (each row's posting
key, company, title and description digest: ``listed``); by slice, every column but the text
(``rows``: the plan decides on digests, not on descriptions); and the descriptions of just the jobs
it inserts or rewrites, when it writes them (``texts``). From a frame all three are views of it.
From disk, ``listed`` reads each posting's key stored beside it (a partition written before the
keys were stored reads the small columns and the digests, and one written before those hashes its
descriptions once, a row group at a time), ``rows``
reads the thin columns of the row groups that hold the slice's rows (a raw partition is written
sorted by posting key, the order slices are cut in, so those are neighbours), and ``texts`` reads
the descriptions of the rows asked for a row group at a time. The descriptions are most of a
partition's bytes (about 3 KB a posting against ~0.3 KB for the rest), which is why they are the
ones left on disk: an unchanged re-sync reads none.

A partition written before raw partitions had small row groups (one group of the whole partition)
would be read whole by every slice: it is read once, whole, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import polars as pl
import pyarrow as pa

from jobpipeline.lib.normalize import arrow_digests, description_digests
from jobpipeline.lib.postings import POSTING_SCHEMA
from jobpipeline.lib.rawstore import DIGEST_COLUMN, HASH_COLUMN, KEY_COLUMN, RawPartition

LISTED_COLUMNS = ["source", "board", "source_job_id", "company", "title"]
KEYED_COLUMNS = ["source", "board", "source_job_id", KEY_COLUMN]  # what ``listed`` reads where the keys are stored
THIN_COLUMNS = [c for c in POSTING_SCHEMA if c != "description"]  # what a plan reads of each row
LAZY_ROW_GROUP_MAX = 16_384  # a partition of bigger row groups (older ones) is read whole, once


class Postings(Protocol):
    """A partition's postings (``POSTING_SCHEMA`` rows, in a fixed order) as a sync reads them."""

    @property
    def height(self) -> int: ...

    def listed(self) -> Iterator[pl.DataFrame]:
        """``LISTED_COLUMNS`` and ``description_hash`` (``description_digests``) of every row, in
        order, in batches (of a raw partition: ``rawstore.LISTED_GROUPS`` row groups each); or,
        where the partition stores each posting's dedup key, ``KEYED_COLUMNS``."""
        ...

    def rows(self, rows: Sequence[int] | np.ndarray) -> pl.DataFrame:
        """The rows at these (increasing) numbers: every column, or (``THIN``) every column but the
        description, with ``description_hash`` and ``text_row`` (the row's number, for ``texts``),
        and ``posting_hash`` where the partition stores it (``rawstore.HASH_COLUMN``)."""
        ...

    def whole(self) -> pl.DataFrame:
        """Every row, as ``rows`` gives them."""
        ...

    def texts(self, wanted: pl.DataFrame) -> Iterator[pl.DataFrame]:
        """``wanted``'s rows (any columns, among them ``text_row``) with ``description`` in place of
        ``text_row``, in batches: the descriptions a sync writes, read when it writes them."""
        ...


class FramePostings:
    """Postings already in memory: rows come with their descriptions."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame.select(list(POSTING_SCHEMA)).cast(POSTING_SCHEMA)  # type: ignore[arg-type]

    @property
    def height(self) -> int:
        return self.frame.height

    def listed(self) -> Iterator[pl.DataFrame]:
        yield self.frame.select(LISTED_COLUMNS).with_columns(description_hash=description_digests(self.frame))

    def rows(self, rows: Sequence[int] | np.ndarray) -> pl.DataFrame:
        return self.frame[rows]

    def whole(self) -> pl.DataFrame:
        return self.frame

    def texts(self, wanted: pl.DataFrame) -> Iterator[pl.DataFrame]:
        descriptions = self.frame.get_column("description").fill_null("")
        yield wanted.with_columns(description=descriptions.gather(wanted["text_row"])).drop("text_row")


class PartitionPostings:
    """A raw partition's postings read from disk as a sync asks for them (see the module's
    docstring): rows come thin (``THIN``), and ``texts`` reads the descriptions a sync writes."""

    def __init__(self, partition: RawPartition) -> None:
        self.partition = partition
        sizes = partition.row_group_sizes()
        self._height = sum(sizes)
        self._read_whole = max(sizes, default=0) > LAZY_ROW_GROUP_MAX
        self._stored_digests = partition.has_digests()
        self._stored_hashes = self._stored_digests and partition.has_hashes()
        self._digests: pl.Series | None = None
        self._whole: pl.DataFrame | None = None

    @property
    def height(self) -> int:
        return self._height

    def listed(self) -> Iterator[pl.DataFrame]:
        if self._read_whole:
            yield from FramePostings(self.whole()).listed()
        elif self._stored_hashes:
            yield from self.partition.iter_posting_columns(KEYED_COLUMNS)
        elif self._stored_digests:
            yield from self.partition.iter_posting_columns([*LISTED_COLUMNS, DIGEST_COLUMN])
        else:
            yield self.partition.read_posting_columns(LISTED_COLUMNS).with_columns(description_hash=self.digests())

    def digests(self) -> pl.Series:
        """Every row's description digest, for a partition written before they were stored: its
        descriptions hashed once, a row group at a time."""
        if self._digests is None:
            batches = self.partition.iter_posting_column("description")
            self._digests = pl.Series(DIGEST_COLUMN, [digest for batch in batches for digest in arrow_digests(batch)], dtype=pl.String)
        return self._digests

    def rows(self, rows: Sequence[int] | np.ndarray) -> pl.DataFrame:
        if self._read_whole:
            return self.whole()[rows]
        return self._thin(rows)

    def whole(self) -> pl.DataFrame:
        if self._read_whole:  # the older layout: read once, descriptions and all
            if self._whole is None:
                self._whole = self.partition.read_postings()
            return self._whole
        return self._thin(None)

    def _thin(self, rows: Sequence[int] | np.ndarray | None) -> pl.DataFrame:
        """``THIN_COLUMNS``, the digest and ``text_row`` of these rows (None: of every row, read by
        column, without a take per row group)."""
        columns = [*THIN_COLUMNS, DIGEST_COLUMN] if self._stored_digests else THIN_COLUMNS
        if self._stored_hashes:  # and the keys, for one plan of every row (a slice's come from the cut)
            columns += [HASH_COLUMN] if rows is not None else [HASH_COLUMN, KEY_COLUMN]
        if rows is None:
            frame, numbers = self.partition.read_posting_columns(columns), pl.int_range(pl.len(), dtype=pl.Int64)
        else:
            frame, numbers = self.partition.read_posting_rows(rows, columns), pl.lit(pl.Series(rows, dtype=pl.Int64))
        if not self._stored_digests:
            frame = frame.with_columns(self.digests() if rows is None else self.digests().gather(rows))
        return frame.with_columns(text_row=numbers)

    def texts(self, wanted: pl.DataFrame) -> Iterator[pl.DataFrame]:
        wanted = wanted.sort("text_row")
        rows = wanted.get_column("text_row").to_numpy()
        done = 0
        for numbers, descriptions in self.partition.iter_descriptions(np.unique(rows)):
            end = int(np.searchsorted(rows, numbers[-1], side="right"))  # ``wanted``'s rows of these numbers end here
            # Each row's description by its place among ``numbers`` (distinct and sorted, as ``rows``
            # are), not by a join on ``text_row``: 18,000 texts of a 300k-posting partition in 0.055
            # against 0.10 s, the row groups' reads aside.
            if end - done != len(numbers):  # a row wanted twice (else each row is its own place)
                descriptions = descriptions.take(pa.array(np.searchsorted(numbers, rows[done:end])))
            texts = pl.Series("description", descriptions, dtype=pl.String)
            yield wanted.slice(done, end - done).drop("text_row").with_columns(texts.fill_null(""))
            done = end
