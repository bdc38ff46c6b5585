"""Every setting jobpipeline reads from its environment, in one object: ``Settings``.

Read when used, never at import: ``current()`` reads the environment as it is *now*, so a code
location, a run worker or a test sees the values of its own process. Resources take their defaults
from it at run time (an explicit resource config still wins); the CLI, the sensor and the checks
read it too, and no other module reads ``os.environ`` for jobpipeline's variables (a test holds
them to that). A new setting is one field here, plus the line that uses it.

Every name is ``JOBPIPELINE_<FIELD>`` (case-insensitive); an empty value counts as unset. The
store and DuckDB paths default to files under ``JOBPIPELINE_HOME`` (default ``./data``). Chosen:
pydantic-settings, already the way Dagster's own config is typed (pydantic), so a bad value fails
naming the variable and what it expected, instead of a hand-written parser per variable.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
ENV_PREFIX = "JOBPIPELINE_"
# Jobs per slice of a sync, unless set. Fewer slices make fewer plans (~175 polars calls each at
# 100k postings) and fewer row groups read by two neighbours, and at a million postings the sync's
# peak is the cut's, not a slice's: against 10,000, a 1M re-sync took 13.7 s instead of 18.8 and peaked 11 MB
# higher (388 MB); at 100k postings the re-sync took ~10 % less and peaked ~25 MB higher (~255 MB
# above the imports) (bench/RESULTS.md, 2026-12-06).
SYNC_SLICE_JOBS = 20_000
# Partitions of at most this many postings are synced in one plan, unless set: slices of a 12k-posting
# day cost 1.6x the CPU of one plan and saved no memory; at 100k they cut the sync's peak from
# 1.1-1.3 GB to 0.46-0.48 GB for 23-71 % more CPU (bench/RESULTS.md, 2026-12-02 11:10 and 11:29).
SYNC_SLICE_ABOVE = 50_000


class SettingsError(ValueError):
    """A JOBPIPELINE_* variable whose value does not parse; names the variable and the value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", case_sensitive=False)

    # Where files go
    home: Path = Field(default=Path("data"), description="root of every file the pipeline writes")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL of the store (default: sqlite:///<home>/jobpipeline.db)")
    raw_dir: Path | None = Field(default=None, description="raw partitions (default: <home>/raw)")
    analytics_db: Path | None = Field(default=None, description="DuckDB file (default: <home>/analytics.duckdb)")
    boards: Path | None = Field(default=None, description="boards CSV (default: <home>/boards.csv, else the shipped one)")
    # Where the boards answer: the public APIs, or the shipped recordings through a replay server
    live: bool = Field(default=False, description="1/true/yes: scrape the public APIs; else replay the recorded corpus")
    replay_dir: Path | None = Field(default=None, description="replay corpus (default: the shipped data/replay)")
    progress: bool = Field(default=False, description="terminal progress bars in scrapes (the CLI sets it)")
    # The sync: a partition of more than ``sync_slice_above`` postings is planned and written in
    # slices of at most ``sync_slice_jobs`` new jobs (a job the store knows weighs 2/5 of a new one:
    # ``lib/sync/slices.py``, ``KNOWN_WEIGHT``) (one transaction still), reading one slice's
    # descriptions at a time from the raw partition; 0 jobs: one plan per partition. Both defaults
    # are chosen by measurement (bench/RESULTS.md).
    sync_slice_jobs: int = Field(default=SYNC_SLICE_JOBS, ge=0, description="jobs per slice of a sync (0: one plan per partition)")
    sync_slice_above: int = Field(default=SYNC_SLICE_ABOVE, ge=0, description="partitions of more postings than this are synced in slices")
    # One writer at a time (``lib/store.py``, ``writer``): a write waits this long for the one before
    # it. Several sources' syncs run at once (dagster.yaml: one run per source, four runs), and at a
    # million open postings one sync holds the store 17-21 s a day (50 s a first day) and a first day's search index refresh
    # minutes, where SQLite's 30 s busy timeout failed the next sync.
    store_write_wait_s: float = Field(default=1800.0, gt=0, description="seconds a write to the store waits for another writer")
    # The SQLite store's FTS5 search index (``job_search``, ``lib/store.py``): its refresh after each
    # sync cost more than the sync at a million open postings (23.7-25.6 s a day after a 17-21 s
    # sync) and it doubled the store (12.7 GB against 6.4), so a deployment that never searches the
    # store turns it off; ``create_schema`` then drops it, and builds it again when turned back on.
    search_index: bool = Field(default=True, description="keep the SQLite store's FTS5 search index (false: drop it, search by LIKE)")
    # The LLM (defs/enrich): None leaves the resource's own default
    llm_backend: str | None = None
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    # Thresholds of checks and the analytics size sensor
    max_board_failure_share: float = 0.2
    max_llm_pending_share: float = 0.2
    analytics_min_rows: int = 500  # jobs added + closed + enrichments added
    analytics_min_bytes: int = 64 * 1024 * 1024
    analytics_sensor_interval_s: int = 300

    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home_dir() / 'jobpipeline.db'}"

    def home_dir(self) -> Path:
        return self.home.resolve()

    def raw_root(self) -> Path:
        return self.raw_dir or self.home_dir() / "raw"

    def analytics_path(self) -> Path:
        return self.analytics_db or self.home_dir() / "analytics.duckdb"

    def boards_path(self) -> Path:
        """``JOBPIPELINE_BOARDS``, else ``<home>/boards.csv`` if present, else the shipped one."""
        if self.boards:
            return self.boards
        in_home = self.home_dir() / "boards.csv"
        return in_home if in_home.exists() else REPO_DIR / "data" / "boards.csv"

    def corpus_dir(self) -> Path:
        return self.replay_dir or REPO_DIR / "data" / "replay"


def current() -> Settings:
    """The settings as the environment gives them now; a bad value raises ``SettingsError``."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{ENV_PREFIX}{'_'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"bad setting: {problems}") from None


# Shorthands the CLI uses.


def home() -> Path:
    """Root of every file the pipeline writes (``JOBPIPELINE_HOME``, default ``./data``)."""
    return current().home_dir()


def database_url() -> str:
    """SQLAlchemy URL of the operational store (``JOBPIPELINE_DATABASE_URL`` overrides)."""
    return current().store_url()


def raw_dir() -> Path:
    return current().raw_root()


def analytics_path() -> Path:
    return current().analytics_path()


def boards_config_path() -> Path:
    """The boards config; ``JOBPIPELINE_BOARDS`` overrides, else ``<home>/boards.csv``, else the shipped one."""
    return current().boards_path()


def replay_corpus_dir() -> Path:
    """The replay corpus: ``JOBPIPELINE_REPLAY_DIR``, else the shipped one of real recorded API responses."""
    return current().corpus_dir()
