"""The enrichment flow and its cache, on a real SQLite file, with the rules backend (no model)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field

import dagster as dg
import pytest

from jobpipeline.defs.enrich.assets import enriched_jobs
from jobpipeline.defs.enrich.resources import LLMResource
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.extract import cache
from jobpipeline.lib.extract.backends import Generation, PostingText, RulesBackend
from jobpipeline.lib.extract.backends.vllm_backend import QuantizationError, resolve_quantization
from jobpipeline.lib.extract.enrich import enrich_jobs, read_jobs, read_jobs_to_enrich
from jobpipeline_tests.enrich.helpers import insert_jobs, job_inputs


@dataclass
class GarblingBackend:
    """The rules backend, except that postings whose title is in ``garble`` get a broken answer
    (always, or only on the first attempt) — how a real model fails validation."""

    garble: set[str]
    only_first_attempt: bool = False
    name: str = "rules"
    model: str = "garbling-rules"
    calls: list[tuple[str, bool]] = field(default_factory=list)

    def generate(self, postings: list[PostingText], retry: bool = False) -> list[Generation]:
        answers = RulesBackend().generate(postings)
        for posting, answer in zip(postings, answers):
            self.calls.append((posting.title, retry))
            if posting.title in self.garble and not (retry and self.only_first_attempt):
                answer.text = '{"seniority": "wizard", "skills": ['
        return answers

    def close(self) -> None:
        pass


def test_second_run_hits_the_cache_and_sends_nothing_to_the_backend(engine, ashby_postings) -> None:
    jobs = job_inputs(ashby_postings[:20])
    backend = RulesBackend()
    first = enrich_jobs(engine, jobs, backend)
    assert (first.enriched, first.cached, first.failed) == (20, 0, 0)
    calls = backend.calls
    second = enrich_jobs(engine, jobs, backend)
    assert (second.enriched, second.cached, second.failed) == (0, 20, 0)
    assert backend.calls == calls


def test_new_prompt_version_or_model_re_enriches_and_changed_content_only_that_job(engine, ashby_postings) -> None:
    jobs = job_inputs(ashby_postings[:10])
    enrich_jobs(engine, jobs, RulesBackend(), prompt_version="v1")
    assert enrich_jobs(engine, jobs, RulesBackend(), prompt_version="v2").enriched == 10
    changed = job_inputs([{**ashby_postings[0], "description": ashby_postings[0]["description"] + "\nNow hiring in Berlin."}])
    again = enrich_jobs(engine, changed + jobs[1:], RulesBackend(), prompt_version="v2")
    assert (again.enriched, again.cached) == (1, 9)
    assert len(cache.load(engine, model="rules")) == 21


def test_invalid_answer_is_retried_once_then_recorded_as_failed_while_the_others_land(engine, ashby_postings) -> None:
    postings = ashby_postings[:6]
    bad, flaky = postings[0]["title"], postings[1]["title"]
    backend = GarblingBackend({bad})
    result = enrich_jobs(engine, job_inputs(postings), backend)
    assert (result.enriched, result.failed, result.retried) == (5, 1, 1)
    assert backend.calls.count((bad, True)) == 1  # exactly one retry
    rows = {r["content_hash"]: r for r in cache.load(engine)}
    failed = [r for r in rows.values() if r["status"] == "failed"]
    assert len(failed) == 1 and "attempt 1:" in failed[0]["error"] and "attempt 2:" in failed[0]["error"]
    assert failed[0]["attempts"] == 2
    # a failure is cached too: the next run does not hammer the model with it
    assert enrich_jobs(engine, job_inputs(postings), backend).cached == 6
    # ... unless asked to (the asset's `retry_failed` config): only the failed job goes again
    healed = GarblingBackend(set())
    again = enrich_jobs(engine, job_inputs(postings), healed, retry_failed=True)
    assert (again.enriched, again.cached, again.failed) == (1, 5, 0) and [t for t, _ in healed.calls] == [bad]

    flaky_backend = GarblingBackend({flaky}, only_first_attempt=True, model="flaky-rules")
    result = enrich_jobs(engine, job_inputs(postings), flaky_backend)
    assert (result.enriched, result.failed, result.retried) == (6, 0, 1)


def test_api_salary_and_remote_win_over_extraction(engine, ashby_postings) -> None:
    posting = {**ashby_postings[3], "description": "Remote-first team. Salary: $90,000 - $100,000.\n" + ashby_postings[3]["description"]}
    insert_jobs(
        engine,
        [posting],
        api_values={
            0: {
                "salary_min": 160000.0,
                "salary_max": 200000.0,
                "salary_currency": "USD",
                "salary_period": "year",
                "workplace_type": "hybrid",
            }
        },
    )
    enrich_jobs(engine, read_jobs(engine), RulesBackend())
    (row,) = cache.load(engine)
    assert (row["salary_min"], row["salary_max"], row["salary_source"]) == (160000.0, 200000.0, "api")
    assert (row["remote"], row["remote_source"]) == ("hybrid", "api")


def test_fp8_on_cpu_fails_with_the_reason_and_auto_means_no_quantization_there() -> None:
    assert resolve_quantization("auto", "cpu") is None
    assert resolve_quantization("auto", "cuda", fp8_supported=True) == "fp8"
    assert resolve_quantization("auto", "cuda", fp8_supported=False) is None
    with pytest.raises(QuantizationError, match="CUDA GPU"):
        resolve_quantization("fp8", "cpu")


def test_enriched_jobs_asset_reports_counts_backend_and_throughput(tmp_path, engine, ashby_postings) -> None:
    insert_jobs(engine, ashby_postings[:12])
    resources = {"store": StoreResource(database_url=str(engine.url)), "llm": LLMResource(backend="rules")}
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        first = dg.materialize([enriched_jobs], resources=resources, instance=instance)
        second = dg.materialize([enriched_jobs], resources=resources, instance=instance)
    meta = first.asset_materializations_for_node("enriched_jobs")[0].metadata
    assert meta["enriched"].value == 12 and meta["failed"].value == 0 and meta["backend"].value == "rules"
    assert {"model", "tokens", "jobs_per_s", "cached"} <= set(meta)
    again = second.asset_materializations_for_node("enriched_jobs")[0].metadata
    assert (again["enriched"].value, again["cached"].value) == (0, 12)
    # What a run reads: cached jobs without their text; a job nobody enriched yet with it.
    insert_jobs(engine, ashby_postings[12:13])
    texts = {j.title: j.description for j in read_jobs(engine, "rules")}
    assert sum(1 for t in texts.values() if t) == 1 and texts[ashby_postings[12]["title"]] == ashby_postings[12]["description"]
    assert all(j.description for j in read_jobs(engine))


def test_a_run_reads_only_the_jobs_it_has_work_for(tmp_path, engine, ashby_postings, monkeypatch) -> None:
    """``enriched_jobs`` runs after every sync: it read every job of the store (20 s and 1.25 GB at a
    million jobs) to find the day's few uncached ones; the cached ones are counted, not read."""
    from jobpipeline.defs.enrich import assets

    insert_jobs(engine, ashby_postings[:12])
    resources = {"store": StoreResource(database_url=str(engine.url)), "llm": LLMResource(backend="rules")}
    passed: list[list] = []

    def spy(engine, jobs, backend, **kwargs):
        passed.append(list(jobs))
        return enrich_jobs(engine, passed[-1], backend, **kwargs)

    monkeypatch.setattr(assets, "enrich_jobs", spy)
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        dg.materialize([enriched_jobs], resources=resources, instance=instance)
        insert_jobs(engine, ashby_postings[12:13])
        second = dg.materialize([enriched_jobs], resources=resources, instance=instance)
    assert [len(jobs) for jobs in passed] == [12, 1]
    (job,) = passed[1]
    assert (job.title, job.description) == (ashby_postings[12]["title"], ashby_postings[12]["description"])
    meta = second.asset_materializations_for_node("enriched_jobs")[0].metadata
    assert (meta["jobs"].value, meta["cached"].value, meta["enriched"].value) == (13, 12, 1)


