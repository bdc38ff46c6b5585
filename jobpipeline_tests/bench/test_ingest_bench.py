"""The ingest benchmark measures what it says: unique descriptions made of real text only, and a
peer (the seed project's ORM-per-posting sync) that stores the same jobs as ours from the same postings.

The scripts live in ``bench/`` (not a package), so they are loaded from their files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import polars as pl
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str):
    sys.path.insert(0, str(BENCH))  # ingest imports peer by name, as the scripts do
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ingest():
    return load("ingest")


def test_every_synthetic_job_has_its_own_description_made_of_real_paragraphs(ingest) -> None:
    """Reused descriptions flatter any dedup of text; invented text would not be real text; and the
    lengths stay those of real descriptions, so the bench writes as much text as real postings would."""
    postings = ingest.synthetic(2_000)
    firsts = postings.filter(~pl.col("source_job_id").str.ends_with("-b"))
    assert firsts.height == 2_000
    assert firsts["description"].n_unique() == 2_000
    templates = ingest.templates()
    real_lines = {line for p in templates for line in p.description.split("\n")}
    real_lengths, made_lengths = pl.Series([len(p.description) for p in templates if p.description]), firsts["description"].str.len_chars()
    assert 0.8 < made_lengths.mean() / real_lengths.mean() < 1.25
    assert 0.7 < made_lengths.median() / real_lengths.median() < 1.4
    for row in firsts.head(50).iter_rows(named=True):
        header, *body = row["description"].split("\n")
        assert header == f"{row['title']} at {row['company']} (posting {row['source_job_id']})"
        assert body and set(body) <= real_lines
    # A second listing of a job (another location) carries its first listing's description.
    seconds = postings.filter(pl.col("source_job_id").str.ends_with("-b"))
    assert seconds.height > 0
    originals = seconds.with_columns(pl.col("source_job_id").str.strip_suffix("-b")).join(firsts, on="source_job_id")
    assert (originals["description"] == originals["description_right"]).all()


def test_the_parquet_parts_hold_the_same_postings_as_the_frame(ingest, tmp_path: Path) -> None:
    glob = ingest.write_synthetic(250, tmp_path, seed=3)
    assert pl.read_parquet(glob).equals(ingest.synthetic(250, seed=3))


def test_the_peer_stores_the_same_jobs_as_ours_and_changes_nothing_on_a_resync(ingest) -> None:
    """``compare`` raises if the peer's job count differs from ours or its re-sync changes anything."""
    peer = load("peer")
    result = peer.compare(ingest.synthetic(120), commit_every=50)
    assert result["jobs"] == 120 and result["postings"] > 120  # some jobs are listed twice
    for label in ("cold", "resync"):
        assert result[f"ours_{label}_per_s"] > 0 and result[f"peer_{label}_per_s"] > 0
        assert result[f"{label}_ratio"] == pytest.approx(result[f"ours_{label}_per_s"] / result[f"peer_{label}_per_s"])
