"""A month of "Ask HN: Who is hiring?" as the store sees it: month arithmetic, snapshot dates, the
month's ``outcomes.json`` row, fetching a thread into memory and syncing its raw partition.

When a month's postings count as *seen* (``seen_on``, the sync's partition date): the day the
thread was fetched, clamped into [thread day, last day of the month]. So

- the current month, re-fetched daily while the thread grows, is a series of dated snapshots: new
  comments come in as new jobs, edited ones are rewritten (a later snapshot wins), deleted ones are
  closed on the first snapshot without them, and nothing is duplicated (the comment id is the key);
- a past month fetched any time later is one snapshot on its last day, so a backfill gives the same
  store whenever and in whatever order it runs (the sync itself is order-independent), and
  re-syncing it adds nothing;
- once a month is over, its thread counts as scraped empty on the 1st of the next month: its
  postings close then, unless the same job (same company, title and text) is posted again in a
  later thread, which keeps the job open. ``posted_at`` keeps each comment's own time.

Month keys are ``YYYY-MM``: the partition key, the postings' ``board`` and the raw partition's
folder (``raw/hn/2019-11/``) are one string. No Dagster here: ``defs/history`` calls these.
"""

from __future__ import annotations

import calendar
import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from jobpipeline.lib.hn import ALGOLIA_BASE, FIREBASE_BASE, MonthResult, ThreadIndex, fetch_month
from jobpipeline.lib.http import HttpSession, HttpSettings, make_client
from jobpipeline.lib.postings import BoardOutcome
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.sync import SyncResult, close_ended_board, sync_postings

SOURCE = "hn"
HN_CONCURRENCY = 16  # Firebase items in flight per month (both APIs are one host each)
THREAD_INDEX_NAME = ".thread_index.json"  # in raw/hn/: months found by discovery (hidden: not a partition)


# --- month arithmetic --------------------------------------------------------------------------


def month_first_day(month: str) -> date:
    return date.fromisoformat(f"{month}-01")


def month_last_day(month: str) -> date:
    first = month_first_day(month)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def next_month_first_day(month: str) -> date:
    return month_last_day(month) + timedelta(days=1)


def previous_month(month: str) -> str:
    return (month_first_day(month) - timedelta(days=1)).strftime("%Y-%m")


def snapshot_day(month: str, thread_day: date, fetched_on: date) -> date:
    """The partition date a snapshot of ``month``'s thread stands for (see the module docstring)."""
    return min(max(fetched_on, thread_day), month_last_day(month))


def is_final(month: str, fetched_on: date) -> bool:
    """A snapshot taken after the month ended: the thread will not change any more."""
    return fetched_on > month_last_day(month)


# --- fetch ---------------------------------------------------------------------------------------


def hn_http_settings(http: HttpSettings) -> HttpSettings:
    """The scrape's timeouts and retries, with HN's own concurrency bound (one host per API)."""
    return HttpSettings(max_concurrency=HN_CONCURRENCY, per_host=HN_CONCURRENCY, timeout_s=http.timeout_s, retries=http.retries)


def thread_index_path(raw_root: Path) -> Path:
    """Where a store keeps the months its backfills have discovered (``discovery.ThreadIndex``)."""
    return Path(raw_root) / SOURCE / THREAD_INDEX_NAME


async def fetch_hn_month(
    month: str, base_urls: dict[str, str], http: HttpSettings, *, fetched_on: date | None = None, index_path: Path | None = None
) -> MonthResult:
    """Find and fetch ``month``'s thread. ``base_urls["hn"]``, when present, serves both HN APIs
    (a replay server answers Algolia's and Firebase's paths under one base URL).

    Comments come from Algolia's items endpoint, one request per thread, Firebase per comment only
    as the fallback (why: ``jobpipeline.lib.hn.comments``). ``index_path`` (``thread_index_path``)
    lets the months of one backfill share one discovery walk; ``fetched_on`` (default: today) says
    which months are over, hence safe to keep in it.
    """
    hn = hn_http_settings(http)
    algolia_base = base_urls.get(SOURCE, ALGOLIA_BASE)
    index = ThreadIndex(index_path, algolia_base) if index_path is not None else None
    async with make_client(hn) as client:
        return await fetch_month(
            month,
            client=HttpSession(client, hn),
            algolia_base=algolia_base,
            firebase_base=base_urls.get(SOURCE, FIREBASE_BASE),
            max_concurrency=hn.max_concurrency,
            index=index,
            current_month=fetched_on.strftime("%Y-%m") if fetched_on else None,
        )


def outcome_row(result: MonthResult, fetched_on: date, n_bytes: int, duration_s: float) -> dict:
    """``outcomes.json`` of a month: the spine's per-board columns (board = month) plus the thread."""
    spine = BoardOutcome(
        source=SOURCE, board=result.month, ok=True, http_status=200, n_postings=len(result.postings), n_bytes=n_bytes, duration_s=duration_s
    )
    return {
        **spine.as_json(),
        "story_id": result.story_id,
        "title": result.thread.title,
        "author": result.thread.author,
        "thread_created_at": result.thread.created_at.isoformat(),
        "discovered_via": result.thread.via,
        "api": result.api,
        "api_fallback_reason": result.fallback_reason,
        "fetched_on": fetched_on.isoformat(),
        "counts": dataclasses.asdict(result.counts),
    }


# --- sync --------------------------------------------------------------------------------------


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
