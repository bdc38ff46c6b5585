"""Hashes and dedup keys: pinned values (a change would make every stored job look changed after an
upgrade), and independent of input order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from jobpipeline.lib.boards import Board
from jobpipeline.lib.normalize import deduplicate, keys_in_order
from jobpipeline.lib.postings import POSTING_SCHEMA, postings_frame
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


def reference_deduplicate(postings: pl.DataFrame) -> pl.DataFrame:
    """``deduplicate`` spelled plainly, for full rows: every posting made distinct and sorted, each
    group's locations merged by exploding them all, each field rendered and hashed one at a time
    (as it was before the fast paths for rows already distinct and in order, for jobs with their
    own locations, and for rendering every field in one query)."""
    from jobpipeline.lib.normalize import HASHED_FIELDS, _rendered, dedup_keys, description_digests

    ids = ["source", "board", "source_job_id"]
    postings = postings.select(*POSTING_SCHEMA).cast(POSTING_SCHEMA).with_row_index("_row")
    descriptions = postings.get_column("description")
    postings = postings.drop("description").with_columns(
        description_hash=description_digests(postings.with_columns(description=descriptions))
    )
    listed = postings
    postings = postings.unique(subset=ids, keep="first", maintain_order=True)
    keys = [xxhash.xxh3_64_hexdigest(key.encode()) for key in reference_key_texts(postings)]
    keyed = postings.with_columns(dedup_key=pl.Series(keys, dtype=pl.String)).sort(*ids)
    located = listed.select(*ids, "locations").join(keyed.select(*ids, "dedup_key"), on=ids).select("dedup_key", "locations")
    merged = located.explode("locations").drop_nulls("locations").unique().group_by("dedup_key").agg(pl.col("locations").sort())
    groups = (
        keyed.group_by("dedup_key", maintain_order=True)
        .agg(pl.all().exclude("locations").first(), pl.struct(*ids).alias("aliases"))
        .join(merged, on="dedup_key", how="left", maintain_order="left")
        .with_columns(pl.col("locations").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    )
    groups = groups.with_columns(description=descriptions.gather(groups["_row"]))
    groups = groups.select("dedup_key", *POSTING_SCHEMA, "description_hash", "aliases")
    parts = [groups["description_hash"] if name == "description" else _rendered(groups, name) for name in HASHED_FIELDS]
    texts = pl.DataFrame({str(i): part for i, part in enumerate(parts)}).select(pl.concat_str(pl.all(), separator="\x1f")).to_series()
    assert dedup_keys(postings, postings["description_hash"]) == keys  # the key from Arrow buffers: as from Python strings
    return groups.with_columns(content_hash=pl.Series([xxhash.xxh3_128_hexdigest(t.encode()) for t in texts], dtype=pl.String))


def reference_key_texts(postings: pl.DataFrame) -> list[str]:
    """Each posting's dedup key text: casefolded company and title, non-alphanumerics collapsed, and its description digest."""
    folded = postings.select(
        *(
            pl.col(c).fill_null("").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()
            for c in ("company", "title")
        ),
        "description_hash",
    )
    return [f"{c}\x1f{t}\x1f{d}" for c, t, d in folded.iter_rows()]


ROW_FIELDS = {
    "source": st.sampled_from(["ashby", "lever"]),
    "board": st.sampled_from(["acme", "zeta"]),
    "source_job_id": st.sampled_from(["1", "2", "3", "4", "5", "6"]),
    "company": st.sampled_from(["Acme", "ACME  Inc.", None]),
    "title": st.sampled_from(["Data Engineer", "data engineer!", "Häuptling"]),
    "locations": st.one_of(st.none(), st.lists(st.sampled_from(["Berlin", "Paris", "Zürich", None]), max_size=3)),
    "remote": st.sampled_from([True, False, None]),
    "description": st.sampled_from(["Build APIs.", "Pipelines.", None]),
    "salary_min": st.sampled_from([None, 0.0, 5e-05, 120000.0, 1e16]),
}
a_posting_row = st.fixed_dictionaries(ROW_FIELDS)


@settings(max_examples=200, deadline=None)
@given(st.lists(a_posting_row, max_size=14), st.booleans())
def test_dedup_gives_what_the_plain_algorithm_gives(rows, in_key_order):
    """Whatever the rows (an id listed twice, a posting alone or one of several in a job, no
    location, one, a null one, several), in key order or not: what ``deduplicate`` gives is the
    plain algorithm's, column for column, hashes included."""
    frame = pl.DataFrame(rows, schema={c: POSTING_SCHEMA[c] for c in ROW_FIELDS}).with_columns(
        pl.lit(None, dtype=POSTING_SCHEMA[c]).alias(c) for c in POSTING_SCHEMA if c not in ROW_FIELDS
    )
    if in_key_order:
        frame = frame.unique(["source", "board", "source_job_id"], keep="first", maintain_order=True).sort(
            "source", "board", "source_job_id"
        )
        assert keys_in_order(frame, strictly=True)
    assert deduplicate(frame).equals(reference_deduplicate(frame))


def test_keys_are_in_order_only_where_each_row_comes_after_the_one_before():
    frame = pl.DataFrame({"source": ["a", "a", "a", "b"], "board": ["x", "x", "y", "a"], "source_job_id": ["1", "2", "1", "1"]})
    twice = pl.concat([frame, frame.tail(1)])  # an id listed twice, in order
    for strictly in (True, False):
        assert keys_in_order(frame, strictly=strictly) and keys_in_order(frame.head(1), strictly=strictly)
        assert keys_in_order(frame.clear(), strictly=strictly)
        assert not keys_in_order(frame.reverse(), strictly=strictly)
        assert not keys_in_order(frame.with_columns(board=pl.Series(["x", None, "y", "a"])), strictly=strictly)  # a null key orders nothing
        assert keys_in_order(twice, strictly=strictly) is not strictly


def test_arrow_digests_hash_each_texts_bytes_in_every_string_layout_without_loading_compute():
    """``arrow_digests`` hashes each text's UTF-8 bytes (a null as empty) whatever the layout a
    reader hands it: 32- or 64-bit offsets, a string view, a slice, chunks. It reads the offsets of
    the two plain layouts itself, so a re-sync, whose only cast this was, never loads
    ``pyarrow.compute`` (~0.03 s of a process)."""
    script = """
import sys
import pyarrow as pa
import xxhash
from jobpipeline.lib.normalize import arrow_digests

texts = ["Säo Paulo 🚀", None, "", "x" * 5000, "plain"]
want = [xxhash.xxh3_128_hexdigest((t or "").encode()) for t in texts]
plain = [pa.array(texts, pa.string()), pa.array(texts, pa.large_string())]
for array in plain:
    assert arrow_digests(array) == want, array.type
    assert arrow_digests(array.slice(2)) == want[2:], array.type
    assert arrow_digests(pa.chunked_array([array.slice(0, 2), array.slice(2)])) == want, array.type
    assert arrow_digests(array.slice(0, 0)) == []
assert "pyarrow.compute" not in sys.modules, "a plain string array was cast"
assert arrow_digests(pa.array(texts, pa.string_view()).slice(1)) == want[1:]
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
