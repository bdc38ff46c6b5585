"""``jobpipeline run``: materialize one day's partitions end to end through Dagster, then print a summary.

The runs are submitted as the UI submits them (``jobpipeline.cli.submit``): against the project's
code location, through the queued run coordinator of the ``DAGSTER_HOME`` instance (default
``<JOBPIPELINE_HOME>/dagster``), launched by a dagster-daemon; so they show in ``dagster dev`` on
the same home under their job, and can be re-executed there. Offline by default: a replay server on
127.0.0.1 serves the shipped recordings; ``--live`` scrapes the public APIs.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobpipeline import settings
from jobpipeline.cli.errors import CommandError
from jobpipeline.cli.instance import dagster_home, ensure_pools  # noqa: F401 - where the other verbs import them

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
    enrichment: dict[str, Any] = field(default_factory=dict)  # see enrichment_since
    seconds: float = 0.0
    interrupted: bool = False  # Ctrl-C: unfinished runs were cancelled
    statuses: dict[str, str] = field(default_factory=dict)  # run id -> final status, when interrupted

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(success for _, _, success in self.runs)

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
        if enriched := self.enrichment:
            lines.append(
                f"  enriched {enriched['enriched']} extracted, {enriched['cached']} cached, "
                f"{enriched['failed']} failed ({enriched.get('backend')}, {enriched.get('model')})"
            )
        tables = {k: m["dagster/row_count"] for k, m in self.downstream.items() if "dagster/row_count" in m}
        if tables:
            lines.append(f"  analytics {len(tables)} DuckDB tables: " + ", ".join(f"{k} {v}" for k, v in tables.items()))
        if self.interrupted:
            finished = [name for name, run_id, success in self.runs if success]
            stopped = [f"{name} ({self.statuses.get(run_id, '?').lower()})" for name, run_id, success in self.runs if not success]
            lines.append(
                f"  INTERRUPTED: finished {', '.join(finished) or 'nothing'}; cancelled or failed {', '.join(stopped) or 'nothing'}"
            )
            return "\n".join(lines)
        failed = [name for name, _, success in self.runs if not success]
        if failed:
            lines.append(f"  FAILED runs: {', '.join(failed)} (see `dagster dev` → Runs)")
        return "\n".join(lines)


def enrichment_since(materializations: list[dict[str, Any]]) -> dict[str, Any]:
    """One enrichment line from the ``enriched_jobs`` materializations since this command's syncs
    began, the downstream run's last. The daemon's automation sensor may enrich the synced jobs
    before the downstream run gets to them (the ``enrich`` pool runs one at a time); what it
    extracted counts as extracted here, not as the downstream run's cache hits, so the line says
    the same whichever run came first."""
    if not materializations:
        return {}
    *earlier, last = materializations
    before = sum(int(m.get("enriched", 0) or 0) + int(m.get("failed", 0) or 0) for m in earlier)
    return {
        **last,
        "enriched": sum(int(m.get("enriched", 0) or 0) for m in materializations),
        "failed": sum(int(m.get("failed", 0) or 0) for m in materializations),
        "cached": max(int(last.get("cached", 0) or 0) - before, 0),
    }


@contextlib.contextmanager
def _board_endpoints(mode: str, replay_dir: Path | None) -> Iterator[dict[str, Any]]:
    """Resource config for ``job_boards``: starts (and stops) the replay server in replay mode."""
    if mode == "live":
        yield {"mode": "live"}
        return
    from jobpipeline.lib.replay import serving

    corpus = (replay_dir or settings.replay_corpus_dir()).resolve()
    if not corpus.is_dir():
        raise CommandError(f"replay corpus {corpus} is not a directory")
    with serving(corpus) as base_urls:  # one server for every run of the command
        yield {"mode": "replay", "replay_dir": str(corpus), "base_urls": base_urls}


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
    """Submit ``day``'s partition runs of every source, then the unpartitioned downstream run, to the
    ``DAGSTER_HOME`` instance (as the UI launches them), and wait for them.

    Ctrl-C cancels the runs not yet ended and returns a summary saying which had finished."""
    from jobpipeline.cli.instance import prepared_instance
    from jobpipeline.cli.submit import run_session
    from jobpipeline.defs.scrape.partitions import board_partition_key
    from jobpipeline.lib.boards import BoardsConfigError, load_boards

    try:  # fail before any run starts, naming the file and line
        load_boards(settings.boards_config_path())
    except BoardsConfigError as exc:
        raise CommandError(str(exc)) from None
    sources = _sources(mode, replay_dir)
    if not sources:
        raise CommandError(f"no boards to scrape in {mode} mode" + (f" (no <ats>/*.json under {replay_dir})" if replay_dir else ""))
    started = time.perf_counter()
    summary = RunSummary(day=day, mode=mode)
    past = day < datetime.now(UTC).date().isoformat()
    tag = f"run-{day}-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    with prepared_instance() as instance, _board_endpoints(mode, replay_dir) as boards_config, run_session(instance, tag=tag) as session:
        run_config = {
            "resources": {"job_boards": {"config": boards_config}},
            "ops": {"raw_postings": {"config": {"allow_past": past and mode == "replay"}}},
        }
        try:
            enrichment_cursor = session.materialization_cursor("enriched_jobs")
            scrapes = [session.submit(SCRAPE_JOB, run_config, partition_key=str(board_partition_key(day, s))) for s in sources]
            for record in session.wait(scrapes):
                summary.runs.append((record.label, record.run_id, record.success))
                assets = session.materializations(record)
                _add_metadata(summary.scrape, assets, "raw_postings", ("boards", "boards_ok", "boards_failed", "postings"))
                _add_metadata(summary.sync, assets, "jobs", ("new", "changed", "unchanged", "closed", "reopened"))
                _set_metadata(summary.sync, assets, "jobs", ("jobs_in_store", "open_jobs_in_store"))
            if not scrape_only and session.has_job(DOWNSTREAM_JOB):
                (record,) = session.wait([session.submit(DOWNSTREAM_JOB, {})])
                summary.runs.append((record.label, record.run_id, record.success))
                summary.downstream.update(session.materializations(record))
                summary.enrichment = enrichment_since(session.materializations_since("enriched_jobs", enrichment_cursor, record.run_id))
        except KeyboardInterrupt:  # Ctrl-C stops the whole command: no further run, none left running
            _interrupted(summary, session.cancel_all())
    if session.interrupted and not summary.interrupted:  # Ctrl-C while the session waited for its daemon's own runs
        _interrupted(summary, session.records)
    summary.seconds = time.perf_counter() - started
    return summary


def _interrupted(summary: RunSummary, records: list[Any]) -> None:
    """``summary`` of a command stopped by Ctrl-C: every run it followed, as each ended."""
    summary.interrupted = True
    done = {run_id for _, run_id, _ in summary.runs}
    summary.runs += [(r.label, r.run_id, r.success) for r in records if r.run_id not in done]
    summary.statuses = {r.run_id: r.status for r in records}


def _add_metadata(into: dict[str, int], assets: dict[str, dict[str, Any]], asset: str, keys: tuple[str, ...]) -> None:
    meta = assets.get(asset, {})
    for key in keys:
        into[key] = into.get(key, 0) + int(meta.get(key, 0) or 0)


def _set_metadata(into: dict[str, int], assets: dict[str, dict[str, Any]], asset: str, keys: tuple[str, ...]) -> None:
    meta = assets.get(asset, {})
    for key in keys:
        if key in meta:
            into[key] = int(meta[key])


def main(args: argparse.Namespace) -> int:
    from jobpipeline.cli.partition_keys import check_partition_key
    from jobpipeline.defs.scrape.partitions import daily

    day = check_partition_key(daily, args.date or datetime.now(UTC).date().isoformat(), "YYYY-MM-DD", "--date")
    mode = "live" if args.live or (args.replay is None and settings.current().live) else "replay"
    summary = run_pipeline(day, mode, args.replay, scrape_only=args.scrape_only)
    print(summary.render())
    if summary.interrupted:
        return 130  # what a shell reports for a command stopped by Ctrl-C
    return 0 if summary.ok else 1
