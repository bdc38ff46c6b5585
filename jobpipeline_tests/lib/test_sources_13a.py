"""Workable, Recruitee, Teamtailor, Pinpoint, Breezy HR, Personio and iCIMS (Jibe) on their real recordings.

Every test goes through the replay server under the API's own paths. Expected values were read by
hand from the recordings in data/replay/<ats>/ (their provenance is in data/replay/SOURCES.md).
Where a test needs a shape the recordings lack (one Workable job in two places, an XML bomb),
it builds it from a real recording in its own temporary corpus and says so.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from jobpipeline.lib.boards import Board
from jobpipeline.lib.http import HttpSession, HttpSettings, make_client
from jobpipeline.lib.normalize import deduplicate
from jobpipeline.lib.postings import Posting, postings_frame
from jobpipeline.lib.replay import Fault, ReplayServer
from jobpipeline.lib.scrape import BoardResult, scrape_boards
from jobpipeline.lib.sources import (
    ADAPTERS,
    DEFAULT_BASE_URLS,
    SourceFormatError,
    breezy,
    icims,
    parse_board,
    personio,
    pinpoint,
    recruitee,
    teamtailor,
    workable,
)
from jobpipeline.settings import replay_corpus_dir

SETTINGS = HttpSettings(backoff_base_s=0.01, backoff_cap_s=0.05)
HTTP = httpx.Client(timeout=10)

VORTEXA = Board("workable", "vortexa", "Vortexa")
CHANNABLE = Board("recruitee", "channable", "Channable")
UPCLOUD = Board("teamtailor", "upcloud", "UpCloud")
PINPOINT = Board("pinpoint", "workwithus", "Pinpoint")
BREEZY = Board("breezy", "breezy", "MS Breezy Trial")
PERSONIO = Board("personio", "personio-integration-test", "Personio integration test")
GARMIN = Board("icims", "careers.garmin.com", "Garmin")


def scrape(server: ReplayServer, board: Board) -> BoardResult:
    """One board scraped end to end (fetch, retries, per-posting isolation) against the replay server."""

    async def go() -> BoardResult:
        async with make_client(SETTINGS) as client:
            [result] = await scrape_boards([board], client=client, base_urls=server.base_urls, settings=SETTINGS)
            return result

    return asyncio.run(go())


def fetch_and_parse(server: ReplayServer, board: Board) -> tuple[list[Posting], int]:
    async def go() -> tuple[list[Posting], int]:
        async with make_client(SETTINGS) as client:
            fetcher = HttpSession(client, SETTINGS).fetcher()
            adapter = ADAPTERS[board.ats]
            bodies = await adapter.fetch(fetcher, board, server.base_urls[board.ats])
            return parse_board(adapter, bodies, board).postings, fetcher.requests

    return asyncio.run(go())


def by_id(postings: list[Posting]) -> dict[str, Posting]:
    return {p.source_job_id: p for p in postings}


def test_workable_widget_jobs_with_descriptions_locations_and_employment_type(replay):
    result = scrape(replay, VORTEXA)
    assert result.ok and result.n_skipped == 0 and result.requests == 1
    jobs = by_id(result.postings)
    assert list(jobs) == ["FB313AEBAB", "23107D5C05", "DFEB52318E", "511B19232D", "3E3FC8AFAD"]
    analyst = jobs["FB313AEBAB"]
    assert analyst.title == "Associate Data Analyst - Energy and Freight Markets"
    assert analyst.company == "Vortexa" and analyst.employment_type == "Full-time"
    assert analyst.locations == ["Singapore"]  # city, region and country all "Singapore"
    assert analyst.description.startswith("About Vortexa:\nVortexa was founded to solve the immense information gap")
    assert analyst.remote is False and analyst.workplace_type is None  # not telecommuting; maybe hybrid
    assert analyst.posted_at == datetime(2026, 6, 23, tzinfo=UTC)
    assert analyst.apply_url == "https://apply.workable.com/j/FB313AEBAB"
    assert jobs["23107D5C05"].locations == ["Houston, Texas, United States"]
    assert jobs["23107D5C05"].employment_type is None  # recorded as ""


def test_workable_lists_a_job_once_per_location_and_dedup_merges_them(tmp_path: Path):
    """Workable's widget repeats a job open in two places under one shortcode, one location each.

    The recording has no such job, so this corpus adds a copy of the real London job whose only
    change is its location (Houston, the location object of another real job of the same board).
    """
    body = json.loads((replay_corpus_dir() / "workable" / "vortexa.json").read_bytes())
    london = next(job for job in body["jobs"] if job["shortcode"] == "DFEB52318E")
    houston = next(job for job in body["jobs"] if job["shortcode"] == "23107D5C05")
    body["jobs"].append({**london, "city": "Houston", "state": "Texas", "country": "United States", "locations": houston["locations"]})
    (tmp_path / "workable").mkdir()
    (tmp_path / "workable" / "vortexa.json").write_text(json.dumps(body), encoding="utf-8")
    with ReplayServer(tmp_path) as server:
        result = scrape(server, VORTEXA)
    assert result.ok and len(result.postings) == 6
    jobs = deduplicate(postings_frame(result.postings))
    assert jobs.height == 5
    merged = jobs.filter(jobs["source_job_id"] == "DFEB52318E").row(0, named=True)
    assert merged["locations"] == ["Houston, Texas, United States", "London, England, United Kingdom"]


def test_recruitee_offers_keep_structured_salary_and_workplace_flags(replay):
    result = scrape(replay, CHANNABLE)
    assert result.ok and result.n_skipped == 0 and len(result.postings) == 8
    offers = by_id(result.postings)
    csm = offers["2751915"]
    assert csm.title == "Customer Success Manager Benelux - Dutch speaking" and csm.company == "Channable"
    assert (csm.salary_min, csm.salary_max, csm.salary_currency, csm.salary_period) == (3750.0, 5250.0, "EUR", "month")
    assert csm.salary_text == "EUR 3,750 – 5,250 per month"
    assert (csm.workplace_type, csm.remote) == ("hybrid", False)
    assert csm.locations == ["Utrecht, Netherlands"] and csm.department == "Customer Success"
    assert csm.employment_type == "fulltime_permanent"
    assert csm.posted_at == datetime(2026, 9, 18, 13, 27, 28, tzinfo=UTC)  # "2026-09-18 13:27:28 UTC"
    assert csm.source_updated_at == datetime(2026, 10, 2, 9, 13, 21, tzinfo=UTC)
    assert csm.description.startswith("Channable is a fast-growing B2B SaaS platform") and "Your role" in csm.description
    assert csm.apply_url == "https://jobs.channable.com/o/customer-success-manager-benelux-dutch-speaking-3"
    remote = offers["2694685"]
    assert (remote.workplace_type, remote.remote, remote.salary_currency, remote.salary_max) == ("remote", True, "USD", 250000.0)
    no_salary = offers["396939"]  # salary given as all nulls
    assert (no_salary.salary_min, no_salary.salary_max, no_salary.salary_text) == (None, None, None)


def test_teamtailor_feed_skips_and_counts_the_broken_item_and_keeps_the_board(replay):
    result = scrape(replay, UPCLOUD)
    assert result.ok and result.error is None
    assert (result.n_postings, result.n_skipped) == (3, 1)
    assert result.skipped_reasons == ["posting 3: id: missing"]
    jobs = by_id(result.postings)
    analyst = jobs["d8938509-ff5a-4755-a5f7-5f89a0ac791e"]
    assert analyst.title == "Business Intelligence Analyst" and analyst.company == "UpCloud"
    assert analyst.locations == ["Helsinki, FI"]
    assert analyst.posted_at == datetime(2026, 9, 4, 11, 50, 13, tzinfo=UTC)  # 14:50:13+03:00
    assert analyst.description.startswith("We are looking for a Business Intelligence Analyst to join UpCloud")
    assert analyst.apply_url == "https://upcloud.teamtailor.com/jobs/8323453-business-intelligence-analyst"
    growth = jobs["fc1257d7-c11a-4074-a0a3-883330ac9b39"]
    assert growth.locations == ["Helsinki, FI"]  # two jobLocation entries, both in Helsinki


def test_pinpoint_is_served_in_the_apis_data_wrapper_and_keeps_visible_compensation(replay):
    served = HTTP.get(f"{replay.base_urls['pinpoint']}/workwithus/postings.json").json()
    recorded = json.loads((replay_corpus_dir() / "pinpoint" / "workwithus.json").read_bytes())
    assert served == {"data": recorded}  # the recording is the bare list its repository extracted
    result = scrape(replay, PINPOINT)
    assert result.ok and len(result.postings) == 2
    jobs = by_id(result.postings)
    manager = jobs["567495"]
    assert manager.title == "Enterprise Implementation Manager" and manager.department == "Implementation"
    assert (manager.salary_min, manager.salary_max, manager.salary_currency, manager.salary_period) == (70000.0, 90000.0, "GBP", "year")
    assert manager.salary_text == "£70,000 - £90,000 / year"
    assert (manager.workplace_type, manager.remote, manager.employment_type) == ("remote", True, "Full Time")
    assert "\nWhat you'll do\n" in manager.description and "\nWhat you'll bring\n" in manager.description
    counsel = jobs["559663"]  # compensation not visible: nulls, no salary
    assert (counsel.salary_min, counsel.salary_text) == (None, None)
    assert counsel.apply_url == "https://workwithus.pinpointhq.com/en/postings/ce6c9e5c-a2d3-42b0-a01e-9edeae315b04"


def test_breezy_positions_keep_the_salary_line_and_type_as_given(replay):
    result = scrape(replay, BREEZY)
    assert result.ok and len(result.postings) == 2
    first = by_id(result.postings)["98323abf2296"]
    assert first.title == "Employee #12" and first.company == "MS Breezy Trial"
    assert first.salary_text == "$0.05 – $0.06 / hour" and first.salary_min is None
    assert first.employment_type == "Other" and first.department == "Does Not Matter"
    assert first.locations == ["Chaos, FL"] and first.remote is None  # is_remote false: not said on-site
    assert first.posted_at == datetime(2024, 2, 15, 14, 37, 22, 684000, tzinfo=UTC)
    assert first.apply_url == "https://breezy.breezy.hr/p/98323abf2296-employee-12"


def test_personio_xml_is_served_as_xml_and_parsed_with_salary_information(replay):
    response = HTTP.get(f"{replay.base_urls['personio']}/personio-integration-test/xml")
    assert response.content == (replay_corpus_dir() / "personio" / "personio-integration-test.xml").read_bytes()
    assert response.headers["content-type"] == "application/xml"
    result = scrape(replay, PERSONIO)
    assert result.ok and result.n_skipped == 0 and len(result.postings) == 11
    jobs = by_id(result.postings)
    first = jobs["2140231"]
    assert first.title == "Copy of Junior Compliance and Immigrations Manager"
    assert (first.locations, first.department) == (["London"], "Management")
    assert first.employment_type == "permanent, full-time"
    assert (first.salary_min, first.salary_max, first.salary_currency, first.salary_period) == (100000.0, None, "GBP", "year")
    assert first.salary_text == "GBP from 100,000 per year"
    assert first.description.startswith("Your mission\nThe International Affairs Office Manager will ensure")
    assert first.posted_at == datetime(2024, 9, 24, 11, 0, 15, tzinfo=UTC)
    assert first.apply_url == "https://personio-integration-test.jobs.personio.de/job/2140231"
    assert sum(p.salary_min is not None for p in result.postings) == 5  # 5 positions carry salaryInformation
    assert jobs["2140224"].salary_min is None


def test_personio_refuses_entity_expansion_and_names_truncated_xml(clean_replay):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<workzag-jobs><position><id>1</id><name>&lol2;</name></position></workzag-jobs>"
    )
    with pytest.raises(SourceFormatError, match=r"personio/acme: XML with a DTD or entities refused"):
        personio.items(bomb, Board("personio", "acme", "Acme"))
    clean_replay.inject("personio", PERSONIO.token, Fault.truncated(), sticky=True)
    result = scrape(clean_replay, PERSONIO)
    assert not result.ok and "invalid or truncated XML" in result.error


def test_icims_pages_through_the_jibe_search_to_the_same_jobs(replay, monkeypatch):
    whole, requests = fetch_and_parse(replay, GARMIN)
    assert requests == 1 and len(whole) == 3
    monkeypatch.setattr(icims, "PAGE_SIZE", 2)
    paged, requests = fetch_and_parse(replay, GARMIN)
    assert requests == 2  # 2 + 1 of 3 recorded (the replay rewrites totalCount=303 to 3)
    assert [p.as_row() for p in paged] == [p.as_row() for p in whole]
    job = by_id(whole)["18921"]
    assert job.title == "Aircraft Systems Engineer 2 (Project Lead)" and job.company == "Garmin"
    assert job.locations == ["New Century, Kansas"] and job.department == "Engineering"
    assert job.employment_type == "FULL_TIME"
    assert job.posted_at == datetime(2026, 6, 24, 15, 2, tzinfo=UTC)  # "2026-06-24T15:02:00+0000"
    assert job.description.startswith("Overview We are seeking a full-time Aircraft Systems Engineer 2")
    assert job.apply_url == "https://careers-garmin.icims.com/jobs/18921/login"


def test_live_urls_are_the_documented_endpoints_with_the_board_in_the_host():
    assert workable.jobs_url(DEFAULT_BASE_URLS["workable"], "vortexa") == "https://apply.workable.com/api/v1/widget/accounts/vortexa"
    assert recruitee.offers_url(DEFAULT_BASE_URLS["recruitee"], "channable") == "https://channable.recruitee.com/api/offers/"
    assert teamtailor.feed_url(DEFAULT_BASE_URLS["teamtailor"], "upcloud") == "https://upcloud.teamtailor.com/jobs.json"
    assert pinpoint.postings_url(DEFAULT_BASE_URLS["pinpoint"], "workwithus") == "https://workwithus.pinpointhq.com/postings.json"
    assert breezy.positions_url(DEFAULT_BASE_URLS["breezy"], "breezy") == "https://breezy.breezy.hr/json"
    assert personio.feed_url(DEFAULT_BASE_URLS["personio"], "acme") == "https://acme.jobs.personio.de/xml"
    assert icims.jobs_url(DEFAULT_BASE_URLS["icims"], "careers.garmin.com") == "https://careers.garmin.com/api/jobs"
    # One replay server for every board: the host's board name becomes the first path segment.
    assert recruitee.offers_url("http://127.0.0.1:9/recruitee", "channable") == "http://127.0.0.1:9/recruitee/channable/api/offers/"


@pytest.mark.parametrize(
    ("ats", "good", "bad"),
    [
        ("workable", ["vortexa", "acme_co-2"], ["", "a b", "a.b", "a/b", "..", "-acme"]),
        ("recruitee", ["channable", "acme-2"], ["", "a.b", "a_b", "-acme", "acme-", "evil.com/x", "x" * 64]),
        ("teamtailor", ["upcloud"], ["", "up.cloud", "up cloud"]),
        ("pinpoint", ["workwithus"], ["", "a.b", "a@b"]),
        ("breezy", ["breezy"], ["", "a:80", "a/b"]),
        ("personio", ["personio-integration-test"], ["", "a.jobs", "a?b"]),
        ("icims", ["careers.garmin.com", "acme.jibeapply.com"], ["", "garmin", "careers.garmin.com/x", "a..b", "evil.com:80", ".com"]),
    ],
)
def test_tokens_are_checked_for_the_shape_of_the_apis_url(ats, good, bad):
    for token in good:
        ADAPTERS[ats].check_token(token)
    for token in bad:
        with pytest.raises(ValueError):
            ADAPTERS[ats].check_token(token)
