"""Assembles every domain under ``jobpipeline/defs/`` into one ``Definitions`` (nothing else lives here)."""

from __future__ import annotations

import dagster as dg

from jobpipeline.defs.history.assets import hn_jobs, hn_postings
from jobpipeline.defs.history.schedules import hn_current_month_schedule, hn_month_job
from jobpipeline.defs.jobs.assets import jobs
from jobpipeline.defs.jobs.resources import StoreResource
from jobpipeline.defs.scrape.assets import raw_postings
from jobpipeline.defs.scrape.resources import JobBoardsResource
from jobpipeline.defs.scrape.schedules import daily_scrape_job, daily_scrape_schedule

defs = dg.Definitions(
    assets=[raw_postings, jobs, hn_postings, hn_jobs],
    jobs=[daily_scrape_job, hn_month_job],
    schedules=[daily_scrape_schedule, hn_current_month_schedule],
    resources={"job_boards": JobBoardsResource(), "store": StoreResource()},
)
