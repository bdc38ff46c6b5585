"""The one module that imports Dagster's private API: every name it uses, checked against the
installed Dagster, so an upgrade that moves or changes one fails here and not inside a run."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pytest

from jobpipeline import settings


def test_every_private_dagster_name_the_cli_uses_is_still_there():
    import dagster

    import jobpipeline.cli.dagster_private as private

    assert dagster.__version__.startswith("1.13."), "re-check jobpipeline/cli/dagster_private.py against this Dagster"
    assert private.GRPC_INFO_TAG == ".dagster/grpc_info"
    from dagster._serdes import serialize_value

    answer = serialize_value(private.GetCurrentRunsResult(current_runs=["r1"], serializable_error_info=None))
    assert private.deserialize_value(answer, private.GetCurrentRunsResult).current_runs == ["r1"]
    assert callable(private.DagsterGrpcClient.get_current_runs)
    assert {s.name for s in private.WorkerStatus} >= {"RUNNING", "FAILED", "SUCCESS", "UNKNOWN"}
    assert list(private.CheckRunHealthResult._fields[:2]) == ["status", "msg"]
    assert {"supports_check_run_worker_health", "check_run_worker_health", "launch_run", "terminate"} <= set(
        dir(private.DefaultRunLauncher)
    )
    selector = private.JobSubsetSelector(location_name="l", repository_name="r", job_name="j", op_selection=None)
    assert (selector.location_name, selector.repository_name, selector.job_name) == ("l", "r", "j")
    assert "instance" in inspect.signature(private.WorkspaceProcessContext).parameters
    (origin,) = private.WorkspaceFileTarget(paths=[str(settings.REPO_DIR / "workspace.yaml")]).create_origins()
    assert origin.location_name == "jobpipeline"
    backfill_params = set(inspect.signature(private.PartitionBackfill.from_asset_partitions).parameters)
    assert {"backfill_id", "asset_graph", "partition_names", "asset_selection", "tags", "title", "run_config"} <= backfill_params
    assert private.BULK_ACTION_TERMINAL_STATUSES and private.make_new_backfill_id()
    # The pid the health check reads is logged with this message by the code server's run worker.
    impl = Path(inspect.getfile(private.DagsterGrpcClient)).with_name("impl.py").read_text()
    assert f'f"{private._WORKER_STARTED_PREFIX}{{pid}})."' in impl
    from dagster._core.remote_representation.code_location import CodeLocation

    for method in ("get_job", "get_execution_plan", "get_partition_tags_from_repo", "get_repositories"):
        assert callable(getattr(CodeLocation, method)), method
    create_run = set(inspect.signature(dagster.DagsterInstance.create_run).parameters)
    assert {"remote_job_origin", "job_code_origin", "job_snapshot", "execution_plan_snapshot", "asset_graph"} <= create_run


def test_the_repo_dagster_yaml_monitors_runs_with_a_worker_health_check(tmp_path: Path):
    import dagster as dg

    from jobpipeline.cli.dagster_private import MonitoredRunLauncher

    shutil.copy(settings.REPO_DIR / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.run_launcher, MonitoredRunLauncher)
        assert instance.run_launcher.supports_check_run_worker_health
        assert instance.run_monitoring_enabled
        assert 0 < instance.run_monitoring_start_timeout_seconds <= 300
        assert 0 < instance.run_monitoring_cancel_timeout_seconds <= 300
        assert instance.run_monitoring_max_resume_run_attempts == 0  # fail, then run_retries relaunches
        assert 0 < instance.run_monitoring_settings["free_slots_after_run_end_seconds"] <= 300
        assert instance.run_monitoring_settings["poll_interval_seconds"] <= 60


@pytest.mark.parametrize("yaml_dir", ["", "docker"])
def test_both_instance_configs_load_the_launcher_by_its_module(yaml_dir: str):
    import yaml

    config = yaml.safe_load((settings.REPO_DIR / yaml_dir / "dagster.yaml").read_text())
    assert config["run_launcher"] == {"module": "jobpipeline.cli.dagster_private", "class": "MonitoredRunLauncher"}
