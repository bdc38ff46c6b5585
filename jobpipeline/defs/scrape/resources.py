"""Where the boards come from: the live APIs, or a replay server over recorded responses.

Resources are swapped, not patched: the same ``raw_postings`` asset scrapes the live APIs or the
recorded corpus depending on ``JobBoardsResource.mode`` (``JOBPIPELINE_LIVE=1`` picks live).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from pydantic import Field

from jobpipeline import settings
from jobpipeline.lib.boards import Board, load_boards
from jobpipeline.lib.http import HttpSettings
from jobpipeline.lib.sources import DEFAULT_BASE_URLS


def default_mode() -> str:
    """``live`` when ``JOBPIPELINE_LIVE`` is 1/true/yes, else ``replay``."""
    return "live" if os.environ.get("JOBPIPELINE_LIVE", "").lower() in ("1", "true", "yes") else "replay"


class JobBoardsResource(dg.ConfigurableResource):
    """The boards to scrape and how to reach them."""

    mode: str = Field(default_factory=default_mode, description="live: the public APIs; replay: a recorded corpus")
    boards_file: str | None = Field(default=None, description="boards CSV (default: JOBPIPELINE_BOARDS or data/boards.csv)")
    replay_dir: str | None = Field(default=None, description="replay corpus (default: the shipped data/replay)")
    base_urls: dict[str, str] = Field(default_factory=dict, description="per-ATS base URL overrides")
    max_concurrency: int = 32
    per_host: int = 8
    timeout_s: float = 30.0
    retries: int = 3

    def http_settings(self) -> HttpSettings:
        return HttpSettings(max_concurrency=self.max_concurrency, per_host=self.per_host, timeout_s=self.timeout_s, retries=self.retries)

    def corpus_dir(self) -> Path:
        return Path(self.replay_dir) if self.replay_dir else settings.replay_corpus_dir()

    def boards(self, source: str) -> list[Board]:
        """The configured boards of ``source``; in replay mode, exactly those present in the corpus."""
        configured = load_boards(self.boards_file or settings.boards_config_path())
        if self.mode == "live":
            return [b for b in configured if b.ats == source]
        from jobpipeline.lib.replay import recorded_boards

        names = {b.token: b.company for b in configured if b.ats == source}
        return [Board(ats=source, token=t, company=names.get(t, t)) for _, t in recorded_boards(self.corpus_dir(), [source])]

    @contextlib.contextmanager
    def endpoints(self) -> Iterator[dict[str, str]]:
        """Base URL per ATS for the duration of a scrape (starting a replay server when needed)."""
        if self.mode == "live" or self.base_urls:
            yield {**DEFAULT_BASE_URLS, **self.base_urls}
            return
        from jobpipeline.lib.replay import ReplayServer

        with ReplayServer(self.corpus_dir()) as server:
            yield server.base_urls
