"""``fetch_month`` end to end against the replay server on 127.0.0.1 serving the shipped ``hn`` recordings."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from jobpipeline.lib.hn import (
    MonthResult,
    ThreadNotFoundError,
    ThreadUnavailableError,
    fetch_month,
    parse_thread,
)
from jobpipeline.lib.http import make_client
from jobpipeline.lib.replay import ReplayServer
from jobpipeline_tests.hn.conftest import recorded_thread


def run_month(month: str, base: str, **kwargs) -> MonthResult:
    async def go() -> MonthResult:
        async with make_client() as client:
            return await fetch_month(month, client=client, algolia_base=base, firebase_base=base, **kwargs)

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("month", "story_id", "api", "seen", "postings"),
    [
        ("2011-04", 2396027, "algolia", 219, 219),
        ("2019-11", 21419536, "firebase", 680, 647),
        ("2020-02", 22225314, "firebase", 414, 408),
    ],
)
def test_recorded_month_is_discovered_fetched_and_parsed(hn_base, month, story_id, api, seen, postings):
    result = run_month(month, hn_base)
    assert (result.story_id, result.api, result.counts.seen, len(result.postings)) == (story_id, api, seen, postings)
    assert len(result.raw_comments) == seen and all("children" not in c for c in result.raw_comments)
    # Same postings, in the same (API) order, as parsing the recording straight from disk.
    expected, counts = parse_thread(recorded_thread(month), month)
    assert result.postings == expected and result.counts == counts


def test_firebase_comments_are_fetched_concurrently_within_the_bound(hn_corpus):
    with ReplayServer(hn_corpus, latency_ms=10) as slow:
        result = run_month("2020-02", slow.base_urls["hn"], max_concurrency=4)
        assert slow.stats.max_in_flight == 4
    assert len(result.postings) == 408


def test_unrecorded_months_thread_answers_404_and_the_month_fails_clearly(hn_base):
    assert httpx.get(f"{hn_base}/v0/item/16967543.json").status_code == 404
    with pytest.raises(ThreadUnavailableError, match=r"^2018-05: .*16967543.*404"):
        run_month("2018-05", hn_base)  # the May 2018 thread is known from search, its comments are not recorded


def test_month_without_any_thread_fails_clearly(hn_base):
    with pytest.raises(ThreadNotFoundError, match="thread found for 2011-07"):
        run_month("2011-07", hn_base)


def test_replay_answers_only_recorded_requests(hn_base):
    recorded_query = {"query": "hiring", "tags": "story,(author__whoishiring,author_whoishiring)"}
    urls = [
        (f"{hn_base}/api/v1/search_by_date", {**recorded_query, "page": "3"}),
        (f"{hn_base}/api/v1/search_by_date", {"query": "hired", "tags": "story,author_whoishiring"}),
        (f"{hn_base}/api/v1/items/2396027", None),
        (f"{hn_base}/api/v1/items/21419536", None),
        (f"{hn_base}/v0/item/21419536.json", None),
        (f"{hn_base}/v0/user/whoishiring.json", None),
        (f"{hn_base}/v0/user/_whoishiring.json", None),
    ]
    assert [httpx.get(url, params=params).status_code for url, params in urls] == [200, 404, 200, 404, 200, 200, 404]
