"""Raw partitions in and out: scrape one (day, source) into ``raw/``, sync one from disk into the store.

The library half of the ``raw_postings`` and ``jobs`` assets (they only add Dagster's config,
logging and metadata). A scrape gets everything it needs about where the boards answer from one
``ScrapeSession``, which the ``job_boards`` resource opens for a source: the live APIs, or a replay
server over a recorded corpus. No Dagster here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from jobpipeline.lib.http import HttpSettings, make_client
from jobpipeline.lib.postings import Board
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.scrape import BoardResult, scrape_boards
from jobpipeline.lib.store import Job
from jobpipeline.lib.sync import PartitionPostings, SyncResult, record_board_outcomes, sync_postings


@dataclass(frozen=True)
class ScrapeSession:
    """Everything a scrape of one source needs, valid while its context is open: the boards, the
    base URL per API (``DEFAULT_BASE_URLS`` live, a replay server's otherwise), how hard to call them."""

    source: str
    boards: list[Board]
    base_urls: dict[str, str]
    http: HttpSettings = field(default_factory=HttpSettings)
    mode: str = "replay"  # "live" or "replay": live APIs only show today's postings
    where: str = ""  # where the answers come from, for error messages

    @property
    def live(self) -> bool:
        return self.mode == "live"


class ScrapeRefused(Exception):
    """A partition that cannot be scraped as asked (a past day live, no boards): nothing was written."""


@dataclass
class PartitionScrape:
    """What became of one (day, source) partition: its per-board outcomes, where it lies on disk."""

    outcomes: list[dict]
    path: Path
    reused_from_disk: bool
    mode: str | None = None  # the session's mode; None when reused from disk

    @property
    def any_ok(self) -> bool:
        return any(o["ok"] for o in self.outcomes)


def today_utc() -> str:
    return datetime.now(UTC).date().isoformat()


def reusable_outcomes(partition: RawPartition, day: str, *, rescrape: bool, log: Callable[[str], None]) -> list[dict] | None:
    """The outcomes of a past partition on disk worth reusing (some board succeeded), else None.

    Today's partition is always scraped again (the boards change during the day); a past one is
    what was seen that day, which the network can no longer tell."""
    if day >= today_utc() or rescrape or not partition.exists():
        return None
    outcomes = partition.read_outcomes()
    if any(o["ok"] for o in outcomes):
        return outcomes
    log(f"{partition.source} {day}: every board failed in the partition on disk; scraping again")
    return None


def describe_result(result: BoardResult) -> str:
    """One board's outcome as a log line's state: ok and counts, or the failure."""
    state = f"ok, {result.n_postings} postings" if result.ok else f"FAILED ({result.http_status or '-'}: {result.error})"
    if result.n_skipped:
        state += f", {result.n_skipped} skipped (first: {result.skipped_reasons[0]})"
    if result.n_details_fetched or result.n_details_reused or result.n_details_failed:
        state += f", details {result.n_details_fetched} fetched / {result.n_details_reused} reused / {result.n_details_failed} failed"
        if result.n_details_failed:
            state += f" (first: {result.details_failed_reasons[0]})"
    return state


def scrape_partition(
    raw_dir: Path,
    source: str,
    day: str,
    open_session: Callable[[], AbstractContextManager[ScrapeSession]],
    *,
    store_engine: Callable[[], sa.Engine],
    rescrape: bool = False,
    allow_past: bool = False,
    progress: bool = False,
    log: Callable[[str], None] = print,
) -> PartitionScrape:
    """Scrape (or reuse from disk) one (day, source) partition into ``raw_dir``.

    A partition whose every board failed is written too (its outcomes are the outage's record), and
    its outcomes go to the store's ``board_scrape`` right away: ``jobs`` will not run to do it."""
    partition = RawPartition.at(raw_dir, source, day)
    if (outcomes := reusable_outcomes(partition, day, rescrape=rescrape, log=log)) is not None:
        log(f"{source} {day}: reusing the raw partition on disk ({partition.root}), no network")
        return PartitionScrape(outcomes, partition.root, reused_from_disk=True)

    with open_session() as session, partition.writer() as writer:
        if day < today_utc() and not allow_past and session.live:
            raise ScrapeRefused(
                f"{source} {day} is in the past and has no raw partition on disk: live APIs only show today's "
                "postings. Set allow_past to store today's scrape under that date anyway."
            )
        boards = session.boards
        if not boards:
            raise ScrapeRefused(f"no {source} boards configured (mode={session.mode}); nothing to scrape")
        counts = {"done": 0, "ok": 0, "postings": 0}
        bar = _progress_bar(len(boards), f"{source} {day}") if progress else None

        def on_result(result: BoardResult) -> None:
            # To disk as each board answers: the scrape keeps only the outcome of a finished board.
            bodies = [body.decode("utf-8", "replace") for body in result.raw_bodies]
            writer.add_board(result.board, result.postings, bodies, result.detail_stamps)
            result.postings, result.raw_bodies = [], []
            counts["done"] += 1
            counts["ok"] += result.ok
            counts["postings"] += result.n_postings
            log(
                f"[{counts['done']}/{len(boards)}] {result.source}/{result.board}: {describe_result(result)}, {result.n_bytes} B, "
                f"{result.duration_s:.2f} s — running: {counts['ok']} ok, {counts['postings']} postings"
            )
            if bar is not None:
                bar.update(1)

        # Details already fetched (SmartRecruiters, Workday, ...): reused for postings whose list item is unchanged.
        last = RawPartition.latest(raw_dir, source, day)
        previous = last.read_details() if last is not None else None

        async def scrape() -> list[BoardResult]:
            async with make_client(session.http) as client:
                return await scrape_boards(
                    boards, client=client, base_urls=session.base_urls, settings=session.http, on_result=on_result, previous=previous
                )

        try:
            results = asyncio.run(scrape())
        finally:
            if bar is not None:
                bar.close()
        outcomes = [r.summary() for r in results]
        writer.commit(outcomes)
    scraped = PartitionScrape(outcomes, partition.root, reused_from_disk=False, mode=session.mode)
    if not scraped.any_ok:
        record_board_outcomes(store_engine(), date.fromisoformat(day), [r.outcome() for r in results])
    return scraped


def _progress_bar(total: int, label: str):
    """A terminal progress bar, when stderr is a TTY (the CLI asks for one with ``JOBPIPELINE_PROGRESS=1``)."""
    import sys

    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="board", leave=False)


def sync_raw_partition(engine: sa.Engine, source: str, day: str, partition: RawPartition) -> SyncResult:
    """Sync one raw partition from disk: boards that failed close nothing, and postings a board
    listed but that could not be read (``skipped_ids``; absent in older partitions) close nothing either.
    The postings are read lazily: a sync in slices reads one slice's descriptions at a time."""
    return sync_postings(
        engine, PartitionPostings(partition), seen_on=date.fromisoformat(day), outcomes=partition.read_board_outcomes(source)
    )


def store_totals(engine: sa.Engine) -> dict[str, int]:
    job = Job.__table__
    with engine.connect() as conn:
        total, open_ = conn.execute(sa.select(sa.func.count(), sa.func.count().filter(job.c.closed_at.is_(None)))).one()
    return {"jobs_in_store": int(total), "open_jobs_in_store": int(open_)}
