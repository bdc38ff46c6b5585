"""HTTP behaviour of a scrape against the replay server: retries, Retry-After, failures, concurrency."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from jobpipeline.lib.boards import Board
from jobpipeline.lib.http import HttpSession, HttpSettings, make_client, parse_retry_after
from jobpipeline.lib.replay import CORPUS, Fault, ReplayServer, corpus_boards
from jobpipeline.lib.scrape import BoardResult, scrape_boards

FAST = HttpSettings(retries=3, backoff_base_s=0.01, backoff_cap_s=0.05, retry_after_cap_s=5)
STRIPE = Board("greenhouse", "stripe", "Stripe")
LATTICE = Board("greenhouse", "lattice", "Lattice")
ANSWERSNOW = Board("ashby", "answersnow", "AnswersNow")


def scrape(boards, base_urls, settings=FAST, **kwargs) -> list[BoardResult]:
    async def go():
        async with make_client(settings) as client:
            return await scrape_boards(boards, client=client, base_urls=base_urls, settings=settings, **kwargs)

    return asyncio.run(go())


def test_429_and_503_with_retry_after_are_retried_then_succeed(clean_replay: ReplayServer):
    clean_replay.inject("greenhouse", "stripe", [Fault(status=429, retry_after=1), Fault(status=503, retry_after=0)])
    before = clean_replay.stats.requests[("greenhouse", "stripe")]
    [result] = scrape([STRIPE], clean_replay.base_urls)
    assert result.ok, result.error
    assert (result.http_status, result.n_postings, result.requests) == (200, 12, 3)
    starts = clean_replay.stats.started_at[("greenhouse", "stripe")][before:]
    assert len(starts) == 3
    assert starts[1] - starts[0] >= 0.95  # waited what Retry-After asked, not the 10 ms backoff
    assert starts[2] - starts[1] < 0.9


def test_retry_after_longer_than_the_cap_is_cut_to_the_cap(clean_replay: ReplayServer):
    clean_replay.inject("ashby", "answersnow", Fault(status=429, retry_after=3600))
    settings = HttpSettings(retries=1, backoff_base_s=0.01, retry_after_cap_s=0.1)
    started = time.perf_counter()
    [result] = scrape([ANSWERSNOW], clean_replay.base_urls, settings)
    assert result.ok and result.requests == 2
    assert time.perf_counter() - started < 2


def test_broken_boards_are_recorded_as_failed_while_the_others_land(clean_replay: ReplayServer):
    clean_replay.inject("ashby", "pawp", Fault.html(), sticky=True)
    clean_replay.inject("ashby", "boon", Fault.truncated(), sticky=True)
    clean_replay.inject("greenhouse", "faire", Fault(status=503), sticky=True)
    boards = corpus_boards() + [Board("greenhouse", "no-such-board", "Nobody")]
    seen: list[str] = []
    results = {r.key: r for r in scrape(boards, clean_replay.base_urls, on_result=lambda r: seen.append(r.key))}

    assert sorted(seen) == sorted(results)  # on_result saw every board once
    failed = {key: r for key, r in results.items() if not r.ok}
    assert set(failed) == {"ashby/pawp", "ashby/boon", "greenhouse/faire", "greenhouse/no-such-board"}
    assert failed["ashby/pawp"].http_status == 200 and "expected JSON, got HTML" in failed["ashby/pawp"].error
    assert "invalid or truncated JSON" in failed["ashby/boon"].error
    assert failed["greenhouse/no-such-board"].http_status == 404
    assert failed["greenhouse/no-such-board"].requests == 1  # a 404 is not retried
    assert "HTTP 404 from GET http://127.0.0.1" in failed["greenhouse/no-such-board"].error
    assert failed["greenhouse/faire"].http_status == 503
    assert failed["greenhouse/faire"].requests == FAST.retries + 1
    assert all(r.postings == [] and r.n_postings == 0 for r in failed.values())
    landed = [r for r in results.values() if r.ok]
    assert len(landed) == len(corpus_boards()) - 3
    assert sum(r.n_postings for r in landed) > 500


def test_connection_refused_is_retried_then_recorded(unused_port: int):
    settings = HttpSettings(retries=2, backoff_base_s=0.01, backoff_cap_s=0.02)
    [result] = scrape([LATTICE], {"greenhouse": f"http://127.0.0.1:{unused_port}/greenhouse"}, settings)
    assert not result.ok and result.http_status is None
    assert result.requests == 3
    assert result.error.startswith("ConnectError on GET http://127.0.0.1:")


def test_an_answer_slower_than_the_timeout_is_retried_then_recorded_as_a_timeout(ats_corpus):
    settings = HttpSettings(timeout_s=0.2, retries=1, backoff_base_s=0.01, backoff_cap_s=0.02)
    with ReplayServer(ats_corpus, latency_ms=1000) as slow:
        started = time.perf_counter()
        [result] = scrape([LATTICE], slow.base_urls, settings)
        assert time.perf_counter() - started < 1.5  # two attempts cut at 0.2 s, not two waits of 1 s
    assert not result.ok and result.http_status is None and result.requests == 2
    assert result.error.startswith("ReadTimeout on GET http://127.0.0.1:") and "no answer within 0.2s" in result.error


def test_unknown_ats_fails_only_its_board(clean_replay: ReplayServer):
    results = scrape([Board("nosuchats", "acme", "Acme"), LATTICE], clean_replay.base_urls)
    assert [r.ok for r in results] == [False, True]
    assert "no source adapter for ATS 'nosuchats'" in results[0].error


@pytest.mark.parametrize(("max_concurrency", "per_host", "bound"), [(4, 16, 4), (16, 3, 3)])
def test_concurrency_stays_within_the_overall_and_per_host_bounds(ats_corpus, max_concurrency, per_host, bound):
    settings = HttpSettings(max_concurrency=max_concurrency, per_host=per_host)
    boards = [f.board for f in CORPUS if f.ats == "ashby"][:24]
    with ReplayServer(ats_corpus, latency_ms=100) as server:
        results = scrape(boards, server.base_urls, settings)
        assert all(r.ok for r in results)
        assert 1 < server.stats.max_in_flight <= bound  # concurrent, and never past the bound


def test_results_come_back_in_board_order_with_sizes_and_durations(clean_replay: ReplayServer):
    boards = [ANSWERSNOW, LATTICE, STRIPE]
    results = scrape(boards, clean_replay.base_urls)
    assert [(r.source, r.board) for r in results] == [(b.ats, b.token) for b in boards]
    for r in results:
        assert r.n_bytes == sum(len(b) for b in r.raw_bodies) > 0
        assert r.duration_s > 0
        assert r.summary()["n_postings"] == r.n_postings == len(r.postings)


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_environments_proxy_is_used_and_no_proxy_bypasses_it(clean_replay: ReplayServer, monkeypatch):
    # The board's host does not resolve; only the proxy (the replay server, which routes a request
    # by its path) can answer. aiohttp ignores the environment unless told; HttpSession reads it.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{clean_replay.port}")
    monkeypatch.setenv("NO_PROXY", "")
    unresolvable = {"greenhouse": "http://boards.invalid/greenhouse"}
    [result] = scrape([STRIPE], unresolvable)
    assert result.ok, result.error
    assert result.n_postings == 12

    monkeypatch.setenv("NO_PROXY", "boards.invalid")
    [bypassed] = scrape([STRIPE], unresolvable, HttpSettings(retries=0))
    assert not bypassed.ok and bypassed.error.startswith("ConnectError on GET http://boards.invalid/")


def test_an_answer_with_a_12_kib_header_is_read():
    # A raw HTTP/1.1 server on 127.0.0.1: the replay server cannot send such a header.
    body = b'{"ok": true}'
    header = b"x" * 12 * 1024

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Security-Policy: " + header)
        writer.write(b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    async def go() -> bytes:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, make_client(FAST) as client:
            return await HttpSession(client, FAST).fetcher().get(f"http://127.0.0.1:{port}/jobs")

    assert asyncio.run(go()) == body


def test_a_scrape_that_only_fetches_and_parses_never_loads_polars(clean_replay: ReplayServer):
    """Polars (~24 MB, a fifth of a 1,000-board scrape's peak) loads only where postings become a
    frame: the scraper, the adapters, their details and the sanitizer do without it."""
    import json
    import subprocess
    import sys

    script = (
        "import asyncio, json, sys\n"
        "from jobpipeline.lib.http import HttpSettings, make_client\n"
        "from jobpipeline.lib.replay import corpus_boards\n"
        "from jobpipeline.lib.scrape import scrape_boards\n"
        "async def go(base_urls):\n"
        "    async with make_client(HttpSettings()) as client:\n"
        "        return await scrape_boards(corpus_boards(), client=client, base_urls=base_urls, settings=HttpSettings())\n"
        "results = asyncio.run(go(json.loads(sys.argv[1])))\n"
        "print(json.dumps([sum(r.ok for r in results), sum(r.n_postings for r in results), 'polars' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, json.dumps(clean_replay.base_urls)], capture_output=True, text=True, check=True)
    ok, postings, polars_loaded = json.loads(out.stdout)
    assert ok == len(corpus_boards()) and postings > 500
    assert not polars_loaded
