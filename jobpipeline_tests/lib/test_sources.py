"""Every adapter fetches and parses its real recorded payloads, served by the replay server.

Expected values were read by hand from the recordings in data/replay/.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from jobpipeline.lib.boards import Board
from jobpipeline.lib.http import HttpSession, HttpSettings, make_client
from jobpipeline.lib.postings import POSTING_SCHEMA, Posting, postings_frame
from jobpipeline.lib.replay import CORPUS, ReplayServer
from jobpipeline.lib.scrape import scrape_boards
from jobpipeline.lib.sources import ADAPTERS, DEFAULT_BASE_URLS, lever, parse_board, smartrecruiters, workday

SETTINGS = HttpSettings(backoff_base_s=0.01, backoff_cap_s=0.05)


def fetch_and_parse(server: ReplayServer, board: Board) -> tuple[list[Posting], int]:
    """The board's postings through its adapter against the replay server, and the requests it took."""

    async def go() -> tuple[list[Posting], int]:
        async with make_client(SETTINGS) as client:
            fetcher = HttpSession(client, SETTINGS).fetcher()
            adapter = ADAPTERS[board.ats]
            bodies = await adapter.fetch(fetcher, board, server.base_urls[board.ats])
            return parse_board(adapter, bodies, board).postings, fetcher.requests

    return asyncio.run(go())


def by_id(postings: list[Posting]) -> dict[str, Posting]:
    return {p.source_job_id: p for p in postings}


def test_every_corpus_board_parses_into_postings_that_fit_the_schema(replay):
    async def go():
        async with make_client(SETTINGS) as client:
            return await scrape_boards([f.board for f in CORPUS], client=client, base_urls=replay.base_urls, settings=SETTINGS)

    results = asyncio.run(go())
    assert [r.error for r in results if not r.ok] == []
    postings = [p for r in results for p in r.postings]
    assert {p.source for p in postings} == set(ADAPTERS)
    frame = postings_frame(postings)
    assert frame.schema == POSTING_SCHEMA
    assert frame["title"].null_count() == 0 and (frame["title"].str.len_chars() > 0).all()
    assert frame["apply_url"].null_count() == 0
    for p in postings:
        assert all(ts.tzinfo is UTC for ts in (p.posted_at, p.source_updated_at) if ts is not None)
        assert "<" not in p.description[:200] and "&lt;" not in p.description
    assert next(r for r in results if r.board == "kraken").n_postings == 0  # a real empty board


def test_greenhouse_capture_record_parses_with_utc_times_and_company_name(replay):
    postings = by_id(fetch_and_parse(replay, Board("greenhouse", "lattice", "x"))[0])
    assert len(postings) == 9
    job = postings["8576037002"]
    assert job.title == "Account Executive, Mid Market"
    assert job.company == "Lattice"
    assert job.locations == ["London, UK"]
    assert job.posted_at == datetime(2026, 6, 11, 16, 42, 45, tzinfo=UTC)  # 12:42:45-04:00
    assert job.source_updated_at == datetime(2026, 8, 19, 16, 1, 26, tzinfo=UTC)
    assert job.apply_url == "https://lattice.com/job?gh_jid=8576037002"
    assert job.description == "" and job.remote is None  # recorded without content=true


def test_greenhouse_metadata_gives_workplace_and_employment_type(replay):
    airbnb = by_id(fetch_and_parse(replay, Board("greenhouse", "airbnb", "Airbnb"))[0])
    assert len(airbnb) == 189
    assert airbnb["7995153"].workplace_type == "hybrid" and airbnb["7995153"].remote is False
    assert airbnb["7995153"].locations == ["Berlin, Germany"]  # recorded as "Berlin, Germany "
    amplitude = by_id(fetch_and_parse(replay, Board("greenhouse", "amplitude", "Amplitude"))[0])
    assert amplitude["8636903002"].employment_type == "Regular"


