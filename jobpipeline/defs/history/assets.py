"""Hacker News "Ask HN: Who is hiring?": ``hn_postings`` (month → thread → raw partition) → ``hn_jobs`` (store).

Two assets, like ``raw_postings`` → ``jobs`` for the boards: the network step writes what it saw to
``raw/hn/<YYYY-MM>/`` and the store step syncs from that file alone. A wiped store is rebuilt from
disk without asking HN again, a failed fetch never reaches the store, and the UI tells which step
failed. Both run one month per run (``multi_run(1)``), and share that run: in a backfill, a month
with no thread or no recording fails on its own while the other months land.

When a month's postings count as *seen* (``seen_on``, the sync's partition date): the day the
thread was fetched, clamped into [thread day, last day of the month]. So

- the current month, re-fetched daily while the thread grows, is a series of dated snapshots: new
  comments come in as new jobs, edited ones are rewritten (a later snapshot wins), deleted ones are
  closed on the first snapshot without them, and nothing is duplicated (the comment id is the key);
- a past month fetched any time later is one snapshot on its last day, so a backfill gives the same
  store whenever and in whatever order it runs (the sync itself is order-independent), and
  re-materializing it adds nothing;
- once a month is over, its thread counts as scraped empty on the 1st of the next month: its
  postings close then, unless the same job (same company, title and text) is posted again in a
  later thread, which keeps the job open. ``posted_at`` keeps each comment's own time.

A past month whose raw partition was fetched after the month ended is final: it is reused from disk
without the network unless ``refetch`` is set.
"""


import asyncio
import dataclasses
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import dagster as dg
import httpx
import sqlalchemy as sa

from jobpipeline import settings
from jobpipeline.defs.history.partitions import hn_months, month_last_day, next_month_first_day
from jobpipeline.defs.history.resources import hn_endpoints, hn_http_settings
from jobpipeline.defs.jobs.assets import store_totals
from jobpipeline.defs.jobs.resources import StoreResource
from jobpipeline.defs.scrape.resources import JobBoardsResource
from jobpipeline.lib.hn import HNSourceError, MonthResult, fetch_month
from jobpipeline.lib.http import HttpSession, HttpStatusError, make_client
from jobpipeline.lib.postings import BoardOutcome, postings_frame
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.store import refresh_search_index
from jobpipeline.lib.sync import SyncResult, close_ended_board, sync_postings

SOURCE = "hn"


class HNMonthConfig(dg.Config):
    refetch: bool = False  # fetch again even when a final snapshot of a past month is on disk
    as_of: str | None = None  # the snapshot's date, YYYY-MM-DD (default: today, UTC); for tests and re-runs of old snapshots


# --- plain helpers (no Dagster) ----------------------------------------------------------------


def snapshot_day(month: str, thread_day: date, fetched_on: date) -> date:
    """The partition date a snapshot of ``month``'s thread stands for (see the module docstring)."""
    return min(max(fetched_on, thread_day), month_last_day(month))


def is_final(month: str, fetched_on: date) -> bool:
    """A snapshot taken after the month ended: the thread will not change any more."""
    return fetched_on > month_last_day(month)


def outcome_row(result: MonthResult, fetched_on: date, n_bytes: int, duration_s: float) -> dict:
    """``outcomes.json`` of a month: the spine's per-board columns (board = month) plus the thread."""
    spine = BoardOutcome(source=SOURCE, board=result.month, ok=True, http_status=200, n_postings=len(result.postings),
                         n_bytes=n_bytes, duration_s=duration_s)
    return {
        **spine.as_json(),
        "story_id": result.story_id,
        "title": result.thread.title,
        "author": result.thread.author,
        "thread_created_at": result.thread.created_at.isoformat(),
        "discovered_via": result.thread.via,
        "api": result.api,
        "fetched_on": fetched_on.isoformat(),
        "counts": dataclasses.asdict(result.counts),
    }


@dataclass
class MonthSync:
    month: str
    seen_on: date
    closed_on: date | None  # the "thread over" scrape date, once the month has ended
    result: SyncResult = field(default_factory=SyncResult)


def sync_hn_month(engine: sa.Engine, partition: RawPartition) -> MonthSync:
    """Sync one month's raw partition from disk into the store (no network); idempotent."""
    (outcome,) = partition.read_outcomes()
    month = partition.key
    fetched_on = date.fromisoformat(outcome["fetched_on"])
    thread_day = datetime.fromisoformat(outcome["thread_created_at"]).date()
    seen_on = snapshot_day(month, thread_day, fetched_on)
    postings = partition.read_postings()
    result = sync_postings(engine, postings, seen_on=seen_on, outcomes=[BoardOutcome.from_json(outcome, source=SOURCE)])
    closed_on = None
    if is_final(month, fetched_on):
        closed_on = next_month_first_day(month)
        result.add(close_ended_board(engine, SOURCE, month, closed_on))  # the thread is over: its postings close
    return MonthSync(month=month, seen_on=seen_on, closed_on=closed_on, result=result)


async def fetch_hn_month(month: str, job_boards: JobBoardsResource) -> MonthResult:
    http = hn_http_settings(job_boards)
    with hn_endpoints(job_boards) as endpoints:
        async with make_client(http) as client:
            return await fetch_month(
                month,
                client=HttpSession(client, http),
                algolia_base=endpoints.algolia_base,
                firebase_base=endpoints.firebase_base,
                max_concurrency=http.max_concurrency,
            )


def month_metadata(outcome: dict) -> dict[str, dg.MetadataValue | int | str | float]:
    counts = outcome["counts"]
    return {
        "story_id": outcome["story_id"],
        "thread": dg.MetadataValue.url(f"https://news.ycombinator.com/item?id={outcome['story_id']}"),
        "title": outcome["title"],
        "api": outcome["api"],
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
def hn_postings(context: dg.AssetExecutionContext, config: HNMonthConfig, job_boards: JobBoardsResource) -> dg.MaterializeResult:
    """Find the month's thread (Algolia search, Firebase fallback), fetch its comments, keep them on disk."""
    month = context.partition_key
    partition = RawPartition.at(settings.raw_dir(), SOURCE, month)
    if not config.refetch and partition.exists():
        (stored,) = partition.read_outcomes()
        if is_final(month, date.fromisoformat(stored["fetched_on"])):
            context.log.info(f"hn {month}: final snapshot on disk ({partition.root}), no network")
            return dg.MaterializeResult(metadata={**month_metadata(stored), "reused_from_disk": True, "path": str(partition.root)})

    fetched_on = date.fromisoformat(config.as_of) if config.as_of else datetime.now(timezone.utc).date()
    started = time.perf_counter()
    try:
        result = asyncio.run(fetch_hn_month(month, job_boards))
    except (HNSourceError, HttpStatusError, httpx.HTTPError) as exc:
        where = f"replay corpus {job_boards.corpus_dir() / 'hn'} (unrecorded requests answer 404)" if job_boards.mode == "replay" else "the live HN APIs"
        raise dg.Failure(
            description=f"hn {month}: no postings from {where}: {exc}",
            metadata={"month": month, "mode": job_boards.mode, "error": str(exc)},
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
    synced = sync_hn_month(engine, RawPartition.at(settings.raw_dir(), SOURCE, context.partition_key))
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

