"""Everything jobpipeline takes from Dagster's private modules (``dagster._…``), in this one module.

Dagster 1.13 has no public Python API to submit a run of a code location's job the way the UI's
"Launch" and ``dagster job launch`` do (a run with a code-location origin, through the run
coordinator), to create an asset backfill, to ask a code server which runs it is executing, or to
tell run monitoring whether a ``DefaultRunLauncher`` run worker is still alive. Each of those is a
small function or class here, used by the CLI and (``MonitoredRunLauncher``) by dagster.yaml.
``jobpipeline_tests/cli/test_dagster_private.py`` exercises every name imported below, so a Dagster
upgrade that moves or changes one fails there, loudly, not halfway through somebody's run.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.events import DagsterEventType
from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES, PartitionBackfill
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._core.utils import make_new_backfill_id
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import GetCurrentRunsResult
from dagster._serdes import deserialize_value
from dagster_shared import seven

__all__ = [
    "BULK_ACTION_TERMINAL_STATUSES",
    "MonitoredRunLauncher",
    "make_new_backfill_id",
    "PartitionBackfill",
    "cancel_runs",
    "job_names",
    "open_workspace",
    "run_worker_health",
    "run_worker_pid",
    "submit_job_run",
]

# The message DefaultRunLauncher's code server logs when it starts a run worker (dagster/_grpc/impl.py).
_WORKER_STARTED_PREFIX = "Started process for run (pid: "


# --- submitting runs against the code location --------------------------------------------------


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """File descriptors 1 and 2 point at ``log`` while the block runs: a child process started in it
    (the code server) writes its log lines and warnings there for good, not into the command's output."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with log.open("ab") as out:
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


@contextmanager
def open_workspace(instance: dg.DagsterInstance, workspace_yaml: Path, *, log: Path | None = None) -> Iterator[Any]:
    """The code locations of ``workspace_yaml`` (a gRPC code server started for the duration), as
    the webserver and the daemon load them; yields a request context for ``submit_job_run``. With
    ``log``, the code server's output goes there instead of the caller's stdout and stderr."""
    with _output_to(log) if log is not None else nullcontext():
        process_context = WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(workspace_yaml)]))
    with process_context:
        workspace = process_context.create_request_context()
        errors = {name: entry.load_error for name, entry in workspace.get_code_location_entries().items() if entry.load_error}
        if errors:
            name, error = next(iter(errors.items()))
            raise RuntimeError(f"code location {name!r} failed to load: {error.message.strip()}")
        yield workspace


def _only_repository(workspace: Any) -> tuple[str, Any, Any]:
    (location_name,) = workspace.get_code_location_entries().keys()
    code_location = workspace.get_code_location(location_name)
    (repository,) = code_location.get_repositories().values()
    return location_name, code_location, repository


def job_names(workspace: Any) -> set[str]:
    """The jobs of the workspace's (only) code location."""
    return {job.name for job in _only_repository(workspace)[2].get_all_jobs()}


def submit_job_run(
    instance: dg.DagsterInstance,
    workspace: Any,
    job_name: str,
    *,
    run_config: Mapping[str, Any],
    tags: Mapping[str, str] | None = None,
    partition_key: str | None = None,
) -> str:
    """Create a run of ``job_name`` from the workspace's (only) code location and submit it to the
    instance's run coordinator, as ``dagster job launch`` (dagster/_cli/job.py) does; returns its id.

    A ``partition_key`` adds the partition's tags as the UI computes them (``dagster/partition`` and,
    for multi-partitions, one ``dagster/partition/<dimension>`` each: the tag concurrency limits
    of dagster.yaml key on them)."""
    location_name, code_location, repository = _only_repository(workspace)
    selector = JobSubsetSelector(location_name=location_name, repository_name=repository.name, job_name=job_name, op_selection=None)
    remote_job = code_location.get_job(selector)
    run_tags = {**remote_job.tags, **(tags or {})}
    if partition_key is not None:
        partition_tags = code_location.get_partition_tags_from_repo(repository.handle, job_name, partition_key, instance)
        if not hasattr(partition_tags, "tags"):
            raise RuntimeError(f"partition {partition_key!r} of {job_name}: {partition_tags.error.message.strip()}")
        run_tags.update(partition_tags.tags)
    plan = code_location.get_execution_plan(remote_job, run_config, step_keys_to_execute=None, known_state=None, instance=instance)
    snapshot = plan.execution_plan_snapshot
    run = instance.create_run(
        job_name=job_name,
        run_id=None,
        run_config=run_config,
        resolved_op_selection=remote_job.resolved_op_selection,
        step_keys_to_execute=snapshot.step_keys_to_execute,
        op_selection=None,
        status=None,
        root_run_id=None,
        parent_run_id=None,
        tags=run_tags,
        job_snapshot=remote_job.job_snapshot,
        execution_plan_snapshot=snapshot,
        parent_job_snapshot=remote_job.parent_job_snapshot,
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
        asset_selection=None,
        asset_check_selection=None,
        asset_graph=repository.asset_graph,
    )
    instance.submit_run(run.run_id, workspace)
    return run.run_id


