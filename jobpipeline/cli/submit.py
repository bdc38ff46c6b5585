"""Runs submitted the way the UI submits them, and watched until they end.

``RunSession`` opens the project's code location (workspace.yaml, a gRPC code server), makes sure a
dagster-daemon launches the queued runs (the one of ``jobpipeline dev`` if it runs, else one of
its own), submits runs through the instance's run coordinator, prints each run's progress, follows
a run that run_retries launched again, and on Ctrl-C cancels every run it submitted that has not
ended (``cancel_all``). So runs of ``jobpipeline run`` have a code-location origin: they show under their job and in
the timeline, obey the concurrency limits of dagster.yaml, and the UI can re-execute them.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobpipeline import settings
from jobpipeline.cli.errors import CommandError
from jobpipeline.cli.instance import CLI_PROCESS_TAG, CLI_RUN_TAG

RETRY_WAIT_S = 120  # how long a run marked "will retry" may take to get its retry queued
CANCEL_WAIT_S = 90


@dataclass
class RunRecord:
    label: str  # the partition, or the job name of an unpartitioned run
    run_id: str  # the latest attempt (a retry replaces the run it retried)
    status: str = "QUEUED"
    attempts: int = 1

    @property
    def success(self) -> bool:
        return self.status == "SUCCESS"


class RunSession:
    def __init__(self, instance: Any, workspace: Any, daemon: Any, *, tag: str, echo: bool = True, stack: ExitStack | None = None):
        self.instance, self.workspace, self.daemon = instance, workspace, daemon
        self._stack = stack  # where a daemon started later is stopped
        self._daemon_checked = time.monotonic()
        self.tags = {CLI_RUN_TAG: tag, CLI_PROCESS_TAG: f"{socket.gethostname()}:{os.getpid()}"}
        self.echo = echo
        self.started = time.perf_counter()
        self.records: list[RunRecord] = []
        self.interrupted = False  # cancel_all ran: the command stops as a whole, waiting for nothing more

    def submit(
        self, job_name: str, run_config: Mapping[str, Any], *, partition_key: str | None = None, label: str | None = None
    ) -> RunRecord:
        from jobpipeline.cli.dagster_private import submit_job_run

        run_id = submit_job_run(self.instance, self.workspace, job_name, run_config=run_config, tags=self.tags, partition_key=partition_key)
        record = RunRecord(label or partition_key or job_name, run_id)
        self.records.append(record)
        self._say(f"{record.label:<28} queued   run {run_id}")
        return record

    def has_job(self, job_name: str) -> bool:
        from jobpipeline.cli.dagster_private import job_names

        return job_name in job_names(self.workspace)

    def wait(self, records: list[RunRecord], poll_s: float = 1.0) -> list[RunRecord]:
        """Until every run in ``records`` ended (after its retries)."""
        pending = list(records)
        retry_since: dict[str, float] = {}
        while pending:
            for record in list(pending):
                if self._advance(record, retry_since):
                    pending.remove(record)
            if pending:
                self._check_daemon()
                time.sleep(poll_s)
        return records

    def _advance(self, record: RunRecord, retry_since: dict[str, float]) -> bool:
        """Refresh ``record``; True once it has ended for good."""
        import dagster as dg

        run = self.instance.get_run_by_id(record.run_id)
        status = run.status.value
        if status != record.status:
            self._say(f"{record.label:<28} {status.lower():<8} run {record.run_id}")
            record.status = status
        if not run.is_finished:
            return False
        if status == "FAILURE" and run.tags.get("dagster/will_retry") == "true":
            retries = self.instance.get_runs(filters=dg.RunsFilter(tags={"dagster/parent_run_id": record.run_id}), limit=1)
            if retries:
                self._say(f"{record.label:<28} retried  run {retries[0].run_id} (attempt {record.attempts + 1})")
                record.run_id, record.status, record.attempts = retries[0].run_id, "QUEUED", record.attempts + 1
                return False
            first_seen = retry_since.setdefault(record.run_id, time.monotonic())
            return time.monotonic() - first_seen > RETRY_WAIT_S
        return True

    def _check_daemon(self) -> None:
        """Our daemon must be alive; another one (``jobpipeline dev``'s, or a concurrent command's) may
        stop at any time, and then this session starts its own so its queued runs still launch."""
        from jobpipeline.cli.instance import daemon_running, dagster_daemon

        if self.daemon is not None:
            if self.daemon.poll() is not None:
                raise CommandError(f"dagster-daemon exited ({self.daemon.returncode}); see $DAGSTER_HOME/daemon.log")
            return
        if time.monotonic() - self._daemon_checked < 5.0 or self._stack is None:
            return
        self._daemon_checked = time.monotonic()
        if not daemon_running(self.instance):
            self.daemon = self._stack.enter_context(dagster_daemon(self.instance, echo=self.echo, wait_s=0.0))

    def cancel_all(self) -> list[RunRecord]:
        """Cancel every run of the session not yet ended (what Ctrl-C does), and the runs this
        session's own daemon launched by itself and is executing (the automation sensor's: they
        would be stranded when it stops); how each ended."""
        from jobpipeline.cli.dagster_private import cancel_runs
        from jobpipeline.cli.instance import daemon_runs_in_flight, run_label

        self.interrupted = True
        if self.daemon is not None:
            known = {r.run_id for r in self.records}
            self.records += [
                RunRecord(run_label(run), run.run_id, run.status.value)
                for run in daemon_runs_in_flight(self.instance, self.daemon)
                if run.run_id not in known
            ]
        unfinished = [r for r in self.records if not self._finished(r.run_id)]
        self._say(f"Ctrl-C: cancelling {len(unfinished)} unfinished run(s)")
        for record in unfinished:  # a run cancelled while starting ends FAILURE: run_retries must not relaunch it
            self.instance.add_run_tags(record.run_id, {"dagster/max_retries": "0"})
        cancel_runs(self.instance, [r.run_id for r in unfinished])
        deadline = time.monotonic() + CANCEL_WAIT_S
        while time.monotonic() < deadline and any(not self._finished(r.run_id) for r in unfinished):
            time.sleep(0.5)
        for record in self.records:
            record.status = self.instance.get_run_by_id(record.run_id).status.value
        return self.records

    def _finished(self, run_id: str) -> bool:
        run = self.instance.get_run_by_id(run_id)
        return run is None or run.is_finished

    def materializations(self, record: RunRecord) -> dict[str, dict[str, Any]]:
        """Each asset's metadata from the run's materializations, by asset name."""
        import dagster as dg

        found = {}
        for entry in self.instance.all_logs(record.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            mat = entry.asset_materialization
            found[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
        return found

    def materialization_cursor(self, asset: str) -> int:
        return materialization_cursor(self.instance, asset)

    def materializations_since(self, asset: str, after_storage_id: int, through_run_id: str) -> list[dict[str, Any]]:
        return materializations_since(self.instance, asset, after_storage_id, through_run_id)

    def _say(self, line: str) -> None:
        if self.echo:
            print(f"  {time.perf_counter() - self.started:6.1f} s  {line}", flush=True)


def materialization_cursor(instance: Any, asset: str) -> int:
    """The storage id of ``asset``'s latest materialization in ``instance`` (0 if none): what
    ``materializations_since`` counts from."""
    import dagster as dg

    records = instance.fetch_materializations(dg.AssetKey(asset), limit=1).records
    return records[0].storage_id if records else 0


def materializations_since(instance: Any, asset: str, after_storage_id: int, through_run_id: str) -> list[dict[str, Any]]:
    """The metadata of ``asset``'s materializations after ``after_storage_id``, oldest first, up to
    and including the last one of run ``through_run_id``; by any run (the automation sensor's too).
    Nothing if that run did not materialize ``asset``."""
    import dagster as dg

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(dg.AssetKey(asset), after_storage_id=after_storage_id), limit=1000, ascending=True
    ).records
    ours = [i for i, r in enumerate(records) if r.run_id == through_run_id]
    if not ours:
        return []
    return [{k: v.value for k, v in r.asset_materialization.metadata.items()} for r in records[: ours[-1] + 1]]


@contextmanager
def run_session(instance: Any, *, tag: str, echo: bool = True) -> Iterator[RunSession]:
    """The project's code location and a daemon, for the duration of a ``RunSession``."""
    from jobpipeline.cli.dagster_private import open_workspace
    from jobpipeline.cli.instance import CODE_SERVER_LOG, dagster_daemon, wait_for_daemon_runs

    with ExitStack() as stack:
        daemon = stack.enter_context(dagster_daemon(instance, echo=echo))
        try:
            workspace = stack.enter_context(
                open_workspace(instance, settings.REPO_DIR / "workspace.yaml", log=Path(os.environ["DAGSTER_HOME"]) / CODE_SERVER_LOG)
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        session = RunSession(instance, workspace, daemon, tag=tag, echo=echo, stack=stack)
        yield session
        if session.daemon is not None and not session.interrupted:  # a daemon this session started stops next
            try:
                wait_for_daemon_runs(instance, session.daemon, say=session._say)
            except KeyboardInterrupt:  # Ctrl-C while waiting: stop those runs too (session.interrupted says so)
                session.cancel_all()
