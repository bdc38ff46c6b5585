"""An LLM service that is down, overloaded or refuses the key: the jobs stay pending, nothing is
cached, and the next run (server back) sends them again. Against a real HTTP server on 127.0.0.1
that speaks the OpenAI chat-completions protocol, answering with the rules extractor's JSON."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from jobpipeline.defs.enrich.assets import PENDING_CHECK, enriched_jobs
from jobpipeline.defs.enrich.resources import LLMResource
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.extract import cache
from jobpipeline.lib.extract.backends.openai_backend import OpenAIBackend, OpenAIConfig
from jobpipeline.lib.extract.enrich import enrich_jobs, read_jobs
from jobpipeline.lib.extract.rules import extract_rules
from jobpipeline_tests.enrich.helpers import insert_jobs, job_inputs


class FakeLLMServer:
    """A chat-completions server whose answer is set per test: ``ok`` (valid JSON), or an HTTP status."""

    def __init__(self) -> None:
        self.mode: str | int = "ok"
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.requests += 1
                if server.mode != "ok":
                    self._send(int(server.mode), {"error": {"message": f"status {server.mode} by the test"}})
                    return
                json.loads(body)
                answer = extract_rules("Engineer", "Berlin", "Python").model_dump_json()
                self._send(
                    200,
                    {
                        "choices": [{"message": {"content": answer}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
                    },
                )

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def llm_server():
    server = FakeLLMServer()
    yield server
    server.close()


def refused_url() -> str:
    """A URL on a port nobody listens on: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def backend(url: str) -> OpenAIBackend:
    return OpenAIBackend(OpenAIConfig(base_url=url, model="outage-test", retries=1, concurrency=4))


@pytest.mark.parametrize("status", [503, 429, 401, 403])
def test_an_erroring_server_leaves_jobs_pending_and_the_next_run_sends_them(engine, ashby_postings, llm_server, status) -> None:
    jobs = job_inputs(ashby_postings[:6])
    llm_server.mode = status
    down = enrich_jobs(engine, jobs, backend(llm_server.url))
    assert cache.load(engine) == []  # nothing remembered: a service failure says nothing about the posting
    assert (down.enriched, down.failed, down.pending, down.cached) == (0, 0, 6, 0)
    assert str(status) in next(iter(down.pending_reasons.values()))
    assert down.retried == 0  # not re-asked for a "different answer": the service failed, not the answer

    llm_server.mode = "ok"
    sent_before = llm_server.requests
    back = enrich_jobs(engine, jobs, backend(llm_server.url))
    assert (back.enriched, back.cached, back.failed, back.pending) == (6, 0, 0, 0)
    assert llm_server.requests - sent_before == 6
    assert {r["status"] for r in cache.load(engine)} == {cache.STATUS_OK}


def test_a_refused_connection_leaves_jobs_pending_and_the_next_run_sends_them(engine, ashby_postings, llm_server) -> None:
    jobs = job_inputs(ashby_postings[:5])
    down = enrich_jobs(engine, jobs, backend(refused_url()))
    assert cache.load(engine) == []
    assert (down.pending, down.failed, down.cached) == (5, 0, 0) and down.pending_share == 1.0
    assert "ConnectError" in next(iter(down.pending_reasons.values()))
    back = enrich_jobs(engine, jobs, backend(llm_server.url))
    assert (back.enriched, back.cached) == (5, 0) and llm_server.requests == 5


def test_an_answer_invalid_twice_is_still_cached_as_failed(engine, ashby_postings, llm_server) -> None:
    """The outage rule must not swallow real failures: a 400 (the posting's fault) is remembered."""
    jobs = job_inputs(ashby_postings[:2])
    llm_server.mode = 400
    result = enrich_jobs(engine, jobs, backend(llm_server.url))
    assert (result.failed, result.pending, result.retried) == (2, 0, 2)
    assert {r["status"] for r in cache.load(engine)} == {cache.STATUS_FAILED}
    assert enrich_jobs(engine, jobs, backend(llm_server.url)).cached == 2


def test_the_asset_reports_pending_jobs_and_its_check_warns_without_failing_the_run(tmp_path, engine, ashby_postings, llm_server) -> None:
    insert_jobs(engine, ashby_postings[:8])
    store = StoreResource(database_url=str(engine.url))
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        down = dg.materialize(
            [enriched_jobs],
            instance=instance,
            resources={"store": store, "llm": LLMResource(backend="openai", base_url=refused_url(), model="outage-test")},
        )
        back = dg.materialize(
            [enriched_jobs],
            instance=instance,
            resources={"store": store, "llm": LLMResource(backend="openai", base_url=llm_server.url, model="outage-test")},
        )
    assert down.success and back.success
    meta = down.asset_materializations_for_node("enriched_jobs")[0].metadata
    assert (meta["pending_transient"].value, meta["failed"].value, meta["enriched"].value) == (8, 0, 0)
    (check,) = down.get_asset_check_evaluations()
    assert check.check_name == PENDING_CHECK and not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    again = back.asset_materializations_for_node("enriched_jobs")[0].metadata
    assert (again["enriched"].value, again["cached"].value, again["pending_transient"].value) == (8, 0, 0)
    assert back.get_asset_check_evaluations()[0].passed
    assert {r["status"] for r in cache.load(engine)} == {cache.STATUS_OK} and len(cache.load(engine)) == 8
    assert all(j.description == "" for j in read_jobs(engine, "outage-test"))  # now cached: not read again


def test_the_projects_llm_resource_reads_its_settings_when_the_run_starts(tmp_path, engine, ashby_postings, monkeypatch) -> None:
    """JOBPIPELINE_LLM_* set after the definitions were imported still reach the run: the project's
    ``llm`` resource reads them when it builds its backend (a deployment changes them without a
    code change, a test without reimporting). Here they point it at a server that is down."""
    from jobpipeline.definitions import defs as load_defs

    project = load_defs()  # definitions loaded before the settings change
    insert_jobs(engine, ashby_postings[:3])
    monkeypatch.setenv("JOBPIPELINE_LLM_BACKEND", "openai")
    monkeypatch.setenv("JOBPIPELINE_LLM_BASE_URL", refused_url())
    monkeypatch.setenv("JOBPIPELINE_LLM_MODEL", "settings-test")
    monkeypatch.setenv("JOBPIPELINE_DATABASE_URL", str(engine.url))
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        result = dg.materialize(
            [enriched_jobs], instance=instance, resources={"store": project.resources["store"], "llm": project.resources["llm"]}
        )
    meta = result.asset_materializations_for_node("enriched_jobs")[0].metadata
    assert (meta["backend"].value, meta["model"].value) == ("openai", "settings-test")
    assert (meta["pending_transient"].value, meta["enriched"].value) == (3, 0)
