"""``jobpipeline run`` as a user runs it (its own process): runs with a code-location origin, that
survive crashes of the command and stop as a whole on Ctrl-C."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from jobpipeline_tests.cli.conftest import RUN_STATES_IN_FLIGHT, kill_tree, runs_by_status, start_command, wait_for


def _started_run(dagster_home: Path) -> bool:
    return bool((dagster_home / "dagster.yaml").exists() and runs_by_status(dagster_home).get("STARTED"))


def _all_runs(dagster_home: Path) -> list:
    return [run for runs in runs_by_status(dagster_home).values() for run in runs]


@pytest.mark.slow
def test_run_killed_three_times_mid_run_then_run_again_finishes_and_leaves_no_run_started(home: Path, small_corpus: Path):
    dagster_home = home / "dagster"
    killed_run_ids: set[str] = set()
    logs = []
    for attempt in range(3):
        log = home / f"run-{attempt}.log"
        logs.append(log)
        proc = start_command(home, "run", "--replay", str(small_corpus), "--scrape-only", log=log)
        wait_for(lambda: _started_run(dagster_home), f"a run to start (attempt {attempt})", proc=proc, log=log)
        kill_tree(proc)  # the command, its daemon, code servers and run workers: as a crash would
        killed_run_ids |= {run.run_id for run in _all_runs(dagster_home)}

    last_log = home / "run-last.log"
    proc = start_command(home, "run", "--replay", str(small_corpus), "--scrape-only", log=last_log)
    assert proc.wait(timeout=600) == 0, last_log.read_text()
    output = last_log.read_text()
    assert "boards   3 scraped, 3 ok, 0 failed" in output
    # The code server the command starts logs to its own file, not into the command's output.
    assert "dagster.code_server" not in output and "BetaWarning" not in output, output
    assert "Started Dagster code server" in (dagster_home / "code-server.log").read_text()

    by_status = runs_by_status(dagster_home)
    in_flight = [
        (status, run.run_id)
        for status in RUN_STATES_IN_FLIGHT
        for run in by_status.get(status, [])
        # Runs the daemon's automation queued near the end wait for the next daemon; every
        # run a jobpipeline command submitted has ended.
        if status != "QUEUED" or "jobpipeline/cli_process" in run.tags
    ]
    assert not in_flight, f"runs left unfinished: {in_flight}"
    assert "cleared a dead run" in output
    last_runs = [run for run in by_status.get("SUCCESS", []) if run.run_id not in killed_run_ids]
    assert sorted(run.tags["dagster/partition/source"] for run in last_runs) == ["ashby", "lever"]
    for run in last_runs:  # first-class runs: the UI finds their job and can re-execute them
        assert run.job_name == "daily_scrape_job"
        assert run.remote_job_origin is not None and run.job_code_origin is not None
        assert run.remote_job_origin.repository_origin.code_location_origin.location_name == "jobpipeline"
    for run_id in killed_run_ids:
        assert any(run.run_id == run_id for status in ("FAILURE", "CANCELED", "SUCCESS") for run in by_status.get(status, []))
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert not instance.event_log_storage.get_concurrency_info("scrape").claimed_slots


@pytest.mark.slow
def test_ctrl_c_cancels_the_runs_in_flight_and_says_what_had_finished(home: Path, small_corpus: Path):
    dagster_home = home / "dagster"
    log = home / "run.log"
    proc = start_command(home, "run", "--replay", str(small_corpus), log=log)
    wait_for(lambda: _started_run(dagster_home), "a run to start", proc=proc, log=log)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends the command
    assert proc.wait(timeout=300) == 130, log.read_text()
    output = log.read_text()
    assert "Ctrl-C: cancelling" in output and "INTERRUPTED: finished" in output
    runs = _all_runs(dagster_home)
    assert not [run.run_id for run in runs if run.status.value in RUN_STATES_IN_FLIGHT]
    assert "downstream_job" not in {run.job_name for run in runs}  # the command stopped as a whole


def _automation_run_in_flight(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    in_flight = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=in_flight, tags={"dagster/sensor_name": "default_automation_condition_sensor"}))
    return runs[0] if runs else None


@contextlib.contextmanager
def _session_while_the_sensor_enriches(home: Path, corpus: Path) -> Iterator[tuple[dg.DagsterInstance, object, dg.DagsterRun]]:
    """A command's run session (with its own daemon) that synced one board, held open until the
    daemon's automation sensor has launched ``enriched_jobs`` for that sync: (instance, session, that run)."""
    from jobpipeline.cli.instance import prepared_instance
    from jobpipeline.cli.run import SCRAPE_JOB, _board_endpoints
    from jobpipeline.cli.submit import run_session
    from jobpipeline.defs.scrape.partitions import board_partition_key

    day = datetime.now(UTC).date().isoformat()
    with prepared_instance() as instance:
        with _board_endpoints("replay", corpus) as boards, run_session(instance, tag="daemon-runs") as session:
            assert session.daemon is not None, "the session must have started its own daemon"
            config = {"resources": {"job_boards": {"config": boards}}}
            (scrape,) = session.wait([session.submit(SCRAPE_JOB, config, partition_key=str(board_partition_key(day, "lever")))])
            assert scrape.success
            # The sensor (every 30 s) sees `jobs` updated and launches enriched_jobs.
            launched = wait_for(lambda: _automation_run_in_flight(instance), "the automation sensor to launch enriched_jobs", timeout_s=180)
            yield instance, session, launched
            daemon = session.daemon
        assert daemon.poll() is not None, "the session stops the daemon it started"
        in_flight = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]))
        assert not in_flight, [(r.job_name, r.status.value) for r in in_flight]


