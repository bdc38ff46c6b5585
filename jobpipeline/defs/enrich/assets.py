"""``enriched_jobs``: structured fields for every job in the store, cached by content hash."""

import dagster as dg

from jobpipeline.defs.enrich.resources import LLMResource
from jobpipeline.defs.jobs.resources import StoreResource
from jobpipeline.lib.extract.enrich import enrich_jobs, read_jobs


class EnrichConfig(dg.Config):
    retry_failed: bool = False  # send the jobs whose last enrichment failed to the model again


@dg.asset(
    deps=["jobs", "hn_jobs"],
    group_name="enrich",
    kinds={"sqlite", "vllm"},
    description="Skills, seniority, remote, salary, years, visa and a summary per job; a job whose content "
    "hash, model and prompt version are cached is never sent to a model again.",
)
def enriched_jobs(context: dg.AssetExecutionContext, config: EnrichConfig, store: StoreResource, llm: LLMResource) -> dg.MaterializeResult:
    """All jobs, open or closed; failures are recorded per job with the reason and do not fail the run."""
    engine = store.engine()
    backend = llm.get_backend()
    jobs = read_jobs(engine, backend.model, retry_failed=config.retry_failed)
    result = enrich_jobs(engine, jobs, backend, retry_failed=config.retry_failed)
    for key, reason in list(result.failures.items())[:20]:
        context.log.warning(f"enrichment failed for content hash {key[:12]}: {reason}")
    context.log.info(
        f"{result.enriched} enriched, {result.cached} cached, {result.failed} failed "
        f"with {result.backend}/{result.model} in {result.seconds:.1f}s ({result.jobs_per_s} jobs/s)"
    )
    return dg.MaterializeResult(metadata=result.as_metadata())
