"""Backfills as ``jobpipeline backfill`` runs them: HN months (ranges of months per run) and past board-scrape days (from disk)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import sqlalchemy as sa

from jobpipeline.cli import main as cli
from jobpipeline.cli.backfill import BackfillRequest, boards_request, hn_request, run_in_process
from jobpipeline.defs.history.partitions import hn_months
from jobpipeline.defs.jobs.assets import jobs
from jobpipeline.defs.resources import ReplayJobBoards, StoreResource
from jobpipeline.defs.scrape.assets import raw_postings
from jobpipeline.defs.scrape.partitions import board_partition_key
from jobpipeline.lib.ingest import sync_raw_partition
from jobpipeline.lib.normalize import dedup_keys, deduplicate
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.replay import ReplayServer
from jobpipeline.lib.store import create_schema, get_engine
from jobpipeline_tests.conftest import CORPUS
from jobpipeline_tests.history.conftest import DEAD, RECORDED, store_by_natural_key
from jobpipeline_tests.hn.conftest import HN_DIR

DAYS = ["2025-11-02", "2025-11-03", "2025-11-04"]


def with_store(request: BackfillRequest, store_url: str, **job_boards) -> BackfillRequest:
    resources = {"store": {"config": {"database_url": store_url}}}
    if job_boards:
        resources["job_boards"] = {"config": job_boards}
    return dataclasses.replace(request, run_config={**request.run_config, "resources": resources})


def rows(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


# --- HN months ---------------------------------------------------------------------------------


def test_backfill_of_the_recorded_months_ends_with_their_jobs(home, store_url):
    request = with_store(BackfillRequest("hn", list(RECORDED), {}, "recorded months"), store_url)
    summary = run_in_process(request, workers=2)  # the months in two processes, as the bench runs them
    assert summary.ok and sorted(r.partitions for r in summary.runs) == list(RECORDED)
    per_month = dict(rows(store_url, "SELECT board, count(*) FROM job_posting WHERE source = 'hn' GROUP BY board"))
    assert per_month == RECORDED
    # Jobs: the months' postings deduplicated together (a company posting the same text twice is one job).
    frames = [RawPartition.at(home / "raw", "hn", month).read_postings() for month in RECORDED]
    assert rows(store_url, "SELECT count(*) FROM job") == [(deduplicate(pl.concat(frames)).height,)]
    # Every recorded month is over: its thread closed on the 1st of the next month.
    assert rows(store_url, "SELECT board, min(closed_at), max(closed_at) FROM job_posting GROUP BY board") == [
        ("2011-04", "2011-05-01", "2011-05-01"),
        ("2019-11", "2019-12-01", "2019-12-01"),
        ("2020-02", "2020-03-01", "2020-03-01"),
    ]
    with dg.DagsterInstance.get() as instance:  # the runs are on DAGSTER_HOME's instance: the UI lists them
        assert {r.run_id for r in summary.runs} <= {r.run_id for r in instance.get_runs()}


def test_a_backfill_walks_discovery_once_and_fetches_each_thread_from_algolia_first(home, store_url, tmp_path):
    """Requests counted at the replay server: the search pages once for the whole backfill (the months
    found go to ``raw/hn/.thread_index.json``), one Algolia items request per thread, and Firebase
    per comment only for the threads Algolia has no recording of (2019-11, 2020-02)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hn").symlink_to(HN_DIR, target_is_directory=True)
    searches = {}
    with ReplayServer(corpus) as server:
        for months in (["2011-04"], ["2019-11", "2020-02"]):  # the first walks back to 2011; the later ones need no walk
            request = with_store(BackfillRequest("hn", months, {}, "recorded months"), store_url, base_urls={"hn": server.base_urls["hn"]})
            assert run_in_process(request).ok
            searches[months[0]] = sum(n for path, n in server.stats.paths.items() if "/search_by_date" in path)
        paths = dict(server.stats.paths)
    assert searches["2011-04"] > 1 and searches["2019-11"] == searches["2011-04"]
    assert {path: n for path, n in paths.items() if "/api/v1/items/" in path} == {
        "/hn/api/v1/items/2396027": 1,
        "/hn/api/v1/items/21419536": 1,  # 404: not recorded from Algolia
        "/hn/api/v1/items/22225314": 1,  # 404
    }
    firebase = sum(n for path, n in paths.items() if path.startswith("/hn/v0/item/"))
    assert firebase == (1 + 680) + (1 + 414)  # each fallback thread's story and kids; nothing for 2011-04
    assert dict(rows(store_url, "SELECT board, count(*) FROM job_posting GROUP BY board")) == RECORDED


