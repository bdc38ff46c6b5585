"""``raw_postings``: one day's scrape of one source's boards, persisted to disk per partition."""

import dagster as dg

from jobpipeline import settings
from jobpipeline.defs.resources import JobBoardsResource, StoreResource
from jobpipeline.defs.scrape.partitions import DAILY_SCRAPE_FRESHNESS, board_partitions, days_and_sources
from jobpipeline.lib import ingest


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
    kinds={"aiohttp", "parquet"},
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
    results = [scrape_one_partition(context, config, job_boards, store, day, source) for day, source in keys]
    failed = [f"{source} {day}" for (day, source), (_, ok) in zip(keys, results) if not ok]
    if len(keys) == 1:
        metadata = results[0][0]
    else:
        metadata = {
            "partitions": len(keys),
            **{
                k: sum(int(m.get(k, 0)) for m, _ in results)
                for k in ("boards", "boards_ok", "boards_failed", "postings", "postings_skipped", "bytes")
            },
            "partitions_reused_from_disk": sum(bool(m.get("reused_from_disk")) for m, _ in results),
        }
    if failed:
        raise dg.Failure(f"every board failed for {', '.join(failed)}; outcomes kept on disk", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


def scrape_one_partition(
    context: dg.AssetExecutionContext,
    config: ScrapeConfig,
    job_boards: JobBoardsResource,
    store: StoreResource,
    day: str,
    source: str,
) -> tuple[dict, bool]:
    """``lib.ingest.scrape_partition`` for one (day, source), as run metadata and whether any board succeeded."""
    try:
        scraped = ingest.scrape_partition(
            store.raw_root(),
            source,
            day,
            lambda: job_boards.session(source),
            store_engine=store.engine,
            rescrape=config.rescrape,
            allow_past=config.allow_past,
            progress=settings.current().progress,
            log=context.log.info,
        )
    except ingest.ScrapeRefused as exc:
        raise dg.Failure(str(exc)) from None
    if scraped.reused_from_disk:
        return {**outcomes_metadata(scraped.outcomes), "reused_from_disk": True, "path": str(scraped.path)}, True
    return {**outcomes_metadata(scraped.outcomes), "path": str(scraped.path), "mode": scraped.mode}, scraped.any_ok
