"""``jobpipeline run``: materialize one day's partitions end to end through Dagster, then print a summary.

Runs go through the Dagster instance of ``DAGSTER_HOME`` (default ``<JOBPIPELINE_HOME>/dagster``),
so they show in ``dagster dev`` on the same home. Offline by default: a replay server on 127.0.0.1
serves the shipped recordings; ``--live`` scrapes the public APIs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jobpipeline import settings
from jobpipeline.cli import CommandError

SCRAPE_JOB = "daily_scrape_job"
DOWNSTREAM_JOB = "downstream_job"  # enrichment + analytics, unpartitioned


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the main job for one day (offline replay by default)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--live", action="store_true", help="scrape the public job-board APIs")
    mode.add_argument("--replay", metavar="DIR", type=Path, help="replay corpus (<ats>/<board>.json); default: the shipped one")
    parser.add_argument("--date", help="partition date YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--scrape-only", action="store_true", help="stop after raw_postings + jobs")
    parser.set_defaults(func=main)


@dataclass
class RunSummary:
    day: str
    mode: str
    runs: list[tuple[str, str, bool]] = field(default_factory=list)  # (partition or job, run id, success)
    scrape: dict[str, int] = field(default_factory=dict)
    sync: dict[str, int] = field(default_factory=dict)
    downstream: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(success for _, _, success in self.runs)

    def render(self) -> str:
        s, j = self.scrape, self.sync
        lines = [
            f"jobpipeline run — {self.day} ({self.mode}), {len(self.runs)} Dagster runs in {self.seconds:.1f} s",
            f"  boards   {s.get('boards', 0)} scraped, {s.get('boards_ok', 0)} ok, {s.get('boards_failed', 0)} failed",
            f"  postings {s.get('postings', 0)}",
            f"  jobs     {j.get('new', 0)} new, {j.get('changed', 0)} changed, {j.get('unchanged', 0)} unchanged, "
            f"{j.get('closed', 0)} closed, {j.get('reopened', 0)} reopened; "
            f"{j.get('open_jobs_in_store', 0)} open of {j.get('jobs_in_store', 0)} in the store",
        ]
        if enriched := self.downstream.get("enriched_jobs"):
            lines.append(
                f"  enriched {enriched.get('enriched', 0)} extracted, {enriched.get('cached', 0)} cached, "
                f"{enriched.get('failed', 0)} failed ({enriched.get('backend')}, {enriched.get('model')})"
            )
        tables = {k: m["dagster/row_count"] for k, m in self.downstream.items() if "dagster/row_count" in m}
        if tables:
            lines.append(f"  analytics {len(tables)} DuckDB tables: " + ", ".join(f"{k} {v}" for k, v in tables.items()))
        failed = [name for name, _, success in self.runs if not success]
        if failed:
            lines.append(f"  FAILED runs: {', '.join(failed)} (see `dagster dev` → Runs)")
        return "\n".join(lines)


# Pool limits dagster.yaml cannot declare in Dagster 1.13 (only a default); set once per instance.
POOL_LIMITS = {"scrape": 5, "duckdb": 1}


def ensure_pools(instance: Any) -> None:
    """Give the instance our pool limits unless a user already set them (``dagster instance concurrency``)."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    known = set(storage.get_concurrency_keys())
    for pool, limit in POOL_LIMITS.items():
        if pool not in known:
            storage.set_concurrency_slots(pool, limit)


