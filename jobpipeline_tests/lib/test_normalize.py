"""Hashes and dedup keys: pinned values (a change would make every stored job look changed after an
upgrade), and independent of input order."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from jobpipeline.lib.boards import Board
from jobpipeline.lib.normalize import deduplicate
from jobpipeline.lib.postings import postings_frame
from jobpipeline.lib.sources import lever, parse_board
from jobpipeline_tests.conftest import CORPUS


def palantir() -> pl.DataFrame:
    path = Path(CORPUS) / "lever" / "palantir.json"
    return postings_frame(parse_board(lever, [path.read_bytes()], Board("lever", "palantir", "Palantir")).postings)


def test_hashes_of_real_postings_are_pinned():
    groups = deduplicate(palantir().head(3))  # two of the three are one job, listed in two cities
    assert groups.select("source_job_id", "dedup_key", "content_hash").rows() == [
        ("0bbfd4f4-41ff-4ec6-b73f-5200efd5d4d3", "64ecb7c72e80b932", "96eef2a3c84dd0a768cac7e5055a7c5b"),
        ("ac978161-6f46-4f6b-ad9e-a258e642751c", "ba50d16dc6de3714", "f2a47113e6bb5d7220115df687f64866"),
    ]


def test_dedup_does_not_depend_on_row_order_or_repeats():
    frame = palantir()
    expected = deduplicate(frame).sort("dedup_key")
    shuffled = pl.concat([frame.sample(fraction=1.0, shuffle=True, seed=3), frame.head(4)])
    assert deduplicate(shuffled).sort("dedup_key").equals(expected)
    texts = dict(zip(frame["source_job_id"], frame["description"]))
    assert expected["description"].to_list() == [texts[i] for i in expected["source_job_id"]]  # the canonical posting's text
