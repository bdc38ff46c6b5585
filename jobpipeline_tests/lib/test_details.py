"""Detail fetches: reused for unchanged postings (counted at the server), and a failed detail keeps its posting.

Day one scrapes and writes a raw partition; day two reads the details stored there and scrapes
again. The replay server counts requests per URL path, so "no detail request" is checked where the
requests would arrive, not inside the scraper.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from jobpipeline.lib.boards import Board
from jobpipeline.lib.http import HttpSettings, make_client
from jobpipeline.lib.postings import postings_frame
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.replay import Fault, ReplayServer
from jobpipeline.lib.scrape import BoardResult, scrape_boards
from jobpipeline.lib.sources.details import PreviousDetails
from jobpipeline.settings import replay_corpus_dir

SETTINGS = HttpSettings(backoff_base_s=0.01, backoff_cap_s=0.05)
BOARDS = [
    Board("smartrecruiters", "Vitol", "Vitol"),
    Board("smartrecruiters", "ServiceNow", "ServiceNow"),
    Board("workday", "nvidia/NVIDIAExternalCareerSite", "NVIDIA"),
    Board("bamboohr", "holisticai", "Holistic AI"),
    Board("rippling", "portside", "Portside"),
]
VITOL_DETAIL = "/smartrecruiters/v1/companies/Vitol/postings/744000133666057"


def scrape(server: ReplayServer, boards: list[Board], previous: PreviousDetails | None = None) -> list[BoardResult]:
    async def go() -> list[BoardResult]:
        async with make_client(SETTINGS) as client:
            return await scrape_boards(boards, client=client, base_urls=server.base_urls, settings=SETTINGS, previous=previous)

    return asyncio.run(go())


def store(raw_dir: Path, day: str, source: str, results: list[BoardResult]) -> RawPartition:
    """Write one day's partition the way ``raw_postings`` does."""
    partition = RawPartition.at(raw_dir, source, day)
    mine = [r for r in results if r.source == source]
    partition.write(
        postings_frame([p for r in mine for p in r.postings]),
        [r.summary() for r in mine],
        {r.board: [b.decode() for b in r.raw_bodies] for r in mine},
        {r.board: r.detail_stamps for r in mine if r.detail_stamps},
    )
    return partition


def detail_paths(server: ReplayServer) -> dict[str, int]:
    """Requests per detail path (every path that is not a board's list)."""
    lists = ("/postings", "/jobs", "/careers/list")
    return {path: n for path, n in server.stats.paths.items() if not path.endswith(lists)}


def previous_of(raw_dir: Path, day: str) -> PreviousDetails:
    stored: dict = {}
    for source in {b.ats for b in BOARDS}:
        partition = RawPartition.latest(raw_dir, source, day)
        if partition is not None:
            stored.update(partition.read_details().by_board)
    return PreviousDetails(stored)


def test_second_day_makes_zero_detail_requests_for_unchanged_postings(tmp_path: Path):
    raw_dir = tmp_path / "raw"
    with ReplayServer(replay_corpus_dir()) as server:
        day1 = scrape(server, BOARDS)
        for source in {b.ats for b in BOARDS}:
            store(raw_dir, "2026-12-01", source, day1)
        fetched = {path for path, n in detail_paths(server).items() if n}
        holisticai = next(r for r in day1 if r.board == "holisticai")
        recorded = {  # the details the corpus holds: each answered 200 on day one
            VITOL_DETAIL,
            "/smartrecruiters/v1/companies/ServiceNow/postings/744000153504297",
            "/workday/wday/cxs/nvidia/NVIDIAExternalCareerSite/job/Israel-Yokneam/Software-Engineer--SPE_JR2015623",
            "/workday/wday/cxs/nvidia/NVIDIAExternalCareerSite/job/Israel-Yokneam/Practical-Hardware-Electronics-Test-Engineer_JR2021705",
            "/rippling/platform/api/ats/v1/board/portside/jobs/f7008ce4-5157-4ba9-b75b-ed2a6448b579",
            *(f"/bamboohr/holisticai/careers/{p.source_job_id}/detail" for p in holisticai.postings),
        }
        assert len(recorded) == 17 and recorded <= fetched
        described = {(r.key, p.source_job_id): p.description for r in day1 for p in r.postings if p.description}
        assert len(described) == 17
        failed_day1 = sum(r.n_details_failed for r in day1)
        assert len(fetched - recorded) == failed_day1 == 10 + 3  # Workday's list page, Portside's other three

        before = dict(server.stats.paths)
        day2 = scrape(server, BOARDS, previous=previous_of(raw_dir, "2026-12-02"))
        new_requests = {path: n - before.get(path, 0) for path, n in detail_paths(server).items() if n > before.get(path, 0)}

    # Every posting that got its detail on day one: ZERO requests on day two, and the very same posting.
    assert not set(new_requests) & recorded
    assert {(r.key, p.source_job_id): p.description for r in day2 for p in r.postings if p.description} == described
    assert [p.as_row() for r in day2 for p in r.postings] == [p.as_row() for r in day1 for p in r.postings]
    assert sum(r.n_details_reused for r in day2) == 17 and sum(r.n_details_fetched for r in day2) == 0
    # Postings whose detail failed (not recorded: 404) have no stored description and are tried again, once.
    assert set(new_requests) == fetched - recorded and set(new_requests.values()) == {1}


