"""Automation end to end, on a real Dagster instance: the daemon's automation sensor is on by
default, and its condition requests ``enriched_jobs`` after ``jobs`` is materialized (a schedule
tick, a backfill), once, and not again until the next sync."""

from __future__ import annotations

import dagster as dg

from jobpipeline.definitions import defs as load_defs
from jobpipeline.defs.enrich.assets import enriched_jobs
from jobpipeline.defs.enrich.resources import LLMResource
from jobpipeline.defs.history.assets import hn_month
from jobpipeline.defs.jobs.assets import jobs
from jobpipeline.defs.resources import ReplayJobBoards, StoreResource
from jobpipeline.defs.scrape.assets import raw_postings
from jobpipeline.defs.scrape.partitions import board_partition_key
from jobpipeline_tests.defs.test_spine import TODAY, small_corpus  # noqa: F401 - fixture

ENRICHED = dg.AssetKey("enriched_jobs")
ASSETS = [raw_postings, jobs, hn_month, enriched_jobs]


def requested(result) -> int:
    return result.get_num_requested(ENRICHED)


def test_the_automation_sensor_is_on_by_default_and_targets_enriched_jobs():
    sensor = load_defs().resolve_sensor_def("default_automation_condition_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert ENRICHED in sensor.asset_selection.resolve(load_defs().resolve_asset_graph())
    assert load_defs().resolve_assets_def("enriched_jobs").automation_conditions_by_key[ENRICHED] is not None


def test_enriched_jobs_is_requested_after_jobs_is_materialized_and_only_then(home, small_corpus, tmp_path):
    store_url = f"sqlite:///{home / 'store.db'}"
    resources = {
        "job_boards": ReplayJobBoards(replay_dir=str(small_corpus)),
        "store": StoreResource(database_url=store_url),
        "llm": LLMResource(backend="rules"),
    }
    graph = dg.Definitions(assets=ASSETS, resources=resources)
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        first = dg.evaluate_automation_conditions(defs=graph, instance=instance)
        quiet = dg.evaluate_automation_conditions(defs=graph, instance=instance, cursor=first.cursor)
        assert requested(quiet) == 0  # nothing synced since: nothing to enrich

        synced = dg.materialize(
            [raw_postings, jobs], partition_key=str(board_partition_key(TODAY, "ashby")), instance=instance, resources=resources
        )
        assert synced.success
        after_sync = dg.evaluate_automation_conditions(defs=graph, instance=instance, cursor=quiet.cursor)
        assert requested(after_sync) == 1
        again = dg.evaluate_automation_conditions(defs=graph, instance=instance, cursor=after_sync.cursor)
        assert requested(again) == 0  # requested once per sync, not on every tick

        assert dg.materialize([enriched_jobs], instance=instance, resources=resources).success
        after_enrich = dg.evaluate_automation_conditions(defs=graph, instance=instance, cursor=again.cursor)
        assert requested(after_enrich) == 0
        assert dg.materialize(
            [raw_postings, jobs], partition_key=str(board_partition_key(TODAY, "lever")), instance=instance, resources=resources
        ).success
        next_sync = dg.evaluate_automation_conditions(defs=graph, instance=instance, cursor=after_enrich.cursor)
        assert requested(next_sync) == 1


def test_schedules_say_what_they_do_and_are_off_by_default_while_sensors_are_on():
    """What the README promises: schedules (they reach the network) wait to be turned on; the
    sensors that keep enrichment and analytics following them run from the start."""
    for name in ("daily_scrape_schedule", "hn_current_month_schedule"):
        schedule = load_defs().resolve_schedule_def(name)
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
        assert schedule.description and "Off by default" in schedule.description
    for name in ("analytics_size_sensor", "default_automation_condition_sensor"):
        sensor = load_defs().resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING and sensor.description