def test_greenhouse_escaped_html_content_becomes_clean_text_with_department(replay):
    postings = by_id(fetch_and_parse(replay, Board("greenhouse", "generalassembly", "General Assembly"))[0])
    assert set(postings) == {"721", "722"}
    finance = postings["722"]
    assert finance.title == "Finance Analyst"
    assert finance.department == "Finance"
    assert finance.locations == ["New York"]
    assert finance.description.startswith("Who this job is right for\n")
    assert "- Bespoke exercitation viral typewriter." in finance.description
    assert "Required skills & experience" in finance.description  # &amp;amp; unescaped twice
    assert "haven't heard of them" in finance.description
    assert finance.source_updated_at == datetime(2013, 9, 12, 21, 1, 50, tzinfo=UTC)
    assert finance.posted_at is None and finance.company == "General Assembly"


def test_greenhouse_api_body_with_meta_parses(replay):
    postings = by_id(fetch_and_parse(replay, Board("greenhouse", "stripe", "Stripe"))[0])
    assert len(postings) == 12
    assert postings["8077887"].title == "Account Executive, Bridge"
    assert postings["8077887"].locations == ["SF, NYC, SEA, CHI"]


def test_ashby_locations_remote_flag_and_compensation(replay):
    postings, requests = fetch_and_parse(replay, Board("ashby", "answersnow", "AnswersNow"))
    assert requests == 1 and len(postings) == 3
    job = by_id(postings)["edfb96d8-4e1b-4e4e-a0aa-9ef25d93be83"]
    assert job.title == "Clinical Assessor and Coverage Provider (Hybrid)"
    assert job.company == "AnswersNow"
    assert job.locations == ["Richmond", "Virginia Beach", "Chesapeake", "Roanoke", "Washington DC"]
    assert job.remote is True and job.workplace_type is None  # isRemote given, workplaceType not
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_period) == (75000, 110000, "USD", "year")
    assert job.salary_text == "$75K – $110K • Offers Equity"
    assert job.department == "BCBA" and job.employment_type == "Full-time"
    assert job.posted_at == datetime(2025, 10, 10, 5, 51, 25, 677000, tzinfo=UTC)
    assert job.apply_url == "https://jobs.ashbyhq.com/answersnow/edfb96d8-4e1b-4e4e-a0aa-9ef25d93be83/application"
    assert job.description.startswith("Clinical Assessor and Coverage Provider - (Hybrid, Full-Time)\nVirginia, United States")


def test_ashby_workplace_type_is_normalized(replay):
    postings = by_id(fetch_and_parse(replay, Board("ashby", "etched", "Etched"))[0])
    job = postings["7aeafe31-c2c6-43e0-bb31-01868dcfad39"]
    assert job.workplace_type == "onsite" and job.remote is False
    assert job.locations == ["San Jose"] and job.department == "ASIC"
    assert job.salary_min is None and job.salary_text is None  # recorded without includeCompensation


def test_lever_categories_description_parts_and_epoch_ms(replay):
    postings = fetch_and_parse(replay, Board("lever", "palantir", "Palantir"))[0]
    assert len(postings) == 10
    job = by_id(postings)["ac978161-6f46-4f6b-ad9e-a258e642751c"]
    assert job.title == "Administrative Business Partner"
    assert job.locations == ["London, United Kingdom"]
    assert job.workplace_type == "hybrid" and job.remote is False
    assert job.department == "Administrative" and job.employment_type == "Full-time"
    assert job.posted_at == datetime(2024, 3, 25, 21, 50, 16, 463000, tzinfo=UTC)  # createdAt 1711403416463
    assert job.apply_url == "https://jobs.lever.co/palantir/ac978161-6f46-4f6b-ad9e-a258e642751c/apply"
    assert job.description.startswith("A World-Changing Company\n")  # description
    assert "What We Require\n" in job.description  # a list heading
    assert "- Track and process expense reports." in job.description  # a list item
    assert "Life at Palantir" in job.description  # additional
    remote = [p for p in postings if p.workplace_type == "remote"]
    assert [(p.locations, p.employment_type, p.remote) for p in remote] == [(["North America"], "Scholarship", True)]