def partition_status(instance: dg.DagsterInstance, asset: str, months: list[str]) -> dict[str, str]:
    statuses = instance.get_status_by_partition(dg.AssetKey(asset), months, hn_months)
    return {month: status.value for month, status in (statuses or {}).items()}


def test_unrecorded_months_in_a_range_fail_alone_while_the_others_land(home, store_url):
    """One run for the range; the unrecorded months fail by name, the recorded one lands, and Dagster
    shows each month's own status: materialized for the month that landed, failed for the others."""
    summary = run_in_process(with_store(hn_request("2019-10", "2019-12"), store_url))
    (run,) = summary.runs
    assert (run.partitions, run.status) == ("2019-10…2019-12", "FAILURE")
    assert sorted(run.failed_partitions) == sorted(summary.failed_partitions) == ["2019-10", "2019-12"]
    for month in ("2019-10", "2019-12"):
        assert run.failed_partitions[month].startswith(f"hn {month}: no postings from replay corpus")
        assert "answered 404" in run.failed_partitions[month]
    assert run.error.startswith("hn_month: 2 of 3 months failed (2019-10, 2019-12); 1 landed.")
    assert not summary.ok and "      2019-12 FAILURE  hn 2019-12: no postings" in summary.render()
    assert "retry each with --from/--to: 2019-10, 2019-12" in summary.render()
    assert rows(store_url, "SELECT board, count(*) FROM job_posting GROUP BY board") == [("2019-11", 647)]
    with dg.DagsterInstance.get() as instance:
        for asset in ("hn_postings", "hn_jobs"):
            assert partition_status(instance, asset, ["2019-10", "2019-11", "2019-12"]) == {
                "2019-10": "FAILED",
                "2019-11": "MATERIALIZED",
                "2019-12": "FAILED",
            }
        (mat,) = [e.asset_materialization for e in instance.fetch_materializations(dg.AssetKey("hn_jobs"), limit=10).records]
        assert (mat.partition, mat.metadata["postings"].value, mat.metadata["new"].value) == ("2019-11", 647, mat.metadata["jobs"].value)


def recorded_months_corpus(root: Path, months: list[str]) -> Path:
    """A replay corpus with the real discovery pages and only ``months``' recorded Firebase threads."""
    hn = root / "hn"
    (hn / "firebase" / "item").mkdir(parents=True)
    (hn / "algolia").mkdir()
    (hn / "algolia" / "search_by_date").symlink_to(HN_DIR / "algolia" / "search_by_date", target_is_directory=True)
    (hn / "firebase" / "user").symlink_to(HN_DIR / "firebase" / "user", target_is_directory=True)
    for month in months:
        (recording,) = (HN_DIR / "firebase" / "item").glob(f"{month}_*.jsonl.gz")
        (hn / "firebase" / "item" / recording.name).symlink_to(recording)
    return root


