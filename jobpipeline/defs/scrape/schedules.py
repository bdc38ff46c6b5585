"""The daily scrape: every source's partition for today, then their jobs."""

from __future__ import annotations

import dagster as dg

from jobpipeline.defs.scrape.partitions import SOURCES, board_partition_key

daily_scrape_job = dg.define_asset_job(
    "daily_scrape_job",
    selection=dg.AssetSelection.assets("raw_postings", "jobs"),
    description="Scrape one source for one day and sync its jobs.",
)


@dg.schedule(job=daily_scrape_job, cron_schedule="0 6 * * *", execution_timezone="UTC")
def daily_scrape_schedule(context: dg.ScheduleEvaluationContext):
    """One run per source for the tick's day; run keys make a repeated tick launch nothing twice."""
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    for source in SOURCES:
        key = board_partition_key(day, source)
        yield dg.RunRequest(run_key=f"{day}|{source}", partition_key=key)
