"""The backend-independent enrichment flow: skip cached, extract, validate, retry once, cache.

    jobs = read_jobs(engine)
    result = enrich_jobs(engine, jobs, backend)   # counts, tokens, jobs/s

What is cached: an answer that validates (``ok``), and one that failed validation twice
(``failed``, until the prompt version or model changes, or ``retry_failed``). What is not: a
transient failure of the service (``Generation.transient``: server down, timeout, 429, 5xx,
401/403). Such a job stays *pending*, is not retried within the run (the backend already retried
with backoff), and goes to the model again on the next run; ``EnrichResult.pending`` counts them.

Where the board's API itself gave salary, remote or employment type (Ashby compensation,
``isRemote``, Lever ``workplaceType``), that value wins over extraction; the row records where
salary and remote came from. Pay read from text is never "api": a source whose postings state pay
only in prose (HN) has it extracted, even where an older raw partition still holds the values the
retired HN headline parser stored in the salary columns.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from jobpipeline.lib.extract import cache
from jobpipeline.lib.extract.backends import Backend, PostingText, validate_generation
from jobpipeline.lib.extract.prompt import PROMPT_VERSION
from jobpipeline.lib.extract.rules import employment_type_from_api
from jobpipeline.lib.extract.salary import plausible
from jobpipeline.lib.extract.schema import JobFields
from jobpipeline.lib.hn.parse import SOURCE as HN_SOURCE
from jobpipeline.lib.sources.base import workplace

# Sources with no structured fields: whatever their salary and workplace columns hold was parsed
# from text (HN's headline), so it is never the API's pay, and its work mode counts as extracted.
TEXT_SOURCES = frozenset({HN_SOURCE})
# Jobs per call to the backend, each batch cached before the next: bounds what a run holds (a job's
# text and answer) and what a crash loses; a vLLM engine batches far fewer sequences at once.
ENRICH_BATCH = 2_000
# The job columns a ``JobInput`` is made of (its description comes from ``job_text``).
_INPUT_FIELDS = (
    "content_hash",
    "title",
    "locations",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "remote",
    "workplace_type",
    "employment_type",
    "source",
)


@dataclass(slots=True)
class JobInput:
    """One job as the store holds it: its text plus what the API said about pay and place."""

    content_hash: str
    title: str
    location: str = ""
    description: str = ""
    salary_min: float | None = None
    salary_max: float | None = None
    salary_currency: str | None = None
    salary_period: str | None = None
    remote: bool | None = None
    workplace_type: str | None = None
    employment_type: str | None = None
    source: str = ""  # the job's source; pay of TEXT_SOURCES is never taken as the API's

    def text(self) -> PostingText:
        return PostingText(self.content_hash, self.title, self.location, self.description)


@dataclass
class EnrichResult:
    backend: str
    model: str
    prompt_version: str
    jobs: int = 0
    enriched: int = 0
    cached: int = 0  # jobs whose content was cached already
    failed: int = 0
    pending: int = 0  # transient failures: not cached, retried by the next run
    retried: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)
    pending_reasons: dict[str, str] = field(default_factory=dict)

    @property
    def pending_share(self) -> float:
        """Pending jobs among the jobs this run sent to the backend (0 when it sent none)."""
        sent = self.enriched + self.failed + self.pending
        return round(self.pending / sent, 4) if sent else 0.0

    @property
    def jobs_per_s(self) -> float:
        done = self.enriched + self.failed
        return round(done / self.seconds, 2) if self.seconds > 0 and done else 0.0

    def as_metadata(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "enriched": self.enriched,
            "cached": self.cached,
            "failed": self.failed,
            "pending_transient": self.pending,
            "pending_share": self.pending_share,
            "retried": self.retried,
            "backend": self.backend,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens": self.prompt_tokens + self.completion_tokens,
            "seconds": round(self.seconds, 2),
            "jobs_per_s": self.jobs_per_s,
        }


def read_jobs(
    engine: sa.Engine, model: str | None = None, prompt_version: str = PROMPT_VERSION, retry_failed: bool = False
) -> list[JobInput]:
    """Every job in the store, open or closed, with its description.

    Given ``model``, the jobs that ``enrich_jobs`` will find cached for it (and ``prompt_version``)
    come without their description: they are not sent again, and their texts were most of what a
    run with little new work read. A run reads ``read_jobs_to_enrich`` instead: this holds every job."""
    from jobpipeline.lib.store import Job, JobText

    job, text = Job.__table__, JobText.__table__
    description = text.c.description
    if model is not None:
        description = sa.case((_cached(job, model, prompt_version, retry_failed), sa.literal("")), else_=text.c.description)
    stmt = sa.select(*_input_columns(job), description.label("description")).select_from(job.outerjoin(text, text.c.job_id == job.c.id))
    with engine.connect() as conn:
        return [_job_input(r) for r in conn.execute(stmt).mappings()]


@dataclass
class JobsToEnrich:
    jobs: Iterator[JobInput]  # the jobs whose content is not cached for the model and prompt version, with their texts, read as consumed
    store_jobs: int  # every job of the store when the read began: the ones not in ``jobs`` are cached


def read_jobs_to_enrich(
    engine: sa.Engine, model: str, prompt_version: str = PROMPT_VERSION, retry_failed: bool = False, batch: int | None = None
) -> JobsToEnrich:
    """The jobs ``enrich_jobs`` has work for, read ``batch`` at a time (``ENRICH_BATCH``) by job id as
    they are consumed, and how many jobs the store holds.

    What ``enriched_jobs`` reads after every sync: the day's new and rewritten contents, not every
    job. Reading every job (``read_jobs``) to find them took 20 s and 1.25 GB at a million jobs,
    53,658 of them not cached (``bench/RESULTS.md``, session 33). A page is read after the batch
    before it is cached, so a job whose content an earlier batch enriched is not read again."""
    from jobpipeline.lib.store import Job, JobText

    job, text = Job.__table__, JobText.__table__
    stmt = (
        sa.select(job.c.id, *_input_columns(job), text.c.description)
        .select_from(job.outerjoin(text, text.c.job_id == job.c.id))
        .where(~_cached(job, model, prompt_version, retry_failed))
        .order_by(job.c.id)
        .limit(batch or ENRICH_BATCH)
    )

    def pages() -> Iterator[JobInput]:
        last = None
        while True:
            with engine.connect() as conn:
                rows = conn.execute(stmt if last is None else stmt.where(job.c.id > last)).mappings().all()
            if not rows:
                return
            last = rows[-1]["id"]
            yield from (_job_input(r) for r in rows)

    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(job)).scalar_one()
    return JobsToEnrich(pages(), total)


def _input_columns(job: sa.Table) -> list[sa.Column]:
    """The job columns a ``JobInput`` is made of."""
    return [job.c[name] for name in _INPUT_FIELDS]


def _cached(job: sa.Table, model: str, prompt_version: str, retry_failed: bool) -> sa.Exists:
    """Whether the job's content has a cached answer (an ok one, with ``retry_failed``)."""
    cached = cache.Enrichment.__table__
    hit = sa.exists().where(cached.c.content_hash == job.c.content_hash, cached.c.model == model, cached.c.prompt_version == prompt_version)
    return hit.where(cached.c.status == cache.STATUS_OK) if retry_failed else hit


