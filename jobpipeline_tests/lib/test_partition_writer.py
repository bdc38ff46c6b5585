"""A raw partition written board by board as a scrape answers (``PartitionWriter``) is the file one
sort of the whole partition gave: the same rows in the same order, with their digests, in row groups
of ``ROW_GROUP_ROWS``, whatever order the boards come in and however the writer spills them; each
board's bodies and detail stamps are where a whole write put them."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from jobpipeline.lib import rawstore
from jobpipeline.lib.postings import POSTING_SCHEMA, Posting, postings_frame
from jobpipeline.lib.rawstore import RawPartition, with_digests

_NAMES = st.text(alphabet="abAB-_é中😀 ", min_size=1, max_size=4)
_BOARDS = st.text(alphabet="abAB-é中", min_size=1, max_size=4)  # distinct file names under bodies/
_POSTING = st.builds(
    Posting,
    source=st.just("lever"),
    board=st.just(""),
    source_job_id=st.text(alphabet="0123xyZé", min_size=1, max_size=3),  # repeats: one id listed twice
    company=st.just("Acme"),
    title=_NAMES,
    locations=st.lists(_NAMES, max_size=2),
    description=st.text(max_size=30),
    posted_at=st.none() | st.just(datetime(2026, 11, 2, 9, tzinfo=UTC)),
    salary_min=st.none() | st.floats(0, 1e6),
)


@settings(max_examples=60, deadline=None)
@given(
    boards=st.dictionaries(_BOARDS, st.lists(_POSTING, max_size=9), min_size=1, max_size=8),
    spill_rows=st.integers(1, 12),
    row_group_rows=st.integers(1, 10),
    hash_rows=st.integers(1, 12),
    data=st.data(),
)
def test_a_partition_written_board_by_board_is_the_sorted_partition(boards, spill_rows, row_group_rows, hash_rows, data):
    """Whatever the spills, row groups and the windows postings are keyed and hashed in: the
    postings sorted, with their digests, dedup keys and hashes, the bodies, the stamps."""
    default_rows, rawstore.ROW_GROUP_ROWS = rawstore.ROW_GROUP_ROWS, row_group_rows
    try:
        check_written_board_by_board(boards, spill_rows, row_group_rows, hash_rows, data)
    finally:
        rawstore.ROW_GROUP_ROWS = default_rows


def check_written_board_by_board(boards, spill_rows, row_group_rows, hash_rows, data):
    for board, postings in boards.items():
        for posting in postings:
            posting.board = board
    order = data.draw(st.permutations(list(boards)))  # boards answer in any order
    with tempfile.TemporaryDirectory() as tmp:
        partition = RawPartition.at(Path(tmp), "lever", "2026-11-02")
        with partition.writer() as writer:
            writer.SPILL_ROWS, writer.HASH_ROWS = spill_rows, hash_rows
            for board in order:
                writer.add_board(board, boards[board], [json.dumps({"jobs": len(boards[board])})], {"x": board} if boards[board] else None)
            writer.commit([{"board": b, "ok": True} for b in order])

        everything = postings_frame([p for board in order for p in boards[board]])
        expected = with_digests(everything.select(list(POSTING_SCHEMA)).sort("source", "board", "source_job_id", maintain_order=True))
        written = pl.read_parquet(partition.postings_path)
        assert written.equals(expected.cast(written.schema))
        assert partition.has_hashes()
        metadata = pq.ParquetFile(partition.postings_path).metadata
        groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        assert sum(groups) == everything.height and all(n == row_group_rows for n in groups[:-1])
        for board in boards:
            assert json.loads(partition.root.joinpath("bodies", f"{rawstore._file_name(board)}.json").read_text()) == [
                json.dumps({"jobs": len(boards[board])})
            ]
        stamps = json.loads(partition.details_path.read_text()) if partition.details_path.exists() else {}
        assert stamps == {b: {"x": b} for b in boards if boards[b]}
        assert sorted(p.name for p in partition.root.iterdir()) == sorted(
            ["bodies", "outcomes.json", "postings.parquet"] + (["details.json"] if stamps else [])
        )
