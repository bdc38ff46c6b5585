"""On-disk layout of raw partitions: what a scrape saw, kept so later assets rebuild without the network.

``<home>/raw/<source>/<YYYY-MM-DD or YYYY-MM>/`` holds

- ``bodies/<board>.json``: the raw API bodies of each board, as a JSON list of strings;
- ``postings.parquet``: the normalized postings (``POSTING_SCHEMA``), ``description_hash``, the
  xxh3-128 of each description (``normalize.description_digests``), and each posting's
  ``dedup_key`` and ``posting_hash`` (the content hash of its job were it the job's only posting;
  ``with_hashes``), sorted by (source, board, source_job_id) (stable: one id listed twice keeps its
  rows' order) in row groups of ``ROW_GROUP_ROWS``, so a sync can read it lazily: its keys first,
  then the rows of one slice at a time without their descriptions (``read_posting_rows``), then
  only the descriptions it stores (``iter_descriptions``). Partitions written before 2026-12-07
  lack the keys and hashes, those before 2026-12-02 the digests too (the sync makes them on
  read); older ones still (unsorted, one big row group) read the same, only not cheaply by slice;
- ``outcomes.json``: one object per board (``BoardResult.summary()``: ok, http_status, error,
  n_postings, n_skipped, skipped_reasons, skipped_ids, n_bytes, duration_s, detail counts);
- ``details.json`` (sources with detail fetches): ``{board: {posting id: stamp}}``, the list-item
  stamp each stored description was fetched under, so the next scrape reuses it when unchanged.

A partition is written to a temporary sibling directory and renamed into place, so a crashed
scrape never leaves a half-written partition that a later ``jobs`` run would trust. A scrape writes
it board by board as the boards answer (``PartitionWriter``), so it holds no board it has finished.
What such a crash leaves behind (``.<key>.<host>-<pid>-<id>.tmp`` / ``.old``) is removed by the next write in
the same source folder, once its writer is gone: its process no longer runs on this host, or it is
older than ``ORPHAN_AGE_S`` (another host's). A ``.old`` folder whose partition is missing (the
crash fell between the two renames) is the last complete partition: it is put back, not removed.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from jobpipeline.lib.normalize import HASHES_VERSION, content_hashes, dedup_keys, description_digests
from jobpipeline.lib.postings import POSTING_SCHEMA, BoardOutcomes, Posting, postings_frame
from jobpipeline.lib.sources.base import decode_json
from jobpipeline.lib.sources.details import DETAIL_FIELDS, PreviousDetails, StoredDetail

DIGEST_COLUMN = "description_hash"  # written beside the postings: a sync needs no description to hash
KEY_COLUMN = "dedup_key"  # each posting's dedup key (``normalize.dedup_keys``), written beside it
HASH_COLUMN = "posting_hash"  # the content hash of each posting's job were it the job's only posting
HASHES_KEY = b"jobpipeline.hashes"  # footer metadata: the ``normalize.HASHES_VERSION`` the two were made by
ROW_GROUP_ROWS = 2048  # ~6 MB of descriptions: a slice's read overshoots it by at most two groups
LISTED_GROUPS = 48  # row groups of a partition's listed columns read at once (~100,000 rows, ~11 MB)
SCAN_GROUPS = 16  # at most so many neighbouring row groups of thin rows read at once (a slice's span ~10)
ORPHAN_AGE_S = 3600  # a write takes seconds; an hour-old temporary folder has no writer left
_TEMP_NAME = re.compile(r"^\.(?P<key>[^.]+)\.(?:(?P<host>.+)-(?P<pid>\d+)-)?[0-9a-f]{8}\.(?P<kind>tmp|old)$")


class MissingPartitionError(FileNotFoundError):
    """No raw partition on disk for a (source, date) that a downstream asset needs."""


@dataclass(frozen=True)
class RawPartition:
    root: Path
    source: str
    key: str  # YYYY-MM-DD (daily boards) or YYYY-MM (monthly HN threads)

    @classmethod
    def at(cls, raw_dir: Path, source: str, key: str) -> RawPartition:
        return cls(raw_dir / source / key, source, key)

    @property
    def postings_path(self) -> Path:
        return self.root / "postings.parquet"

    @property
    def outcomes_path(self) -> Path:
        return self.root / "outcomes.json"

    @property
    def details_path(self) -> Path:
        return self.root / "details.json"

    @classmethod
    def latest(cls, raw_dir: Path, source: str, up_to: str) -> RawPartition | None:
        """The newest complete partition of ``source`` whose key is ``up_to`` or earlier, if any."""
        folder = raw_dir / source
        keys = sorted((p.name for p in folder.iterdir() if not p.name.startswith(".")), reverse=True) if folder.is_dir() else []
        return next((p for key in keys if key <= up_to and (p := cls.at(raw_dir, source, key)).exists()), None)

    def exists(self) -> bool:
        return self.postings_path.exists() and self.outcomes_path.exists()

    def write(
        self,
        postings: pl.DataFrame,
        outcomes: list[dict[str, Any]],
        bodies: dict[str, Any],
        detail_stamps: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """Replace the partition atomically with these postings, outcomes, raw bodies and detail stamps."""
        stamps = detail_stamps or {}
        with self.writer() as writer:
            writer.add_postings(postings)
            for board, board_bodies in bodies.items():
                writer.add_bodies(board, board_bodies, stamps.get(board))
            writer.commit(outcomes)

    def writer(self) -> PartitionWriter:
        """A writer that replaces this partition board by board (``PartitionWriter``)."""
        return PartitionWriter(self)

    def read_postings(self) -> pl.DataFrame:
        self._require()
        return pl.read_parquet(self.postings_path, columns=list(POSTING_SCHEMA)).cast(POSTING_SCHEMA)  # type: ignore[arg-type]

    def has_digests(self) -> bool:
        """Whether ``postings.parquet`` holds ``DIGEST_COLUMN`` (written since 2026-12-02)."""
        return DIGEST_COLUMN in self._postings_file().schema_arrow.names

    def has_hashes(self) -> bool:
        """Whether ``postings.parquet`` holds ``KEY_COLUMN`` and ``HASH_COLUMN`` made the way this
        code makes them (written since 2026-12-07, footer marked ``HASHES_VERSION``): a sync takes
        them as they are. A partition written before, or by a version that keys or hashes otherwise,
        is keyed and hashed again on read."""
        schema = self._postings_file().schema_arrow
        return (schema.metadata or {}).get(HASHES_KEY) == HASHES_VERSION.encode() and {KEY_COLUMN, HASH_COLUMN} <= set(schema.names)

    def row_group_sizes(self) -> list[int]:
        """Rows of each row group of ``postings.parquet``, in order, from its footer: their sum is
        the partition's postings, their largest what reading any one row costs at least."""
        return _row_group_sizes(self._postings_file())

    def read_posting_columns(self, columns: Sequence[str]) -> pl.DataFrame:
        """These columns of every posting, in the file's order (the small ones: not the descriptions)."""
        self._require()
        return pl.read_parquet(self.postings_path, columns=list(columns)).cast(_schema_of(columns))  # type: ignore[arg-type]

    def iter_posting_column(self, column: str) -> Iterator[pa.Array]:
        """One column of every posting, a row group at a time, in the file's order: how a lazy
        sync hashes the descriptions without holding them all."""
        for table in self._iter_row_groups([column]):
            yield table.column(column)

    def iter_posting_columns(self, columns: Sequence[str]) -> Iterator[pl.DataFrame]:
        """These columns of every posting, ``LISTED_GROUPS`` row groups at a time, in the file's
        order: how a sync keys a partition while holding only the keys. Read by polars (``_scan``)."""
        starts, ends = _row_group_bounds(self._postings_file())
        for group in range(0, len(starts), LISTED_GROUPS):
            first, end = int(starts[group]), int(ends[min(group + LISTED_GROUPS, len(ends)) - 1])
            yield self._scan(columns, first, end - first).cast(_schema_of(columns))  # type: ignore[arg-type]

    def _iter_row_groups(self, columns: Sequence[str]) -> Iterator[pa.Table]:
        file = self._postings_file()
        for group in range(file.metadata.num_row_groups):
            yield file.read_row_group(group, columns=list(columns))

    def read_posting_rows(self, rows: Sequence[int], columns: Sequence[str] = tuple(POSTING_SCHEMA)) -> pl.DataFrame:
        """These columns (all ``POSTING_SCHEMA``'s unless told) of the postings at these (increasing)
        row numbers: only the row groups that hold them are read, at most ``SCAN_GROUPS`` neighbours
        at a time (``_scan``), so memory follows the rows asked for."""
        starts, ends = _row_group_bounds(self._postings_file())
        wanted = np.asarray(rows, dtype=np.int64)
        groups = _groups_holding(starts, wanted)
        frames = []
        for run in np.split(groups, np.flatnonzero(np.diff(groups) != 1) + 1) if len(groups) else []:
            for part in np.split(run, np.arange(SCAN_GROUPS, len(run), SCAN_GROUPS)):
                numbers = wanted[(wanted >= starts[part[0]]) & (wanted < ends[part[-1]])]
                first, count = int(numbers[0]), int(numbers[-1]) + 1 - int(numbers[0])
                rows_read = self._scan(columns, first, count)
                frames.append(rows_read if count == len(numbers) else rows_read[numbers - first])  # a run of rows: no take
        if not frames:
            return pl.DataFrame(schema=_schema_of(columns))
        return pl.concat(frames).cast(_schema_of(columns))  # type: ignore[arg-type]

    def _scan(self, columns: Sequence[str], first: int, count: int) -> pl.DataFrame:
        """``columns`` of the ``count`` rows from row ``first`` on, read by polars: where a sync
        reads the small columns of many rows, not a row group at a time through pyarrow, whose
        reads, takes and conversions took 2-4x the time (a 700,000-posting partition's thin rows by
        slice: 0.61-0.68 against 1.46-1.51 s; its listed columns 0.15-0.17 against 0.60-0.62 s). A scan parses
        the file's footer again (~3.5 ms at 700,000 postings), so a day's sync makes ~50 of them,
        not one per row group. The descriptions stay with pyarrow (``iter_descriptions``): polars
        decodes them in the same CPU time, only on more threads."""
        return pl.scan_parquet(self.postings_path).select(list(columns)).slice(first, count).collect()

    def iter_descriptions(self, rows: Sequence[int]) -> Iterator[tuple[np.ndarray, pa.Array]]:
        """The descriptions at these (increasing) row numbers, a row group at a time: (its row
        numbers, their descriptions). How a sync stores the texts it writes without holding them."""
        for numbers, table in self._row_group_takes(rows, ["description"]):
            yield numbers, table.column("description").combine_chunks()

    def _row_group_takes(self, rows: Sequence[int], columns: Sequence[str]) -> Iterator[tuple[np.ndarray, pa.Table]]:
        file = self._postings_file()  # opened once: its footer gives the row groups too
        starts, ends = _row_group_bounds(file)
        wanted = np.asarray(rows, dtype=np.int64)
        for group in _groups_holding(starts, wanted).tolist():
            first, last = int(starts[group]), int(ends[group])
            numbers = wanted[(wanted >= first) & (wanted < last)]
            yield numbers, file.read_row_group(group, columns=list(columns)).take(pa.array(numbers - first))

    def read_outcomes(self) -> list[dict[str, Any]]:
        self._require()
        return decode_json(self.outcomes_path.read_bytes())

    def read_board_outcomes(self, source: str) -> BoardOutcomes:
        """The outcomes as a sync reads them (``BoardOutcomes``: ``source`` fills or overrides the
        stored one): read by polars into columns, or row by row where polars cannot vouch for the
        file, which then refuses a bad row as ``BoardOutcome.from_json`` does."""
        self._require()
        body = self.outcomes_path.read_bytes()
        read = BoardOutcomes.read_json(body, source=source)
        return read if read is not None else BoardOutcomes.from_json(decode_json(body), source=source)

    def read_details(self) -> PreviousDetails:
        """The stored details of this partition's postings (those fetched under a stamp), by board and id."""
        if not self.details_path.exists() or not self.exists():
            return PreviousDetails()
        stamps: dict[str, dict[str, str]] = json.loads(self.details_path.read_text(encoding="utf-8"))
        rows = self.read_postings().select("board", "source_job_id", *DETAIL_FIELDS)
        by_board: dict[str, dict[str, StoredDetail]] = {}
        for row in rows.iter_rows(named=True):
            stamp = stamps.get(row["board"], {}).get(row["source_job_id"])
            if stamp is not None:
                fields = {name: row[name] for name in DETAIL_FIELDS}
                by_board.setdefault(f"{self.source}/{row['board']}", {})[row["source_job_id"]] = StoredDetail(stamp, fields)
        return PreviousDetails(by_board)

    def _postings_file(self) -> pq.ParquetFile:
        """``postings.parquet``, opened with its footer parsed once per version of the file
        (``_footer``): a sync opens it for every slice's rows and every batch of descriptions, and
        parsing the footer of a million postings' file (489 row groups) took 8.8 ms each time,
        ~3 s of a day's sync at 1M open postings."""
        self._require()
        return pq.ParquetFile(self.postings_path, metadata=_footer(self.postings_path))

    def _require(self) -> None:
        if not self.exists():
            raise MissingPartitionError(
                f"no raw postings on disk for source {self.source!r}, partition {self.key} "
                f"(looked in {self.root}); materialize its raw partition first"
            )


