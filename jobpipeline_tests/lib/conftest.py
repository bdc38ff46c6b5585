"""Fixtures for the plain-library tests: the shipped replay corpus served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jobpipeline.lib.replay import ReplayServer
from jobpipeline.lib.sources import ADAPTERS
from jobpipeline.settings import replay_corpus_dir


@pytest.fixture(scope="session")
def ats_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped corpus's ATS folders only (other kinds, e.g. ``hn``, belong to their own tests)."""
    root = tmp_path_factory.mktemp("ats_corpus")
    for ats in ADAPTERS:
        (root / ats).symlink_to(replay_corpus_dir() / ats, target_is_directory=True)
    return root


@pytest.fixture(scope="session")
def replay(ats_corpus: Path) -> Iterator[ReplayServer]:
    """One replay server for the session; tests that inject faults clear them afterwards."""
    with ReplayServer(ats_corpus) as server:
        yield server


@pytest.fixture
def clean_replay(replay: ReplayServer) -> Iterator[ReplayServer]:
    replay.clear_faults()
    yield replay
    replay.clear_faults()
