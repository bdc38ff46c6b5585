"""Crash recovery of the Dagster instance the CLI drives: dead run workers, racing first runs."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg

from jobpipeline_tests.cli.conftest import command_env, wait_for

# A run that takes a `scrape` pool slot and holds it, executed in its own process as the old
# in-process `jobpipeline run` did: SIGKILL it and the run is a zombie, STARTED with the slot.
HOLDER = textwrap.dedent("""
    import time
    import dagster as dg

    @dg.op(pool="scrape")
    def hold_slot():
        time.sleep(600)

    @dg.job
    def holder():
        hold_slot()

    with dg.DagsterInstance.get() as instance:
        holder.execute_in_process(instance=instance)
""")


def _claimed_scrape_slots(instance: dg.DagsterInstance) -> int:
    return len(instance.event_log_storage.get_concurrency_info("scrape").claimed_slots)


def test_a_run_whose_worker_was_killed_is_failed_and_its_pool_slot_freed(home: Path, capsys):
    from jobpipeline.cli.dagster_private import MonitoredRunLauncher, WorkerStatus, run_worker_health
    from jobpipeline.cli.instance import prepared_instance

    with prepared_instance():  # fresh home: pools set (scrape: 5)
        pass
    script = home / "holder.py"
    script.write_text(HOLDER)
    holder = subprocess.Popen([sys.executable, str(script)], env=command_env(home))
    try:
        with dg.DagsterInstance.get() as instance:
            wait_for(lambda: _claimed_scrape_slots(instance), "the holder run to claim a scrape slot", proc=holder)
            (run,) = instance.get_runs()
            assert run.status == dg.DagsterRunStatus.STARTED
            assert run_worker_health(instance, run)[0] == WorkerStatus.RUNNING
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            # What the daemon's run monitoring asks the launcher of dagster.yaml:
            launcher = instance.run_launcher
            assert isinstance(launcher, MonitoredRunLauncher)
            health = launcher.check_run_worker_health(instance.get_run_by_id(run.run_id))
            assert health.status == WorkerStatus.FAILED and f"pid {holder.pid}" in health.msg
    finally:
        if holder.poll() is None:
            holder.kill()
    with prepared_instance() as instance:  # what every jobpipeline command does first
        after = instance.get_run_by_id(run.run_id)
        assert after.status == dg.DagsterRunStatus.FAILURE
        assert _claimed_scrape_slots(instance) == 0
        assert after.tags["dagster/max_retries"] == "0"  # the command reruns the work itself
    out = capsys.readouterr().out
    assert f"cleared a dead run: holder run {run.run_id}" in out and f"pid {holder.pid}" in out


def test_a_live_worker_is_left_alone(home: Path):
    from jobpipeline.cli.instance import prepared_instance

    with prepared_instance():
        pass
    script = home / "holder.py"
    script.write_text(HOLDER)
    holder = subprocess.Popen([sys.executable, str(script)], env=command_env(home))
    try:
        with dg.DagsterInstance.get() as instance:
            wait_for(lambda: _claimed_scrape_slots(instance), "the holder run to claim a scrape slot", proc=holder)
        with prepared_instance() as instance:
            (run,) = instance.get_runs()
            assert run.status == dg.DagsterRunStatus.STARTED and _claimed_scrape_slots(instance) == 1
    finally:
        holder.kill()
        holder.wait()


RACER = textwrap.dedent("""
    import sys
    import dagster as dg
    from jobpipeline.cli.instance import prepared_instance

    print("ready", flush=True)
    sys.stdin.readline()  # every racer starts at once
    with prepared_instance(echo=False) as instance:
        @dg.op
        def one():
            return 1

        @dg.job
        def tiny():
            one()

        assert tiny.execute_in_process(instance=instance).success
""")


def test_first_commands_racing_on_a_fresh_home_create_the_instance_once(home: Path):
    """Several commands starting at once on a fresh DAGSTER_HOME: one creates the storage, under the
    lock; every one succeeds and each SQLite database has exactly one alembic head."""
    script = home / "racer.py"
    script.write_text(RACER)
    racers = [
        subprocess.Popen(
            [sys.executable, str(script)], env=command_env(home), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(4)
    ]
    for racer in racers:  # all imported and waiting...
        assert racer.stdout.readline().strip() == b"ready"
    for racer in racers:  # ...released together
        racer.stdin.write(b"go\n")
        racer.stdin.flush()
    outputs = [racer.communicate(timeout=300)[0].decode() for racer in racers]
    assert [r.returncode for r in racers] == [0, 0, 0, 0], "\n".join(outputs)
    databases = list((home / "dagster").rglob("*.db"))
    assert databases
    for db in databases:
        with sqlite3.connect(db) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "alembic_version" in tables:
                assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1, db
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        assert len(instance.get_runs()) == 4
