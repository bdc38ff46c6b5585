"""``jobs``: each raw partition normalized, deduplicated, hashed and synced into the store."""

import dagster as dg

from jobpipeline.defs.resources import StoreResource
from jobpipeline.defs.scrape.assets import raw_postings
from jobpipeline.defs.scrape.partitions import DAILY_SCRAPE_FRESHNESS, board_partitions, days_and_sources
from jobpipeline.lib.ingest import store_totals, sync_raw_partition
from jobpipeline.lib.store import refresh_search_index
from jobpipeline.lib.sync import SyncResult


@dg.asset(
    partitions_def=board_partitions,
    deps=[raw_postings],
    group_name="jobs",
    kinds={"sqlite", "polars"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    freshness_policy=DAILY_SCRAPE_FRESHNESS,
    description="Deduplicated, content-hashed jobs synced into the operational store (new / changed / unchanged / closed).",
)
def jobs(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Rebuilds from the raw partitions on disk, never the network; a backfill range runs in date order."""
    engine = store.engine()
    keys = days_and_sources(context.partition_keys)
    totals = SyncResult()
    for day, source in keys:
        result = sync_raw_partition(engine, source, day, store.raw_partition(source, day))
        context.log.info(f"{source} {day}: " + ", ".join(f"{k} {v}" for k, v in result.as_dict().items()))
        totals.add(result)
    indexed = refresh_search_index(engine)
    return dg.MaterializeResult(
        metadata={**totals.as_dict(), **store_totals(engine), "partitions_synced": len(keys), "search_indexed": indexed}
    )
