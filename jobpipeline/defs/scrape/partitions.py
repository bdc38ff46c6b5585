"""Board scrapes are partitioned by day and by source (ATS).

Two dimensions let a user backfill one ATS without touching the others, see per-source health in
the partition grid, and keep one failing API from failing the day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import dagster as dg

from jobpipeline.lib.sources import ADAPTERS

FIRST_DAY = "2025-10-01"  # the oldest recordings in the shipped corpus are from 2025-10-28

SOURCES = sorted(ADAPTERS)

daily = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, end_offset=1, timezone="UTC")  # end_offset: today too
board_partitions = dg.MultiPartitionsDefinition({"date": daily, "source": dg.StaticPartitionsDefinition(SOURCES)})


# The daily schedule starts at 06:00 UTC: every day's scrape and sync must have landed by 09:00.
# Evaluated by the daemon (dagster.yaml `freshness: enabled: true`), whether or not a run happened.
DAILY_SCRAPE_FRESHNESS = dg.FreshnessPolicy.cron(deadline_cron="0 9 * * *", lower_bound_delta=timedelta(hours=3), timezone="UTC")


def board_partition_key(day: str, source: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": day, "source": source})


def days_and_sources(partition_keys: Iterable[str]) -> list[tuple[str, str]]:
    """(date, source) of each board partition key, in date order (how a backfill range runs)."""
    return sorted(
        (k.keys_by_dimension["date"], k.keys_by_dimension["source"])
        for k in map(board_partitions.get_partition_key_from_str, partition_keys)
    )
