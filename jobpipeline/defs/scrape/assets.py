"""``raw_postings``: one day's scrape of one source's boards, persisted to disk per partition."""


import asyncio
import os
import sys
from datetime import date, datetime, timezone

import dagster as dg

from jobpipeline import settings
from jobpipeline.defs.scrape.partitions import DAILY_SCRAPE_FRESHNESS, board_partitions, days_and_sources
from jobpipeline.defs.jobs.resources import StoreResource
from jobpipeline.defs.scrape.resources import JobBoardsResource
from jobpipeline.lib.http import make_client
from jobpipeline.lib.postings import postings_frame
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.scrape import BoardResult, scrape_boards
from jobpipeline.lib.sync import record_board_outcomes


class ScrapeConfig(dg.Config):
    rescrape: bool = False  # scrape again even if a past partition is already on disk
    allow_past: bool = False  # scrape now into a past date (replay corpora are timeless; live data is not)


def outcomes_metadata(outcomes: list[dict]) -> dict[str, dg.MetadataValue | int]:
    ok = [o for o in outcomes if o["ok"]]
    table = "\n".join(
        f"| {o['board']} | {'ok' if o['ok'] else 'FAILED'} | {o['http_status'] or ''} | {o['n_postings']} | "
        f"{o['n_bytes']} | {o['duration_s']} | {o.get('n_skipped', 0)} | {_problem(o).replace('|', '/')[:120]} |"
        for o in outcomes
    )
    return {
        "boards": len(outcomes),
        "boards_ok": len(ok),
        "boards_failed": len(outcomes) - len(ok),
        "postings": sum(o["n_postings"] for o in outcomes),
        "postings_skipped": sum(o.get("n_skipped", 0) for o in outcomes),
        "bytes": sum(o["n_bytes"] for o in outcomes),
        **{f"details_{k}": sum(o.get(f"n_details_{k}", 0) for o in outcomes) for k in ("fetched", "reused", "failed")},
        "board_outcomes": dg.MetadataValue.md(
            "| board | outcome | http | postings | bytes | seconds | skipped | error or first skip |\n"
            "|---|---|---|---|---|---|---|---|\n" + table
        ),
    }


def _problem(outcome: dict) -> str:
    """A failed board's error, else the first reason a posting of it was skipped."""
    return outcome["error"] or next(iter(outcome.get("skipped_reasons") or []), "")