def _job_input(r: Any) -> JobInput:
    return JobInput(
        content_hash=r["content_hash"],
        title=r["title"] or "",
        location=", ".join(r["locations"] or []),
        description=r["description"] or "",
        salary_min=r["salary_min"],
        salary_max=r["salary_max"],
        salary_currency=r["salary_currency"],
        salary_period=r["salary_period"],
        remote=r["remote"],
        workplace_type=r["workplace_type"],
        employment_type=r["employment_type"],
        source=r["source"],
    )


def apply_api_values(fields: JobFields, job: JobInput) -> tuple[JobFields, str | None, str | None]:
    """``fields`` with the API's salary and remote values put over the extracted ones, plus their sources."""
    update: dict[str, Any] = {}
    salary_source = remote_source = None
    api_period = job.salary_period or fields.salary_period or "year"
    api_currency = job.salary_currency or fields.salary_currency
    has_api_pay = (job.salary_min is not None or job.salary_max is not None) and job.source not in TEXT_SOURCES
    if has_api_pay and plausible(job.salary_min, job.salary_max, api_currency, api_period):
        update.update(salary_min=job.salary_min, salary_max=job.salary_max, salary_currency=api_currency, salary_period=api_period)
        salary_source = "api"
    elif fields.salary_min is not None or fields.salary_max is not None:
        # An impossible API value (Ashby's "$150 a year" intern) is dropped, and the source says so.
        salary_source = "extracted (api implausible)" if has_api_pay else "extracted"
    elif has_api_pay:
        salary_source = "api implausible"  # dropped: no salary rather than an impossible one
    mode = workplace(job.workplace_type)
    if mode is None and job.remote is True:
        mode = "remote"
    if mode is not None:
        update["remote"] = mode
        remote_source = "extracted" if job.source in TEXT_SOURCES else "api"
    elif fields.remote is not None:
        remote_source = "extracted"
    if (api_type := employment_type_from_api(job.employment_type)) is not None:
        update["employment_type"] = api_type
    # model_copy skips validation: the API values were validated when the job was stored.
    return (fields.model_copy(update=update) if update else fields), salary_source, remote_source


@dataclass(slots=True)
class Outcome:
    fields: JobFields | None
    error: str | None
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    transient: bool = False  # the service failed, not the answer: leave the job pending


