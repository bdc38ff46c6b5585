"""Shared fixtures: every test writes under its own tmp_path (JOBPIPELINE_HOME and DAGSTER_HOME)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from jobpipeline.lib.store import create_schema, get_engine

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "data" / "replay"


def ctrl_c_as_in_a_terminal() -> None:
    """``preexec_fn`` of a process a test sends Ctrl-C (SIGINT) to: SIGINT handled as in a terminal.
    A shell starts a command in the background (``cmd &``) with SIGINT ignored, the tests and their
    children inherit that, and Python then installs no KeyboardInterrupt for it: the tests that
    press Ctrl-C failed so, their processes left running."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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