class PartitionWriter:
    """A raw partition written board by board, as a scrape's boards answer, so a scrape holds no
    board it has finished (before 2026-12-03 it kept every board's bodies and postings, and a decoded
    copy of the bodies, to its end).

    ``add_board`` writes a board's bodies to ``bodies/`` at once and buffers its postings; every
    ``SPILL_ROWS`` postings the buffer goes to two spill files, sorted by (board, id) with the
    digests, one Arrow record batch per board in each: the descriptions in one, the other columns
    in the other. ``commit`` reads the boards' batches back in board order into
    ``postings.parquet`` in row groups of ``ROW_GROUP_ROWS``, keying and hashing the postings
    (``KEY_COLUMN``, ``HASH_COLUMN``) ``HASH_ROWS`` at a time from the small columns alone, writes
    the outcomes and the detail stamps, and renames the partition into place. The file is what one
    sort of the whole partition by (source, board, source_job_id) gave: a partition is one source,
    each board is added once, and its rows sort stably. Without a commit (an error, a crash) the
    partition on disk stays as it was and the temporary folder goes.
    """

    SPILL_ROWS = 2048  # ~6 MB of descriptions; a handful of polars steps per spill, not per board
    # Postings keyed and hashed at once by ``commit``, from their small columns: per 100k postings,
    # 0.63-0.67 CPU-s at 4,096, 0.50-0.56 at 8,192, 0.47-0.50 at 16,384 (a spill's 2,048: 0.64); the
    # work holds ~1 KB a posting (+15 against +25 MB of peak at 8,192 and 16,384).
    HASH_ROWS = 8_192

    def __init__(self, partition: RawPartition):
        self.partition = partition
        self._tmp = partition.root.with_name(f".{partition.root.name}.{_writer_tag()}.tmp")
        self._buffer: list[Posting] = []
        self._batches: dict[str, tuple[int, int, int]] = {}  # board -> (spill files, record batch, rows)
        self._spills = 0
        self._boards: set[str] = set()
        self._detail_stamps: dict[str, dict[str, str]] = {}

    def __enter__(self) -> PartitionWriter:
        remove_orphans(self.partition.root.parent)
        (self._tmp / "bodies").mkdir(parents=True)
        (self._tmp / _SPILL_DIR).mkdir()
        return self

    def __exit__(self, *exc_info: object) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)  # after a commit there is nothing left to remove

    def add_board(
        self, board: str, postings: Sequence[Posting], bodies: list[str] | None, detail_stamps: dict[str, str] | None = None
    ) -> None:
        """One board of the scrape: its postings (all of this board), raw bodies and detail stamps."""
        self._claim(board)
        self.add_bodies(board, bodies, detail_stamps)
        self._buffer.extend(postings)
        if len(self._buffer) >= self.SPILL_ROWS:
            self._spill(postings_frame(self._buffer))
            self._buffer = []

    def add_bodies(self, board: str, bodies: list[str] | None, detail_stamps: dict[str, str] | None = None) -> None:
        """A board's raw bodies and detail stamps, written now (``add_board`` calls it)."""
        if bodies is not None:
            (self._tmp / "bodies" / f"{_file_name(board)}.json").write_text(json.dumps(bodies), encoding="utf-8")
        if detail_stamps:
            self._detail_stamps[board] = detail_stamps

    def add_postings(self, postings: pl.DataFrame) -> None:
        """Postings of boards not added otherwise (every row of each of their boards), as a frame."""
        for board in postings.get_column("board").unique().to_list():
            self._claim(board)
        self._spill(postings)

    def _claim(self, board: str) -> None:
        if board in self._boards:
            raise ValueError(f"board {board!r} added twice to raw partition {self.partition.root}")
        self._boards.add(board)

    def _spill(self, postings: pl.DataFrame) -> None:
        if postings.is_empty():
            return
        ordered = postings.select(list(POSTING_SCHEMA)).sort("source", "board", "source_job_id", maintain_order=True)
        ordered = ordered.with_columns(description_digests(ordered).alias(DIGEST_COLUMN))
        runs = ordered.get_column("board").rle()
        table = ordered.to_arrow(compat_level=pl.CompatLevel.oldest())
        thin, texts = table.drop_columns(["description"]).cast(_THIN_SPILL_SCHEMA), table.select(["description"]).cast(_TEXT_SPILL_SCHEMA)
        offset = 0
        with (
            pa.ipc.new_file(self._spill_path(self._spills, "thin"), _THIN_SPILL_SCHEMA) as thin_out,
            pa.ipc.new_file(self._spill_path(self._spills, "text"), _TEXT_SPILL_SCHEMA) as text_out,
        ):
            for number, (board, rows) in enumerate(zip(runs.struct.field("value").to_list(), runs.struct.field("len").to_list())):
                if board in self._batches:  # a board's rows in two runs: postings of two sources
                    raise ValueError(f"board {board!r} twice in raw partition {self.partition.root}: one source per partition")
                thin_out.write_batch(thin.slice(offset, rows).combine_chunks().to_batches()[0])
                text_out.write_batch(texts.slice(offset, rows).combine_chunks().to_batches()[0])
                self._batches[board] = (self._spills, number, rows)
                offset += rows
        self._spills += 1

    def _spill_path(self, spill: int, kind: str) -> Path:
        return self._tmp / _SPILL_DIR / f"{spill:05d}.{kind}.arrow"

    def commit(self, outcomes: list[dict[str, Any]]) -> None:
        """Write ``postings.parquet``, the outcomes and the detail stamps, and put the partition in place."""
        if self._buffer:
            self._spill(postings_frame(self._buffer))
            self._buffer = []
        self._write_postings(self._tmp / "postings.parquet")
        shutil.rmtree(self._tmp / _SPILL_DIR)
        (self._tmp / "outcomes.json").write_text(json.dumps(outcomes, indent=1, default=str), encoding="utf-8")
        if self._detail_stamps:
            (self._tmp / "details.json").write_text(json.dumps(self._detail_stamps), encoding="utf-8")
        root = self.partition.root
        if root.exists():
            old = root.with_name(f".{root.name}.{_writer_tag()}.old")
            root.rename(old)
            self._tmp.rename(root)
            shutil.rmtree(old, ignore_errors=True)
        else:
            self._tmp.rename(root)

    def _write_postings(self, path: Path) -> None:
        # Read, not memory mapped: mapped pages once touched count in the process's RSS until unmapped.
        thin = [pa.ipc.open_file(pa.OSFile(str(self._spill_path(n, "thin")))) for n in range(self._spills)]
        text = [pa.ipc.open_file(pa.OSFile(str(self._spill_path(n, "text")))) for n in range(self._spills)]
        with postings_file_writer(path) as out:
            rows: list[pa.Table] = []  # keyed and hashed, not yet written
            texts: list[pa.Array] = []  # their descriptions (at most a row group's more than written)
            held = 0

            def write(count: int) -> None:
                nonlocal rows, texts, held
                group, described = pa.concat_tables(rows), pa.chunked_array(texts, type=pa.large_string())
                table = group.slice(0, count).append_column("description", described.slice(0, count))
                out.write_table(
                    table.select(POSTINGS_ARROW_SCHEMA.names).cast(POSTINGS_ARROW_SCHEMA).combine_chunks(), row_group_size=ROW_GROUP_ROWS
                )
                rows, texts, held = [group.slice(count)], described.slice(count).chunks, held - count

            # Boards in the order a sort by board gives: Python orders str by code point, which for
            # UTF-8 is the byte order polars and Parquet sort by.
            for window in _windows([self._batches[board] for board in sorted(self._batches)], self.HASH_ROWS):
                small = pl.from_arrow(
                    pa.Table.from_batches([thin[spill].get_batch(number) for spill, number, _ in window]).combine_chunks()
                )
                assert isinstance(small, pl.DataFrame)
                rows.append(with_hashes(small).to_arrow(compat_level=pl.CompatLevel.oldest()))
                for spill, number, count in window:
                    texts.append(text[spill].get_batch(number).column(0))
                    held += count
                    while held >= ROW_GROUP_ROWS:
                        write(ROW_GROUP_ROWS)
            if held:
                write(held)


