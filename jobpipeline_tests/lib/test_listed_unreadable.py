"""A posting the board still lists but that cannot be read today is skipped, not vanished: its job
stays open (content as last read) until the board stops listing it. Through the replay server on
127.0.0.1, the raw partition on disk (``outcomes.json``) and ``sync_raw_partition``, as the ``jobs``
asset runs it."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from jobpipeline.lib.boards import Board
from jobpipeline.lib.ingest import sync_raw_partition
from jobpipeline.lib.postings import postings_frame
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.sources import ADAPTERS, parse_board
from jobpipeline_tests.lib.test_bad_postings import ANSWERSNOW, recorded, scrape_corpus, write_corpus

DAY1, DAY2, DAY3 = "2026-11-01", "2026-11-02", "2026-11-03"


def scrape_and_sync(engine, tmp_path, day: str, body: dict) -> dict:
    """Scrape ``body`` as ANSWERSNOW's board on ``day``, write the raw partition, sync it from disk;
    returns the board's outcome as ``outcomes.json`` holds it."""
    (result,) = scrape_corpus(write_corpus(tmp_path / "corpus" / day, ANSWERSNOW, body), [ANSWERSNOW])
    assert result.ok, result.error
    partition = RawPartition.at(tmp_path / "raw", "ashby", day)
    partition.write(postings_frame(result.postings), [result.summary()], {result.board: [b.decode() for b in result.raw_bodies]})
    sync_raw_partition(engine, "ashby", day, partition)
    (outcome,) = json.loads(partition.outcomes_path.read_text(encoding="utf-8"))
    return outcome


def job_of(engine, source_job_id: str) -> dict:
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text(
                    "SELECT job.title, job.last_seen, job.closed_at, p.closed_at AS posting_closed_at FROM job_posting p "
                    "JOIN job ON job.id = p.job_id WHERE p.source = 'ashby' AND p.source_job_id = :id"
                ),
                {"id": source_job_id},
            )
            .mappings()
            .one()
        )
    return dict(row)


def test_a_listed_posting_unreadable_today_keeps_its_job_open_with_its_content_until_it_is_delisted(tmp_path, engine):
    body = recorded(ANSWERSNOW)
    first = body["jobs"][0]
    outcome = scrape_and_sync(engine, tmp_path, DAY1, body)
    assert outcome["skipped_ids"] == []
    title = job_of(engine, first["id"])["title"]

    broken = json.loads(json.dumps(body))
    broken["jobs"][0]["title"] = 12345  # still listed, no longer readable
    outcome = scrape_and_sync(engine, tmp_path, DAY2, broken)
    assert (outcome["n_postings"], outcome["n_skipped"], outcome["skipped_ids"]) == (2, 1, [first["id"]])
    job = job_of(engine, first["id"])
    assert job["closed_at"] is None and job["posting_closed_at"] is None
    assert job["title"] == title  # never rewritten from what could not be read
    assert job["last_seen"] == DAY1  # a skip is no sighting of content: only closing treats it as seen

    delisted = json.loads(json.dumps(body))
    delisted["jobs"] = delisted["jobs"][1:]
    scrape_and_sync(engine, tmp_path, DAY3, delisted)
    assert job_of(engine, first["id"])["closed_at"] == DAY3  # gone from the board: closed as ever


def test_a_day_scraped_again_replaces_its_skips(tmp_path, engine):
    """A partition scraped again for the same day replaces that day's skipped ids of its boards: a
    posting unreadable in the first scrape and gone from the board in the second closes that day,
    no longer held open by the first scrape's skip."""
    body = recorded(ANSWERSNOW)
    first = body["jobs"][0]
    scrape_and_sync(engine, tmp_path, DAY1, body)
    broken = json.loads(json.dumps(body))
    broken["jobs"][0]["title"] = 12345
    assert scrape_and_sync(engine, tmp_path, DAY2, broken)["skipped_ids"] == [first["id"]]
    assert job_of(engine, first["id"])["closed_at"] is None

    delisted = json.loads(json.dumps(body))
    delisted["jobs"] = delisted["jobs"][1:]
    assert scrape_and_sync(engine, tmp_path / "again", DAY2, delisted)["skipped_ids"] == []
    assert job_of(engine, first["id"])["closed_at"] == DAY2
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM board_scrape_skipped").scalar() == 0


def test_a_posting_whose_id_is_unreadable_keeps_nothing_open(tmp_path, engine):
    body = recorded(ANSWERSNOW)
    first = body["jobs"][0]
    scrape_and_sync(engine, tmp_path, DAY1, body)

    broken = json.loads(json.dumps(body))
    broken["jobs"][0]["id"] = ["not", "an", "id"]
    broken["jobs"][0]["title"] = 12345
    outcome = scrape_and_sync(engine, tmp_path, DAY2, broken)
    assert (outcome["n_skipped"], outcome["skipped_ids"]) == (1, [])  # nothing to match, nothing recorded
    assert job_of(engine, first["id"])["closed_at"] == DAY2
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM board_scrape_skipped").scalar() == 0


@pytest.mark.parametrize(
    ("board", "title_key"),
    [
        (ANSWERSNOW, "title"),
        (Board("greenhouse", "lattice", "Lattice"), "title"),
        (Board("lever", "palantir", "Palantir"), "text"),
        (Board("smartrecruiters", "WesternDigital", "Western Digital"), "name"),
        (Board("workday", "nvidia/NVIDIAExternalCareerSite", "NVIDIA"), "title"),
    ],
)
def test_every_adapter_records_the_skipped_postings_id_as_it_would_have_stored_it(board, title_key):
    """The skipped id must be the id the posting is stored under (Workday's is a bullet field, not
    ``id``), else the sync matches nothing and closes the job anyway."""
    body = recorded(board)
    items = body if isinstance(body, list) else body["jobs" if "jobs" in body else "content" if "content" in body else "jobPostings"]
    adapter = ADAPTERS[board.ats]
    stored_id = parse_board(adapter, [json.dumps(body).encode()], board).postings[0].source_job_id
    items[0][title_key] = 12345
    parsed = parse_board(adapter, [json.dumps(body).encode()], board)
    assert (parsed.skipped, parsed.skipped_ids) == (1, [stored_id])
    assert stored_id not in {p.source_job_id for p in parsed.postings}