# --- is a run worker alive? -------------------------------------------------------------------


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the process executing the run: the launched worker's, else the in-process one's."""
    pid = None
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        data = event.engine_event_data if event else None
        entry = data.metadata.get("pid") if data else None
        if entry is not None and (pid is None or (record.user_message or "").startswith(_WORKER_STARTED_PREFIX)):
            pid = int(entry.value)
    return pid


def _process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) Python process on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): the pid exists, which is all we can tell
    return state != "Z" and (b"python" in cmdline.lower() or b"dagster" in cmdline)


def _local_host(host: str | None) -> bool:
    return host in (None, "", "localhost", "127.0.0.1", "::1", socket.gethostname())


def run_worker_health(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[WorkerStatus, str]:
    """Is the worker of a STARTED/STARTING/CANCELING run alive?

    Asks the code server named by the run's ``.dagster/grpc_info`` tag which runs it executes (it
    started the worker, and marks a worker that exited as failed itself). If that server is gone
    (the ``jobpipeline run`` or container holding it was killed) and it was on this machine, the
    worker pid logged when the run started decides. A run on a code server of another machine that
    cannot be reached stays RUNNING: its worker may well be alive, and failing it would run the
    partition twice."""
    grpc_info = seven.json.loads(run.tags[GRPC_INFO_TAG]) if GRPC_INFO_TAG in run.tags else None
    if grpc_info:
        client = DagsterGrpcClient(
            port=grpc_info.get("port"),
            socket=grpc_info.get("socket"),
            host=grpc_info.get("host"),
            use_ssl=bool(grpc_info.get("use_ssl", False)),
        )
        try:
            current = deserialize_value(client.get_current_runs(), GetCurrentRunsResult).current_runs
        except Exception:  # noqa: BLE001 - any failure to reach it means: no server there
            current = None
        if current is not None:
            if run.run_id in current:
                return WorkerStatus.RUNNING, "the code server is executing it"
            if run.status == dg.DagsterRunStatus.STARTING:  # launched a moment ago; start_timeout_seconds judges it
                return WorkerStatus.UNKNOWN, "its code server is starting it"
            return WorkerStatus.FAILED, "its code server is not executing it (the run worker exited)"
        if not _local_host(grpc_info.get("host")):
            return WorkerStatus.RUNNING, f"its code server {grpc_info.get('host')} cannot be reached; not judged"
    pid = run_worker_pid(instance, run.run_id)
    if pid is None:
        if grpc_info or run.status == dg.DagsterRunStatus.STARTED:
            return WorkerStatus.FAILED, "its code server is gone and no worker pid was logged"
        return WorkerStatus.UNKNOWN, "not started by a worker yet"
    if _process_alive(pid):
        return WorkerStatus.RUNNING, f"its worker (pid {pid}) is alive"
    return WorkerStatus.FAILED, f"its worker (pid {pid}) is gone" + (" and so is its code server" if grpc_info else "")


class MonitoredRunLauncher(DefaultRunLauncher):
    """Dagster's ``DefaultRunLauncher`` (run workers as subprocesses of the code server) that also
    tells run monitoring whether a run's worker is alive.

    The stock one does not (``supports_check_run_worker_health`` is False), so with it a run whose
    worker was killed together with its code server stays STARTED forever and keeps its pool slots.
    With this one the daemon's run monitoring marks such a run failed at its next check (every
    ``poll_interval_seconds``), and run_retries may launch it again."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        status, message = run_worker_health(self._instance, run)
        if status == WorkerStatus.FAILED:
            # The code server reports a worker that exited by itself; give that report a moment to land.
            time.sleep(1)
            latest = self._instance.get_run_by_id(run.run_id)
            if latest is None or latest.is_finished:
                return CheckRunHealthResult(WorkerStatus.SUCCESS, "finished meanwhile")
        return CheckRunHealthResult(status, message)


def cancel_runs(instance: dg.DagsterInstance, run_ids: Sequence[str]) -> None:
    """Cancel each unfinished run through the run coordinator (queued: dropped; started: its worker
    is asked to stop), as the UI's "Terminate" does."""
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            try:
                instance.run_coordinator.cancel_run(run_id)
            except Exception:  # noqa: BLE001 - a worker already gone: marked below
                pass
