"""Shared fixtures: every test writes under its own tmp_path (JOBPIPELINE_HOME and DAGSTER_HOME)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobpipeline.lib.store import create_schema, get_engine

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "data" / "replay"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private JOBPIPELINE_HOME (and DAGSTER_HOME inside it) for one test."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("JOBPIPELINE_HOME", str(data))
    monkeypatch.delenv("JOBPIPELINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster"))
    return data


@pytest.fixture
def engine(tmp_path: Path):
    """A fresh SQLite store file with the schema created."""
    eng = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_schema(eng)
    yield eng
    eng.dispose()
