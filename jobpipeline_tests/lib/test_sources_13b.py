"""SmartRecruiters and Workday details, BambooHR and Rippling: real recordings through the replay server.

Each board is scraped the way the main job does it (list, then one detail per posting). Expected
values were read by hand from the recordings in data/replay/ (see its SOURCES.md).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from jobpipeline.lib.boards import Board
from jobpipeline.lib.http import HttpSettings, make_client
from jobpipeline.lib.replay import ReplayServer
from jobpipeline.lib.scrape import BoardResult, scrape_boards

SETTINGS = HttpSettings(backoff_base_s=0.01, backoff_cap_s=0.05)


def scrape(server: ReplayServer, board: Board) -> BoardResult:
    async def go() -> list[BoardResult]:
        async with make_client(SETTINGS) as client:
            return await scrape_boards([board], client=client, base_urls=server.base_urls, settings=SETTINGS)

    (result,) = asyncio.run(go())
    assert result.ok, result.error
    return result


def by_id(result: BoardResult) -> dict:
    return {p.source_job_id: p for p in result.postings}


def test_smartrecruiters_detail_gives_the_job_ad_sections_as_description(clean_replay):
    result = scrape(clean_replay, Board("smartrecruiters", "Vitol", "Vitol"))
    job = by_id(result)["744000133666057"]
    assert job.title == "Platform Engineer" and job.company == "Vitol"
    assert job.description.startswith("Company Description\nVitol is a leader in the energy sector")
    assert "Job Description" in job.description and "<p>" not in job.description
    assert (result.n_details_fetched, result.n_details_failed) == (1, 0)
    service_now = by_id(scrape(clean_replay, Board("smartrecruiters", "ServiceNow", "ServiceNow")))["744000153504297"]
    assert service_now.description.startswith("Company Description\nIt all started in sunny San Diego")


def test_smartrecruiters_salary_custom_field_is_kept_as_given(clean_replay):
    result = scrape(clean_replay, Board("smartrecruiters", "Wise", "Wise"))
    jobs = by_id(result)
    assert len(jobs) == 8
    london = jobs["744000153192361"]
    assert (london.salary_min, london.salary_max, london.salary_currency, london.salary_period) == (68000, 87500, "GBP", "year")
    assert london.salary_text == "68000 - 87500 GBP Annual"
    sao_paulo = jobs["744000153202878"]
    assert (sao_paulo.salary_min, sao_paulo.salary_currency, sao_paulo.salary_period) == (7800, "BRL", "month")
    assert jobs["744000153194319"].salary_min is None and jobs["744000153194319"].salary_text is None  # " -   "
    # No Wise detail is recorded: every posting is kept without a description, and counted.
    assert result.n_details_failed == 8 and all(p.description == "" for p in result.postings)
    assert "HTTP 404" in result.details_failed_reasons[0]


def test_workday_detail_gives_description_and_time_type_and_unrecorded_details_keep_their_posting(clean_replay):
    result = scrape(clean_replay, Board("workday", "nvidia/NVIDIAExternalCareerSite", "NVIDIA"))
    jobs = by_id(result)
    assert len(jobs) == 12  # the recorded page of 10, and the two postings whose details are recorded
    spe = jobs["JR2015623"]
    assert spe.title == "Software Engineer, SPE"
    assert spe.description.startswith("NVIDIA Networking System Product Engineering group is looking for")
    assert spe.employment_type == "Full time"
    assert jobs["JR2021705"].description.startswith("Our Lab team in Israel Yokneam seeks")
    assert (result.n_details_fetched, result.n_details_failed) == (2, 10)
    assert jobs["JR2021016"].title == "Verification Engineer - New College Grad 2026" and jobs["JR2021016"].description == ""


def test_bamboohr_list_and_details_from_the_split_composite(clean_replay):
    result = scrape(clean_replay, Board("bamboohr", "holisticai", "Holistic AI"))
    jobs = by_id(result)
    assert len(jobs) == 12 and (result.n_details_fetched, result.n_details_failed) == (12, 0)
    director = jobs["89"]
    assert director.title == "Director of Product – London, United Kingdom"
    assert director.department == "Product" and director.employment_type == "Full-Time"
    assert director.workplace_type == "hybrid" and director.locations == ["London"]
    assert director.salary_text == "£100,000"  # a compensation string, kept as given
    assert director.posted_at == datetime(2026, 9, 17, tzinfo=UTC)
    assert director.description.startswith("We're looking for a Director of Product")
    assert director.apply_url == "https://holisticai.bamboohr.com/careers/89"
    assert jobs["99"].employment_type == "Contractor"
    # The list the server answers is the API's: no "detail" key in its items.
    assert b'"detail"' not in result.raw_bodies[0] and b'"totalCount": 12' in result.raw_bodies[0]


def test_rippling_list_and_detail_and_the_paged_shape(clean_replay):
    portside = scrape(clean_replay, Board("rippling", "portside", "Portside"))
    jobs = by_id(portside)
    assert len(jobs) == 4 and (portside.n_details_fetched, portside.n_details_failed) == (1, 3)
    marketing = jobs["f7008ce4-5157-4ba9-b75b-ed2a6448b579"]
    assert marketing.title == "Product Marketing Manager" and marketing.department == "Sales & Marketing"
    assert marketing.locations == ["Remote (United States)"]
    assert marketing.employment_type == "Salaried, full-time" and marketing.company == "Portside"
    assert marketing.posted_at == datetime(2026, 6, 12, 19, 45, 15, 898000, tzinfo=UTC)
    assert "About Portside" in marketing.description
    assert jobs["fb7cb353-0246-4172-ab3a-08701129f772"].description == ""  # no detail recorded: kept

    paged = scrape(clean_replay, Board("rippling", "rippling", "Rippling"))
    assert [(p.source_job_id, p.locations, p.workplace_type) for p in paged.postings] == [
        ("84d388b6-7656-434c-8862-0312eb6b97ac", ["San Francisco, CA"], "onsite"),
        ("84d388b6-7656-434c-8862-0312eb6b97ac", ["New York, NY"], "onsite"),
    ]
    # One posting listed once per location is one detail request (not recorded: a 404, counted once).
    assert paged.n_details_failed == 1
    path = "/rippling/platform/api/ats/v1/board/rippling/jobs/84d388b6-7656-434c-8862-0312eb6b97ac"
    assert clean_replay.stats.paths[path] >= 1
