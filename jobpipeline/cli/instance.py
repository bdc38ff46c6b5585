"""The Dagster instance of ``DAGSTER_HOME`` as the CLI prepares it before any run.

``prepared_instance()`` is the one door: it creates (or migrates) the instance's storage once,
under a file lock, so two commands starting at once on a fresh home do not both create the SQLite
schema (that once left ``alembic_version`` with two heads and the home unusable); sets the pool
limits dagster.yaml cannot declare; and reports and fails the runs whose worker died (a SIGKILLed
``jobpipeline run``, a crashed machine), freeing the pool slots they held, before new runs queue
behind them. ``dagster_daemon()`` makes sure a daemon runs the queued runs.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobpipeline import settings

# Pool limits dagster.yaml cannot declare in Dagster 1.13 (only a default); set once per instance.
POOL_LIMITS = {"scrape": 5, "duckdb": 1, "enrich": 1}
LOCK_FILE = ".jobpipeline-instance.lock"
DAEMON_LOG = "daemon.log"
CODE_SERVER_LOG = "code-server.log"  # the code server `jobpipeline run` / `backfill` start for their runs
DAEMON_STALE_S = 90  # a daemon heartbeat older than this is a daemon that is not running
DAEMONS_NEEDED = ("QUEUED_RUN_COORDINATOR",)
# How long a command waits, before it stops the daemon it started, for the runs that daemon
# launched on its own and is still executing (``wait_for_daemon_runs``).
DAEMON_RUNS_WAIT_S = 900
# The tags every run a jobpipeline command submits carries (``jobpipeline.cli.submit`` sets them).
# They live here, below submit, because ``reap_dead_runs`` reads the process tag: "<host>:<pid>" of
# the command waiting for the run, so a queued run whose command died is cancelled by the next one
# instead of running with nobody waiting.
CLI_RUN_TAG = "jobpipeline/cli"
CLI_PROCESS_TAG = "jobpipeline/cli_process"


def dagster_home() -> Path:
    """``DAGSTER_HOME``, defaulting to ``<JOBPIPELINE_HOME>/dagster`` seeded with the repo's dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.home() / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and (settings.REPO_DIR / "dagster.yaml").exists():
        shutil.copy(settings.REPO_DIR / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("JOBPIPELINE_HOME", str(settings.home()))  # the UI process writes where `run` does
    return home


@contextmanager
def instance_lock(home: Path) -> Iterator[None]:
    """An exclusive lock on ``<DAGSTER_HOME>/.jobpipeline-instance.lock`` (released if the holder dies)."""
    with open(home / LOCK_FILE, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_pools(instance: Any) -> None:
    """Give the instance our pool limits unless a user already set them (``dagster instance concurrency``)."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    known = set(storage.get_concurrency_keys())
    for pool, limit in POOL_LIMITS.items():
        if pool not in known:
            storage.set_concurrency_slots(pool, limit)


@dataclass(frozen=True)
class ReapedRun:
    run_id: str
    job_name: str
    partition: str | None
    reason: str

    def render(self) -> str:
        return f"{self.job_name}{f' {self.partition}' if self.partition else ''} run {self.run_id}: {self.reason}"


def reap_dead_runs(instance: Any) -> list[ReapedRun]:
    """Mark failed every unfinished run whose worker is gone, and free the pool slots it held;
    cancel the queued runs of a ``jobpipeline`` command that died (nobody waits for them).

    Such a run is not retried by run_retries (it gets ``dagster/max_retries=0`` first): the command
    that reaps it is about to run its work again. A run of a worker that is alive is left alone."""
    import dagster as dg

    from jobpipeline.cli.dagster_private import WorkerStatus, run_worker_health

    reaped = []
    waiting = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=waiting)):
        host, _, pid = run.tags.get(CLI_PROCESS_TAG, "").rpartition(":")
        if host == socket.gethostname() and pid.isdigit() and not _pid_exists(int(pid)):
            why = f"the jobpipeline command that queued it (pid {pid}) is gone"
            instance.report_run_canceled(run, f"jobpipeline: {why}; cancelled")
            reaped.append(ReapedRun(run.run_id, run.job_name, run.tags.get("dagster/partition"), why))
    unfinished = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=unfinished)):
        status, why = run_worker_health(instance, run)
        if status != WorkerStatus.FAILED:
            continue
        latest = instance.get_run_by_id(run.run_id)
        if latest.is_finished:  # it ended while we looked
            continue
        instance.add_run_tags(run.run_id, {"dagster/max_retries": "0"})
        instance.report_run_failed(latest, f"jobpipeline: run worker died ({why}); marked failed")
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reaped.append(ReapedRun(run.run_id, run.job_name, run.tags.get("dagster/partition"), why))
    return reaped


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def descends_from(pid: int, ancestor: int) -> bool:
    """Whether process ``pid`` is ``ancestor`` or runs below it (Linux ``/proc``; False elsewhere or
    once ``pid`` is gone)."""
    seen = set()
    while pid > 1 and pid not in seen:
        if pid == ancestor:
            return True
        seen.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return False
    return False


@contextmanager
def prepared_instance(*, reap: bool = True, echo: bool = True) -> Iterator[Any]:
    """The ``DAGSTER_HOME`` instance, created or migrated once under the lock, with pools set and
    (``reap``) dead runs failed; yields the open instance."""
    import dagster as dg

    home = dagster_home()
    with instance_lock(home):
        instance = dg.DagsterInstance.get()
        try:
            # Touch each storage: on a fresh home this creates its schema, here, under the lock.
            instance.get_runs(limit=1)
            instance.event_log_storage.get_concurrency_keys() if instance.event_log_storage.supports_global_concurrency_limits else None
            instance.get_daemon_heartbeats()
            instance.all_instigator_state()
            ensure_pools(instance)
            reaped = reap_dead_runs(instance) if reap else []
        except BaseException:
            instance.dispose()
            raise
    for run in reaped:
        if echo:
            print(f"cleared a dead run: {run.render()}", flush=True)
    try:
        yield instance
    finally:
        instance.dispose()


# --- the daemon that launches queued runs -----------------------------------------------------


def daemon_running(instance: Any, *, wait_s: float = 0.0) -> bool:
    """Whether a live daemon (e.g. ``jobpipeline dev``'s) runs queued runs on this instance.

    A heartbeat younger than DAEMON_STALE_S may be the last one of a daemon that was just killed;
    with ``wait_s`` such a daemon counts as running only if a newer heartbeat arrives in time."""

    def beats() -> dict[str, float]:
        found = instance.get_daemon_heartbeats()
        return {name: found[name].timestamp for name in DAEMONS_NEEDED if name in found}

    first = beats()
    if len(first) < len(DAEMONS_NEEDED) or any(time.time() - ts > DAEMON_STALE_S for ts in first.values()):
        return False
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if any(ts > first[name] for name, ts in beats().items()):
            return True
        time.sleep(1.0)
    return wait_s == 0.0


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the command dies (Linux), so a SIGKILLed
    ``jobpipeline`` leaves no daemon behind launching runs nobody waits for."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _dagster_daemon_script() -> str:
    """The ``dagster-daemon`` command installed beside this interpreter (the venv's), else on PATH."""
    found = shutil.which("dagster-daemon", path=str(Path(sys.executable).parent)) or shutil.which("dagster-daemon")
    if found is None:
        raise RuntimeError(f"dagster-daemon is not installed beside {sys.executable} nor on PATH: pip install dagster")
    return found


@contextmanager
def dagster_daemon(instance: Any, *, echo: bool = True, wait_s: float = 35.0) -> Iterator[subprocess.Popen | None]:
    """``dagster-daemon run`` on the project's workspace for the duration, unless one already runs
    this instance. It dequeues and launches the runs, monitors them and frees their pool slots."""
    if daemon_running(instance, wait_s=wait_s):
        if echo:
            print("runs are launched by the dagster-daemon already running on this DAGSTER_HOME", flush=True)
        yield None
        return
    log_path = Path(os.environ["DAGSTER_HOME"]) / DAEMON_LOG
    with open(log_path, "ab") as log:
        daemon = subprocess.Popen(
            [_dagster_daemon_script(), "run", "-w", str(settings.REPO_DIR / "workspace.yaml")],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=settings.REPO_DIR,
            # Own session: a Ctrl-C meant for the command must not stop the daemon before the
            # command cancelled its runs through it; it still dies with the command (_die_with_parent).
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    if echo:
        print(f"started dagster-daemon (pid {daemon.pid}; log: {log_path})", flush=True)
    try:
        yield daemon
    finally:
        daemon.terminate()  # the daemon stops its code server and loops on SIGTERM
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        # Its last heartbeats would make the next command wait to see whether a daemon still runs.
        instance.wipe_daemon_heartbeats()


def run_label(run: Any) -> str:
    """How a run is named in a command's output: its partition, else its assets, else its job."""
    if run.tags.get("dagster/partition"):
        return run.tags["dagster/partition"]
    if run.asset_selection:
        return ", ".join(sorted(key.to_user_string() for key in run.asset_selection))
    return run.job_name


def _launched_by(run: Any) -> str:
    tags = run.tags
    for tag, what in (("dagster/sensor_name", "sensor"), ("dagster/schedule_name", "schedule"), ("dagster/backfill", "backfill")):
        if tag in tags:
            return f"{what} {tags[tag]}"
    return "the UI or another client"


def daemon_runs_in_flight(instance: Any, daemon: subprocess.Popen, *, queued: bool = False, known: Iterable[str] = ()) -> list[Any]:
    """The unfinished runs ``daemon`` launched and executes below it (its code server's workers),
    or is launching, that no other ``jobpipeline`` command follows: the runs stopping ``daemon``
    would strand. With ``queued``, also the queued runs nobody else follows (the automation
    sensor's, a UI launch): ``daemon`` is the one that would launch them, at any moment. Runs in
    ``known`` are left out unread (their worker pid is not looked up again)."""
    import dagster as dg

    from jobpipeline.cli.dagster_private import run_worker_pid

    statuses = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
    if queued:
        statuses.append(dg.DagsterRunStatus.QUEUED)
    ours = f"{socket.gethostname()}:{os.getpid()}"
    found, known = [], set(known)
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=statuses)):
        if run.run_id in known or run.tags.get(CLI_PROCESS_TAG, ours) != ours:  # another command's: it waits for its own
            continue
        if run.status == dg.DagsterRunStatus.QUEUED:
            found.append(run)
            continue
        pid = run_worker_pid(instance, run.run_id)
        if pid is None and run.status == dg.DagsterRunStatus.STARTING or pid is not None and descends_from(pid, daemon.pid):
            found.append(run)
    return found


def wait_for_daemon_runs(
    instance: Any, daemon: subprocess.Popen, *, say: Callable[[str], None], timeout_s: float = DAEMON_RUNS_WAIT_S, poll_s: float = 1.0
) -> dict[str, str]:
    """Before a command stops the daemon it started: wait for the runs that daemon is executing.

    The daemon does more than launch the command's runs: its automation sensor requests
    ``enriched_jobs`` after a sync, a schedule may tick, the UI may launch a run. A run it launched
    executes below it (in its code server), so stopping the daemon mid-run strands that run
    STARTED; and a queued one may be launched by it the moment before it stops. This waits, up to
    ``timeout_s``, for every such run, queued or in flight, not followed by another ``jobpipeline``
    command (that one waits for its own). Ctrl-C while waiting raises KeyboardInterrupt as usual.
    Returns run id -> status at the end."""
    followed: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    while True:
        for run in daemon_runs_in_flight(instance, daemon, queued=True, known=followed):
            followed[run.run_id] = run.status.value
            say(f"{run_label(run):<28} waiting  run {run.run_id}: requested by {_launched_by(run)}; the dagster-daemon stops after it")
        unfinished = []
        for run_id, status in list(followed.items()):
            run = instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                unfinished.append(run_id)
            elif run is not None and status != run.status.value:
                followed[run_id] = run.status.value
                say(f"{run_label(run):<28} {run.status.value.lower():<8} run {run_id}")
        if not unfinished:
            return followed
        if daemon.poll() is not None:
            say(f"the dagster-daemon exited ({daemon.returncode}) under run(s) {', '.join(unfinished)}; see {DAEMON_LOG}")
            return followed
        if time.monotonic() > deadline:
            say(f"stopped waiting after {timeout_s:.0f} s for run(s) {', '.join(unfinished)}; the next daemon's run monitoring judges them")
            return followed
        time.sleep(poll_s)