def dagster_home() -> Path:
    """``DAGSTER_HOME``, defaulting to ``<JOBPIPELINE_HOME>/dagster`` seeded with the repo's dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.home() / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and (settings.REPO_DIR / "dagster.yaml").exists():
        shutil.copy(settings.REPO_DIR / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("JOBPIPELINE_HOME", str(settings.home()))  # the UI process writes where `run` does
    return home


@contextlib.contextmanager
def _board_endpoints(mode: str, replay_dir: Path | None) -> Iterator[dict[str, Any]]:
    """Resource config for ``job_boards``: starts (and stops) the replay server in replay mode."""
    if mode == "live":
        yield {"mode": "live"}
        return
    from jobpipeline.lib.replay import ReplayServer

    corpus = (replay_dir or settings.replay_corpus_dir()).resolve()
    if not corpus.is_dir():
        raise CommandError(f"replay corpus {corpus} is not a directory")
    with ReplayServer(corpus) as server:
        yield {"mode": "replay", "replay_dir": str(corpus), "base_urls": server.base_urls}


def _sources(mode: str, replay_dir: Path | None) -> list[str]:
    from jobpipeline.defs.scrape.partitions import SOURCES
    from jobpipeline.lib.boards import load_boards

    if mode == "live":
        configured = {b.ats for b in load_boards(settings.boards_config_path())}
        return [s for s in SOURCES if s in configured]
    from jobpipeline.lib.replay import recorded_boards

    present = {kind for kind, _ in recorded_boards(replay_dir or settings.replay_corpus_dir())}
    return [s for s in SOURCES if s in present]


def run_pipeline(day: str, mode: str = "replay", replay_dir: Path | None = None, scrape_only: bool = False) -> RunSummary:
    """Materialize ``day``'s partitions of every source, then the unpartitioned downstream assets."""
    import dagster as dg

    from jobpipeline.defs.scrape.partitions import board_partition_key
    from jobpipeline.definitions import defs

    from jobpipeline.lib.boards import BoardsConfigError, load_boards

    try:  # fail before any run starts, naming the file and line
        load_boards(settings.boards_config_path())
    except BoardsConfigError as exc:
        raise CommandError(str(exc)) from None
    dagster_home()
    started = time.perf_counter()
    summary = RunSummary(day=day, mode=mode)
    sources = _sources(mode, replay_dir)
    if not sources:
        raise CommandError(f"no boards to scrape in {mode} mode" + (f" (no <ats>/*.json under {replay_dir})" if replay_dir else ""))
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    past = day < datetime.now(timezone.utc).date().isoformat()
    os.environ.setdefault("JOBPIPELINE_PROGRESS", "1")
    with dg.DagsterInstance.get() as instance, _board_endpoints(mode, replay_dir) as boards_config:
        ensure_pools(instance)
        scrape_job = defs.resolve_job_def(SCRAPE_JOB)
        run_config = {
            **quiet,
            "resources": {"job_boards": {"config": boards_config}},
            "ops": {"raw_postings": {"config": {"allow_past": past and mode == "replay"}}},
        }
        for source in sources:
            key = board_partition_key(day, source)
            result = scrape_job.execute_in_process(run_config=run_config, instance=instance, partition_key=key, raise_on_error=False)
            summary.runs.append((str(key), result.run_id, result.success))
            _add_metadata(summary.scrape, result, "raw_postings", ("boards", "boards_ok", "boards_failed", "postings"))
            _add_metadata(summary.sync, result, "jobs", ("new", "changed", "unchanged", "closed", "reopened"))
            _set_metadata(summary.sync, result, "jobs", ("jobs_in_store", "open_jobs_in_store"))
        if not scrape_only and DOWNSTREAM_JOB in {j.name for j in defs.resolve_all_job_defs()}:
            result = defs.resolve_job_def(DOWNSTREAM_JOB).execute_in_process(run_config=quiet, instance=instance, raise_on_error=False)
            summary.runs.append((DOWNSTREAM_JOB, result.run_id, result.success))
            for event in result.get_asset_materialization_events():
                mat = event.materialization
                summary.downstream[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    summary.seconds = time.perf_counter() - started
    return summary


def _materialization_metadata(result: Any, asset: str) -> dict[str, Any]:
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        if mat.asset_key.to_user_string() == asset:
            return {k: v.value for k, v in mat.metadata.items()}
    return {}


def _add_metadata(into: dict[str, int], result: Any, asset: str, keys: tuple[str, ...]) -> None:
    meta = _materialization_metadata(result, asset)
    for key in keys:
        into[key] = into.get(key, 0) + int(meta.get(key, 0) or 0)


def _set_metadata(into: dict[str, int], result: Any, asset: str, keys: tuple[str, ...]) -> None:
    meta = _materialization_metadata(result, asset)
    for key in keys:
        if key in meta:
            into[key] = int(meta[key])


def main(args: argparse.Namespace) -> int:
    from jobpipeline.cli.partition_keys import check_partition_key
    from jobpipeline.defs.scrape.partitions import daily

    day = check_partition_key(daily, args.date or datetime.now(timezone.utc).date().isoformat(), "YYYY-MM-DD", "--date")
    from jobpipeline.defs.scrape.resources import default_mode

    mode = "live" if args.live or (args.replay is None and default_mode() == "live") else "replay"
    summary = run_pipeline(day, mode, args.replay, scrape_only=args.scrape_only)
    print(summary.render())
    return 0 if summary.ok else 1