def test_smartrecruiters_company_location_and_remote_flag(replay):
    postings = fetch_and_parse(replay, Board("smartrecruiters", "WesternDigital", "x"))[0]
    assert len(postings) == 10
    job = by_id(postings)["744000143761249"]
    assert job.title == "Technician 2, Failure Analysis Engineering"  # recorded with a trailing space
    assert job.company == "Western Digital"
    assert job.locations == ["Bayan Lepas, Penang, Malaysia"]
    assert job.remote is False and job.workplace_type == "onsite"
    assert job.employment_type == "Full-time" and job.department == "Engineering"
    assert job.posted_at == datetime(2026, 8, 17, 7, 35, 2, 787000, tzinfo=UTC)
    assert job.apply_url == "https://jobs.smartrecruiters.com/WesternDigital/744000143761249"


def test_workday_requisition_ids_locations_and_public_urls(replay):
    postings = fetch_and_parse(replay, Board("workday", "nvidia/NVIDIAExternalCareerSite", "NVIDIA"))[0]
    assert len(postings) == 12  # the recorded page of 10, and the 2 postings whose details are recorded
    jobs = by_id(postings)
    first = jobs["JR2021016"]
    assert first.title == "Verification Engineer - New College Grad 2026"
    assert first.locations == []  # "3 Locations" is a count, not a place
    assert first.apply_url == (
        "https://nvidia.wd5.myworkdayjobs.com/NVIDIAExternalCareerSite"
        "/job/US-CA-Santa-Clara/Verification-Engineer---New-College-Grad-2026_JR2021016"
    )
    assert jobs["JR2018518"].locations == ["US, CA, Santa Clara"]
    assert first.company == "NVIDIA" and first.posted_at is None  # "Posted Today" is relative


@pytest.mark.parametrize(
    ("module", "board"),
    [
        (lever, Board("lever", "palantir", "Palantir")),
        (smartrecruiters, Board("smartrecruiters", "WesternDigital", "Western Digital")),
        (workday, Board("workday", "nvidia/NVIDIAExternalCareerSite", "NVIDIA")),
    ],
)
def test_paged_apis_are_read_page_by_page_to_the_same_postings(replay, monkeypatch, module, board):
    whole, requests = fetch_and_parse(replay, board)
    assert requests == 1
    monkeypatch.setattr(module, "PAGE_SIZE", 3)
    paged, requests = fetch_and_parse(replay, board)
    assert requests == 4  # 3 + 3 + 3 + 1 of 10 recorded (Workday: 3 + 3 + 3 + 3 of 12)
    assert [p.as_row() for p in paged] == [p.as_row() for p in whole]


def test_workday_tokens_pick_the_data_centre_host():
    assert workday.jobs_url(DEFAULT_BASE_URLS["workday"], "nvidia/NVIDIAExternalCareerSite") == (
        "https://nvidia.wd5.myworkdayjobs.com/wday/cxs/nvidia/NVIDIAExternalCareerSite/jobs"
    )
    assert workday.jobs_url(DEFAULT_BASE_URLS["workday"], "acme.wd1/External") == (
        "https://acme.wd1.myworkdayjobs.com/wday/cxs/acme/External/jobs"
    )
    assert workday.jobs_url("http://127.0.0.1:9/workday", "acme.wd1/External") == ("http://127.0.0.1:9/workday/wday/cxs/acme/External/jobs")
    with pytest.raises(ValueError, match="tenant/site"):
        workday.check_token("nvidia")


def test_live_urls_are_the_documented_endpoints():
    assert (
        DEFAULT_BASE_URLS.items()
        >= {
            "greenhouse": "https://boards-api.greenhouse.io",
            "lever": "https://api.lever.co",
            "ashby": "https://api.ashbyhq.com",
            "smartrecruiters": "https://api.smartrecruiters.com",
            "workday": "https://{host}.myworkdayjobs.com",
            "bamboohr": "https://{host}.bamboohr.com",
            "rippling": "https://api.rippling.com",
        }.items()
    )  # the other adapters' endpoints are checked in their own test files
