"""The project's own ``defs`` with the two resources the unattended tier must point elsewhere.

The ``ops`` tier's code server loads this module instead of ``jobpipeline.definitions``: every asset,
check, job, schedule, sensor and automation condition is the project's, unchanged, and so is its
executor. Only these two differ:

- ``job_boards``: scrapes the tier's replay server (which fails 20 % of requests) over the tier's
  slice of the corpus, with more HTTP retries so a board fails only by a ~1e-5 chance per day (a
  failed board would make the store differ from the fault-free reference for a reason the tier does
  not test);
- ``llm``: the ``openai`` backend on the tier's ``vllm serve`` with SmolLM2 (short prompts and
  answers: a 135M model on two CPU cores).

Runs execute their steps in the run worker's own process, as the project's executor
(``in_process_executor``) has them do: the SIGKILLed run worker is the process that scrapes.

The settings come from the code server's environment, which the tier sets
(``JOBPIPELINE_OPS_REPLAY_URL``, ``JOBPIPELINE_OPS_CORPUS``, ``JOBPIPELINE_LLM_BASE_URL``): read once
when the code location loads, as ``definitions.py`` reads its own.
"""

from __future__ import annotations

import os

import dagster as dg

from jobpipeline import definitions as project_location  # a module: its lazy defs() is called below
from jobpipeline.defs.enrich.resources import LLMResource
from jobpipeline.defs.resources import ReplayJobBoards
from jobpipeline.lib.replay.server import base_urls_at
from jobpipeline.lib.sources import ADAPTERS

OPS_MODEL = "smollm2"  # --served-model-name of the tier's vllm serve
SCRAPE_RETRIES = 6  # 0.2 ** 7 ≈ 1.3e-5: a board that fails every attempt is not what this tier tests


def _job_boards() -> ReplayJobBoards:
    replay = os.environ.get("JOBPIPELINE_OPS_REPLAY_URL")
    corpus = os.environ.get("JOBPIPELINE_OPS_CORPUS")
    if not replay or not corpus:
        raise RuntimeError("JOBPIPELINE_OPS_REPLAY_URL and JOBPIPELINE_OPS_CORPUS must be set (the ops tier sets them)")
    host, port = replay.removeprefix("http://").rsplit(":", 1)
    return ReplayJobBoards(replay_dir=corpus, base_urls=base_urls_at(host, int(port), ADAPTERS), retries=SCRAPE_RETRIES)


def _llm() -> LLMResource:
    return LLMResource(
        backend="openai",
        model=OPS_MODEL,
        base_url=dg.EnvVar("JOBPIPELINE_LLM_BASE_URL"),
        max_tokens=512,
        max_description_tokens=96,
        concurrency=4,
    )


def _project_with_ops_resources() -> dg.Definitions:
    project = project_location.defs()  # a local: one Definitions object at this module's scope
    return dg.Definitions(
        assets=project.assets,
        asset_checks=project.asset_checks,
        jobs=project.jobs,
        schedules=project.schedules,
        sensors=project.sensors,
        resources={**(project.resources or {}), "job_boards": _job_boards(), "llm": _llm()},
        executor=project.executor,
        loggers=project.loggers,
        metadata=project.metadata,
    )


defs = _project_with_ops_resources()
