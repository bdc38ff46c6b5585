"""Hacker News "Ask HN: Who is hiring?": ``hn_postings`` (month → thread → raw partition) → ``hn_jobs`` (store).

Two assets, like ``raw_postings`` → ``jobs`` for the boards: the network step writes what it saw to
``raw/hn/<YYYY-MM>/`` and the store step syncs from that file alone. A wiped store is rebuilt from
disk without asking HN again (select ``hn_jobs`` alone), and a failed fetch never reaches the store.

Both are made by one op, ``hn_month``, that runs a *range* of months (``BackfillPolicy.multi_run``,
``MONTHS_PER_RUN`` per run): one Dagster run per month cost ~1.3 CPU-s of run bookkeeping, twice the
month's own work, so a full-history backfill was mostly Dagster. Inside a range each month is
fetched and synced on its own, in month order, and reported on its own:

- a month that lands gets its own materialization of each selected asset, with that month's metadata,
  the moment it lands (the UI's partition grid, ``get_materialized_partitions``);
- a month that fails (no thread, a 404, a sync error) gets nothing, the next months still run, and
  at the end the op raises ``dg.Failure`` naming every failed month with its error (metadata
  ``failed_months``). The run fails, so Dagster marks exactly those months' partitions failed
  (planned in a failed run, never materialized); the months that landed stay materialized. A failed
  month is retried alone: ``jobpipeline backfill hn --from M --to M``, or the UI on that partition.
  Re-executing the whole range is safe too: landed past months are reused from disk, and
  re-syncing them writes nothing.

One op rather than two steps because a failed step skips every step after it: with two, one
missing month would keep the whole range's fetched months out of the store.

When a month's postings count as seen, and when they close: ``jobpipeline.lib.hn.months``. A past
month whose raw partition was fetched after the month ended is final: it is reused from disk
without the network unless ``refetch`` is set.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import dagster as dg

from jobpipeline.defs.history.partitions import hn_months
from jobpipeline.defs.resources import JobBoardsResource, StoreResource
from jobpipeline.lib.hn import HNSourceError
from jobpipeline.lib.hn.months import SOURCE, fetch_hn_month, is_final, outcome_row, sync_hn_month, thread_index_path
from jobpipeline.lib.http import HttpStatusError, TransportError
from jobpipeline.lib.ingest import ScrapeSession, store_totals
from jobpipeline.lib.postings import postings_frame
from jobpipeline.lib.store import refresh_search_index

MONTHS_PER_RUN = 24  # a backfill's months per run: two years; the blast radius of a crash, the UI's grain of a run
HN_POSTINGS, HN_JOBS = dg.AssetKey("hn_postings"), dg.AssetKey("hn_jobs")


class HNMonthConfig(dg.Config):
    refetch: bool = False  # fetch again even when a final snapshot of a past month is on disk
    as_of: str | None = None  # the snapshot's date, YYYY-MM-DD (default: today, UTC); for tests and re-runs of old snapshots


class MonthFailed(Exception):
    """One month of a range could not land; the message names the month."""


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


# --- one month -------------------------------------------------------------------------------


def fetch_month_to_disk(
    context: dg.AssetExecutionContext, month: str, config: HNMonthConfig, session: Callable[[], ScrapeSession], store: StoreResource
) -> dict:
    """Find the month's thread (Algolia search, shared by a backfill's months; Firebase fallback), fetch its
    comments (Algolia items: one request; Firebase per comment as the fallback), keep them on disk.
    ``session`` opens the range's one scrape session (a replay server) the first time a month needs it."""
    partition = store.raw_partition(SOURCE, month)
    if not config.refetch and partition.exists():
        (stored,) = partition.read_outcomes()
        if is_final(month, date.fromisoformat(stored["fetched_on"])):
            context.log.info(f"hn {month}: final snapshot on disk ({partition.root}), no network")
            return {**month_metadata(stored), "reused_from_disk": True, "path": str(partition.root)}

    fetched_on = date.fromisoformat(config.as_of) if config.as_of else datetime.now(UTC).date()
    started = time.perf_counter()
    scrape = session()
    try:
        result = asyncio.run(
            fetch_hn_month(month, scrape.base_urls, scrape.http, fetched_on=fetched_on, index_path=thread_index_path(store.raw_root()))
        )
    except (HNSourceError, HttpStatusError, TransportError) as exc:
        where = scrape.where if scrape.mode == "replay" else "the live HN APIs"
        raise MonthFailed(f"hn {month}: no postings from {where}: {exc}") from exc
    bodies = [json.dumps(c, ensure_ascii=False) for c in result.raw_comments]
    outcome = outcome_row(result, fetched_on, sum(len(b.encode()) for b in bodies), time.perf_counter() - started)
    partition.write(postings_frame(result.postings), [outcome], {month: bodies})
    c = result.counts
    context.log.info(
        f"hn {month}: story {result.story_id} via {result.api}, {c.seen} comments: {c.pipe} pipe + {c.free_form} free-form "
        f"postings, {c.deleted} deleted, {c.dead} dead skipped"
    )
    return {**month_metadata(outcome), "reused_from_disk": False, "path": str(partition.root), "mode": scrape.mode}


