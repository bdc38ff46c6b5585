"""The size sensor: skip with a reason below the threshold, one run request when crossing it,
no duplicate on a repeated tick, a cursor that moves with each request, growth counted from the
last build whoever built it, and no rebuild while enrichment lags a sync."""

from __future__ import annotations

import json
from datetime import date

import dagster as dg
import sqlalchemy as sa

from jobpipeline.defs.analytics.assets import analytics
from jobpipeline.defs.analytics.resources import AnalyticsDuckDBResource
from jobpipeline.defs.analytics.sensors import build_analytics_size_sensor
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.analytics.facts import StoreFacts, read_store_facts
from jobpipeline.lib.postings import BoardOutcome, Posting, postings_frame
from jobpipeline.lib.sync import sync_postings

# The known store holds 6 jobs, 2 of them closed, and 8 enrichment rows: 16 rows of growth from nothing.
KNOWN_ROWS = 16


def tick(sensor: dg.SensorDefinition, store, cursor: str | None = None, instance: dg.DagsterInstance | None = None):
    context = dg.build_sensor_context(
        cursor=cursor, resources={"store": StoreResource(database_url=store.url)}, instance=instance or dg.DagsterInstance.ephemeral()
    )
    return sensor(context)


def add_jobs(store, n: int, day: date = date(2026, 1, 13)) -> None:
    postings = [Posting("ashby", "initech", f"i{i}", "Initech", f"Engineer {i}") for i in range(n)]
    sync_postings(store.engine, postings_frame(postings), seen_on=day, outcomes=[BoardOutcome(source="ashby", board="initech", ok=True)])


def test_below_the_threshold_the_tick_skips_and_says_how_far_below(store):
    result = tick(build_analytics_size_sensor(min_rows=100, min_bytes=0), store)
    assert isinstance(result, dg.SkipReason)
    assert f"{KNOWN_ROWS} of 100 rows (84 to go)" in result.skip_message


def test_byte_threshold_is_reported_too(store):
    result = tick(build_analytics_size_sensor(min_rows=100, min_bytes=10**12), store)
    assert "bytes" in result.skip_message and "to go" in result.skip_message


def test_crossing_the_threshold_requests_one_run_with_a_run_key_and_moves_the_cursor(store):
    result = tick(build_analytics_size_sensor(min_rows=10, min_bytes=0), store)
    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests
    facts = read_store_facts(store.engine)
    assert request.run_key == facts.run_key()
    assert request.tags["jobpipeline/growth_rows"] == str(KNOWN_ROWS)
    assert StoreFacts.from_cursor(result.cursor) == facts
    assert json.loads(result.cursor)["jobs"] == 6


def test_a_repeated_tick_does_not_launch_twice(store):
    sensor = build_analytics_size_sensor(min_rows=10, min_bytes=0)
    first = tick(sensor, store)
    # The same tick evaluated again (cursor not yet stored): same run key, which Dagster launches once.
    again = tick(sensor, store)
    assert again.run_requests[0].run_key == first.run_requests[0].run_key
    # The next tick with the stored cursor, nothing new in the store: a skip, no request.
    after = tick(sensor, store, cursor=first.cursor)
    assert isinstance(after, dg.SkipReason)
    assert "0 of 10 rows" in after.skip_message


def test_growth_counts_from_the_cursor_and_the_cursor_advances(store):
    sensor = build_analytics_size_sensor(min_rows=10, min_bytes=0)
    first = tick(sensor, store)
    add_jobs(store, 4)
    below = tick(sensor, store, cursor=first.cursor)
    assert isinstance(below, dg.SkipReason) and "4 of 10 rows" in below.skip_message
    add_jobs(store, 10)  # 6 more jobs (4 are the same postings again)
    crossed = tick(sensor, store, cursor=first.cursor)
    (request,) = crossed.run_requests
    assert request.run_key != first.run_requests[0].run_key
    assert StoreFacts.from_cursor(crossed.cursor).jobs == 6 + 10
    assert isinstance(tick(sensor, store, cursor=crossed.cursor), dg.SkipReason)


