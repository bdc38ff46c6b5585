"""Where jobpipeline keeps its files: everything under JOBPIPELINE_HOME (default ./data)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def home() -> Path:
    """Root of every file the pipeline writes (``JOBPIPELINE_HOME``, default ``./data``)."""
    return Path(os.environ.get("JOBPIPELINE_HOME", "data")).resolve()


def database_url() -> str:
    """SQLAlchemy URL of the operational store (``JOBPIPELINE_DATABASE_URL`` overrides)."""
    return os.environ.get("JOBPIPELINE_DATABASE_URL") or f"sqlite:///{home() / 'jobpipeline.db'}"


def raw_dir() -> Path:
    return home() / "raw"


def analytics_path() -> Path:
    return Path(os.environ.get("JOBPIPELINE_ANALYTICS_DB") or home() / "analytics.duckdb")


def boards_config_path() -> Path:
    """The boards config; ``JOBPIPELINE_BOARDS`` overrides, else ``<home>/boards.csv``, else the shipped one."""
    if env := os.environ.get("JOBPIPELINE_BOARDS"):
        return Path(env)
    in_home = home() / "boards.csv"
    return in_home if in_home.exists() else REPO_DIR / "data" / "boards.csv"


def replay_corpus_dir() -> Path:
    """The shipped replay corpus of real recorded API responses."""
    return REPO_DIR / "data" / "replay"
