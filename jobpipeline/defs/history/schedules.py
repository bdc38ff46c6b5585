"""Re-fetch the current month's thread daily while it grows, then once more after the month ends."""

from __future__ import annotations

import dagster as dg

from jobpipeline.lib.hn.months import previous_month

YOUNG_DAYS = 15  # a thread gets most of its comments in its first two weeks

hn_month_job = dg.define_asset_job(
    "hn_month_job",
    selection=dg.AssetSelection.assets("hn_postings", "hn_jobs"),  # both made by the op hn_month, partitioned by month
    description="Fetch one month's 'Who is hiring?' thread and sync its postings into jobs.",
)


# 18:00 UTC: the thread is posted around 15:00 UTC on the month's first weekday.
@dg.schedule(
    job=hn_month_job,
    cron_schedule=f"0 18 1-{YOUNG_DAYS} * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=f"18:00 UTC on days 1-{YOUNG_DAYS}: re-fetch this month's HN 'Who is hiring?' thread and sync it "
    "(hn_postings + hn_jobs); on the 1st also last month's final snapshot. Off by default.",
)
def hn_current_month_schedule(context: dg.ScheduleEvaluationContext):
    """Days 1-15: this month's partition again (new and edited comments); day 1: last month's final snapshot.

    Before the thread is posted (a weekend 1st) the run fails saying no thread was found; the next
    tick picks it up. Run keys make a repeated tick launch nothing twice.
    """
    tick = context.scheduled_execution_time
    month, day = tick.strftime("%Y-%m"), tick.strftime("%Y-%m-%d")
    yield dg.RunRequest(run_key=f"hn|{month}|{day}", partition_key=month)
    if tick.day == 1:
        last = previous_month(month)
        yield dg.RunRequest(run_key=f"hn|{last}|final", partition_key=last)