def extract_postings(backend: Backend, postings: list[PostingText]) -> list[Outcome]:
    """Validated fields for each posting: one batched call, then one retry for the invalid answers.

    A transient failure is not retried here (the backend has retried it already) and stays transient."""
    outcomes: list[Outcome] = []
    for gen in backend.generate(postings):
        fields, error = validate_generation(gen)
        outcomes.append(Outcome(fields, error, 1, gen.prompt_tokens, gen.completion_tokens, gen.transient and fields is None))
    invalid = [i for i, o in enumerate(outcomes) if o.fields is None and not o.transient]
    if invalid:
        again = backend.generate([postings[i] for i in invalid], retry=True)
        for i, gen in zip(invalid, again, strict=True):
            fields, error = validate_generation(gen)
            first = outcomes[i]
            outcomes[i] = Outcome(
                fields,
                None if fields is not None else f"attempt 1: {first.error}; attempt 2: {error}",
                2,
                first.prompt_tokens + gen.prompt_tokens,
                first.completion_tokens + gen.completion_tokens,
                gen.transient and fields is None,
            )
    return outcomes


def enrich_jobs(
    engine: sa.Engine,
    jobs: Iterable[JobInput],
    backend: Backend,
    prompt_version: str = PROMPT_VERSION,
    retry_failed: bool = False,
    store_jobs: int | None = None,
    batch: int | None = None,
) -> EnrichResult:
    """Enriches the jobs whose (content hash, model, prompt version) is not cached yet, ``batch``
    jobs at a time (``ENRICH_BATCH``): each batch's answers are cached before the next batch is
    taken from ``jobs``, so memory holds one batch, and a run that dies keeps what it finished (it
    cached nothing until its end: a first run at a million jobs held every text and lost hours of
    a model's work to one crash). After a transient failure of the service the rest of the run is
    not sent; it stays pending. ``store_jobs``: the store's jobs, when ``jobs`` holds only those
    with work (``read_jobs_to_enrich``): the others count as cached."""
    started = time.perf_counter()
    result = EnrichResult(backend.name, backend.model, prompt_version)
    seen: set[str] = set()  # hashes this run looked up: a job sharing one with an earlier job is that job's
    down = False
    for part in _batches(jobs, batch or ENRICH_BATCH):
        result.jobs += len(part)
        fresh = [job for job in part if job.content_hash not in seen]
        unique: dict[str, JobInput] = {}
        for job in fresh:
            unique.setdefault(job.content_hash, job)
        done = cache.cached_hashes(engine, unique, backend.model, prompt_version, retry_failed=retry_failed)
        result.cached += sum(job.content_hash in done for job in fresh)
        seen.update(unique)
        pending = [job for key, job in unique.items() if key not in done]
        if down:  # not sent: the service failed earlier in this run
            result.pending += len(pending)
            continue
        down = _enrich_batch(engine, pending, backend, prompt_version, result)
    if store_jobs is not None:  # (a sync between the count and the reads may have added jobs)
        result.cached += max(store_jobs - result.jobs, 0)
        result.jobs = max(store_jobs, result.jobs)
    result.seconds = time.perf_counter() - started
    return result


def _batches(items: Iterable[JobInput], size: int) -> Iterator[list[JobInput]]:
    it = iter(items)
    while part := list(itertools.islice(it, size)):
        yield part


def _enrich_batch(engine: sa.Engine, pending: list[JobInput], backend: Backend, prompt_version: str, result: EnrichResult) -> bool:
    """Extract and cache ``pending`` (distinct hashes, none cached), counting into ``result``.
    Returns whether the service failed (a transient outcome): the run sends nothing more."""
    if not pending:
        return False
    outcomes = dict(zip((job.content_hash for job in pending), extract_postings(backend, [j.text() for j in pending])))
    for outcome in outcomes.values():
        result.prompt_tokens += outcome.prompt_tokens
        result.completion_tokens += outcome.completion_tokens
        result.retried += outcome.attempts > 1

    rows = []
    for job in pending:
        outcome = outcomes[job.content_hash]
        fields, error = outcome.fields, outcome.error
        salary_source = remote_source = None
        if outcome.transient:  # not cached: the next run sends it again
            result.pending += 1
            result.pending_reasons[job.content_hash] = error or "service unavailable"
            continue
        if fields is not None:
            fields, salary_source, remote_source = apply_api_values(fields, job)
            result.enriched += 1
        else:
            result.failed += 1
            result.failures[job.content_hash] = error or "invalid"
        rows.append(
            cache.enrichment_row(
                job.content_hash,
                backend.model,
                prompt_version,
                backend.name,
                fields,
                error,
                outcome.attempts,
                outcome.prompt_tokens,
                outcome.completion_tokens,
                salary_source,
                remote_source,
            )
        )
    cache.upsert(engine, rows)
    return any(outcome.transient for outcome in outcomes.values())
