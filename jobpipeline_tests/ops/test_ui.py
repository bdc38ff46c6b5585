"""The Dagster UI, tested from outside: `dagster dev` on 127.0.0.1 with private homes, driven over
GraphQL and in headless Chromium, as a user would from the README.

Needs Debian's chromium + chromedriver and selenium: ``bash jobpipeline_tests/ops/setup_chromium.sh``.
Screenshots go to ``$JOBPIPELINE_TEST_ARTIFACTS/<test>/`` (else the test's tmp_path).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from jobpipeline.settings import REPO_DIR
from jobpipeline_tests.ops.helpers import chromium, clean_env, cli, free_port, process_group

pytestmark = [
    pytest.mark.ui,
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gql.*"),  # dagster_graphql's client on gql 4
    pytest.mark.filterwarnings("ignore:Non-compliant tag keys:DeprecationWarning"),  # Dagster's own partition tags
]

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
LOCATION, REPOSITORY = "jobpipeline", "__repository__"
SCRAPE_JOB, DOWNSTREAM_JOB = "daily_scrape_job", "downstream_job"
RUN_TIMEOUT_S = 420
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass
class DagsterUI:
    url: str
    port: int
    home: Path  # JOBPIPELINE_HOME
    log: Path
    runs: dict[str, str] = field(default_factory=dict)  # partition key or job name → run id

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=60)
        response.raise_for_status()
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


def _defs():
    from jobpipeline.definitions import defs

    return defs()


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterUI]:
    """`dagster dev` over the repository's workspace.yaml and dagster.yaml, pools set by docker/pools.sh."""
    root = tmp_path_factory.mktemp("ui")
    home, dagster_home = root / "data", root / "data" / "dagster"
    dagster_home.mkdir(parents=True)
    shutil.copy(REPO_DIR / "dagster.yaml", dagster_home / "dagster.yaml")  # as `jobpipeline run` seeds it
    env = clean_env(JOBPIPELINE_HOME=str(home), DAGSTER_HOME=str(dagster_home))
    pools = subprocess.run(["sh", str(REPO_DIR / "docker" / "pools.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert pools.returncode == 0, pools.stdout + pools.stderr

    port = free_port()
    argv = cli("dagster", "dev", "-w", str(REPO_DIR / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port))
    log = root / "dagster-dev.log"
    with process_group(argv, env=env, log=log, cwd=REPO_DIR) as proc:
        ui = DagsterUI(url=f"http://127.0.0.1:{port}", port=port, home=home, log=log)
        _wait_until_loaded(ui, proc)
        ui.graphql("mutation { setNuxSeen }")  # the first-visit newsletter dialog would cover the pages
        yield ui


def _wait_until_loaded(ui: DagsterUI, proc: subprocess.Popen, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"
    status = "not started"
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"dagster dev exited ({proc.returncode}):\n{ui.log_tail()}"
        try:
            entries = ui.graphql(query)["workspaceOrError"]["locationEntries"]
        except (httpx.HTTPError, KeyError, TypeError):
            time.sleep(1)
            continue
        status = entries
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            errors = [e for e in entries if e["locationOrLoadError"]["__typename"] == "PythonError"]
            assert not errors, f"code location failed to load: {errors}"
            return
        time.sleep(1)
    raise AssertionError(f"dagster dev not ready after {timeout_s} s ({status}):\n{ui.log_tail()}")


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _corpus_sources() -> list[str]:
    """The sources the shipped corpus can replay (those the UI's scrape runs can materialize)."""
    from jobpipeline.defs.resources import ReplayJobBoards
    from jobpipeline.defs.scrape.partitions import SOURCES

    boards = ReplayJobBoards()
    return [s for s in SOURCES if boards.boards(s)]


@pytest.fixture(scope="module")
def materialized(dagster_ui: DagsterUI) -> DagsterUI:
    """Today's scrape → jobs for every replayable source, launched through the run queue as the UI
    launches a partition (with its partition tags), then downstream_job if defs has one; all polled
    to a terminal status."""
    from dagster_graphql import DagsterGraphQLClient

    from jobpipeline.defs.scrape.partitions import board_partition_key, board_partitions

    client = DagsterGraphQLClient("127.0.0.1", port_number=dagster_ui.port, timeout=60)
    for source in _corpus_sources():
        key = str(board_partition_key(_today(), source))
        tags = dict(board_partitions.get_tags_for_partition_key(key))
        dagster_ui.runs[key] = client.submit_job_execution(SCRAPE_JOB, LOCATION, REPOSITORY, tags=tags)
    _wait_for_runs(dagster_ui, client, list(dagster_ui.runs.values()))
    if DOWNSTREAM_JOB in {j.name for j in _defs().resolve_all_job_defs()}:
        dagster_ui.runs[DOWNSTREAM_JOB] = client.submit_job_execution(DOWNSTREAM_JOB, LOCATION, REPOSITORY)
        _wait_for_runs(dagster_ui, client, [dagster_ui.runs[DOWNSTREAM_JOB]])
    return dagster_ui


def _wait_for_runs(ui: DagsterUI, client: Any, run_ids: list[str]) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    status: dict[str, str] = {}
    while time.monotonic() < deadline:
        status = {run_id: client.get_run_status(run_id).value for run_id in run_ids}
        if set(status.values()) <= TERMINAL:
            break
        time.sleep(2)
    failed = {r: s for r, s in status.items() if s != "SUCCESS"}
    if failed:
        raise AssertionError(f"runs not successful: {failed}\n{_run_errors(ui, list(failed))}\n{ui.log_tail()}")


def _run_errors(ui: DagsterUI, run_ids: list[str]) -> str:
    query = """query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events {
        __typename ... on MessageEvent { message } ... on ExecutionStepFailureEvent { error { message } } } } } }"""
    out = []
    for run_id in run_ids:
        events = ui.graphql(query, runId=run_id)["logsForRun"].get("events", [])
        out += [f"{run_id[:8]} {e.get('message')} {e.get('error') or ''}" for e in events if "Failure" in e["__typename"]]
    return "\n".join(out[-20:])


# --- over GraphQL -------------------------------------------------------------------------------

ASSET_NODES = """{ assetNodes { assetKey { path } groupName isPartitioned
    partitionDefinition { type dimensionTypes { name type } } } }"""

PARTITION_TYPES = {  # Dagster class → GraphQL PartitionDefinitionType
    "TimeWindowPartitionsDefinition": "TIME_WINDOW",
    "DailyPartitionsDefinition": "TIME_WINDOW",
    "WeeklyPartitionsDefinition": "TIME_WINDOW",
    "MonthlyPartitionsDefinition": "TIME_WINDOW",
    "HourlyPartitionsDefinition": "TIME_WINDOW",
    "StaticPartitionsDefinition": "STATIC",
    "MultiPartitionsDefinition": "MULTIPARTITIONED",
    "DynamicPartitionsDefinition": "DYNAMIC",
}


def test_every_asset_of_defs_is_listed_with_its_group_and_partitions(dagster_ui: DagsterUI) -> None:
    graph = _defs().resolve_asset_graph()
    expected = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        partitions = node.partitions_def
        dims = sorted(d.name for d in partitions.partitions_defs) if type(partitions).__name__ == "MultiPartitionsDefinition" else []
        expected["/".join(key.path)] = (node.group_name, PARTITION_TYPES.get(type(partitions).__name__) if partitions else None, dims)
    assert {"raw_postings", "jobs"} <= set(expected)

    listed = {}
    for node in dagster_ui.graphql(ASSET_NODES)["assetNodes"]:
        partitions = node["partitionDefinition"]
        listed["/".join(node["assetKey"]["path"])] = (
            node["groupName"],
            partitions["type"] if node["isPartitioned"] else None,
            sorted(d["name"] for d in partitions["dimensionTypes"]) if partitions and partitions["type"] == "MULTIPARTITIONED" else [],
        )
    assert listed == expected
    assert listed["raw_postings"] == ("scrape", "MULTIPARTITIONED", ["date", "source"])


def test_schedules_and_sensors_of_defs_are_listed(dagster_ui: DagsterUI) -> None:
    repo = _defs().get_repository_def()
    data = dagster_ui.graphql(
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { name schedules { name cronSchedule } sensors { name } } } } }"
    )
    (node,) = data["repositoriesOrError"]["nodes"]
    assert {s["name"] for s in node["schedules"]} == {s.name for s in repo.schedule_defs}
    assert {s["name"] for s in node["sensors"]} == {s.name for s in repo.sensor_defs}
    assert {"name": "daily_scrape_schedule", "cronSchedule": "0 6 * * *"} in node["schedules"]


def test_instance_runs_the_queue_and_pools_of_dagster_yaml(dagster_ui: DagsterUI) -> None:
    data = dagster_ui.graphql("""{ instance {
        runQueuingSupported runQueueConfig { maxConcurrentRuns tagConcurrencyLimitsYaml }
        poolConfig { poolGranularity defaultPoolLimit }
        scrape: concurrencyLimit(concurrencyKey: "scrape") { slotCount }
        duckdb: concurrencyLimit(concurrencyKey: "duckdb") { slotCount } } }""")["instance"]
    assert data["runQueuingSupported"]
    assert data["runQueueConfig"]["maxConcurrentRuns"] == 4
    assert "dagster/partition/source" in data["runQueueConfig"]["tagConcurrencyLimitsYaml"]
    assert data["poolConfig"] == {"poolGranularity": "op", "defaultPoolLimit": 1}
    assert (data["scrape"]["slotCount"], data["duckdb"]["slotCount"]) == (5, 1)  # docker/pools.sh


def test_todays_scrape_runs_succeed_one_per_source(materialized: DagsterUI) -> None:
    query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status tags { key value } } } }"
    scrape_runs = {k: v for k, v in materialized.runs.items() if k != DOWNSTREAM_JOB}
    assert len(scrape_runs) >= 3
    for key, run_id in scrape_runs.items():
        run = materialized.graphql(query, id=run_id)["runOrError"]
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert run["status"] == "SUCCESS"
        # the run queue's per-source limit keys on this tag
        assert (tags["dagster/partition/date"], tags["dagster/partition/source"]) == tuple(key.split("|"))


