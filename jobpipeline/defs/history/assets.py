"""Hacker News "Ask HN: Who is hiring?": ``hn_postings`` (month → thread → raw partition) → ``hn_jobs`` (store).

Two assets, like ``raw_postings`` → ``jobs`` for the boards: the network step writes what it saw to
``raw/hn/<YYYY-MM>/`` and the store step syncs from that file alone. A wiped store is rebuilt from
disk without asking HN again, a failed fetch never reaches the store, and the UI tells which step
failed. Both run one month per run (``multi_run(1)``), and share that run: in a backfill, a month
with no thread or no recording fails on its own while the other months land.

When a month's postings count as seen, and when they close: ``jobpipeline.lib.hn.months``. A past
month whose raw partition was fetched after the month ended is final: it is reused from disk
without the network unless ``refetch`` is set.
"""

import asyncio
import json
import time
from datetime import UTC, date, datetime

import dagster as dg
import httpx

from jobpipeline.defs.history.partitions import hn_months
from jobpipeline.defs.resources import JobBoardsResource, StoreResource
from jobpipeline.lib.hn import HNSourceError
from jobpipeline.lib.hn.months import SOURCE, fetch_hn_month, is_final, outcome_row, sync_hn_month, thread_index_path
from jobpipeline.lib.http import HttpStatusError
from jobpipeline.lib.ingest import store_totals
from jobpipeline.lib.postings import postings_frame
from jobpipeline.lib.store import refresh_search_index


class HNMonthConfig(dg.Config):
    refetch: bool = False  # fetch again even when a final snapshot of a past month is on disk
    as_of: str | None = None  # the snapshot's date, YYYY-MM-DD (default: today, UTC); for tests and re-runs of old snapshots


def month_metadata(outcome: dict) -> dict[str, dg.MetadataValue | int | str | float]:
    counts = outcome["counts"]
    return {
        "story_id": outcome["story_id"],
        "thread": dg.MetadataValue.url(f"https://news.ycombinator.com/item?id={outcome['story_id']}"),
        "title": outcome["title"],
        "api": outcome["api"],
        **({"api_fallback_reason": outcome["api_fallback_reason"]} if outcome.get("api_fallback_reason") else {}),
        "discovered_via": outcome["discovered_via"],
        "fetched_on": outcome["fetched_on"],
        "snapshot": "final" if is_final(outcome["board"], date.fromisoformat(outcome["fetched_on"])) else "growing",
        "postings": outcome["n_postings"],
        **{f"comments_{k}": v for k, v in counts.items()},
        "bytes": outcome["n_bytes"],
    }


# --- assets ------------------------------------------------------------------------------------


@dg.asset(
    partitions_def=hn_months,
    group_name="history",
    kinds={"httpx", "parquet"},
    pool="scrape",  # counts against the same politeness limit as the board scrapes
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
    description="The month's 'Ask HN: Who is hiring?' thread: top-level comments parsed into postings, under data/raw/hn/<YYYY-MM>/.",
)
def hn_postings(
    context: dg.AssetExecutionContext, config: HNMonthConfig, job_boards: JobBoardsResource, store: StoreResource
) -> dg.MaterializeResult:
    """Find the month's thread (Algolia search, shared by a backfill's months; Firebase fallback), fetch its
    comments (Algolia items: one request; Firebase per comment as the fallback), keep them on disk."""
    month = context.partition_key
    partition = store.raw_partition(SOURCE, month)
    if not config.refetch and partition.exists():
        (stored,) = partition.read_outcomes()
        if is_final(month, date.fromisoformat(stored["fetched_on"])):
            context.log.info(f"hn {month}: final snapshot on disk ({partition.root}), no network")
            return dg.MaterializeResult(metadata={**month_metadata(stored), "reused_from_disk": True, "path": str(partition.root)})

    fetched_on = date.fromisoformat(config.as_of) if config.as_of else datetime.now(UTC).date()
    started = time.perf_counter()
    with job_boards.session(SOURCE) as session:
        try:
            result = asyncio.run(
                fetch_hn_month(
                    month, session.base_urls, session.http, fetched_on=fetched_on, index_path=thread_index_path(store.raw_root())
                )
            )
        except (HNSourceError, HttpStatusError, httpx.HTTPError) as exc:
            where = session.where if session.mode == "replay" else "the live HN APIs"
            raise dg.Failure(
                description=f"hn {month}: no postings from {where}: {exc}",
                metadata={"month": month, "mode": session.mode, "error": str(exc)},
            ) from exc
    bodies = [json.dumps(c, ensure_ascii=False) for c in result.raw_comments]
    outcome = outcome_row(result, fetched_on, sum(len(b.encode()) for b in bodies), time.perf_counter() - started)
    partition.write(postings_frame(result.postings), [outcome], {month: bodies})
    c = result.counts
    context.log.info(
        f"hn {month}: story {result.story_id} via {result.api}, {c.seen} comments: {c.pipe} pipe + {c.free_form} free-form "
        f"postings, {c.deleted} deleted, {c.dead} dead skipped"
    )
    return dg.MaterializeResult(
        metadata={**month_metadata(outcome), "reused_from_disk": False, "path": str(partition.root), "mode": job_boards.mode}
    )


@dg.asset(
    partitions_def=hn_months,
    deps=[hn_postings],
    group_name="history",
    kinds={"sqlite", "polars"},
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
    description="The month's HN postings synced into the operational store's jobs (source hn, board = month).",
)
def hn_jobs(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Sync ``raw/hn/<month>/`` from disk: new, changed (edited), unchanged, closed (thread over)."""
    engine = store.engine()
    synced = sync_hn_month(engine, store.raw_partition(SOURCE, context.partition_key))
    counts = synced.result.as_dict()
    context.log.info(f"hn {synced.month} as seen on {synced.seen_on}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    indexed = refresh_search_index(engine, sorted(set(synced.result.touched_ids)))
    return dg.MaterializeResult(
        metadata={
            **counts,
            "seen_on": synced.seen_on.isoformat(),
            "closed_on": synced.closed_on.isoformat() if synced.closed_on else "open (month not over)",
            **store_totals(engine),
            "search_indexed": indexed,
        }
    )
