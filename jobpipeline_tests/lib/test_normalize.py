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


def test_floats_and_locations_hash_as_python_renders_them():
    """The hashed text of a float is Python's repr and of locations their sorted join, whichever
    path renders them (polars for most values, Python for the rest): a different text would make
    every stored job look changed."""
    import random

    from jobpipeline.lib.normalize import _rendered

    rng = random.Random(5)
    floats = [None, 0.0, -0.0, 1e-4, 5e-05, 0.1 + 0.2, 120000.0, 9.999999999999999e15, 1e16, 1e22, -2.5e-7, float("inf"), float("nan")]
    floats += [rng.uniform(-1, 1) * 10 ** rng.uniform(-6, 18) for _ in range(5_000)] + [round(rng.uniform(0, 1e6), 2) for _ in range(5_000)]
    frame = pl.DataFrame({"salary_min": floats}, schema={"salary_min": pl.Float64})
    assert _rendered(frame, "salary_min").to_list() == ["" if v is None else repr(v) for v in floats]
    places = [None, [], ["Berlin"], ["Paris", "Berlin"], ["b", "c", "a"], ["Remote"]]
    frame = pl.DataFrame({"locations": places}, schema={"locations": pl.List(pl.String)})
    assert _rendered(frame, "locations").to_list() == ["", "", "Berlin", "Berlin|Paris", "a|b|c", "Remote"]


def test_the_hash_of_a_posting_with_salaries_and_several_locations_is_pinned():
    frame = (
        palantir()
        .head(1)
        .with_columns(
            locations=pl.lit(["Zurich", "Austin", "Berlin"], dtype=pl.List(pl.String)),
            salary_min=pl.lit(120000.0),
            salary_max=pl.lit(5e-05),  # Python writes 5e-05, polars 0.00005
        )
    )
    assert deduplicate(frame)["content_hash"].to_list() == ["d7835c17dd3414520a6c6344b5130426"]  # as before polars rendered them
