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

import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from jobpipeline.lib.extract import cache
from jobpipeline.lib.extract.backend import Backend, Generation, PostingText, RulesBackend
from jobpipeline.lib.extract.prompt import PROMPT_VERSION
from jobpipeline.lib.extract.rules import employment_type_from_api, extract_rules
from jobpipeline.lib.extract.salary import plausible
from jobpipeline.lib.extract.schema import JobFields, parse_fields
from jobpipeline.lib.hn.parse import SOURCE as HN_SOURCE
from jobpipeline.lib.sources.base import workplace

# Sources with no structured pay: whatever their salary columns hold was parsed from text.
PAY_FROM_TEXT_SOURCES = frozenset({HN_SOURCE})


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
    source: str = ""  # the job's source; pay of PAY_FROM_TEXT_SOURCES is never taken as the API's

    def text(self) -> PostingText:
        return PostingText(self.content_hash, self.title, self.location, self.description)


@dataclass
class EnrichResult:
    backend: str
    model: str
    prompt_version: str
    jobs: int = 0
    enriched: int = 0
    cached: int = 0
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


def read_jobs(engine: sa.Engine, model: str | None = None, prompt_version: str = PROMPT_VERSION,
              retry_failed: bool = False) -> list[JobInput]:
    """Every job in the store, open or closed, with its description.

    Given ``model``, the jobs that ``enrich_jobs`` will find cached for it (and ``prompt_version``)
    come without their description: they are not sent again, and their texts were most of what a
    run with little new work read."""
    from jobpipeline.lib.store import Job, JobText

    job, text, cached = Job.__table__, JobText.__table__, cache.Enrichment.__table__
    description = text.c.description
    if model is not None:
        hit = sa.exists().where(cached.c.content_hash == job.c.content_hash, cached.c.model == model,
                                cached.c.prompt_version == prompt_version)
        if retry_failed:
            hit = hit.where(cached.c.status == cache.STATUS_OK)
        description = sa.case((hit, sa.literal("")), else_=text.c.description)
    stmt = sa.select(job, description.label("description")).select_from(job.outerjoin(text, text.c.job_id == job.c.id))
    rows = []
    with engine.connect() as conn:
        for r in conn.execute(stmt).mappings():
            rows.append(
                JobInput(
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
            )
    return rows


def apply_api_values(fields: JobFields, job: JobInput) -> tuple[JobFields, str | None, str | None]:
    """``fields`` with the API's salary and remote values put over the extracted ones, plus their sources."""
    update: dict[str, Any] = {}
    salary_source = remote_source = None
    api_period = job.salary_period or fields.salary_period or "year"
    api_currency = job.salary_currency or fields.salary_currency
    has_api_pay = (job.salary_min is not None or job.salary_max is not None) and job.source not in PAY_FROM_TEXT_SOURCES
    if has_api_pay and plausible(job.salary_min, job.salary_max, api_currency, api_period):
        update.update(salary_min=job.salary_min, salary_max=job.salary_max, salary_currency=api_currency,
                      salary_period=api_period)
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
        remote_source = "api"
    elif fields.remote is not None:
        remote_source = "extracted"
    if (api_type := employment_type_from_api(job.employment_type)) is not None:
        update["employment_type"] = api_type
    # model_copy skips validation: the API values were validated when the job was stored.
    return (fields.model_copy(update=update) if update else fields), salary_source, remote_source


def _validate(gen: Generation) -> tuple[JobFields | None, str | None]:
    if gen.text is None:
        return None, gen.error or "no answer"
    try:
        return parse_fields(gen.text), None
    except ValueError as exc:
        return None, f"{exc}" + (f" ({gen.error})" if gen.error else "")


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
        fields, error = _validate(gen)
        outcomes.append(Outcome(fields, error, 1, gen.prompt_tokens, gen.completion_tokens, gen.transient and fields is None))
    invalid = [i for i, o in enumerate(outcomes) if o.fields is None and not o.transient]
    if invalid:
        again = backend.generate([postings[i] for i in invalid], retry=True)
        for i, gen in zip(invalid, again, strict=True):
            fields, error = _validate(gen)
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
    jobs: list[JobInput],
    backend: Backend,
    prompt_version: str = PROMPT_VERSION,
    retry_failed: bool = False,
) -> EnrichResult:
    """Enriches the jobs whose (content hash, model, prompt version) is not cached yet."""
    started = time.perf_counter()
    result = EnrichResult(backend.name, backend.model, prompt_version, jobs=len(jobs))
    unique: dict[str, JobInput] = {}
    for job in jobs:
        unique.setdefault(job.content_hash, job)
    done = cache.cached_hashes(engine, unique, backend.model, prompt_version, retry_failed=retry_failed)
    result.cached = len(done)
    pending = [job for key, job in unique.items() if key not in done]
    if not pending:
        result.seconds = time.perf_counter() - started
        return result

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
                job.content_hash, backend.model, prompt_version, backend.name, fields, error, outcome.attempts,
                outcome.prompt_tokens, outcome.completion_tokens, salary_source, remote_source,
            )
        )
    cache.upsert(engine, rows)
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class HybridBackend:
    """Each field from the backend that ``bench/extract_eval.py`` measures better for it.

    On the hand-labelled real postings (README, "Quality, measured") the rules win every scored
    field: salary precision 1.000 against SmolLM2-135M's 0.000 (the model states pay on all 110
    pay-free postings), seniority 1.000 / 0.225, years 0.957 / 0.137, remote 1.000 / 0.562,
    employment type 1.000 / 0.857, skills 0.935 / 0.067 (recall 0.906 / 0.016). Those come from the
    rules; the LLM keeps what no rule reads and the evaluation does not score: summary, remote
    regions in prose, visa. Without a model (``llm=None``) the LLM fields stay empty: that is what CI
    scores. Re-run the evaluation with a stronger model before giving it a field back.
    """

    llm: Backend | None
    name: str = "hybrid"
    rule_fields: tuple[str, ...] = (
        "salary_min", "salary_max", "salary_currency", "salary_period", "years_experience_min", "seniority",
        "employment_type", "remote", "skills",
    )

    @property
    def model(self) -> str:
        return f"hybrid:{self.llm.model if self.llm is not None else 'none'}"

    def generate(self, postings: list[PostingText], retry: bool = False) -> list[Generation]:
        empty = JobFields().model_dump_json()
        answers = self.llm.generate(postings, retry=retry) if self.llm is not None else [Generation(empty) for _ in postings]
        merged = []
        for posting, gen in zip(postings, answers, strict=True):
            fields, _ = _validate(gen)
            if fields is None:
                merged.append(gen)
                continue
            ruled = extract_rules(posting.title, posting.location, posting.description)
            update = {name: getattr(ruled, name) for name in self.rule_fields}
            gen.text = fields.model_copy(update=update).model_dump_json()
            merged.append(gen)
        return merged

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()


def make_backend(name: str, **options: Any) -> Backend:
    """A backend by name: rules, vllm, openai or hybrid (hybrid = rules + vllm, or + openai with base_url).

    Options set to None mean "the backend's default"."""
    options = {k: v for k, v in options.items() if v is not None}
    if name == "rules":
        return RulesBackend()
    if name == "vllm":
        from jobpipeline.lib.extract.vllm_backend import VllmBackend, VllmConfig

        return VllmBackend(VllmConfig(**{k: v for k, v in options.items() if k in VllmConfig.__dataclass_fields__}))
    if name == "openai":
        from jobpipeline.lib.extract.openai_backend import OpenAIBackend, OpenAIConfig

        return OpenAIBackend(OpenAIConfig(**{k: v for k, v in options.items() if k in OpenAIConfig.__dataclass_fields__}))
    if name == "hybrid":
        inner = "openai" if options.get("base_url") else "vllm"
        return HybridBackend(make_backend(inner, **options))
    raise ValueError(f"unknown backend {name!r}: expected rules, vllm, openai or hybrid")
