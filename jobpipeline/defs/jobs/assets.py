"""``jobs``: each raw partition normalized, deduplicated, hashed and synced into the store."""


from datetime import date

import dagster as dg
import sqlalchemy as sa

from jobpipeline import settings
from jobpipeline.defs.jobs.resources import StoreResource
from jobpipeline.defs.scrape.assets import raw_postings
from jobpipeline.defs.scrape.partitions import DAILY_SCRAPE_FRESHNESS, board_partitions, days_and_sources
from jobpipeline.lib.postings import BoardOutcome
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.store import Job, refresh_search_index
from jobpipeline.lib.sync import SyncResult, sync_postings


def sync_raw_partition(engine: sa.Engine, source: str, day: str, partition: RawPartition) -> SyncResult:
    """Sync one raw partition from disk: boards that failed close nothing, and postings a board
    listed but that could not be read (``skipped_ids``; absent in older partitions) close nothing either."""
    outcomes = [BoardOutcome.from_json(o, source=source) for o in partition.read_outcomes()]
    return sync_postings(engine, partition.read_postings(), seen_on=date.fromisoformat(day), outcomes=outcomes)


def store_totals(engine: sa.Engine) -> dict[str, int]:
    job = Job.__table__
    with engine.connect() as conn:
        total, open_ = conn.execute(
            sa.select(sa.func.count(), sa.func.count().filter(job.c.closed_at.is_(None)))
        ).one()
    return {"jobs_in_store": int(total), "open_jobs_in_store": int(open_)}


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
        result = sync_raw_partition(engine, source, day, RawPartition.at(settings.raw_dir(), source, day))
        context.log.info(f"{source} {day}: " + ", ".join(f"{k} {v}" for k, v in result.as_dict().items()))
        totals.add(result)
    indexed = refresh_search_index(engine, sorted(set(totals.touched_ids)))
    return dg.MaterializeResult(
        metadata={**totals.as_dict(), **store_totals(engine), "partitions_synced": len(keys), "search_indexed": indexed}
    )
