"""The daily scrape: every source's partition for today, then their jobs.

Off by default (it reaches the job boards' APIs every day): turn it on in the UI (Automation →
daily_scrape_schedule → toggle) or with ``dagster schedule start daily_scrape_schedule``. What
follows a tick runs by itself: enrichment (``enriched_jobs``' automation condition), then the
analytics (the size sensor).
"""

from __future__ import annotations

import dagster as dg

from jobpipeline.defs.scrape.partitions import SOURCES, board_partition_key

daily_scrape_job = dg.define_asset_job(
    "daily_scrape_job",
    selection=dg.AssetSelection.assets("raw_postings", "jobs"),
    description="Scrape one source for one day and sync its jobs.",
)


@dg.schedule(
    job=daily_scrape_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="06:00 UTC daily: one run per source scraping today's boards into data/raw/ and syncing them into "
    "the store (raw_postings + jobs). Enrichment and analytics follow by automation. Off by default.",
)
def daily_scrape_schedule(context: dg.ScheduleEvaluationContext):
    """One run per source for the tick's day; run keys make a repeated tick launch nothing twice."""
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    for source in SOURCES:
        key = board_partition_key(day, source)
        yield dg.RunRequest(run_key=f"{day}|{source}", partition_key=key)