MATERIALIZATIONS = """query($path: [String!]!, $partitions: [String!]) { assetOrError(assetKey: {path: $path}) {
    ... on Asset { assetMaterializations(partitions: $partitions) { partition runId metadataEntries { label __typename
        ... on IntMetadataEntry { intValue } ... on FloatMetadataEntry { floatValue } ... on BoolMetadataEntry { boolValue }
        ... on TextMetadataEntry { text } ... on PathMetadataEntry { path } ... on MarkdownMetadataEntry { mdStr } } } } } }"""


def _metadata(ui: DagsterUI, asset: str, partition: str | None = None) -> dict[str, Any]:
    """The latest materialization's metadata of ``asset`` (in ``partition``), label → value."""
    variables: dict[str, Any] = {"path": asset.split("/"), "partitions": [partition] if partition else None}
    events = ui.graphql(MATERIALIZATIONS, **variables)["assetOrError"]["assetMaterializations"]
    assert events, f"no materialization of {asset} {partition or ''}"
    entries = events[0]["metadataEntries"]
    return {e["label"]: next((v for k, v in e.items() if k not in ("label", "__typename")), None) for e in entries}


def test_materializations_carry_the_promised_metadata(materialized: DagsterUI) -> None:
    new_jobs, last_total = 0, 0
    for key in (k for k in materialized.runs if k != DOWNSTREAM_JOB):
        scrape = _metadata(materialized, "raw_postings", key)
        assert {"boards", "boards_ok", "boards_failed", "postings", "bytes", "board_outcomes", "mode"} <= set(scrape)
        assert scrape["boards_ok"] == scrape["boards"] > 0 and scrape["boards_failed"] == 0, (key, scrape)
        assert scrape["postings"] > 0 and scrape["mode"] == "replay"
        jobs = _metadata(materialized, "jobs", key)
        assert {"new", "changed", "unchanged", "closed", "jobs_in_store", "open_jobs_in_store", "partitions_synced"} <= set(jobs)
        assert jobs["partitions_synced"] == 1 and 0 < jobs["new"] <= scrape["postings"]
        new_jobs += jobs["new"]
        last_total = max(last_total, jobs["jobs_in_store"])
    # A fresh store: every job was new once, and the store holds exactly those.
    engine = sa.create_engine(f"sqlite:///{materialized.home / 'jobpipeline.db'}")
    with engine.connect() as conn:
        in_store = conn.exec_driver_sql("SELECT count(*) FROM job").scalar()
    engine.dispose()
    assert new_jobs == last_total == in_store

    if DOWNSTREAM_JOB in materialized.runs:
        downstream = _defs().resolve_job_def(DOWNSTREAM_JOB)
        for key in downstream.asset_layer.selected_asset_keys:
            assert _metadata(materialized, "/".join(key.path)), f"{key.to_user_string()} has no metadata"