def _windows(batches: list[tuple[int, int, int]], rows: int) -> Iterator[list[tuple[int, int, int]]]:
    """``batches`` (spill, batch, rows) in order, in runs of whole batches of at least ``rows``
    rows (the last one fewer)."""
    window: list[tuple[int, int, int]] = []
    held = 0
    for batch in batches:
        window.append(batch)
        held += batch[2]
        if held >= rows:
            yield window
            window, held = [], 0
    if window:
        yield window


_SPILL_DIR = ".spill"


def postings_file_writer(path: Path) -> pq.ParquetWriter:
    """The writer of a ``postings.parquet`` (``POSTING_SCHEMA`` and the digests, as Arrow types):
    zstd level 3, a third smaller than polars' file (34 against 53 MB at 100k postings), and no
    dictionary pages, with which a 100k sync reading the file peaked 20-35 MB higher
    (``bench/ingest.py``); row groups are the caller's (``ROW_GROUP_ROWS`` rows)."""
    return pq.ParquetWriter(path, POSTINGS_ARROW_SCHEMA, compression="zstd", compression_level=3, use_dictionary=False)


def with_digests(postings: pl.DataFrame) -> pl.DataFrame:
    """``POSTING_SCHEMA`` rows as ``postings.parquet`` holds them: with ``DIGEST_COLUMN``,
    ``KEY_COLUMN`` and ``HASH_COLUMN`` (``with_hashes``)."""
    return with_hashes(postings.with_columns(description_digests(postings).alias(DIGEST_COLUMN)))


