"""Tier ``vllm``: real vLLM (the CPU build) on SmolLM2-135M-Instruct, offline and as a server.

Set up by ``bash jobpipeline_tests/install_cpu_vllm.sh`` (``.ci/run`` calls it). Skipped only
when vllm is not installed. Small budgets keep the tier to a few minutes on 2 cores: the point is
that the real engine, constrained decoding, the cache and the HTTP path work, not the answers of
a 135M model.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from jobpipeline.lib.extract import cache
from jobpipeline.lib.extract.enrich import enrich_jobs
from jobpipeline.lib.extract.schema import JobFields
from jobpipeline_tests.enrich.helpers import job_inputs
from jobpipeline_tests.vllm_serve import vllm_serve_argv

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm not installed (tier vllm installs it)"),
]

# Small enough for 2 CPU cores: short descriptions, a 1K context, bounded answers.
CPU_CONFIG = {"max_model_len": 1024, "gpu_memory_utilization": 0.3, "max_tokens": 512, "max_description_tokens": 96}


@pytest.fixture(scope="module")
def model_dir() -> Path:
    from jobpipeline.lib.extract.model_prep import default_model_dir, prepare_model

    path = Path(os.environ.get("JOBPIPELINE_TEST_MODEL_DIR") or default_model_dir())
    return prepare_model(path)


def test_vllm_backend_enriches_real_postings_and_a_second_run_makes_no_model_call(engine, ashby_postings, model_dir) -> None:
    from jobpipeline.lib.extract.backends.vllm_backend import VllmBackend, VllmConfig

    jobs = job_inputs(ashby_postings[:30])
    backend = VllmBackend(VllmConfig(model=str(model_dir), **CPU_CONFIG))
    try:
        first = enrich_jobs(engine, jobs, backend)
        print(f"\nvllm cpu: {first.as_metadata()}")
        assert (first.cached, first.enriched + first.failed) == (0, 30)  # every job went to the model
        rows = cache.load(engine, model=str(model_dir))
        ok = [r for r in rows if r["status"] == "ok"]
        for row in ok:  # every stored answer reads back from its columns as a valid JobFields
            JobFields.model_validate({name: row[name] for name in JobFields.model_fields})
        assert len(ok) == 30, [r["error"] for r in rows if r["status"] != "ok"]
        calls = backend.calls
        second = enrich_jobs(engine, jobs, backend)
        assert (second.enriched, second.cached) == (0, 30)
        assert backend.calls == calls  # zero model calls
    finally:
        backend.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vllm_server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """``vllm serve`` on 127.0.0.1 with the CPU model; yields its /v1 base URL."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("vllm-serve") / "server.log"
    command = vllm_serve_argv(model_dir, port, max_model_len=1024)
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 420
            while time.monotonic() < deadline:
                if server.poll() is not None:
                    pytest.fail(f"vllm serve exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(2)
            else:
                pytest.fail(f"vllm serve not healthy in 420 s:\n{log_path.read_text()[-3000:]}")
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()


def test_openai_backend_against_a_local_vllm_server(engine, ashby_postings, model_dir, vllm_server) -> None:
    from jobpipeline.lib.extract.backends.openai_backend import OpenAIBackend, OpenAIConfig

    backend = OpenAIBackend(
        OpenAIConfig(
            base_url=vllm_server, model="smollm2", max_tokens=512, concurrency=4, tokenizer=str(model_dir), max_description_tokens=96
        )
    )
    jobs = job_inputs(ashby_postings[30:36])
    result = enrich_jobs(engine, jobs, backend)
    print(f"\nopenai → vllm serve: {result.as_metadata()}")
    assert result.enriched == 6, result.failures
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    assert enrich_jobs(engine, jobs, backend).cached == 6