@dg.asset(
    partitions_def=board_partitions,
    group_name="scrape",
    kinds={"httpx", "parquet"},
    pool="scrape",
    backfill_policy=dg.BackfillPolicy.single_run(),
    freshness_policy=DAILY_SCRAPE_FRESHNESS,
    description="Raw API bodies and normalized postings of every board of one source, for one day, under data/raw/.",
)
def raw_postings(
    context: dg.AssetExecutionContext, config: ScrapeConfig, job_boards: JobBoardsResource, store: StoreResource
) -> dg.MaterializeResult:
    """One partition per run from the schedule; a backfill range runs in one go, past days from disk.

    A partition whose every board failed fails the run, after recording each board's failure in the
    store's ``board_scrape`` (``jobs`` will not run to do it), and is scraped again when rerun."""
    keys = days_and_sources(context.partition_keys)
    results = [scrape_partition(context, config, job_boards, store, day, source) for day, source in keys]
    failed = [f"{source} {day}" for (day, source), (_, ok) in zip(keys, results) if not ok]
    if len(keys) == 1:
        metadata = results[0][0]
    else:
        metadata = {
            "partitions": len(keys),
            **{k: sum(int(m.get(k, 0)) for m, _ in results) for k in ("boards", "boards_ok", "boards_failed", "postings", "postings_skipped", "bytes")},
            "partitions_reused_from_disk": sum(bool(m.get("reused_from_disk")) for m, _ in results),
        }
    if failed:
        raise dg.Failure(f"every board failed for {', '.join(failed)}; outcomes kept on disk", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


def scrape_partition(
    context: dg.AssetExecutionContext, config: ScrapeConfig, job_boards: JobBoardsResource, store: StoreResource,
    day: str, source: str,
) -> tuple[dict, bool]:
    """Scrape (or reuse from disk) one (day, source) partition. Returns its metadata and whether any board succeeded."""
    partition = RawPartition.at(settings.raw_dir(), source, day)
    today = datetime.now(timezone.utc).date().isoformat()
    if day < today and not config.rescrape and partition.exists():
        outcomes = partition.read_outcomes()
        if any(o["ok"] for o in outcomes):
            context.log.info(f"{source} {day}: reusing the raw partition on disk ({partition.root}), no network")
            return {**outcomes_metadata(outcomes), "reused_from_disk": True, "path": str(partition.root)}, True
        context.log.info(f"{source} {day}: every board failed in the partition on disk; scraping again")
    if day < today and not config.allow_past and job_boards.mode == "live":
        raise dg.Failure(
            f"{source} {day} is in the past and has no raw partition on disk: live APIs only show today's "
            "postings. Set allow_past to store today's scrape under that date anyway."
        )

    boards = job_boards.boards(source)
    if not boards:
        raise dg.Failure(f"no {source} boards configured (mode={job_boards.mode}); nothing to scrape")
    counts = {"done": 0, "ok": 0, "postings": 0}
    bar = _progress_bar(len(boards), f"{source} {day}")

    def on_result(result: BoardResult) -> None:
        counts["done"] += 1
        counts["ok"] += result.ok
        counts["postings"] += result.n_postings
        state = f"ok, {result.n_postings} postings" if result.ok else f"FAILED ({result.http_status or '-'}: {result.error})"
        if result.n_skipped:
            state += f", {result.n_skipped} skipped (first: {result.skipped_reasons[0]})"
        if result.n_details_fetched or result.n_details_reused or result.n_details_failed:
            state += f", details {result.n_details_fetched} fetched / {result.n_details_reused} reused / {result.n_details_failed} failed"
            if result.n_details_failed:
                state += f" (first: {result.details_failed_reasons[0]})"
        context.log.info(
            f"[{counts['done']}/{len(boards)}] {result.source}/{result.board}: {state}, {result.n_bytes} B, "
            f"{result.duration_s:.2f} s — running: {counts['ok']} ok, {counts['postings']} postings"
        )
        if bar is not None:
            bar.update(1)

    http = job_boards.http_settings()
    # Details already fetched (SmartRecruiters, Workday, ...): reused for postings whose list item is unchanged.
    last = RawPartition.latest(settings.raw_dir(), source, day)
    previous = last.read_details() if last is not None else None

    async def scrape() -> list[BoardResult]:
        async with make_client(http) as client:
            with job_boards.endpoints() as base_urls:
                return await scrape_boards(boards, client=client, base_urls=base_urls, settings=http, on_result=on_result, previous=previous)

    try:
        results = asyncio.run(scrape())
    finally:
        if bar is not None:
            bar.close()
    outcomes = [r.summary() for r in results]
    postings = postings_frame([p for r in results for p in r.postings])
    bodies = {r.board: [b.decode("utf-8", "replace") for b in r.raw_bodies] for r in results}
    partition.write(postings, outcomes, bodies, {r.board: r.detail_stamps for r in results if r.detail_stamps})
    metadata = {**outcomes_metadata(outcomes), "path": str(partition.root), "mode": job_boards.mode}
    if not any(r.ok for r in results):
        record_board_outcomes(store.engine(), date.fromisoformat(day), [r.outcome() for r in results])
    return metadata, any(r.ok for r in results)


def _progress_bar(total: int, label: str):
    """A terminal progress bar when the CLI asks for one (``JOBPIPELINE_PROGRESS=1``) and stderr is a TTY."""
    if os.environ.get("JOBPIPELINE_PROGRESS") != "1" or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="board", leave=False)