def with_hashes(postings: pl.DataFrame) -> pl.DataFrame:
    """Postings (``POSTING_SCHEMA``'s columns and ``DIGEST_COLUMN``; the description not needed)
    with each one's ``KEY_COLUMN`` and ``HASH_COLUMN``. Made as a partition is written, where the
    sync made them on every read: a day's re-sync mostly compared hashes it had just made of
    postings it had seen the day before."""
    digests = postings.get_column(DIGEST_COLUMN)
    return postings.with_columns(
        pl.Series(KEY_COLUMN, dedup_keys(postings, digests), dtype=pl.String),
        pl.Series(HASH_COLUMN, content_hashes(postings, digests), dtype=pl.String),
    )


def _polars_parquet_schema() -> pa.Schema:
    """postings.parquet's Arrow schema as polars writes it (large strings, lists of ``element``)."""
    buffer = io.BytesIO()
    pl.DataFrame(schema={**POSTING_SCHEMA, DIGEST_COLUMN: pl.String, KEY_COLUMN: pl.String, HASH_COLUMN: pl.String}).write_parquet(buffer)
    buffer.seek(0)
    return pq.read_schema(buffer).with_metadata({HASHES_KEY: HASHES_VERSION.encode()})


POSTINGS_ARROW_SCHEMA = _polars_parquet_schema()
_THIN_SPILL_SCHEMA = pa.schema([f for f in POSTINGS_ARROW_SCHEMA if f.name not in ("description", KEY_COLUMN, HASH_COLUMN)])
_TEXT_SPILL_SCHEMA = pa.schema([POSTINGS_ARROW_SCHEMA.field("description")])


