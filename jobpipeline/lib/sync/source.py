"""Where a sync reads a partition's postings: a frame already in memory, or a raw partition on disk
read lazily, so that a sync in slices holds one slice's descriptions at a time: ``Postings``.

A sync needs the partition twice: whole but thin, to cut it into slices (each row's posting key,
company, title and description digest: ``listed``), and thick but by slice (every column of the
slice's rows: ``rows``). From a frame both are views of it. From disk, ``listed`` reads the small
columns and hashes the descriptions one row group at a time, and ``rows`` reads only the row groups
that hold the slice's rows (a raw partition is written sorted by posting key, the order slices are
cut in, so those are neighbours). The descriptions are most of a partition's bytes (about 3 KB a
posting against ~0.3 KB for the rest), which is why they are the ones left on disk.

A partition written before raw partitions had small row groups (one group of the whole partition)
would be read whole by every slice: it is read once, whole, as before.
"""

from __future__ import annotations

from typing import Protocol

import polars as pl

from jobpipeline.lib.normalize import arrow_digests, description_digests
from jobpipeline.lib.postings import POSTING_SCHEMA
from jobpipeline.lib.rawstore import RawPartition

LISTED_COLUMNS = ["source", "board", "source_job_id", "company", "title"]
LAZY_ROW_GROUP_MAX = 16_384  # a partition of bigger row groups (older ones) is read whole, once


class Postings(Protocol):
    """A partition's postings (``POSTING_SCHEMA`` rows, in a fixed order) as a sync reads them."""

    @property
    def height(self) -> int: ...

    def listed(self) -> pl.DataFrame:
        """``LISTED_COLUMNS`` and ``description_hash`` (``description_digests``) of every row, in order."""
        ...

    def rows(self, rows: list[int]) -> pl.DataFrame:
        """Every column of the rows at these (increasing) numbers."""
        ...

    def whole(self) -> pl.DataFrame:
        """Every row, every column."""
        ...


class FramePostings:
    """Postings already in memory."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame.select(list(POSTING_SCHEMA)).cast(POSTING_SCHEMA)  # type: ignore[arg-type]

    @property
    def height(self) -> int:
        return self.frame.height

    def listed(self) -> pl.DataFrame:
        return self.frame.select(LISTED_COLUMNS).with_columns(description_hash=description_digests(self.frame))

    def rows(self, rows: list[int]) -> pl.DataFrame:
        return self.frame[rows]

    def whole(self) -> pl.DataFrame:
        return self.frame


class PartitionPostings:
    """A raw partition's postings read from disk as a sync asks for them (see the module's docstring)."""

    def __init__(self, partition: RawPartition) -> None:
        self.partition = partition
        sizes = partition.row_group_sizes()
        self._height = sum(sizes)
        self._read_whole = max(sizes, default=0) > LAZY_ROW_GROUP_MAX
        self._whole: pl.DataFrame | None = None

    @property
    def height(self) -> int:
        return self._height

    def listed(self) -> pl.DataFrame:
        if self._read_whole:
            return FramePostings(self.whole()).listed()
        digests = [digest for batch in self.partition.iter_posting_column("description") for digest in arrow_digests(batch)]
        return self.partition.read_posting_columns(LISTED_COLUMNS).with_columns(description_hash=pl.Series(digests, dtype=pl.String))

    def rows(self, rows: list[int]) -> pl.DataFrame:
        if self._read_whole:
            return self.whole()[rows]
        return self.partition.read_posting_rows(rows)

    def whole(self) -> pl.DataFrame:
        if self._whole is None:
            self._whole = self.partition.read_postings()
        return self._whole
