"""Assembles every domain under ``jobpipeline/defs/`` into one ``Definitions`` (nothing else lives here).

``defs`` is lazy (``@dg.definitions``): Dagster calls it when the code location loads, so the one
setting a definition itself carries (the size sensor's interval) is read then, not at import; every
other setting is read by the resources, the sensor and the checks when they run. Call ``defs()``.
"""

from __future__ import annotations

import dagster as dg

from jobpipeline import settings
from jobpipeline.defs.analytics.assets import analytics
from jobpipeline.defs.analytics.checks import JOBS_CHECKS
from jobpipeline.defs.analytics.jobs import analytics_job, downstream_job
from jobpipeline.defs.analytics.resources import AnalyticsDuckDBResource
from jobpipeline.defs.analytics.sensors import build_analytics_size_sensor
from jobpipeline.defs.enrich.assets import enriched_jobs
from jobpipeline.defs.enrich.resources import LLMResource
from jobpipeline.defs.history.assets import hn_jobs, hn_postings
from jobpipeline.defs.history.schedules import hn_current_month_schedule, hn_month_job
from jobpipeline.defs.jobs.assets import jobs
from jobpipeline.defs.resources import StoreResource, job_boards
from jobpipeline.defs.scrape.assets import raw_postings
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



@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[raw_postings, jobs, hn_postings, hn_jobs, enriched_jobs, analytics],
        asset_checks=JOBS_CHECKS,
        jobs=[daily_scrape_job, hn_month_job, analytics_job, downstream_job],
        schedules=[daily_scrape_schedule, hn_current_month_schedule],
        sensors=[
            build_analytics_size_sensor(interval_s=settings.current().analytics_sensor_interval_s),
            automation_sensor,
        ],
        # Each resource takes its defaults from jobpipeline.settings when it runs.
        resources={
            "job_boards": job_boards,  # LiveJobBoards or ReplayJobBoards, chosen per run
            "store": StoreResource(),
            "duckdb": AnalyticsDuckDBResource(),
            "llm": LLMResource(),
        },
    )