@dataclass
class DyingBackend(RulesBackend):
    """The rules backend on a model server that dies during its ``dies_on``-th call."""

    dies_on: int = 2
    batches: list[int] = field(default_factory=list)

    def generate(self, postings: list[PostingText], retry: bool = False) -> list[Generation]:
        self.batches.append(len(postings))
        if len(self.batches) == self.dies_on:
            raise RuntimeError("the model server died")
        return super().generate(postings, retry)


def test_a_run_caches_each_batch_as_it_finishes_so_a_crash_keeps_them(engine, ashby_postings) -> None:
    """A run caches each batch before it takes the next from the store: memory holds one batch, and
    one that dies keeps what it finished (a run cached nothing until its end, and held every text)."""
    insert_jobs(engine, ashby_postings[:12])
    dying = DyingBackend()
    todo = read_jobs_to_enrich(engine, "rules", batch=5)
    with pytest.raises(RuntimeError, match="died"):
        enrich_jobs(engine, todo.jobs, dying, batch=5, store_jobs=todo.store_jobs)
    assert dying.batches == [5, 5] and len(cache.load(engine, "rules")) == 5
    again, backend = read_jobs_to_enrich(engine, "rules", batch=5), DyingBackend(dies_on=0)
    result = enrich_jobs(engine, again.jobs, backend, batch=5, store_jobs=again.store_jobs)
    assert backend.batches == [5, 2] and (result.jobs, result.cached, result.enriched) == (12, 5, 7)
    assert len(cache.load(engine, "rules")) == 12


