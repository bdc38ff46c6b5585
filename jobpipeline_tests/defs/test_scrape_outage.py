"""A source whose every board fails: each board's failure lands in ``board_scrape`` (the outage is
visible to scrape health and the checks), the partition fails, and a rerun scrapes it again instead
of reusing the failed partition on disk. Real Dagster instance, replay server on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from jobpipeline.defs.scrape.partitions import board_partition_key
from jobpipeline.lib.analytics import quality
from jobpipeline_tests.defs.test_spine import TODAY, materialize, metadata, small_corpus  # noqa: F401 - fixture

DEAD = {"ashby": "http://127.0.0.1:9"}  # nothing listens on port 9: every board fails at once


def board_scrapes(store_url: str) -> list[tuple]:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.exec_driver_sql("SELECT board, scraped_on, ok, error FROM board_scrape WHERE source = 'ashby' ORDER BY board")
            ]
    finally:
        engine.dispose()


def test_a_source_whose_every_board_failed_records_each_failure_and_fails_its_partition(home, small_corpus):
    store_url = f"sqlite:///{home / 'store.db'}"
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(
            str(board_partition_key(TODAY, "ashby")), small_corpus, store_url, instance, base_urls=DEAD, retries=0, timeout_s=2
        )
    assert not result.success
    rows = board_scrapes(store_url)
    boards = sorted(p.stem for p in (small_corpus / "ashby").glob("*.json"))
    assert [(board, day, ok) for board, day, ok, _ in rows] == [(b, TODAY, 0) for b in boards]
    assert all("127.0.0.1:9" in error for *_, error in rows)
    # What the board-failure check reads from the store: the day's outage, all boards failed.
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        outcome = quality.board_failure_share(lambda sql: [tuple(r) for r in conn.exec_driver_sql(sql)], 0.2, "board_scrape")
    engine.dispose()
    assert not outcome.passed


def test_rerunning_a_failed_past_partition_scrapes_again(home, small_corpus):
    store_url = f"sqlite:///{home / 'store.db'}"
    day = "2026-11-02"
    assert day < datetime.now(UTC).date().isoformat()
    key = str(board_partition_key(day, "ashby"))
    past = {"ops": {"raw_postings": {"config": {"allow_past": True}}}}
    with dg.DagsterInstance.ephemeral() as instance:
        down = _materialize(key, small_corpus, store_url, instance, past, base_urls=DEAD, retries=0, timeout_s=2)
        assert not down.success
        back = _materialize(key, small_corpus, store_url, instance, past)
    assert back.success
    scrape = metadata(back, "raw_postings")
    assert "reused_from_disk" not in scrape and scrape["boards_ok"] == 2
    assert metadata(back, "jobs")["new"] > 0
    assert {ok for _, _, ok, _ in board_scrapes(store_url)} == {1}  # the failure rows were overwritten


def _materialize(key, corpus, store_url, instance, run_config, **boards_config) -> dg.ExecuteInProcessResult:
    from jobpipeline.defs.jobs.assets import jobs
    from jobpipeline.defs.resources import ReplayJobBoards, StoreResource
    from jobpipeline.defs.scrape.assets import raw_postings

    return dg.materialize(
        [raw_postings, jobs],
        partition_key=key,
        instance=instance,
        run_config=run_config,
        raise_on_error=False,
        resources={"job_boards": ReplayJobBoards(replay_dir=str(corpus), **boards_config), "store": StoreResource(database_url=store_url)},
    )