@pytest.mark.slow
def test_a_command_stops_the_daemon_it_started_only_after_the_runs_that_daemon_launched_itself(
    home: Path, small_corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    """The daemon a command starts runs the automation sensor too, which requests enriched_jobs
    after the command's sync. Stopping that daemon under the sensor's run left the run STARTED
    (seen in the postgres tier: `jobpipeline run` returned while an `__ASSET_JOB` run was in flight).

    That run, which nobody configured, executes its steps in its run worker's process (the project's
    executor): Dagster's default started one process per step and check, each importing the
    definitions again, and a scheduled day's runs outlived the UI tier's timeout in CI."""
    monkeypatch.setenv("JOBPIPELINE_LLM_BACKEND", "rules")
    with _session_while_the_sensor_enriches(home, small_corpus) as (instance, _, launched):
        pass  # leave the session the moment that run is in flight, as `jobpipeline run` may
    after = instance.get_run_by_id(launched.run_id)
    assert after.status == dg.DagsterRunStatus.SUCCESS, f"the sensor's run was left {after.status.value}"
    steps = instance.all_logs(launched.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    assert "enriched_jobs" in {e.step_key for e in steps}, [e.step_key for e in steps]
    step_processes = instance.all_logs(launched.run_id, of_type=dg.DagsterEventType.STEP_WORKER_STARTING)
    assert not step_processes, [e.step_key for e in step_processes]
    out = capsys.readouterr().out
    assert f"enriched_jobs                waiting  run {launched.run_id}: requested by sensor default_automation_condition_sensor" in out, (
        out
    )
    assert f"enriched_jobs                success  run {launched.run_id}" in out, out


@pytest.mark.slow
def test_ctrl_c_also_cancels_the_runs_the_commands_daemon_launched_itself(home: Path, small_corpus: Path, monkeypatch: pytest.MonkeyPatch):
    """Ctrl-C stops the command as a whole: the sensor's run its daemon executes is cancelled too,
    not stranded STARTED when that daemon stops."""
    monkeypatch.setenv("JOBPIPELINE_LLM_BACKEND", "rules")
    with _session_while_the_sensor_enriches(home, small_corpus) as (instance, session, launched):
        records = session.cancel_all()  # what `jobpipeline run` does on Ctrl-C
        assert ("enriched_jobs", launched.run_id) in [(r.label, r.run_id) for r in records]
    after = instance.get_run_by_id(launched.run_id)
    assert after.is_finished, f"the sensor's run was left {after.status.value}"
