"""The deployment files, checked without a Docker engine: they parse, Dagster accepts them, and the
services are wired to each other (names, ports, env vars, volumes) the way the code reads them."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobpipeline.settings import REPO_DIR
from jobpipeline_tests.ops.helpers import clean_env

DOCKER = REPO_DIR / "docker"
MODEL = "Qwen/Qwen3-4B-Instruct-2507-FP8"
DAGSTER_SERVICES = ("user-code", "webserver", "daemon", "dagster-init")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _yaml(DOCKER / "docker-compose.yml")


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def _flag(command: list[str], *names: str) -> str:
    """The value after any of ``names`` in an argv."""
    for i, arg in enumerate(command[:-1]):
        if arg in names:
            return command[i + 1]
    raise AssertionError(f"none of {names} in {command}")


def _default(value: str) -> str:
    """What compose makes of ``${VAR:-default}`` when VAR is unset."""
    match = re.fullmatch(r"\$\{\w+:-(.*)\}", value)
    return match.group(1) if match else value


def _instance_config(directory: Path) -> dict[str, Any]:
    """dagster.yaml of ``directory`` as Dagster validates it (raises on unknown or invalid keys)."""
    from dagster._core.instance.config import dagster_instance_config

    config, _ = dagster_instance_config(str(directory), "dagster.yaml")
    return config


# --- dagster.yaml (the one `dagster dev` and `jobpipeline run` use) ---------------------------------


def test_repo_dagster_yaml_sets_queue_pools_retries_and_no_telemetry() -> None:
    config = _instance_config(REPO_DIR)
    assert config["telemetry"]["enabled"] is False
    runs = config["concurrency"]["runs"]
    assert 1 <= runs["max_concurrent_runs"] <= 8
    assert {"key": "dagster/partition/source", "limit": 1, "value": {"applyLimitPerUniqueValue": True}} in runs["tag_concurrency_limits"]
    assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
    assert config["run_retries"]["enabled"] and config["run_retries"]["max_retries"] >= 1
    assert "run_queue" not in config and "run_coordinator" not in config  # 1.13: concurrency: runs


def test_pools_named_by_assets_are_the_ones_pools_sh_sets() -> None:
    from jobpipeline.definitions import defs

    graph = defs().resolve_asset_graph()
    pools = {op.pool for ad in graph.assets_defs if ad.is_executable for op in ad.node_def.iterate_op_defs() if op.pool}
    assert "scrape" in pools
    set_by_script = set(re.findall(r"concurrency set (\w+)", (DOCKER / "pools.sh").read_text()))
    assert pools <= set_by_script | {"duckdb"}, f"pools without a limit in docker/pools.sh: {pools - set_by_script}"
    assert {"scrape", "enrich"} <= pools
    assert set_by_script == {"scrape", "duckdb", "enrich"}


def test_pools_sh_sets_the_pool_limits_on_an_instance(tmp_path: Path) -> None:
    import dagster as dg

    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(REPO_DIR / "dagster.yaml", home / "dagster.yaml")
    done = subprocess.run(
        ["sh", str(DOCKER / "pools.sh")], env=clean_env(DAGSTER_HOME=str(home)), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.event_log_storage.get_concurrency_info("scrape").slot_count == 5
        assert instance.event_log_storage.get_concurrency_info("duckdb").slot_count == 1
        assert instance.event_log_storage.get_concurrency_info("enrich").slot_count == 1
        # a pool nobody set gets dagster.yaml's default_limit
        assert instance.global_op_concurrency_default_limit == 1


def test_jobpipeline_run_seeds_a_fresh_dagster_home_with_the_repo_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dagster as dg

    from jobpipeline.cli.run import dagster_home

    monkeypatch.setenv("JOBPIPELINE_HOME", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = dagster_home()
    assert home == tmp_path / "dagster" and (home / "dagster.yaml").read_text() == (REPO_DIR / "dagster.yaml").read_text()
    with dg.DagsterInstance.get() as instance:
        assert instance.run_retries_enabled
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4


# --- docker/dagster.yaml and docker/workspace.yaml ----------------------------------------------------


def test_docker_dagster_yaml_is_valid_and_keeps_the_repo_settings() -> None:
    docker, repo = _instance_config(DOCKER), _instance_config(REPO_DIR)
    for section in ("telemetry", "concurrency", "run_retries", "run_launcher", "run_monitoring", "python_logs"):
        assert docker[section] == repo[section], f"docker/dagster.yaml's {section} drifted from dagster.yaml"
    db = docker["storage"]["postgres"]["postgres_db"]
    assert db["scheme"] == "postgresql+psycopg2"  # see the comment in docker/dagster.yaml
    assert docker["run_launcher"]["class"] == "MonitoredRunLauncher"  # DefaultRunLauncher + a worker health check


def test_every_dagster_service_gets_the_storage_env_vars(services: dict[str, Any]) -> None:
    text = (DOCKER / "dagster.yaml").read_text()
    needed = set(re.findall(r"\{env: (\w+)\}", text))
    assert needed == {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}
    pg = services["postgres"]["environment"]
    for name in DAGSTER_SERVICES:
        env = services[name]["environment"]
        assert needed <= set(env), f"{name} lacks {needed - set(env)}"
        assert env["DAGSTER_PG_HOST"] == "postgres" and env["DAGSTER_PG_PORT"] == "5432"
        assert (env["DAGSTER_PG_USER"], env["DAGSTER_PG_PASSWORD"], env["DAGSTER_PG_DB"]) == (
            pg["POSTGRES_USER"],
            pg["POSTGRES_PASSWORD"],
            pg["POSTGRES_DB"],
        )


def test_workspace_points_at_the_user_code_server(services: dict[str, Any]) -> None:
    (entry,) = _yaml(DOCKER / "workspace.yaml")["load_from"]
    server = entry["grpc_server"]
    command = services["user-code"]["command"]
    assert server["host"] == "user-code"
    assert str(server["port"]) == _flag(command, "-p", "--port")
    assert server["location_name"] == _flag(command, "--location-name")
    pyproject = tomllib.loads((REPO_DIR / "pyproject.toml").read_text())["tool"]["dagster"]
    assert _flag(command, "-m", "--module-name") == pyproject["module_name"]
    assert server["location_name"] == pyproject["code_location_name"]
    for name in ("webserver", "daemon"):
        assert _flag(services[name]["command"], "-w", "--workspace") == "/opt/dagster/dagster_home/workspace.yaml"


# --- docker-compose.yml ------------------------------------------------------------------------------


def test_compose_has_the_stack_services(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "user-code", "dagster-init", "webserver", "daemon", "vllm"}
    images = {services[n]["image"] for n in DAGSTER_SERVICES}
    assert images == {"jobpipeline:latest"}
    for name in DAGSTER_SERVICES:
        assert services[name]["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("webserver", "daemon"):
        depends = services[name]["depends_on"]
        assert depends["user-code"]["condition"] == "service_healthy"
        assert depends["dagster-init"]["condition"] == "service_completed_successfully"
    assert services["webserver"]["command"][0] == "dagster-webserver"
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    assert services["dagster-init"]["command"] == ["sh", "/opt/dagster/dagster_home/pools.sh"]
    assert "127.0.0.1:3000:3000" in services["webserver"]["ports"]


def test_compute_logs_are_on_a_volume_the_webserver_reads(services: dict[str, Any]) -> None:
    base_dir = _yaml(DOCKER / "dagster.yaml")["compute_logs"]["config"]["base_dir"]
    for name in ("user-code", "webserver"):
        assert f"dagster-logs:{base_dir}" in services[name]["volumes"], name


def test_store_on_postgres_uses_the_database_the_init_script_creates(services: dict[str, Any]) -> None:
    import sqlalchemy as sa

    url = sa.make_url(services["user-code"]["environment"]["JOBPIPELINE_DATABASE_URL"].replace("${POSTGRES_PASSWORD:-dagster}", "x"))
    assert (url.drivername, url.host, url.port, url.username) == ("postgresql+psycopg", "postgres", 5432, "dagster")
    init_sql = "\n".join(p.read_text() for p in (DOCKER / "postgres-init").glob("*.sql"))
    assert f"CREATE DATABASE {url.database}" in init_sql
    assert "./postgres-init:/docker-entrypoint-initdb.d:ro" in services["postgres"]["volumes"]
    optional = tomllib.loads((REPO_DIR / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(dep.startswith("psycopg[binary]") for dep in optional["postgres"])
    assert "[postgres]" in (DOCKER / "Dockerfile").read_text()


def test_vllm_serves_the_fp8_model_on_a_gpu_and_enrichment_points_at_it(services: dict[str, Any]) -> None:
    vllm = services["vllm"]
    assert vllm["entrypoint"] == ["vllm", "serve"] and vllm["command"][0] == MODEL
    assert _flag(vllm["command"], "--port") == "8000" and _flag(vllm["command"], "--host") == "0.0.0.0"
    (device,) = vllm["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    env = services["user-code"]["environment"]
    assert _default(env["JOBPIPELINE_LLM_BACKEND"]) == "openai"
    assert env["JOBPIPELINE_LLM_BASE_URL"] == "http://vllm:8000/v1"
    assert env["JOBPIPELINE_LLM_MODEL"] == _flag(vllm["command"], "--served-model-name") == MODEL
    assert env["JOBPIPELINE_LLM_API_KEY"] == _flag(vllm["command"], "--api-key")


def test_enrichment_resource_reads_the_env_vars_compose_sets(services: dict[str, Any]) -> None:
    """Compose and the enrichment resource must agree on names (skipped until the resource exists)."""
    resources = REPO_DIR / "jobpipeline" / "defs" / "enrich" / "resources.py"
    if not resources.exists():
        pytest.skip("jobpipeline/defs/enrich/resources.py does not exist yet")
    source = "\n".join(p.read_text() for p in [resources, *(REPO_DIR / "jobpipeline").rglob("*.py")] if "LLM" in p.read_text())
    for name in (k for k in services["user-code"]["environment"] if k.startswith("JOBPIPELINE_LLM_")):
        assert name in source, f"docker-compose.yml sets {name}, which no jobpipeline code reads"


def test_dockerfile_copies_only_what_exists_and_is_not_ignored() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, flags=re.M):
        for source in sources.split():
            assert (REPO_DIR / source).exists(), f"Dockerfile copies {source}, which is not in the repository"
            assert source.rstrip("/") in allowed, f"{source} is excluded by Dockerfile.dockerignore"
    assert "USER dagster" in dockerfile and "pip install --no-deps -e ." in dockerfile


def _compose_cli() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_config_accepts_the_file() -> None:
    compose_cli = _compose_cli()
    if compose_cli is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)")
    done = subprocess.run(
        [*compose_cli, "-f", str(DOCKER / "docker-compose.yml"), "config", "--quiet"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


# --- Scaling out: the Helm values and the vLLM deployment --------------------------------------------


def test_helm_values_launch_runs_on_kubernetes_with_the_stack_settings() -> None:
    values = _yaml(DOCKER / "k8s" / "values.yaml")
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["image"]["repository"].endswith("jobpipeline")
    assert deployment["dagsterApiGrpcArgs"][:2] == ["-m", "jobpipeline.definitions"]
    env = {e["name"]: e.get("value") for e in deployment["env"]}
    assert env["JOBPIPELINE_LLM_BACKEND"] == "openai" and env["JOBPIPELINE_LLM_BASE_URL"].startswith("http://vllm")
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    repo = _instance_config(REPO_DIR)
    concurrency = values["concurrency"]
    assert concurrency["enabled"] and concurrency["runs"]["tagConcurrencyLimits"] == repo["concurrency"]["runs"]["tag_concurrency_limits"]
    assert concurrency["pools"] == {"defaultLimit": 1, "granularity": "op"}
    retries = values["dagsterDaemon"]["runRetries"]
    assert (retries["maxRetries"], retries["retryOnAssetOrOpFailure"]) == (
        repo["run_retries"]["max_retries"],
        repo["run_retries"]["retry_on_asset_or_op_failure"],
    )
    assert values["postgresql"]["enabled"] is False  # an external (managed) PostgreSQL
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"

    manifests = list(yaml.safe_load_all((DOCKER / "k8s" / "vllm.yaml").read_text()))
    kinds = {m["kind"]: m for m in manifests}
    assert {"Deployment", "Service"} <= set(kinds)
    container = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert MODEL in container["args"] and container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert kinds["Service"]["metadata"]["name"] == env["JOBPIPELINE_LLM_BASE_URL"].split("//")[1].split(":")[0]