@pytest.mark.parametrize("automation_first", [True, False])
def test_run_summary_counts_the_jobs_extracted_since_the_syncs_by_any_run(tmp_path, engine, ashby_postings, automation_first) -> None:
    """`jobpipeline run`'s enrichment line: the daemon's automation sensor may enrich the day's new
    jobs before the command's downstream run does. Either way the line says what the day extracted."""
    from jobpipeline.cli.run import RunSummary, enrichment_since
    from jobpipeline.cli.submit import materialization_cursor, materializations_since

    resources = {"store": StoreResource(database_url=str(engine.url)), "llm": LLMResource(backend="rules")}
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        insert_jobs(engine, ashby_postings[:10])
        dg.materialize([enriched_jobs], resources=resources, instance=instance)  # the day before
        cursor = materialization_cursor(instance, "enriched_jobs")
        assert cursor > 0
        insert_jobs(engine, ashby_postings[10:12])  # this day's sync: 2 new jobs
        runs = [dg.materialize([enriched_jobs], resources=resources, instance=instance) for _ in range(3)]
        downstream = runs[1] if automation_first else runs[0]  # the others: the sensor's, before or after it
        line = RunSummary(
            day="2026-01-02",
            mode="replay",
            enrichment=enrichment_since(materializations_since(instance, "enriched_jobs", cursor, downstream.run_id)),
        ).render()
        assert "enriched 2 extracted, 10 cached, 0 failed (rules, rules)" in line, line
        assert materializations_since(instance, "enriched_jobs", cursor, "no-such-run") == []


def test_extract_command_reads_json_lines_and_writes_one_object_per_line(ashby_postings) -> None:
    lines = "".join(
        json.dumps({"title": p["title"], "location": p["location"], "description": p["description"]}) + "\n" for p in ashby_postings[:5]
    )
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from jobpipeline.cli import main; sys.exit(main())", "extract", "--backend", "rules"],
        input=lines,
        capture_output=True,
        text=True,
        check=True,
    )
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 5 and all("skills" in r and "salary_min" in r for r in records)
