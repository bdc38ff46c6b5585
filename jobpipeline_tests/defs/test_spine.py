"""raw_postings → jobs through a real Dagster instance, against the replay server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from jobpipeline.cli.run import run_pipeline
from jobpipeline.definitions import defs as load_defs
from jobpipeline.defs.jobs.assets import jobs
from jobpipeline.defs.resources import ReplayJobBoards, StoreResource
from jobpipeline.defs.scrape.assets import raw_postings
from jobpipeline.defs.scrape.partitions import board_partition_key
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline_tests.conftest import CORPUS

TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """Three real recorded boards: two Ashby, one Lever."""
    corpus = tmp_path / "corpus"
    ashby = sorted((CORPUS / "ashby").glob("*.json"))[:2]
    for src in [*ashby, CORPUS / "lever" / "palantir.json"]:
        dest = corpus / src.parent.name / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dest)
    return corpus


def materialize(partition: str, corpus: Path, store_url: str, instance: dg.DagsterInstance, **boards_config) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [raw_postings, jobs],
        partition_key=partition,
        instance=instance,
        resources={
            "job_boards": ReplayJobBoards(replay_dir=str(corpus), **boards_config),
            "store": StoreResource(database_url=store_url),
        },
        raise_on_error=False,
    )


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (mat,) = result.asset_materializations_for_node(asset)
    return {k: v.value for k, v in mat.metadata.items()}


def test_definitions_load_with_every_spine_object():
    keys = {k.to_user_string() for k in load_defs().resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_postings", "jobs"} <= keys
    assert load_defs().resolve_job_def("daily_scrape_job")
    assert load_defs().resolve_schedule_def("daily_scrape_schedule")


def test_raw_postings_and_jobs_materialize_for_one_partition(home, small_corpus):
    store_url = f"sqlite:///{home / 'store.db'}"
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(str(board_partition_key(TODAY, "ashby")), small_corpus, store_url, instance)
    assert result.success
    scrape = metadata(result, "raw_postings")
    assert scrape["boards"] == scrape["boards_ok"] == 2 and scrape["postings"] > 0
    assert "| board | outcome |" in scrape["board_outcomes"]
    synced = metadata(result, "jobs")
    assert synced["new"] > 0 and synced["jobs_in_store"] == synced["new"]

    partition = RawPartition.at(home / "raw", "ashby", TODAY)
    assert partition.read_postings().height == scrape["postings"]
    assert {o["board"] for o in partition.read_outcomes()} == {p.stem for p in (small_corpus / "ashby").glob("*.json")}
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM job").scalar() == synced["new"]
        assert conn.exec_driver_sql("SELECT count(*) FROM job_search").scalar() == synced["new"]  # FTS5 indexed


def test_past_partition_rebuilds_from_disk_without_the_network(home, small_corpus):
    store_url = f"sqlite:///{home / 'store.db'}"
    day = "2026-11-02"
    key = str(board_partition_key(day, "lever"))
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.materialize(
            [raw_postings, jobs],
            partition_key=key,
            instance=instance,
            run_config={"ops": {"raw_postings": {"config": {"allow_past": True}}}},
            resources={"job_boards": ReplayJobBoards(replay_dir=str(small_corpus)), "store": StoreResource(database_url=store_url)},
        )
        assert first.success
        # Nothing listens on port 9: any network access would fail every board.
        dead = {"lever": "http://127.0.0.1:9"}
        again = materialize(key, small_corpus, store_url, instance, base_urls=dead, retries=0)
    assert again.success
    assert metadata(again, "raw_postings")["reused_from_disk"] is True
    assert metadata(again, "jobs")["new"] == 0 and metadata(again, "jobs")["unchanged"] > 0


def test_partition_fails_only_when_every_board_fails_and_keeps_outcomes(home, small_corpus):
    store_url = f"sqlite:///{home / 'store.db'}"
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(
            str(board_partition_key(TODAY, "ashby")),
            small_corpus,
            store_url,
            instance,
            base_urls={"ashby": "http://127.0.0.1:9"},
            retries=0,
            timeout_s=2,
        )
    assert not result.success
    outcomes = json.loads((home / "raw" / "ashby" / TODAY / "outcomes.json").read_text())
    assert len(outcomes) == 2 and not any(o["ok"] for o in outcomes)
    assert all("127.0.0.1:9" in o["error"] for o in outcomes)


def test_run_command_materializes_the_day_through_the_dagster_home(home, small_corpus):
    summary = run_pipeline(TODAY, "replay", small_corpus, scrape_only=True)
    assert summary.ok and [name for name, _, _ in summary.runs] == [
        str(board_partition_key(TODAY, "ashby")),
        str(board_partition_key(TODAY, "lever")),
    ]
    assert summary.scrape["boards_ok"] == 3 and summary.sync["new"] > 0
    assert "boards   3 scraped, 3 ok, 0 failed" in summary.render()
    # The runs are in the DAGSTER_HOME instance, so `dagster dev` on the same home shows them.
    with dg.DagsterInstance.get() as instance:
        run_ids = {r.run_id for r in instance.get_runs()}
    assert {run_id for _, run_id, _ in summary.runs} <= run_ids


def test_run_command_rejects_a_malformed_boards_config_before_any_run(home, small_corpus, monkeypatch, capsys):
    from jobpipeline.cli import main

    bad = home / "boards.csv"
    bad.write_text("ats,board_token,company\nashby,notion,Notion\nnosuchats,acme,Acme\n")
    monkeypatch.setenv("JOBPIPELINE_BOARDS", str(bad))
    assert main(["run", "--replay", str(small_corpus), "--scrape-only"]) == 2
    err = capsys.readouterr().err
    assert "boards.csv:3: unknown ATS 'nosuchats'" in err
    assert not (home / "dagster").exists() and not (home / "raw").exists()


def test_run_command_rejects_a_bad_date(home, capsys):
    from jobpipeline.cli import main

    assert main(["run", "--date", "2026-13-40"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_live_mode_env_switches_the_run_command_to_the_public_apis(monkeypatch):
    """JOBPIPELINE_LIVE=1 picks live mode; an explicit --replay still wins."""
    import argparse

    import jobpipeline.cli.run as run_cli

    seen: list[str] = []
    monkeypatch.setattr(run_cli, "run_pipeline", lambda day, mode, replay, scrape_only: seen.append(mode) or run_cli.RunSummary(day, mode))
    monkeypatch.setenv("JOBPIPELINE_LIVE", "1")
    for replay in (None, Path("corpus")):
        run_cli.main(argparse.Namespace(date="2026-11-02", live=False, replay=replay, scrape_only=True))
    assert seen == ["live", "replay"]
