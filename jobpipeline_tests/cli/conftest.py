"""Helpers for tests that run ``jobpipeline`` as a user does: a separate process, killed at will."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jobpipeline_tests.conftest import CORPUS, ctrl_c_as_in_a_terminal

RUN_STATES_IN_FLIGHT = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """Three real recorded boards: two Ashby, one Lever."""
    corpus = tmp_path / "corpus"
    for src in [*sorted((CORPUS / "ashby").glob("*.json"))[:2], CORPUS / "lever" / "palantir.json"]:
        dest = corpus / src.parent.name / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dest)
    return corpus


def command_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBPIPELINE_", "DAGSTER_"))}
    env.update(JOBPIPELINE_HOME=str(home), DAGSTER_HOME=str(home / "dagster"), JOBPIPELINE_LLM_BACKEND="rules")
    return env


def start_command(home: Path, *args: str, log: Path) -> subprocess.Popen:
    """``jobpipeline <args>`` as its own process (output to ``log``)."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from jobpipeline.cli import entry; entry()", *args],
            env=command_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=ctrl_c_as_in_a_terminal,
        )


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc), children first found last."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL the command and everything it started (its daemon, code servers, run workers): a crash."""
    for pid in descendants(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def runs_by_status(dagster_home: Path) -> dict[str, list]:
    """The instance's runs by status. Opened under the CLI's instance lock: a test polling a fresh
    home while the command creates its storage is one more racer (it corrupted SQLite's alembic
    table once, as two unlocked first commands do)."""
    import dagster as dg

    from jobpipeline.cli.instance import instance_lock

    by_status: dict[str, list] = {}
    with instance_lock(dagster_home), dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for run in instance.get_runs():
            by_status.setdefault(run.status.value, []).append(run)
    return by_status


def wait_for(predicate, what: str, timeout_s: float = 240.0, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"command exited ({proc.returncode}) before {what}:\n{log.read_text() if log else ''}")
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}" + (f":\n{log.read_text()}" if log else ""))