def test_a_range_in_one_run_gives_the_month_by_month_store_and_a_failed_month_retries_alone(home, tmp_path):
    """2019-11…2020-02 in one run while 2020-02's thread cannot be fetched (not served yet): 2019-11
    lands, 2019-12, 2020-01 (no recording) and 2020-02 fail by name; 2020-02 retried alone once it
    is served. The store then equals one run per month, and each month has its own metadata."""
    month_by_month = f"sqlite:///{tmp_path / 'month_by_month.db'}"
    for month in ("2019-11", "2020-02"):
        assert run_in_process(with_store(hn_request(month, month), month_by_month)).ok
    shutil.rmtree(home / "raw")  # the ranged backfill starts from nothing on disk, as the month-by-month one did

    ranged = f"sqlite:///{tmp_path / 'ranged.db'}"
    with ReplayServer(recorded_months_corpus(tmp_path / "without_2020_02", ["2019-11"])) as server:
        summary = run_in_process(with_store(hn_request("2019-11", "2020-02"), ranged, base_urls={"hn": server.base_urls["hn"]}))
    assert [r.partitions for r in summary.runs] == ["2019-11…2020-02"]  # one run for the range
    assert sorted(summary.failed_partitions) == ["2019-12", "2020-01", "2020-02"]
    assert "16967543" not in summary.failed_partitions["2020-02"] and "22225314" in summary.failed_partitions["2020-02"]
    assert dict(rows(ranged, "SELECT board, count(*) FROM job_posting GROUP BY board")) == {"2019-11": 647}

    with ReplayServer(recorded_months_corpus(tmp_path / "with_2020_02", ["2019-11", "2020-02"])) as server:
        retry = run_in_process(with_store(hn_request("2020-02", "2020-02"), ranged, base_urls={"hn": server.base_urls["hn"]}))
    assert retry.ok and [r.partitions for r in retry.runs] == ["2020-02"]
    assert store_by_natural_key(ranged) == store_by_natural_key(month_by_month)
    with dg.DagsterInstance.get() as instance:
        assert partition_status(instance, "hn_jobs", ["2019-11", "2019-12", "2020-01", "2020-02"]) == {
            "2019-11": "MATERIALIZED",
            "2019-12": "FAILED",
            "2020-01": "FAILED",
            "2020-02": "MATERIALIZED",
        }
        ranged_runs = {r.run_id for r in summary.runs}
        per_month = {}
        for record in instance.fetch_materializations(dg.AssetKey("hn_postings"), limit=20).records:
            if record.run_id in ranged_runs:
                mat = record.asset_materialization
                per_month[mat.partition] = (mat.metadata["postings"].value, mat.metadata["path"].value)
    assert per_month == {"2019-11": (647, str(home / "raw" / "hn" / "2019-11"))}  # the month's own metadata, its own raw partition


def test_backfill_command_rejects_months_and_days_outside_the_partitions(home, capsys):
    assert cli(["backfill", "hn", "--from", "2011-03", "--to", "2011-05", "--in-process"]) == 2
    assert "'2011-03' is not a partition: partitions are YYYY-MM, from 2011-04" in capsys.readouterr().err
    assert cli(["backfill", "boards", "--from", "2025-11-05", "--to", "2025-11-01", "--in-process"]) == 2
    assert "--to 2025-11-01 is before --from 2025-11-05" in capsys.readouterr().err
    assert cli(["backfill", "boards", "--from", "2025-11-01", "--to", "2025-11-02", "--source", "indeed"]) == 2


# --- board-scrape days -------------------------------------------------------------------------


def scrape_one_board_day(home: Path, tmp_path: Path) -> RawPartition:
    """A real scrape of one recorded Lever board (10 postings, 7 jobs), stored as day 1."""
    corpus = tmp_path / "corpus"
    (corpus / "lever").mkdir(parents=True)
    shutil.copy(CORPUS / "lever" / "palantir.json", corpus / "lever")
    with dg.DagsterInstance.ephemeral() as instance:
        scraped = dg.materialize(
            [raw_postings],
            partition_key=str(board_partition_key(DAYS[0], "lever")),
            instance=instance,
            run_config={"ops": {"raw_postings": {"config": {"allow_past": True}}}},
            resources={
                "job_boards": ReplayJobBoards(replay_dir=str(corpus)),
                "store": StoreResource(database_url=f"sqlite:///{tmp_path / 'scrape_store.db'}"),
            },
        )
    assert scraped.success
    return RawPartition.at(home / "raw", "lever", DAYS[0])


def write_later_days(home: Path, first: RawPartition, *, vanish: list[str], rewrite: str, back: str | None) -> None:
    """Day 2: ``vanish`` gone and ``rewrite``'s description extended; day 3: ``back`` is back (if any)."""
    postings, outcomes = first.read_postings(), first.read_outcomes()
    day2 = postings.filter(~pl.col("source_job_id").is_in(vanish)).with_columns(
        description=pl.when(pl.col("source_job_id") == rewrite)
        .then(pl.col("description").fill_null("") + "\nAlso open in Denver.")
        .otherwise("description")
    )
    day3 = pl.concat([day2, postings.filter(pl.col("source_job_id") == back)]) if back else day2
    for day, frame in ((DAYS[1], day2), (DAYS[2], day3)):
        RawPartition.at(home / "raw", "lever", day).write(frame, [dict(o, n_postings=frame.height) for o in outcomes], {})


