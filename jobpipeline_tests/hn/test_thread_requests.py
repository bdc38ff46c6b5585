"""How many requests a month costs: Algolia's items endpoint gives a whole thread in one request,
Firebase (one request per comment) is only the fallback. Requests are counted at the replay server.

2011-04 is the only thread recorded from Algolia. For the others, ``both_apis`` serves the recorded
2020-02 Firebase bodies *and* a simulated Algolia body built from them (``simulated_algolia_item``),
so both APIs answer for one thread and their postings can be compared.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobpipeline.lib.hn import MonthResult, ThreadUnavailableError, fetch_month
from jobpipeline.lib.http import HttpSession, HttpSettings, make_client
from jobpipeline.lib.replay import ReplayServer
from jobpipeline.lib.replay.routes_hn import simulated_algolia_item
from jobpipeline.lib.replay.server import Fault
from jobpipeline_tests.hn.conftest import HN_DIR

STORY_2020_02 = 22225314
ALGOLIA_ITEM_2020_02 = f"/hn/api/v1/items/{STORY_2020_02}"


def run_month(month: str, server: ReplayServer, **kwargs) -> MonthResult:
    """``fetch_month`` against ``server`` without retries (a failing API gives way at once)."""
    base = server.base_urls["hn"]

    async def go() -> MonthResult:
        settings = HttpSettings(max_concurrency=16, per_host=16, retries=0)
        async with make_client() as client:
            return await fetch_month(month, client=HttpSession(client, settings), algolia_base=base, firebase_base=base, **kwargs)

    return asyncio.run(go())


def requests_to(server: ReplayServer, prefix: str) -> int:
    return sum(n for path, n in server.stats.paths.items() if path.startswith(prefix))


def comment_requests(server: ReplayServer) -> dict[str, int]:
    """Requests for a thread's comments, per API (discovery's search pages not counted)."""
    return {"algolia": requests_to(server, "/hn/api/v1/items/"), "firebase": requests_to(server, "/hn/v0/item/")}


@pytest.fixture(scope="module")
def both_apis(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped corpus plus a simulated Algolia items body of 2020-02 (from its recorded Firebase bodies)."""
    root = tmp_path_factory.mktemp("both_apis")
    hn = root / "hn"
    for folder in ("algolia/search_by_date", "firebase/item", "firebase/user"):
        (hn / folder).parent.mkdir(parents=True, exist_ok=True)
        (hn / folder).symlink_to(HN_DIR / folder, target_is_directory=True)
    (hn / "algolia" / "items").mkdir()
    lines = gzip.decompress((HN_DIR / "firebase/item/2020-02_22225314.jsonl.gz").read_bytes()).splitlines()
    story, *kids = (json.loads(line) for line in lines)
    body = simulated_algolia_item(story, kids)
    (hn / "algolia" / "items" / f"{STORY_2020_02}.json.gz").write_bytes(gzip.compress(json.dumps(body).encode()))
    return root


@pytest.fixture
def server(both_apis: Path) -> Iterator[ReplayServer]:
    with ReplayServer(both_apis) as replay:
        yield replay


def test_a_thread_algolia_answers_costs_one_comments_request(server):
    result = run_month("2020-02", server)
    assert comment_requests(server) == {"algolia": 1, "firebase": 0}
    assert (result.api, result.fallback_reason, len(result.postings)) == ("algolia", None, 408)
    # Algolia leaves the 5 deleted and the dead comment out: they are simply not seen.
    assert (result.counts.seen, result.counts.deleted, result.counts.dead) == (408, 0, 0)


def test_the_recorded_algolia_thread_costs_one_request_and_no_firebase_request(hn_replay):
    before = comment_requests(hn_replay)
    result = run_month("2011-04", hn_replay)
    after = comment_requests(hn_replay)
    assert {api: after[api] - before[api] for api in after} == {"algolia": 1, "firebase": 0}
    assert (result.api, len(result.postings)) == ("algolia", 219)


@pytest.mark.parametrize("status", [500, 404])
def test_algolia_failing_falls_back_to_firebase_per_comment(server, status):
    server.inject_path(ALGOLIA_ITEM_2020_02, Fault(status=status))
    result = run_month("2020-02", server)
    assert comment_requests(server) == {"algolia": 1, "firebase": 1 + 414}  # the story, then each of its kids
    assert result.api == "firebase" and f"items/{STORY_2020_02}" in result.fallback_reason
    assert str(status) in result.fallback_reason
    assert (result.counts.seen, result.counts.deleted, result.counts.dead, len(result.postings)) == (414, 5, 1, 408)


def test_an_unusable_algolia_body_falls_back_to_firebase(server):
    server.inject_path(ALGOLIA_ITEM_2020_02, Fault(status=200, body=b'{"message": "not a story"}'))
    result = run_month("2020-02", server)
    assert result.api == "firebase" and "not an Algolia story item" in result.fallback_reason
    assert len(result.postings) == 408


def test_a_thread_neither_api_gives_fails_naming_both(server):
    server.inject_path(ALGOLIA_ITEM_2020_02, Fault(status=500))
    server.inject_path(f"/hn/v0/item/{STORY_2020_02}.json", Fault(status=500))
    with pytest.raises(ThreadUnavailableError, match=r"^2020-02: .*Algolia .*items/22225314 failed.*500.*Firebase .*22225314\.json failed"):
        run_month("2020-02", server)


def test_postings_agree_whichever_api_gave_the_thread(server):
    """The same comments through either API parse into the same postings (Firebase's bodies served
    both ways: this checks the two code paths, not Algolia's own HTML dialect, which only 2011-04 shows)."""
    via_algolia = run_month("2020-02", server)
    server.inject_path(ALGOLIA_ITEM_2020_02, Fault(status=404))
    via_firebase = run_month("2020-02", server)
    assert (via_algolia.api, via_firebase.api) == ("algolia", "firebase")
    by_id = {p.source_job_id: p for p in via_firebase.postings}
    assert sorted(by_id) == sorted(p.source_job_id for p in via_algolia.postings)
    differing = [p.source_job_id for p in via_algolia.postings if p != by_id[p.source_job_id]]
    # The one known difference: old Algolia text writes newlines as a backslash and an "n", so an
    # Algolia comment's literal "\n" becomes a line break; one 2020-02 company is named "\newline".
    assert len(differing) <= 1
    for job_id in differing:
        assert "\\n" in by_id[job_id].description