def sync_month_from_disk(context: dg.AssetExecutionContext, month: str, store: StoreResource) -> dict:
    """Sync ``raw/hn/<month>/`` from disk: new, changed (edited), unchanged, closed (thread over)."""
    partition = store.raw_partition(SOURCE, month)
    if not partition.exists():
        raise MonthFailed(f"hn {month}: no raw partition at {partition.root} to sync (materialize hn_postings for {month} first)")
    engine = store.engine()
    synced = sync_hn_month(engine, partition)
    counts = synced.result.as_dict()
    context.log.info(f"hn {synced.month} as seen on {synced.seen_on}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    indexed = refresh_search_index(engine)
    return {
        **counts,
        "seen_on": synced.seen_on.isoformat(),
        "closed_on": synced.closed_on.isoformat() if synced.closed_on else "open (month not over)",
        **store_totals(engine),
        "search_indexed": indexed,
    }


# --- the op: a range of months ----------------------------------------------------------------


@dg.multi_asset(
    name="hn_month",
    specs=[
        dg.AssetSpec(
            HN_POSTINGS,
            group_name="history",
            kinds={"aiohttp", "parquet"},
            skippable=True,  # a month that fails has no materialization; the others of its range do
            description="The month's 'Ask HN: Who is hiring?' thread: top-level comments parsed into postings, "
            "under data/raw/hn/<YYYY-MM>/.",
        ),
        dg.AssetSpec(
            HN_JOBS,
            deps=[HN_POSTINGS],
            group_name="history",
            kinds={"sqlite", "polars"},
            skippable=True,
            description="The month's HN postings synced into the operational store's jobs (source hn, board = month).",
        ),
    ],
    partitions_def=hn_months,
    can_subset=True,  # hn_jobs alone rebuilds the store from disk; hn_postings alone only fetches
    pool="scrape",  # counts against the same politeness limit as the board scrapes
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=MONTHS_PER_RUN),
)
def hn_month(
    context: dg.AssetExecutionContext, config: HNMonthConfig, job_boards: JobBoardsResource, store: StoreResource
) -> Iterator[dg.AssetMaterialization]:
    """Each month of the run's range in order: fetch to disk (``hn_postings``), sync (``hn_jobs``), one
    materialization per month and asset as it lands; failed months named at the end (module docstring)."""
    selected = context.selected_asset_keys
    failed: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        opened: list[ScrapeSession] = []

        def session() -> ScrapeSession:  # opened once per range, only if a month needs the network
            if not opened:
                opened.append(stack.enter_context(job_boards.session(SOURCE)))
            return opened[0]

        for month in context.partition_keys:
            try:
                if HN_POSTINGS in selected:
                    fetched = fetch_month_to_disk(context, month, config, session, store)
                    yield dg.AssetMaterialization(HN_POSTINGS, partition=month, metadata=fetched)
                if HN_JOBS in selected:
                    synced = sync_month_from_disk(context, month, store)
                    yield dg.AssetMaterialization(HN_JOBS, partition=month, metadata=synced)
            except Exception as exc:  # noqa: BLE001 - one month's failure must not stop its range; re-raised below, named
                failed[month] = str(exc) if isinstance(exc, MonthFailed) else f"hn {month}: {type(exc).__name__}: {exc}"
                context.log.error(failed[month])
    if failed:
        landed = len(context.partition_keys) - len(failed)
        raise dg.Failure(
            description=f"{len(failed)} of {len(context.partition_keys)} months failed ({', '.join(failed)}); "
            f"{landed} landed.\n" + "\n".join(failed.values()),
            metadata={"failed_months": dg.MetadataValue.json(failed), "months_landed": landed},
        )