def sync_in_date_order_and_shuffled(tmp_path: Path, home: Path) -> tuple[dict, dict]:
    """The store after syncing the days in date order, and after one ``jobs`` run per day, latest first."""
    in_order = f"sqlite:///{tmp_path / 'in_order.db'}"
    engine = get_engine(in_order)
    create_schema(engine)
    for day in DAYS:
        sync_raw_partition(engine, "lever", day, RawPartition.at(home / "raw", "lever", day))
    engine.dispose()
    shuffled = f"sqlite:///{tmp_path / 'shuffled.db'}"
    with dg.DagsterInstance.ephemeral() as instance:
        for day in (DAYS[2], DAYS[0], DAYS[1]):
            result = dg.materialize(
                [raw_postings, jobs],
                selection=[jobs],
                partition_key=str(board_partition_key(day, "lever")),
                instance=instance,
                resources={"job_boards": ReplayJobBoards(base_urls={"lever": DEAD}), "store": StoreResource(database_url=shuffled)},
            )
            assert result.success
    return store_by_natural_key(in_order), store_by_natural_key(shuffled)


@pytest.fixture
def board_days_on_disk(home: Path, tmp_path: Path) -> list[str]:
    """Three past days of one real board on disk: on day 2 two postings vanish and one is rewritten,
    on day 3 one comes back. All four are jobs of their own (not one of a job's several postings)."""
    first = scrape_one_board_day(home, tmp_path)
    postings = first.read_postings()
    keys = pl.Series(dedup_keys(postings))
    alone = [i for i, k in zip(postings["source_job_id"], keys) if (keys == k).sum() == 1]
    assert len(alone) >= 4
    write_later_days(home, first, vanish=alone[:3], rewrite=alone[3], back=alone[0])
    return alone


def test_past_board_days_backfill_rebuilds_jobs_from_disk_without_the_network(home, store_url, board_days_on_disk):
    request = with_store(boards_request(DAYS[0], DAYS[-1], source="lever"), store_url, base_urls={"lever": DEAD}, retries=0)
    summary = run_in_process(request)
    assert summary.ok and [r.partitions for r in summary.runs] == [f"{DAYS[0]}|lever…{DAYS[-1]}|lever"]  # one single_run
    ids = board_days_on_disk
    closed = dict(rows(store_url, "SELECT source_job_id, closed_at FROM job_posting"))
    assert closed[ids[0]] is None  # gone on day 2, back on day 3
    assert closed[ids[1]] == closed[ids[2]] == DAYS[1]
    assert rows(store_url, f"SELECT updated_at FROM job WHERE source_job_id = '{ids[3]}'") == [(DAYS[1],)]


def test_out_of_order_board_days_give_the_same_store_as_date_order(tmp_path, home, board_days_on_disk):
    """Day partitions synced from disk as their runs finish (shuffled) vs in date order: the same store."""
    in_order, shuffled = sync_in_date_order_and_shuffled(tmp_path, home)
    assert shuffled == in_order


def test_out_of_order_board_days_equal_date_order_when_one_posting_of_a_job_is_rewritten(tmp_path, home):
    """Date order keeps both postings on one job; latest-first first makes two jobs of them, which
    the day that shows them together merges back into one."""
    first = scrape_one_board_day(home, tmp_path)
    postings = first.read_postings()
    keys = pl.Series(dedup_keys(postings))
    shared = sorted(i for i, k in zip(postings["source_job_id"], keys) if (keys == k).sum() > 1)
    write_later_days(home, first, vanish=[], rewrite=shared[0], back=None)
    in_order, shuffled = sync_in_date_order_and_shuffled(tmp_path, home)
    assert shuffled == in_order


# --- the real thing: a Dagster backfill run by the daemon ---------------------------------------


@pytest.mark.slow
def test_backfill_command_submits_a_dagster_backfill_that_a_daemon_runs(home):
    """Default mode: the backfill the UI would show, run by a dagster-daemon the command starts (about a minute)."""
    assert cli(["backfill", "hn", "--from", "2019-11", "--to", "2019-12"]) == 1  # 2019-12 is unrecorded
    with dg.DagsterInstance.get() as instance:
        (backfill,) = instance.get_backfills()
        assert backfill.status.value == "COMPLETED_FAILED" and backfill.title == "hn 2019-11…2019-12"
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
        by_range = {
            (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"]): r.status.value for r in runs
        }
    assert by_range == {("2019-11", "2019-12"): "FAILURE"}  # one run for the range (multi_run), 2019-12 failed inside it
    assert rows(f"sqlite:///{home / 'jobpipeline.db'}", "SELECT board, count(*) FROM job_posting GROUP BY board") == [("2019-11", 647)]
