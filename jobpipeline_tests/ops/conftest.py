"""Fixtures for the operations tiers: private homes, a corpus copy, and an artifacts folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from jobpipeline.lib.sources import ADAPTERS
from jobpipeline.settings import replay_corpus_dir


@pytest.fixture
def artifacts_dir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Where a test leaves files for people: ``$JOBPIPELINE_TEST_ARTIFACTS/<test>``, else under ``tmp_path``."""
    root = os.environ.get("JOBPIPELINE_TEST_ARTIFACTS")
    path = Path(root) / request.node.name if root else tmp_path / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def ats_corpus(tmp_path: Path) -> Path:
    """A copy of the shipped corpus's ATS folders (the HN corpus belongs to its own tests)."""
    root = tmp_path / "corpus"
    for ats in ADAPTERS:
        if (replay_corpus_dir() / ats).is_dir():
            shutil.copytree(replay_corpus_dir() / ats, root / ats)
    return root
