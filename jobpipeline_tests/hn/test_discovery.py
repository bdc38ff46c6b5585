"""Month → "Who is hiring?" story id, on the recorded Algolia search pages and Firebase user lists."""

from __future__ import annotations

import asyncio
import csv

import pytest

from jobpipeline.lib.hn.discovery import (
    Thread,
    ThreadNotFoundError,
    canonical_pointer,
    find_thread,
    is_hiring_title,
    threads_from_search_hits,
)
from jobpipeline.lib.http import make_client
from jobpipeline_tests.hn.conftest import HN_DIR, recorded_search_hits

# 2011-04 → 2013-01 are before josusanmartin/HNhiring's CSV starts: read by hand from the recorded
# pages' titles ("Ask HN: Who is Hiring? (April 2011)" …); 2011-12 from shun-liang/hnhiringtrend's
# pointer 3300371 → 3300290, which the story's own text confirms.
BEFORE_CSV = {
    "2011-04": 2396027, "2011-05": 2503204, "2011-06": 2607052, "2011-08": 2831646, "2011-09": 2949787,
    "2011-10": 3060221, "2011-11": 3181796, "2011-12": 3300290, "2012-01": 3412900, "2012-02": 3537881,
    "2012-03": 3652041, "2012-04": 3783657, "2012-05": 3913997, "2012-06": 4053076, "2012-07": 4184755,
    "2012-08": 4323597, "2012-09": 4463689, "2012-10": 4596375, "2012-11": 4727241, "2012-12": 4857714,
    "2013-01": 4992617,
}  # fmt: skip


def months(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def expected_story_ids() -> dict[str, int]:
    with open(HN_DIR / "reference/mapping_josusanmartin_who_is_hiring_comments.csv", newline="") as f:
        from_csv = {row["month"]: int(row["object_id"]) for row in csv.DictReader(f)}
    return {m: BEFORE_CSV.get(m) or from_csv[m] for m in months("2011-04", "2023-09") if m != "2011-07"}


def find(month: str, algolia_base: str, firebase_base: str) -> Thread:
    async def go() -> Thread:
        async with make_client() as client:
            return await find_thread(month, client=client, algolia_base=algolia_base, firebase_base=firebase_base)

    return asyncio.run(go())


def test_every_recorded_month_maps_to_the_story_of_the_mapping_csv():
    expected = expected_story_ids()
    assert len(expected) == 149  # 2011-04 → 2023-09 is 150 months, 2011-07 has no thread
    threads = threads_from_search_hits(recorded_search_hits())
    assert {m: t.story_id for m, t in threads.items()} == expected


def test_every_recorded_month_is_found_through_the_replayed_search(hn_base):
    async def go() -> dict[str, int]:
        async with make_client() as client:
            found = {}
            for month in expected_story_ids():
                thread = await find_thread(month, client=client, algolia_base=hn_base, firebase_base=hn_base)
                found[month] = thread.story_id
            return found

    assert asyncio.run(go()) == expected_story_ids()


@pytest.mark.parametrize(
    ("month", "story_id", "author", "title"),
    [
        ("2015-04", 9303396, "_whoishiring", "Ask HN: Who is hiring? (April 2015)"),
        ("2015-05", 9471287, "_whoishiring", "Ask HN: Who is hiring? (May 2015)"),
        ("2012-04", 3783657, "whoishiring", "Ask HN: Who is Hiring? (April 2012)"),
        ("2012-05", 3913997, "whoishiring", "Ask HN: Who Is Hiring? (May 2012)"),
        ("2012-10", 4596375, "whoishiring", "Ask HN: Who Is Hiring? (October 2012)"),  # title ended in a space
        ("2012-12", 4857714, "whoishiring", "Ask HN: Who is hiring? (December 2012)"),  # title ended in a space
        ("2014-06", 7829042, "whoishiring", "Ask HN: Who is hiring? (June 2014)"),  # not "Show HN: … refugees?"
        ("2020-03", 22465476, "whoishiring", "Ask HN: Who is hiring? (March 2020)"),  # not "… hiring right now?"
    ],
)
def test_traps_in_the_search_results_resolve_to_the_real_thread(hn_base, month, story_id, author, title):
    thread = find(month, hn_base, hn_base)
    assert (thread.story_id, thread.author, thread.title, thread.via) == (story_id, author, title, "algolia")


def test_december_2011_follows_the_accounts_pointer_to_the_canonical_thread(hn_base):
    thread = find("2011-12", hn_base, hn_base)
    assert (thread.story_id, thread.redirected_from) == (3300290, 3300371)
    hit = next(h for h in recorded_search_hits() if h["objectID"] == "3300371")
    assert canonical_pointer(hit["story_text"]) == 3300290


def test_titles_of_the_accounts_other_threads_are_not_hiring_threads():
    assert is_hiring_title("Ask HN: Who is hiring? (September 2023)")
    assert is_hiring_title("  ask hn: WHO IS HIRING? (December 2012) ")
    for other in (
        "Ask HN: Who wants to be hired? (September 2023)",
        "Ask HN: Freelancer? Seeking freelancer? (September 2023)",
        "Ask HN: Who is hiring right now?",
        "Show HN: Who is hiring refugees? Or, hacking visas to help refugees",
        "Ask HN: Should we agree that this account will submit all Who is Hiring posts?",
    ):
        assert not is_hiring_title(other), other


@pytest.mark.parametrize(("month", "story_id"), [("2019-11", 21419536), ("2020-02", 22225314)])
def test_firebase_submitted_list_is_the_fallback_when_algolia_is_down(hn_base, month, story_id):
    thread = find(month, algolia_base=f"{hn_base}/algolia-is-down", firebase_base=hn_base)
    assert (thread.story_id, thread.via, thread.author) == (story_id, "firebase", "whoishiring")


@pytest.mark.parametrize("month", ["2011-07", "2024-01"])
def test_a_month_without_a_thread_fails_naming_the_month(hn_base, month):
    with pytest.raises(ThreadNotFoundError, match=f"no 'Ask HN: Who is hiring\\?' thread found for {month}"):
        find(month, hn_base, hn_base)


@pytest.mark.parametrize("month", ["2011-03", "2019-13", "Nov 2019"])
def test_months_before_the_first_thread_or_malformed_are_rejected(month):
    with pytest.raises(ValueError, match=month):
        find(month, "http://127.0.0.1:9", "http://127.0.0.1:9")
