"""Assembles every domain under ``jobpipeline/defs/`` into one ``Definitions`` (nothing else lives here)."""

from __future__ import annotations

import dagster as dg

from jobpipeline.defs.analytics.assets import analytics
from jobpipeline.defs.analytics.checks import JOBS_CHECKS
from jobpipeline.defs.analytics.jobs import analytics_job, downstream_job
from jobpipeline.defs.analytics.resources import AnalyticsDuckDBResource
from jobpipeline.defs.analytics.sensors import analytics_size_sensor
from jobpipeline.defs.enrich.assets import enriched_jobs
from jobpipeline.defs.enrich.resources import llm_resource_from_env
from jobpipeline.defs.history.assets import hn_jobs, hn_postings
from jobpipeline.defs.history.schedules import hn_current_month_schedule, hn_month_job
from jobpipeline.defs.jobs.assets import jobs
from jobpipeline.defs.resources import StoreResource, job_boards
from jobpipeline.defs.resources import StoreResource
from jobpipeline.defs.scrape.assets import raw_postings
from jobpipeline.defs.resources import ReplayJobBoards
from jobpipeline.defs.scrape.schedules import daily_scrape_job, daily_scrape_schedule

# Declarative automation runs only while the daemon's automation sensor does. Declared here,
# RUNNING by default, so `enriched_jobs` follows every sync in any deployment without a click.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "default_automation_condition_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the assets' automation conditions: requests enriched_jobs after every sync "
    "(jobs, hn_jobs) once no sync is running.",
)

defs = dg.Definitions(
    assets=[raw_postings, jobs, hn_postings, hn_jobs, enriched_jobs, analytics],
    asset_checks=JOBS_CHECKS,
    jobs=[daily_scrape_job, hn_month_job, analytics_job, downstream_job],
    schedules=[daily_scrape_schedule, hn_current_month_schedule],
    sensors=[analytics_size_sensor, automation_sensor],
    resources={
        "job_boards": job_boards,
        "store": StoreResource(),
        "duckdb": AnalyticsDuckDBResource(),
        "llm": llm_resource_from_env(),
    },
)