# --- in Chromium ----------------------------------------------------------------------------------


def _page_text(driver: Any) -> str:
    return driver.execute_script("return document.body ? document.body.innerText : ''") or ""


def _shown(name: str, text: str, truncated_ok: bool) -> bool:
    """``name`` is on the page, or (graph nodes at low zoom) middle-truncated the way the UI does it,
    e.g. ``company_…_velocity`` for ``company_hiring_velocity``."""
    if name in text:
        return True
    if not truncated_ok:
        return False
    for token in text.split():
        head, sep, tail = token.partition("\u2026")
        if sep and head and tail and name.startswith(head) and name.endswith(tail) and len(head) + len(tail) < len(name):
            return True
    return False


def _wait_for_names(driver: Any, names: set[str], timeout_s: float = 60, truncated_ok: bool = False) -> set[str]:
    """Waits until every name shows in the page's text; returns the ones still missing."""
    deadline = time.monotonic() + timeout_s
    missing = set(names)
    while time.monotonic() < deadline:
        text = _page_text(driver)
        missing = {n for n in names if not _shown(n, text, truncated_ok)}
        if not missing:
            break
        time.sleep(0.5)
    return missing


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Debian chromium + chromium-driver: jobpipeline_tests/ops/setup_chromium.sh"
)
def test_asset_catalog_and_graph_render_every_asset_in_chromium(materialized: DagsterUI, artifacts_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("selenium", reason="needs selenium: jobpipeline_tests/ops/setup_chromium.sh")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    names = {key.path[-1] for key in _defs().resolve_asset_graph().get_all_asset_keys()}
    with chromium(tmp_path / "chromium-profile", CHROMIUM, CHROMEDRIVER) as driver:
        driver.set_window_size(1600, 2400)  # the catalog table renders only the rows in view
        driver.get(f"{materialized.url}/assets")
        missing = _wait_for_names(driver, names)
        _wait_for_names(driver, {"partitions"}, timeout_s=5)
        time.sleep(2)  # statuses arrive after the names; the picture is for people
        driver.save_screenshot(str(artifacts_dir / "asset-catalog.png"))
        assert not missing, f"asset catalog lacks {sorted(missing)}; screenshot in {artifacts_dir}"
        assert "Catalog" in _page_text(driver)

        driver.set_window_size(1600, 1200)
        driver.get(f"{materialized.url}/asset-groups")
        assert not _wait_for_names(driver, {"Global asset lineage"})
        if _wait_for_names(driver, names, timeout_s=10, truncated_ok=True):
            # groups start collapsed to their names: ⌥E expands them all, as in the UI's menu
            ActionChains(driver).key_down(Keys.ALT).send_keys("e").key_up(Keys.ALT).perform()
        missing = _wait_for_names(driver, names, truncated_ok=True)
        time.sleep(1)  # let the graph finish its zoom-to-fit before the picture
        driver.save_screenshot(str(artifacts_dir / "asset-graph.png"))
        assert not missing, f"asset graph lacks {sorted(missing)}; screenshot in {artifacts_dir}"

    for png in ("asset-catalog.png", "asset-graph.png"):
        assert (artifacts_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