def test_closing_jobs_counts_as_growth(store):
    sensor = build_analytics_size_sensor(min_rows=2, min_bytes=0)
    cursor = tick(sensor, store).cursor
    # acme scraped ok without A1 and A4: both close
    sync_postings(
        store.engine, postings_frame([]), seen_on=date(2026, 1, 13), outcomes=[BoardOutcome(source="greenhouse", board="acme", ok=True)]
    )
    result = tick(sensor, store, cursor=cursor)
    assert result.run_requests and result.run_requests[0].tags["jobpipeline/growth_rows"] == "2"


def test_an_unreadable_cursor_counts_as_never_built(store):
    result = tick(build_analytics_size_sensor(min_rows=10, min_bytes=0), store, cursor="not json")
    assert result.run_requests


def test_the_tick_reads_indexes_not_job_rows(store):
    """What keeps a tick cheap at any size: SQLite answers every count from an index, never by
    walking the table's rows (the 100k-job timing is in bench/analytics.py)."""
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda conn, cursor, sql, *a: statements.append(sql))
    read_store_facts(store.engine)
    counts = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT COUNT")]
    assert len(counts) == 3, statements
    with store.engine.connect() as conn:
        for sql in counts:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
            assert plan and all("COVERING INDEX" in step for step in plan if step.startswith("SCAN")), (sql, plan)


def build_analytics(store, tmp_path, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """The analytics built by someone else than the sensor (``jobpipeline run``, the UI), on ``instance``."""
    resources = {"store": StoreResource(database_url=store.url), "duckdb": AnalyticsDuckDBResource(database=str(tmp_path / "a.duckdb"))}
    result = dg.materialize([analytics], resources=resources, instance=instance)
    assert result.success
    return result


def test_growth_counts_from_the_last_build_even_when_another_run_built_it(store, tmp_path):
    sensor = build_analytics_size_sensor(min_rows=10, min_bytes=0)
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        build_analytics(store, tmp_path, instance)
        after_build = tick(sensor, store, instance=instance)  # no cursor: the sensor never requested a build itself
        assert isinstance(after_build, dg.SkipReason), "rebuilt right after another run built the tables"
        assert "0 of 10 rows" in after_build.skip_message and "built by run" in after_build.skip_message
        add_jobs(store, 10)
        crossed = tick(sensor, store, instance=instance)
        assert crossed.run_requests and crossed.run_requests[0].tags["jobpipeline/growth_rows"] == "10"
        # A second outside build on the grown store: the sensor's own (pending) cursor no longer counts.
        build_analytics(store, tmp_path, instance)
        again = tick(sensor, store, cursor=crossed.cursor, instance=instance)
        assert isinstance(again, dg.SkipReason) and "0 of 10 rows" in again.skip_message


def test_no_rebuild_while_enrichment_lags_the_latest_sync(store, tmp_path):
    sensor = build_analytics_size_sensor(min_rows=10, min_bytes=0)
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization("jobs", partition="2026-01-13|ashby"))
        waiting = tick(sensor, store, instance=instance)
        assert isinstance(waiting, dg.SkipReason) and "waiting for enriched_jobs" in waiting.skip_message
        instance.report_runless_asset_event(dg.AssetMaterialization("enriched_jobs"))
        assert tick(sensor, store, instance=instance).run_requests  # caught up: the growth rule decides again
        instance.report_runless_asset_event(dg.AssetMaterialization("hn_jobs", partition="2026-01"))
        assert isinstance(tick(sensor, store, instance=instance), dg.SkipReason)


def test_the_projects_sensor_reads_its_thresholds_at_each_tick(store, monkeypatch):
    """JOBPIPELINE_ANALYTICS_MIN_ROWS / _MIN_BYTES changed after import count from the next tick."""
    from jobpipeline.defs.analytics.sensors import analytics_size_sensor

    monkeypatch.setenv("JOBPIPELINE_ANALYTICS_MIN_ROWS", "100")
    monkeypatch.setenv("JOBPIPELINE_ANALYTICS_MIN_BYTES", "0")
    assert f"{KNOWN_ROWS} of 100 rows (84 to go)" in tick(analytics_size_sensor, store).skip_message
    monkeypatch.setenv("JOBPIPELINE_ANALYTICS_MIN_ROWS", "10")
    assert isinstance(tick(analytics_size_sensor, store), dg.SensorResult)
