"""``enriched_jobs``: structured fields for every job in the store, cached by content hash.

It runs itself: its automation condition requests it once a sync (``jobs`` or ``hn_jobs``, any
partition) has landed and no sync is still running, so new and changed jobs get enriched after a
schedule tick, a sensor run or a backfill, without the CLI. The daemon's
``default_automation_condition_sensor`` evaluates it (on by default, see ``definitions.py``).
"""

from datetime import timedelta

import dagster as dg

from jobpipeline import settings
from jobpipeline.defs.enrich.resources import LLMResource
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.extract.enrich import EnrichResult, enrich_jobs, read_jobs_to_enrich

PENDING_CHECK = "llm_pending_share"
ENRICH_POOL = "enrich"

# Eager, minus eager's "no dependency missing": the upstream syncs are partitioned (every day x
# source, every month), so some dependency partition is always missing and eager would never fire.
ENRICH_AFTER_SYNC = (
    (dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()).since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after any sync, once no sync runs")


class EnrichConfig(dg.Config):
    retry_failed: bool = False  # send the jobs whose last enrichment failed to the model again


def pending_check(result: EnrichResult, limit: float) -> dg.AssetCheckResult:
    """Warns when the LLM service failed (down, 429, 5xx, 401/403) for too many of the jobs sent."""
    reasons = sorted(set(result.pending_reasons.values()))[:5]
    return dg.AssetCheckResult(
        check_name=PENDING_CHECK,
        passed=result.pending_share <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{result.pending} of {result.enriched + result.failed + result.pending} jobs sent left pending "
        f"by transient LLM failures (limit {limit:.0%}); they are retried by the next run",
        metadata={
            "pending_transient": result.pending,
            "pending_share": result.pending_share,
            "max_share": limit,
            "reasons": dg.MetadataValue.json(reasons),
        },
    )


@dg.asset(
    deps=["jobs", "hn_jobs"],
    group_name="enrich",
    kinds={"sqlite", "vllm"},
    automation_condition=ENRICH_AFTER_SYNC,
    # One enrichment at a time: the automation sensor's run and `jobpipeline run`'s downstream run
    # (or a UI launch) would otherwise both send the same new jobs to the model.
    pool=ENRICH_POOL,
    # The day's syncs land by 09:00 UTC; their enrichment (automatic, after them) by 10:00.
    freshness_policy=dg.FreshnessPolicy.cron(deadline_cron="0 10 * * *", lower_bound_delta=timedelta(hours=4), timezone="UTC"),
    check_specs=[
        dg.AssetCheckSpec(
            PENDING_CHECK,
            asset="enriched_jobs",
            description="Share of the jobs sent to the LLM that transient failures left pending stays below the limit (warns).",
        )
    ],
    description="Skills, seniority, remote, salary, years, visa and a summary per job; a job whose content "
    "hash, model and prompt version are cached is never sent to a model again. Requested automatically after "
    "every sync.",
)
def enriched_jobs(context: dg.AssetExecutionContext, config: EnrichConfig, store: StoreResource, llm: LLMResource) -> dg.MaterializeResult:
    """All jobs, open or closed. Failed answers are recorded per job with the reason; jobs the LLM
    service failed for stay pending for the next run. Neither fails the run."""
    engine = store.engine()
    backend = llm.get_backend()
    todo = read_jobs_to_enrich(engine, backend.model, retry_failed=config.retry_failed)
    result = enrich_jobs(engine, todo.jobs, backend, retry_failed=config.retry_failed, store_jobs=todo.store_jobs)
    for key, reason in list(result.failures.items())[:20]:
        context.log.warning(f"enrichment failed for content hash {key[:12]}: {reason}")
    if result.pending:
        context.log.warning(
            f"{result.pending} jobs left pending by transient LLM failures (retried next run), e.g. "
            f"{next(iter(result.pending_reasons.values()))}"
        )
    context.log.info(
        f"{result.enriched} enriched, {result.cached} cached, {result.failed} failed, {result.pending} pending "
        f"with {result.backend}/{result.model} in {result.seconds:.1f}s ({result.jobs_per_s} jobs/s)"
    )
    return dg.MaterializeResult(
        metadata=result.as_metadata(), check_results=[pending_check(result, settings.current().max_llm_pending_share)]
    )
