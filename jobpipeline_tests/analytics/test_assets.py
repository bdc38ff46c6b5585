"""The analytics assets through Dagster: metadata (row counts, preview, chart), subsets, and the jobs."""

from __future__ import annotations

import dagster as dg
import pytest

from jobpipeline.defs.analytics.assets import analytics
from jobpipeline.defs.analytics.checks import JOBS_CHECKS
from jobpipeline.defs.analytics.jobs import analytics_job, downstream_job
from jobpipeline.defs.analytics.resources import AnalyticsDuckDBResource
from jobpipeline.defs.analytics.sensors import analytics_size_sensor
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.analytics import build


def resources(store, analytics_db) -> dict:
    return {"store": StoreResource(database_url=store.url), "duckdb": AnalyticsDuckDBResource(database=str(analytics_db))}


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        e.materialization.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


def test_one_run_materializes_every_table_with_row_count_and_preview(store, analytics_db):
    result = dg.materialize([analytics], resources=resources(store, analytics_db), instance=dg.DagsterInstance.ephemeral())
    assert result.success
    got = materializations(result)
    assert set(got) == set(build.TABLES_BY_NAME)
    assert got["job_snapshot"]["dagster/row_count"] == 6
    assert got["skill_movers"]["dagster/row_count"] == 7
    assert got["skill_movers"]["preview"].startswith("|   rank | skill")
    assert "TypeScript" in got["skill_movers"]["preview"]
    assert got["job_snapshot"]["store_jobs"] == 6
    assert [c.name for c in got["salary_bands"]["dagster/column_schema"].columns][:3] == ["seniority", "work_mode", "currency"]


def test_skill_demand_weekly_shows_a_chart(store, analytics_db):
    result = dg.materialize([analytics], selection=["skill_demand_weekly"], resources=resources(store, analytics_db))
    chart = materializations(result)["skill_demand_weekly"]["skill_demand_chart"]
    assert chart.startswith("![skill demand over time](data:image/png;base64,iVBORw0KGgo")  # a PNG


def test_a_subset_materializes_only_the_selected_tables(store, analytics_db):
    result = dg.materialize([analytics], selection=["salary_bands"], resources=resources(store, analytics_db))
    assert set(materializations(result)) == {"salary_bands"}  # job_snapshot built as a prerequisite only


def test_the_analytics_wait_for_jobs_and_enriched_jobs_by_key():
    specs = {s.key.to_user_string(): {d.asset_key.to_user_string() for d in s.deps} for s in analytics.specs}
    assert {"jobs", "enriched_jobs"} <= specs["job_snapshot"]
    assert specs["skill_movers"] == {"skill_demand_weekly"}
    assert all(s.group_name == "analytics" for s in analytics.specs)
    assert analytics.op.pool == "duckdb"


@pytest.mark.parametrize("with_enrichment", [False, True])
def test_downstream_job_loads_with_or_without_enriched_jobs(with_enrichment):
    @dg.asset(group_name="jobs")
    def jobs():
        pass

    @dg.asset(group_name="enrich", deps=[jobs])
    def enriched_jobs():
        pass

    defs = dg.Definitions(
        assets=[jobs, analytics, *([enriched_jobs] if with_enrichment else [])],
        asset_checks=JOBS_CHECKS,
        jobs=[analytics_job, downstream_job],
        sensors=[analytics_size_sensor],
        resources={"store": StoreResource(), "duckdb": AnalyticsDuckDBResource()},
    )
    dg.Definitions.validate_loadable(defs)
    nodes = set(defs.resolve_job_def("downstream_job").graph.node_names())
    assert nodes == ({"analytics", "enriched_jobs"} if with_enrichment else {"analytics"})
    assert set(defs.resolve_job_def("analytics_job").graph.node_names()) == {"analytics"}