def _footer(path: Path) -> pq.FileMetaData:
    """The parsed footer of the Parquet file at ``path``, kept for as long as the file is the same:
    a partition is rewritten into a new file (``PartitionWriter``), so a new inode, size or mtime
    is a new footer."""
    stat = path.stat()
    return _footer_of(str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _footer_of(path: str, inode: int, size: int, mtime_ns: int) -> pq.FileMetaData:
    return pq.read_metadata(path)


def _row_group_bounds(file: pq.ParquetFile) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each row group of ``file`` and the row after its last, in order."""
    sizes = np.array(_row_group_sizes(file), dtype=np.int64)
    ends = np.cumsum(sizes)
    return ends - sizes, ends


def _groups_holding(starts: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The row groups (``starts``: their first rows) holding any of ``rows``, distinct and in order."""
    return np.unique(np.searchsorted(starts, rows, side="right") - 1)


def _row_group_sizes(file: pq.ParquetFile) -> list[int]:
    metadata = file.metadata
    return [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]


def _schema_of(columns: Sequence[str]) -> dict[str, pl.DataType]:
    return {c: POSTING_SCHEMA.get(c, pl.String) for c in columns}  # type: ignore[misc]


def remove_orphans(source_dir: Path, max_age_s: float = ORPHAN_AGE_S) -> list[Path]:
    """Remove the temporary folders of crashed writes under one source folder; returns what was removed.

    A ``.old`` folder standing in for a missing partition is renamed back into place instead."""
    removed: list[Path] = []
    try:
        entries = sorted(source_dir.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)  # newest .old first
    except FileNotFoundError:
        return removed
    for path in entries:
        match = _TEMP_NAME.match(path.name)
        if match is None or not path.is_dir() or not _writer_gone(path, match, max_age_s):
            continue
        root = source_dir / match["key"]
        if match["kind"] == "old" and not root.exists() and (path / "outcomes.json").exists():
            path.rename(root)  # the last complete partition: the crash fell between the two renames
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _writer_tag() -> str:
    """``<host>-<pid>-<random>``: lets a later write tell whether this writer is still running."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _writer_gone(path: Path, match: re.Match, max_age_s: float) -> bool:
    try:
        if time.time() - path.stat().st_mtime > max_age_s:
            return True
    except FileNotFoundError:
        return False
    if match["pid"] is None or match["host"] != socket.gethostname():
        return False  # another host's (or an older format's) write: only its age tells
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def _file_name(board: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in board)
