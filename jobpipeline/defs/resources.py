"""Resources shared by several domains: the store (with the raw partitions on disk) and the job boards.

Domain-only resources stay in their domain (``analytics/resources.py``: DuckDB; ``enrich/resources.py``:
the LLM). Every default comes from ``jobpipeline.settings`` when the resource is *used*, not when
this module is imported; a value given to the resource (in code or run config) wins.

The job boards come in two classes with one capability, ``session(source)``: ``LiveJobBoards``
(the public APIs) and ``ReplayJobBoards`` (a recorded corpus, served on 127.0.0.1 for the
session). Tests and deployments bind the one they mean; the project binds ``job_boards``, the one
place that chooses between them: by its ``mode`` config (how ``jobpipeline run --live`` asks
per run), else ``JOBPIPELINE_LIVE`` at run time.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from jobpipeline import settings
from jobpipeline.lib.boards import Board, load_boards
from jobpipeline.lib.http import HttpSettings
from jobpipeline.lib.ingest import ScrapeSession
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.replay import recorded_boards, serving
from jobpipeline.lib.sources import DEFAULT_BASE_URLS
from jobpipeline.lib.store import create_schema, get_engine

# --- the store ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _engine(url: str) -> sa.Engine:
    engine = get_engine(url)
    create_schema(engine)
    return engine


class StoreResource(dg.ConfigurableResource):
    """Where ``jobs`` and ``enriched_jobs`` live, and the raw partitions they are synced from."""

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL (default: JOBPIPELINE_DATABASE_URL or sqlite:///<home>/jobpipeline.db)"
    )
    raw_dir: str | None = Field(default=None, description="raw partitions, <source>/<key>/ (default: JOBPIPELINE_RAW_DIR or <home>/raw)")

    def engine(self) -> sa.Engine:
        """A shared engine with the schema created (once per process)."""
        return _engine(self.database_url or settings.current().store_url())  # keyed on the URL the env gives now

    def raw_root(self) -> Path:
        return Path(self.raw_dir) if self.raw_dir else settings.current().raw_root()

    def raw_partition(self, source: str, key: str) -> RawPartition:
        return RawPartition.at(self.raw_root(), source, key)


# --- the job boards ----------------------------------------------------------------------------


class JobBoardsResource(dg.ConfigurableResource):
    """The boards to scrape and how to reach them: ``session(source)`` opens a ``ScrapeSession``."""

    boards_file: str | None = Field(default=None, description="boards CSV (default: JOBPIPELINE_BOARDS or data/boards.csv)")
    base_urls: dict[str, str] = Field(default_factory=dict, description="per-API base URL overrides (key: ATS, or hn)")
    max_concurrency: int = 32
    per_host: int = 8
    timeout_s: float = 30.0
    retries: int = 3

    mode: ClassVar[str] = "?"  # "live" or "replay", for metadata and messages

    def http_settings(self) -> HttpSettings:
        return HttpSettings(max_concurrency=self.max_concurrency, per_host=self.per_host, timeout_s=self.timeout_s, retries=self.retries)

    def configured_boards(self) -> list[Board]:
        return load_boards(self.boards_file or settings.current().boards_path())

    def boards(self, source: str) -> list[Board]:
        """The boards of ``source`` a session of this resource scrapes."""
        raise NotImplementedError

    def session(self, source: str) -> contextlib.AbstractContextManager[ScrapeSession]:
        """Everything a scrape of ``source`` needs, valid while the context is open."""
        raise NotImplementedError


class LiveJobBoards(JobBoardsResource):
    """The public APIs (``base_urls`` may point some elsewhere)."""

    mode: ClassVar[str] = "live"

    def boards(self, source: str) -> list[Board]:
        return [b for b in self.configured_boards() if b.ats == source]

    @contextlib.contextmanager
    def session(self, source: str) -> Iterator[ScrapeSession]:
        boards = self.boards(source) if source != "hn" else []  # HN has no boards config
        yield ScrapeSession(source, boards, {**DEFAULT_BASE_URLS, **self.base_urls}, self.http_settings(), "live", "the live APIs")


class ReplayJobBoards(JobBoardsResource):
    """A recorded corpus: exactly the boards it has recordings of, served on 127.0.0.1 for the session
    (unless ``base_urls`` names a server already running, as ``jobpipeline run`` passes its own)."""

    replay_dir: str | None = Field(default=None, description="replay corpus (default: JOBPIPELINE_REPLAY_DIR or the shipped data/replay)")

    mode: ClassVar[str] = "replay"

    def corpus_dir(self) -> Path:
        return Path(self.replay_dir) if self.replay_dir else settings.current().corpus_dir()

    def boards(self, source: str) -> list[Board]:
        """The boards of ``source`` with recordings, named as the boards config names them."""
        names = {b.token: b.company for b in self.configured_boards() if b.ats == source}
        return [Board(ats=source, token=t, company=names.get(t, t)) for _, t in recorded_boards(self.corpus_dir(), [source])]

    @contextlib.contextmanager
    def session(self, source: str) -> Iterator[ScrapeSession]:
        boards = self.boards(source) if source != "hn" else []
        where = f"replay corpus {self.corpus_dir() / source} (unrecorded requests answer 404)"
        # HN asks for its own override: the ATS overrides of a test say nothing about where HN answers.
        given = self.base_urls if source != "hn" else ({"hn": self.base_urls["hn"]} if "hn" in self.base_urls else {})
        if given:
            yield ScrapeSession(source, boards, {**DEFAULT_BASE_URLS, **self.base_urls}, self.http_settings(), "replay", where)
            return
        if source != "hn" and not boards:
            yield ScrapeSession(source, boards, {}, self.http_settings(), "replay", where)
            return
        with serving(self.corpus_dir(), [source]) as base_urls:
            yield ScrapeSession(source, boards, base_urls, self.http_settings(), "replay", where)


def _choice_schema() -> dict[str, dg.Field]:
    """``mode`` plus every field of the two classes, so run config reaches whichever is chosen."""
    scalars = {str: str, int: int, float: float, bool: bool, str | None: str}
    schema = {"mode": dg.Field(str, is_required=False, description="live | replay (default: JOBPIPELINE_LIVE at run time)")}
    for name, info in ReplayJobBoards.model_fields.items():
        kind = scalars.get(info.annotation, dg.Permissive())
        schema[name] = dg.Field(kind, is_required=False, description=info.description or "")
    return schema


@dg.resource(
    config_schema=_choice_schema(),
    description="The job boards: live APIs or a replay corpus, chosen by `mode`, else JOBPIPELINE_LIVE at run time.",
)
def job_boards(context: dg.InitResourceContext) -> JobBoardsResource:
    """The one place live or replay is chosen (as Dagster's project_fully_featured picks an HN client)."""
    config = dict(context.resource_config or {})
    mode = config.pop("mode", None) or ("live" if settings.current().live else "replay")
    if mode not in ("live", "replay"):
        raise ValueError(f"job_boards: mode must be live or replay, got {mode!r}")
    if mode == "live":
        config.pop("replay_dir", None)
        return LiveJobBoards(**config)
    return ReplayJobBoards(**config)


@dg.definitions
def resources() -> dg.Definitions:
    """The resources every domain's assets use; each takes its defaults from jobpipeline.settings when it runs."""
    from jobpipeline.defs.analytics.resources import AnalyticsDuckDBResource
    from jobpipeline.defs.enrich.resources import LLMResource

    return dg.Definitions(
        resources={
            "job_boards": job_boards,  # LiveJobBoards or ReplayJobBoards, chosen per run
            "store": StoreResource(),
            "duckdb": AnalyticsDuckDBResource(),
            "llm": LLMResource(),
        },
        # Every run executes its steps in its run worker's process. Dagster's default executor starts
        # one process per step and per asset check, each loading the definitions again (3.5-4.9 CPU-s
        # on this 2-core machine, idle): a scheduled day of 14 sources paid for 84 such starts (a
        # scrape run has 6 steps: its 2 assets, 4 checks), and its runs outlived the UI tier's 420 s
        # in CI. The steps of a run here follow one another anyway
        # (raw_postings → jobs → its checks; the analytics share the one-writer `duckdb` pool).
        executor=dg.in_process_executor,
    )
