"""The replay server answers each API's own paths from a corpus, and the shipped corpus is what it claims."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jobpipeline.lib.replay import CORPUS, ROUTE_BUILDERS, Fault, ReplayServer, build_corpus, corpus_boards, register_kind
from jobpipeline.lib.replay.corpus import CorpusFile
from jobpipeline.lib.sources import ADAPTERS
from jobpipeline.settings import REPO_DIR, replay_corpus_dir
from jobpipeline_tests.conftest import ctrl_c_as_in_a_terminal

HTTP = httpx.Client(timeout=10)  # one client: a fresh one per call would rebuild its TLS context each time


def test_boards_lists_every_recording_by_kind_and_token(replay: ReplayServer):
    boards = replay.boards()
    assert len(boards) == len(corpus_boards())
    assert ("workday", "nvidia/NVIDIAExternalCareerSite") in boards
    assert ("ashby", "Xlabs") in boards  # case kept: Ashby board names are case-sensitive
    assert set(replay.base_urls) == set(ADAPTERS)  # every ATS kind, served by its registered routes
    assert replay.base_urls["lever"] == f"http://127.0.0.1:{replay.port}/lever"


def test_greenhouse_capture_record_is_served_in_the_apis_own_shape(replay: ReplayServer):
    body = HTTP.get(f"{replay.base_urls['greenhouse']}/v1/boards/lattice/jobs", params={"content": "true"}).json()
    assert set(body) == {"jobs", "meta"} and body["meta"] == {"total": 9} and len(body["jobs"]) == 9
    stripe = HTTP.get(f"{replay.base_urls['greenhouse']}/v1/boards/stripe/jobs").json()
    assert stripe["meta"] == {"total": 572} and len(stripe["jobs"]) == 12  # the API's body, served as recorded


def test_ashby_body_is_served_byte_for_byte(replay: ReplayServer):
    response = HTTP.get(f"{replay.base_urls['ashby']}/posting-api/job-board/answersnow?includeCompensation=true")
    assert response.content == (replay_corpus_dir() / "ashby" / "answersnow.json").read_bytes()
    assert response.headers["content-type"] == "application/json"


def test_lever_and_smartrecruiters_page_through_the_recorded_list(replay: ReplayServer):
    lever = f"{replay.base_urls['lever']}/v0/postings/palantir"
    assert len(HTTP.get(lever, params={"mode": "json"}).json()) == 10
    page = HTTP.get(lever, params={"mode": "json", "skip": 8, "limit": 5}).json()
    recorded = json.loads((replay_corpus_dir() / "lever" / "palantir.json").read_bytes())
    assert [p["id"] for p in page] == [p["id"] for p in recorded[8:]]
    sr = HTTP.get(f"{replay.base_urls['smartrecruiters']}/v1/companies/WesternDigital/postings", params={"offset": 6, "limit": 3})
    body = sr.json()
    assert (body["offset"], body["limit"], body["totalFound"], len(body["content"])) == (6, 3, 10, 3)


def test_workday_is_a_post_with_the_total_on_the_first_page_only(replay: ReplayServer):
    url = f"{replay.base_urls['workday']}/wday/cxs/nvidia/NVIDIAExternalCareerSite/jobs"
    first = HTTP.post(url, json={"appliedFacets": {}, "limit": 4, "offset": 0, "searchText": ""}).json()
    later = HTTP.post(url, json={"appliedFacets": {}, "limit": 4, "offset": 8, "searchText": ""}).json()
    # 10 recorded on the list page, and 2 postings whose details are recorded (listed by their own fields)
    assert (first["total"], len(first["jobPostings"])) == (12, 4)
    assert (later["total"], len(later["jobPostings"])) == (0, 4)
    assert HTTP.get(url).status_code == 405


def test_unknown_board_is_a_404(replay: ReplayServer):
    response = HTTP.get(f"{replay.base_urls['ashby']}/posting-api/job-board/nobody")
    assert response.status_code == 404 and "no recording for ashby/nobody" in response.text


def test_injected_faults_are_served_once_each_in_order(clean_replay: ReplayServer):
    url = f"{clean_replay.base_urls['ashby']}/posting-api/job-board/pawp"
    clean_replay.inject("ashby", "pawp", [Fault(status=429, retry_after=7), Fault.html(), Fault.truncated()])
    first, second, third, fourth = (HTTP.get(url) for _ in range(4))
    assert (first.status_code, first.headers["retry-after"]) == (429, "7")
    assert second.status_code == 200 and second.text.startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError):
        json.loads(third.content)
    assert len(third.content) == len(fourth.content) // 2
    assert fourth.json()["jobs"]


def test_latency_and_seeded_random_failures(ats_corpus: Path):
    with ReplayServer(ats_corpus, latency_ms=150, fail_rate=1.0) as server:
        started = time.perf_counter()
        response = HTTP.get(f"{server.base_urls['ashby']}/posting-api/job-board/pawp")
        assert time.perf_counter() - started >= 0.15
        assert response.status_code == 503
        assert HTTP.get(f"http://127.0.0.1:{server.port}/healthz").json()["ok"] is True  # not a board: no faults


def test_a_new_kind_registers_with_one_line_and_gets_faults(tmp_path: Path):
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "one.json").write_text('{"hello": 1}')

    def build_echo(kind_dir: Path) -> list[Route]:
        async def item(request: Request) -> JSONResponse:
            return JSONResponse(json.loads((kind_dir / f"{request.path_params['token']}.json").read_text()))

        return [Route("/v0/item/{token}.json", item)]

    register_kind("echo", build_echo)
    try:
        with ReplayServer(tmp_path) as server:
            assert server.boards() == [("echo", "one")]
            server.inject("echo", "one", Fault(status=503))
            url = f"{server.base_urls['echo']}/v0/item/one.json"
            assert HTTP.get(url).status_code == 503
            assert HTTP.get(url).json() == {"hello": 1}
    finally:
        del ROUTE_BUILDERS["echo"]


def test_folders_of_unknown_kinds_are_not_served(tmp_path: Path):
    (tmp_path / "mystery").mkdir()
    (tmp_path / "mystery" / "x.json").write_text("{}")
    with ReplayServer(tmp_path) as server:
        assert server.kinds == [] and server.boards() == []


def test_build_corpus_copies_bytes_and_writes_provenance(tmp_path: Path):
    source = tmp_path / "realdata"
    (source / "lever").mkdir(parents=True)
    recording = b'[{"id": "x", "text": "Engineer"}]\n'
    (source / "lever" / "acme.trimmed1.json").write_bytes(recording)
    (source / "SOURCES.md").write_text(
        "| file | repo | path | commit | API / URL | captured | postings |\n|---|---|---|---|---|---|---|\n"
        "| `lever/acme.trimmed1.json` | someone/repo | `fixtures/acme.json` | `abc123` | Lever | 2026-01-01 | 1 |\n"
    )
    out = tmp_path / "corpus"
    build_corpus(source, out, [CorpusFile("lever", "acme", "Acme", "lever/acme.trimmed1.json", "trimmed")])
    assert (out / "lever" / "acme.json").read_bytes() == recording
    sources = (out / "SOURCES.md").read_text()
    assert "| `lever/acme.json` | `lever/acme.trimmed1.json` | someone/repo | `fixtures/acme.json` | `abc123` |" in sources
    with pytest.raises(FileNotFoundError, match="lever/gone.json"):
        build_corpus(source, out, [CorpusFile("lever", "gone", "Gone", "lever/gone.json")])


def test_shipped_corpus_is_the_manifest_with_provenance_and_a_few_mb():
    corpus = replay_corpus_dir()
    sources = (corpus / "SOURCES.md").read_text()
    total = 0
    for f in CORPUS:
        path = corpus / f.path
        assert path.is_file(), f.path
        assert f"| `{f.path}` | `{f.source}` | " in sources
        assert "| ? |" not in sources
        total += path.stat().st_size
    assert {f.ats for f in CORPUS} == set(ADAPTERS)
    assert len(CORPUS) >= 50 and total < 4_000_000


def test_cli_serve_prints_base_urls_and_stops_on_ctrl_c(ats_corpus: Path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from jobpipeline.cli import main; sys.exit(main())",
            "replay",
            "serve",
            "--dir",
            str(ats_corpus),
            "--latency-ms",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_DIR,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[0].startswith(f"replaying {len(corpus_boards())} boards from"), lines
        url = re.search(r"ashby\s+(http://127\.0\.0\.1:\d+/ashby)", "".join(lines)).group(1)
        assert HTTP.get(f"{url}/posting-api/job-board/pawp").json()["jobs"]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()  # not left serving after the test
            process.wait()
            raise
        assert code == 0, process.stderr.read()
