"""Starting and stopping the programs the operations tiers drive, as a user would run them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from jobpipeline_tests.conftest import ctrl_c_as_in_a_terminal

VENV_BIN = Path(sys.executable).parent
MARKER = "JOBPIPELINE_TEST_PROCESS"  # set in every process a test starts, to find its descendants


def cli(*args: str) -> list[str]:
    """The argv of a console script of this environment (``jobpipeline``, ``dagster``, …)."""
    return [str(VENV_BIN / args[0]), *args[1:]]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the pipeline's own settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBPIPELINE_", "DAGSTER_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["JOBPIPELINE_LLM_BACKEND"] = "rules"  # enrichment without a model server
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def marked_pids(tag: str) -> list[int]:
    """Live processes whose environment carries ``MARKER=tag`` (they may have left the group)."""
    needle = f"{MARKER}={tag}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@contextlib.contextmanager
def process_group(argv: list[str], *, env: dict[str, str], log: Path, cwd: Path, grace_s: float = 15.0) -> Iterator[subprocess.Popen]:
    """Run ``argv`` in its own session; on exit (failure included) interrupt it, then kill the group
    and anything else carrying this run's marker, and wait until none is left."""
    tag = uuid.uuid4().hex
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            env={**env, MARKER: tag},
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=ctrl_c_as_in_a_terminal,
        )
    try:
        yield proc
    finally:
        stop_group(proc, tag, grace_s)


def stop_group(proc: subprocess.Popen, tag: str, grace_s: float) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # `dagster dev` shuts its children down on SIGINT
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    kill_marked(tag)


def kill_marked(tag: str, strict: bool = True) -> None:
    """Kill every process carrying ``tag``; with ``strict``, fail if any survives 10 s."""
    deadline = time.monotonic() + 10
    while (left := marked_pids(tag)) and time.monotonic() < deadline:
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    if strict and (left := marked_pids(tag)):
        raise AssertionError(f"processes left running after the test: {left}")


CHROMIUM_FLAGS = (  # Debian's chromium headless, with nothing that reaches beyond this machine
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1600,1200",
)


@contextlib.contextmanager
def chromium(profile_dir: Path, chromium_path: str, driver_path: str) -> Iterator[object]:
    """A selenium session on Debian's chromium through its own chromedriver (never a download),
    with both processes marked so none outlives the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    tag = uuid.uuid4().hex
    options = webdriver.ChromeOptions()
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    options.binary_location = chromium_path
    service = Service(executable_path=driver_path, env={**os.environ, MARKER: tag, "SE_OFFLINE": "true"})
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()
        kill_marked(tag, strict=False)


WALL_CLOCK = {"synced_at", "duration_s", "created_at"}  # when, not what: differs between any two runs


def store_snapshot(url: str | sa.URL) -> dict[str, list[tuple]]:
    """Every table of the store's schema keyed by natural keys: a job id becomes the job's canonical
    posting (source, board, source_job_id), and wall-clock columns are left out."""
    from sqlmodel import SQLModel

    from jobpipeline.lib.store import Job, create_schema

    engine = sa.create_engine(url)
    try:
        create_schema(engine)  # idempotent; imports every module that adds tables to the metadata
        job = Job.__table__
        snapshot: dict[str, list[tuple]] = {}
        with engine.connect() as conn:
            canonical = {
                r.id: (r.source, r.board, r.source_job_id)
                for r in conn.execute(sa.select(job.c.id, job.c.source, job.c.board, job.c.source_job_id))
            }
            for table in SQLModel.metadata.sorted_tables:
                if table.name == "store_change":  # the change feed: a log of writes (per plan, wall-clocked, SQLite only), not state
                    continue
                rows = []
                for row in conn.execute(sa.select(table)).mappings():
                    values = []
                    for column, value in row.items():
                        if column in WALL_CLOCK or (table is job and column == "id"):
                            continue
                        values.append((column, canonical[value] if column == "job_id" else _plain(value)))
                    rows.append(tuple(values))
                snapshot[table.name] = sorted(rows, key=repr)
    finally:
        engine.dispose()
    return snapshot


def _plain(value: Any) -> Any:
    """One representation per value whatever the driver returned (aware datetimes as naive UTC)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value
