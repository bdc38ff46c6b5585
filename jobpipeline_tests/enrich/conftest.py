"""Fixtures of the enrichment tests: real postings copied from shared/realdata (see fixtures/enrich)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "enrich"


def load_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def labelled() -> list[dict]:
    """≥ 40 labelled examples: real Ashby and HN text first, then hand-written hard cases."""
    return load_jsonl("labelled.jsonl")


@pytest.fixture(scope="session")
def ashby_postings() -> list[dict]:
    """64 real Ashby postings (one per company file, description ≥ 500 chars)."""
    return load_jsonl("ashby_64.jsonl")