def test_a_changed_list_item_fetches_its_detail_again(tmp_path: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(replay_corpus_dir() / "bamboohr", corpus / "bamboohr")
    raw_dir = tmp_path / "raw"
    board = Board("bamboohr", "holisticai", "Holistic AI")
    with ReplayServer(corpus) as server:
        store(raw_dir, "2026-12-01", "bamboohr", scrape(server, [board]))
    # The next day the board renames one posting (the real recording, one title edited).
    recording = corpus / "bamboohr" / "holisticai.json"
    data = json.loads(recording.read_text())
    data["result"][0]["jobOpeningName"] = "Director of Product (renamed)"
    recording.write_text(json.dumps(data))
    with ReplayServer(corpus) as server:
        (result,) = scrape(server, [board], previous=RawPartition.latest(raw_dir, "bamboohr", "2026-12-02").read_details())
        details = detail_paths(server)
    assert details == {"/bamboohr/holisticai/careers/89/detail": 1}
    assert (result.n_details_fetched, result.n_details_reused) == (1, 11)


def test_a_failed_detail_keeps_its_posting_counted_and_is_fetched_again_next_time(tmp_path: Path):
    raw_dir = tmp_path / "raw"
    board = Board("smartrecruiters", "Vitol", "Vitol")
    with ReplayServer(replay_corpus_dir()) as server:
        server.inject_path(VITOL_DETAIL, [Fault(status=503)] * (SETTINGS.retries + 1))  # outlasts the retries
        (failed,) = scrape(server, [board])
        assert server.stats.paths[VITOL_DETAIL] == SETTINGS.retries + 1
        store(raw_dir, "2026-12-01", "smartrecruiters", [failed])
        (retried,) = scrape(server, [board], previous=RawPartition.latest(raw_dir, "smartrecruiters", "2026-12-02").read_details())
        assert server.stats.paths[VITOL_DETAIL] == SETTINGS.retries + 2

    assert failed.ok and [p.source_job_id for p in failed.postings] == ["744000133666057"]
    assert failed.postings[0].description == "" and failed.postings[0].title == "Platform Engineer"
    summary = failed.summary()
    assert summary["n_details_failed"] == 1 and summary["n_postings"] == 1
    assert "HTTP 503" in summary["details_failed_reasons"][0] and VITOL_DETAIL in summary["details_failed_reasons"][0]
    assert retried.n_details_fetched == 1 and retried.postings[0].description.startswith("Company Description")


def test_details_stored_in_a_partition_read_back_by_board_and_id(tmp_path: Path):
    with ReplayServer(replay_corpus_dir()) as server:
        results = scrape(server, [Board("smartrecruiters", "Vitol", "Vitol"), Board("smartrecruiters", "Wise", "Wise")])
    partition = store(tmp_path, "2026-12-01", "smartrecruiters", results)
    stored = partition.read_details()
    assert len(stored) == 1  # Wise's details all failed: nothing stored for them
    vitol = stored.get("smartrecruiters/Vitol", "744000133666057")
    assert vitol is not None and vitol.fields["description"].startswith("Company Description")
    assert RawPartition.latest(tmp_path, "smartrecruiters", "2026-11-30") is None
    assert RawPartition.latest(tmp_path, "smartrecruiters", "2026-12-05") == partition
