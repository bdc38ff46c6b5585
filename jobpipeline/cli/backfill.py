"""``jobpipeline backfill``: backfill a range of partitions on the Dagster instance of ``DAGSTER_HOME``.

    jobpipeline backfill hn --from 2011-04 --to 2020-02
    jobpipeline backfill boards --from 2025-11-01 --to 2025-11-07 [--source lever]

By default this submits a real Dagster asset backfill, the same object the UI's "Materialize… →
Launch backfill" creates: it shows under Overview → Backfills with its runs. HN months run in
ranges of ``MONTHS_PER_RUN`` (``BackfillPolicy.multi_run``: a month that fails inside a range fails
alone, named in the summary, while the others land; ``jobpipeline.defs.history.assets``); a board
range runs in one run (``single_run``), rebuilding ``jobs`` from the raw files on disk. A backfill needs the Dagster
daemon: the one of ``jobpipeline dev`` when it runs on the same ``DAGSTER_HOME``; otherwise this
command starts ``dagster-daemon run`` itself for as long as the backfill takes (``--no-wait`` only
submits). ``--in-process`` runs the same partitions without any daemon or run worker process
(``execute_in_process``): faster to start, the runs show in the UI's Runs list (tag
``jobpipeline/backfill``) but not as a backfill, and have no code-location origin (the UI cannot
re-execute them).
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jobpipeline import settings
from jobpipeline.cli.errors import CommandError
from jobpipeline.cli.instance import dagster_daemon, dagster_home, prepared_instance, wait_for_daemon_runs

HN_JOB, BOARDS_JOB = "hn_month_job", "daily_scrape_job"
HN_ASSETS, BOARD_ASSETS = ("hn_postings", "hn_jobs"), ("raw_postings", "jobs")
CLI_TAG = "jobpipeline/backfill"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backfill", help="backfill HN months or board-scrape days (a Dagster backfill)")
    targets = parser.add_subparsers(dest="target", required=True)
    hn = targets.add_parser("hn", help="HN 'Who is hiring?' months → hn_postings + hn_jobs")
    hn.add_argument("--from", dest="start", required=True, metavar="YYYY-MM")
    hn.add_argument("--to", dest="end", required=True, metavar="YYYY-MM")
    hn.add_argument("--refetch", action="store_true", help="fetch again months whose final snapshot is on disk")
    hn.add_argument("--workers", type=int, default=1, help="with --in-process: range runs (24 months each) in this many processes")
    boards = targets.add_parser("boards", help="board-scrape days → raw_postings (from disk when kept) + jobs")
    boards.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    boards.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")
    boards.add_argument("--source", help="one ATS (default: every source)")
    for sub in (hn, boards):
        sub.add_argument("--live", action="store_true", help="the public APIs instead of the replay corpus")
        how = sub.add_mutually_exclusive_group()
        how.add_argument("--in-process", action="store_true", help="run here, one run after another; no daemon")
        how.add_argument("--no-wait", action="store_true", help="submit the backfill and return (a daemon must run it)")
        sub.set_defaults(func=main)


# --- what to backfill --------------------------------------------------------------------------


@dataclass(frozen=True)
class BackfillRequest:
    target: str  # hn | boards
    partition_keys: list[str]
    run_config: dict[str, Any]
    title: str

    @property
    def job_name(self) -> str:
        return HN_JOB if self.target == "hn" else BOARDS_JOB

    @property
    def asset_names(self) -> tuple[str, ...]:
        return HN_ASSETS if self.target == "hn" else BOARD_ASSETS


def hn_request(start: str, end: str, *, live: bool = False, refetch: bool = False) -> BackfillRequest:
    from jobpipeline.defs.history.partitions import hn_months

    months = _keys_in_range(hn_months, start, end, "YYYY-MM")
    run_config: dict[str, Any] = _mode_config(live)
    if refetch:
        run_config["ops"] = {"hn_month": {"config": {"refetch": True}}}
    return BackfillRequest("hn", months, run_config, f"hn {start}…{end}")


def boards_request(start: str, end: str, *, source: str | None = None, live: bool = False) -> BackfillRequest:
    from jobpipeline.defs.scrape.partitions import SOURCES, board_partition_key, daily

    if source is not None and source not in SOURCES:
        raise CommandError(f"--source {source!r} is not one of {', '.join(SOURCES)}")
    days = _keys_in_range(daily, start, end, "YYYY-MM-DD")
    keys = [str(board_partition_key(day, s)) for day in days for s in ([source] if source else SOURCES)]
    return BackfillRequest("boards", keys, _mode_config(live), f"boards {start}…{end}" + (f" {source}" if source else ""))


def _keys_in_range(partitions_def: Any, start: str, end: str, shape: str) -> list[str]:
    import dagster as dg

    from jobpipeline.cli.partition_keys import check_partition_key

    for key, flag in ((start, "--from"), (end, "--to")):
        check_partition_key(partitions_def, key, shape, flag)
    if end < start:
        raise CommandError(f"--to {end} is before --from {start}")
    return list(partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(start, end)))


def _mode_config(live: bool) -> dict[str, Any]:
    return {"resources": {"job_boards": {"config": {"mode": "live"}}}} if live else {}


# --- outcome -----------------------------------------------------------------------------------


@dataclass
class RunOutcome:
    partitions: str  # a month, a partition key, or "start…end" for a range run
    run_id: str
    status: str  # SUCCESS | FAILURE | CANCELED | …
    error: str | None = None
    failed_partitions: dict[str, str] = field(default_factory=dict)  # a range run's failed months → error; the others landed


@dataclass
class BackfillSummary:
    request: BackfillRequest
    how: str  # "backfill <id>" or "in-process"
    runs: list[RunOutcome] = field(default_factory=list)
    seconds: float = 0.0
    status: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.status == "SUCCESS" for r in self.runs)

    @property
    def failed_partitions(self) -> dict[str, str]:
        """Every failed month of every range run, with its error: what to retry alone."""
        return {key: error for run in self.runs for key, error in run.failed_partitions.items()}

    def render(self) -> str:
        failed = [r for r in self.runs if r.status != "SUCCESS"]
        lines = [
            f"jobpipeline backfill {self.request.title} — {self.how}{f' ({self.status})' if self.status else ''}: "
            f"{len(self.request.partition_keys)} partitions, {len(self.runs)} runs, {len(failed)} failed, {self.seconds:.1f} s"
        ]
        for run in sorted(self.runs, key=lambda r: r.partitions):
            line = f"  {run.partitions:<24} {run.status:<8} {run.run_id}"
            if run.failed_partitions:
                line += "".join(f"\n      {key} FAILURE  {error.splitlines()[0][:300]}" for key, error in run.failed_partitions.items())
            elif run.error:
                line += f"\n      {run.error.splitlines()[0][:300]}"
            lines.append(line)
        if self.failed_partitions:
            lines.append(f"  failed alone, retry each with --from/--to: {', '.join(sorted(self.failed_partitions))}")
        return "\n".join(lines)


# --- in-process --------------------------------------------------------------------------------


def run_in_process(request: BackfillRequest, *, workers: int = 1) -> BackfillSummary:
    """HN months in ranges (the assets' backfill policy), or the whole board range, as runs of this process
    on the ``DAGSTER_HOME`` instance; ``workers`` runs at once."""

    with prepared_instance():  # creates the instance's storage here, under the lock: worker processes racing to do it collide
        pass
    started = time.perf_counter()
    tag = {CLI_TAG: f"{request.target}-{datetime.now(UTC):%Y%m%dT%H%M%S}"}
    if request.target == "hn":
        from jobpipeline.defs.history.assets import MONTHS_PER_RUN
        from jobpipeline.defs.history.partitions import hn_months

        ranges = month_ranges(request.partition_keys, hn_months.get_partition_keys(), MONTHS_PER_RUN)
    else:  # single_run: one run over the (days × sources) rectangle, as the UI's backfill launches it
        ranges = [request.partition_keys]
    tasks = [
        (request.job_name, {}, request.run_config, {**tag, **_range_tags(keys[0], keys[-1])}, _label(keys[0], keys[-1])) for keys in ranges
    ]
    if workers > 1 and len(tasks) > 1:
        import multiprocessing

        # spawn: a fork would copy this process's threads (a replay server, Dagster's) half-alive.
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            runs = list(pool.map(_execute, tasks))
    else:
        runs = [_execute(task) for task in tasks]
    return BackfillSummary(request, "in-process", runs, time.perf_counter() - started)


def month_ranges(keys: Sequence[str], all_keys: Sequence[str], size: int) -> list[list[str]]:
    """``keys`` cut into runs of consecutive partitions (in ``all_keys``' order) of at most ``size``, as the
    daemon's ``multi_run(size)`` cuts a backfill: a run's range never covers a month that was not asked for."""
    position = {key: i for i, key in enumerate(all_keys)}
    ranges: list[list[str]] = []
    for key in sorted(keys, key=position.__getitem__):
        last = ranges[-1] if ranges else None
        if last and len(last) < size and position[key] == position[last[-1]] + 1:
            last.append(key)
        else:
            ranges.append([key])
    return ranges


def _range_tags(first: str, last: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def _label(first: str, last: str) -> str:
    return first if first == last else f"{first}…{last}"


def _execute(task: tuple[str, dict, dict, dict, str]) -> RunOutcome:
    import dagster as dg

    from jobpipeline.definitions import defs

    job_name, partition, run_config, tags, label = task
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with dg.DagsterInstance.get() as instance:
        result = (
            defs()
            .resolve_job_def(job_name)
            .execute_in_process(run_config={**quiet, **run_config}, instance=instance, tags=tags, raise_on_error=False, **partition)
        )
        return _outcome(instance, label, result.run_id, "SUCCESS" if result.success else "FAILURE")


def _outcome(instance: Any, label: str, run_id: str, status: str) -> RunOutcome:
    if status == "SUCCESS":
        return RunOutcome(label, run_id, status)
    error, failed_partitions = _run_error(instance, run_id)
    return RunOutcome(label, run_id, status, error, failed_partitions)


def _run_error(instance: Any, run_id: str) -> tuple[str | None, dict[str, str]]:
    """The first step failure's message of a run (what the UI shows on the failed step), and the failed
    months a range run names in its failure's ``failed_months`` metadata."""
    from dagster import DagsterEventType

    for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event and event.step_failure_data and event.step_failure_data.error:
            message = event.step_failure_data.error.message.strip().removeprefix("dagster._core.definitions.events.Failure: ")
            user_failure = event.step_failure_data.user_failure_data
            failed = user_failure.metadata.get("failed_months") if user_failure else None
            return f"{event.step_key}: {message}", dict(failed.value) if failed is not None else {}
    return None, {}


# --- a real backfill, run by the daemon ------------------------------------------------------


def submit_backfill(request: BackfillRequest) -> str:
    """Add the asset backfill to the instance (as the UI's "Launch backfill" does); returns its id."""
    import dagster as dg

    from jobpipeline.cli.dagster_private import PartitionBackfill, make_new_backfill_id  # no public API creates one
    from jobpipeline.definitions import defs

    with prepared_instance() as instance:
        backfill = PartitionBackfill.from_asset_partitions(
            backfill_id=make_new_backfill_id(),
            asset_graph=defs().resolve_asset_graph(),
            partition_names=request.partition_keys,
            asset_selection=[dg.AssetKey(name) for name in request.asset_names],
            backfill_timestamp=time.time(),
            tags={CLI_TAG: "cli"},
            dynamic_partitions_store=instance,
            all_partitions=False,
            title=request.title,
            description=f"jobpipeline backfill {request.target}",
            run_config=request.run_config or None,
        )
        instance.add_backfill(backfill)
        return backfill.backfill_id


def wait_for_backfill(
    backfill_id: str, *, poll_s: float = 2.0, timeout_s: float | None = None, echo: bool = True
) -> tuple[list[RunOutcome], str, float]:
    """Poll the backfill until it is over (starting a daemon when none runs): its runs, status and seconds."""
    import dagster as dg

    from jobpipeline.cli.dagster_private import BULK_ACTION_TERMINAL_STATUSES

    started = time.perf_counter()

    def say(line: str) -> None:
        if echo:
            print(f"  {time.perf_counter() - started:6.1f} s  {line}", flush=True)

    with prepared_instance(reap=False) as instance, dagster_daemon(instance, echo=echo) as daemon:
        last = ""
        while True:
            backfill = instance.get_backfill(backfill_id)
            if backfill is None:
                raise CommandError(f"no backfill {backfill_id} on the instance at {os.environ['DAGSTER_HOME']}")
            runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
            state = f"{backfill.status.value}: " + ", ".join(
                f"{n} {s.lower()}" for s, n in sorted(Counter(r.status.value for r in runs).items())
            )
            if state != last:
                say(state)
                last = state
            if backfill.status in BULK_ACTION_TERMINAL_STATUSES and not any(not r.is_finished for r in runs):
                outcomes, seconds = _outcomes(instance, runs), time.perf_counter() - started
                if daemon is not None:  # e.g. the enrichment its automation sensor launched after the syncs
                    wait_for_daemon_runs(instance, daemon, say=say)
                return outcomes, backfill.status.value, seconds
            if daemon is not None and daemon.poll() is not None:
                raise CommandError(f"dagster-daemon exited ({daemon.returncode}); see {os.environ['DAGSTER_HOME']}/daemon.log")
            if timeout_s is not None and time.perf_counter() - started > timeout_s:
                raise CommandError(f"backfill {backfill_id} still {backfill.status.value} after {timeout_s:.0f} s")
            time.sleep(poll_s)


def _outcomes(instance: Any, runs: Sequence[Any]) -> list[RunOutcome]:
    outcomes = []
    for run in runs:
        tags = run.tags
        start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
        label = tags.get("dagster/partition") or _label(start, end)
        outcomes.append(_outcome(instance, label, run.run_id, run.status.value))
    return outcomes


def run_backfill(request: BackfillRequest, *, timeout_s: float | None = None, echo: bool = True) -> BackfillSummary:
    """Submit ``request`` as a Dagster backfill and wait for it (the command's default)."""
    backfill_id = submit_backfill(request)
    runs, status, seconds = wait_for_backfill(backfill_id, timeout_s=timeout_s, echo=echo)
    return BackfillSummary(request, f"backfill {backfill_id}", runs, seconds, status)


# --- command -----------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    if args.target == "hn":
        request = hn_request(args.start, args.end, live=args.live, refetch=args.refetch)
    else:
        request = boards_request(args.start, args.end, source=args.source, live=args.live)
    home = dagster_home()
    print(f"DAGSTER_HOME={home}  JOBPIPELINE_HOME={settings.home()}")
    if args.in_process:
        summary = run_in_process(request, workers=getattr(args, "workers", 1))
    elif args.no_wait:
        backfill_id = submit_backfill(request)
        print(
            f"submitted backfill {backfill_id} ({request.title}, {len(request.partition_keys)} partitions); "
            "`jobpipeline dev` runs it: Overview → Backfills"
        )
        return 0
    else:
        summary = run_backfill(request)
    print(summary.render())
    return 0 if summary.ok else 1
