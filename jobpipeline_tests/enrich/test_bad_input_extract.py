"""``jobpipeline extract`` on bad lines, and secrets that an LLM server repeats in its errors.

The OpenAI-compatible server here is a real HTTP server on 127.0.0.1 that answers every request
with 401 (or the status its path names: ``/400/v1``) and an error body repeating the request's
Authorization header and key, as some gateways do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from jobpipeline.lib.extract.backends.openai_backend import OpenAIBackend, OpenAIConfig
from jobpipeline.lib.extract.enrich import enrich_jobs
from jobpipeline_tests.enrich.helpers import insert_jobs

API_KEY = "sk-test-4f9c2e7d1a6b3058"
CLI = [sys.executable, "-c", "import sys; from jobpipeline.cli import main; sys.exit(main())", "extract"]


class EchoingUnauthorized(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization", "")
        body = json.dumps(
            {
                "error": {
                    "message": f"Incorrect API key provided: {auth.removeprefix('Bearer ')}",
                    "request_headers": {"Authorization": auth},
                }
            }
        ).encode()
        self.send_response(int(self.path.split("/")[1]) if self.path.split("/")[1].isdigit() else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def unauthorized_llm() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingUnauthorized)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def run_extract(stdin: bytes, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, env={**os.environ, **(env or {})}, timeout=300)


def test_extract_writes_one_line_per_input_line_with_error_objects_and_exits_1(ashby_postings):
    good = [json.dumps({k: p[k] for k in ("title", "location", "description")}).encode() for p in ashby_postings[:2]]
    lines = [
        good[0],
        b'{"title": 5, "description": "x"}',
        b"not json",
        b'{"title": "Caf\xe9 manager"}',  # Latin-1 inside a string: not UTF-8
        b'["a list"]',
        good[1],
    ]
    done = run_extract(b"\n".join(lines) + b"\n", "--backend", "rules")

    assert done.returncode == 1, done.stderr.decode()
    assert b"Traceback" not in done.stderr
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(records) == len(lines)
    assert "skills" in records[0] and "skills" in records[5]
    assert records[1] == {"line": 2, "error": "line 2: title: expected a string"}
    assert records[2]["line"] == 3 and records[2]["error"].startswith("line 3: not JSON")
    assert records[3] == {"line": 4, "error": "line 4: not UTF-8 (byte 0xe9 at column 15)"}
    assert records[4]["line"] == 5 and "expected a JSON object" in records[4]["error"]


def test_extract_cleans_lone_surrogates_and_markup_before_extraction():
    line = json.dumps({"title": "Python \ud800Engineer <script>x()</script>", "description": "&lt;b&gt;Go&lt;/b&gt; and Rust"})
    done = run_extract(line.encode() + b"\n", "--backend", "rules")
    assert done.returncode == 0, done.stderr.decode()
    (record,) = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert {"Python", "Go", "Rust"} <= set(record["skills"])
    assert record["summary"] == "Python Engineer"


def test_extract_refuses_the_api_key_on_the_command_line():
    done = run_extract(b"", "--backend", "openai", "--api-key", API_KEY)
    assert done.returncode == 2
    assert done.stderr.decode().startswith("jobpipeline extract: --api-key is not accepted") and b"Traceback" not in done.stderr


def test_extract_takes_the_key_from_the_environment_and_never_prints_it(unauthorized_llm, ashby_postings):
    line = json.dumps({k: ashby_postings[0][k] for k in ("title", "location", "description")})
    done = run_extract(
        line.encode() + b"\n", "--backend", "openai", "--base-url", unauthorized_llm, env={"JOBPIPELINE_LLM_API_KEY": API_KEY}
    )
    assert done.returncode == 1
    (record,) = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert "HTTP 401" in record["error"] and "Incorrect API key provided: [REDACTED]" in record["error"]
    assert API_KEY not in done.stdout.decode() + done.stderr.decode()


def test_an_error_body_repeating_the_key_is_stored_and_reported_redacted(engine, unauthorized_llm, ashby_postings):
    """A 400 is the answer's failure, cached with its error text; a 401 leaves the jobs pending (issue 10):
    either way the key and the Authorization header never reach the store or the result."""
    jobs = insert_jobs(engine, ashby_postings[:3])
    bad_request = unauthorized_llm.replace("/v1", "/400/v1")
    cached = enrich_jobs(engine, jobs, OpenAIBackend(OpenAIConfig(base_url=bad_request, api_key=API_KEY, model="m", retries=0)))
    assert cached.failed == 3
    pending_jobs = insert_jobs(engine, ashby_postings[3:5])
    pending = enrich_jobs(
        engine, pending_jobs, OpenAIBackend(OpenAIConfig(base_url=unauthorized_llm, api_key=API_KEY, model="m", retries=0))
    )
    assert pending.pending == 2

    with engine.connect() as conn:
        errors = [row.error for row in conn.execute(sa.text("SELECT error FROM enrichment"))]
    assert len(errors) == 3 and all("HTTP 400" in e for e in errors)
    stored = json.dumps(errors) + json.dumps(cached.failures) + json.dumps(pending.pending_reasons)
    assert "HTTP 401" in json.dumps(pending.pending_reasons)
    assert API_KEY not in stored and API_KEY[:20] not in stored
    assert '\\"Authorization\\": \\"Bearer [REDACTED]\\"' in stored
