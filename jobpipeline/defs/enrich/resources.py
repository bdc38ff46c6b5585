"""The LLM as a Dagster resource: one backend (rules, vllm, openai, hybrid) per run.

Swapped, not patched: tests and CPU machines pick ``rules`` or the vllm backend on the SmolLM2
folder; production keeps the defaults (``Qwen/Qwen3-4B-Instruct-2507-FP8``, FP8, 8K, 90 %).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from jobpipeline.lib.extract.backend import Backend
from jobpipeline.lib.extract.enrich import make_backend
from jobpipeline.lib.extract.vllm_backend import DEFAULT_MODEL


def default_backend() -> str:
    """``vllm`` where vLLM is installed and a CUDA GPU is present, else ``rules`` (works on any machine)."""
    if importlib.util.find_spec("vllm") is None:
        return "rules"
    import torch

    return "vllm" if torch.cuda.is_available() else "rules"


class LLMResource(dg.ConfigurableResource):
    """Which extractor ``enriched_jobs`` runs, and the vLLM / OpenAI settings it runs with."""

    backend: str = Field(default="auto", description="rules | vllm | openai | hybrid | auto (vllm on a CUDA GPU, else rules)")
    model: str = Field(default=DEFAULT_MODEL, description="model id or local folder")
    quantization: str = Field(default="auto", description="auto = FP8 on a CUDA GPU that supports it, none on CPU")
    max_model_len: int = 8192
    gpu_memory_utilization: float = Field(default=0.9, description="GPU memory share; on CPU the RAM share (≤ 0.5)")
    dtype: str = "auto"
    max_tokens: int = 512
    max_description_tokens: int | None = None
    base_url: str = Field(default="http://127.0.0.1:8000/v1", description="OpenAI-compatible server (openai backend)")
    api_key: str = Field(default="", description="API key of that server (give it as dg.EnvVar)")
    concurrency: int = 16

    _backend: Backend | None = PrivateAttr(default=None)

    def resolved_backend_name(self) -> str:
        return default_backend() if self.backend == "auto" else self.backend

    def options(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "quantization": self.quantization,
            "max_model_len": self.max_model_len,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "dtype": self.dtype,
            "max_tokens": self.max_tokens,
            "max_description_tokens": self.max_description_tokens,
            "concurrency": self.concurrency,
            **({"base_url": self.base_url, "api_key": self.api_key} if self.backend == "openai" else {}),
        }

    def get_backend(self) -> Backend:
        """The run's backend, built on first use (a vLLM engine is created once per run)."""
        if self._backend is None:
            self._backend = make_backend(self.resolved_backend_name(), **self.options())
        return self._backend

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


def llm_resource_from_env() -> LLMResource:
    """The resource as ``definitions.py`` builds it: JOBPIPELINE_LLM_* variables override the defaults,
    and the base URL / API key are read through ``dg.EnvVar`` (never stored in run config)."""
    settings: dict[str, Any] = {}
    if os.environ.get("JOBPIPELINE_LLM_BACKEND"):
        settings["backend"] = os.environ["JOBPIPELINE_LLM_BACKEND"]
    if os.environ.get("JOBPIPELINE_LLM_MODEL"):
        settings["model"] = os.environ["JOBPIPELINE_LLM_MODEL"]
    if os.environ.get("JOBPIPELINE_LLM_BASE_URL"):
        settings["base_url"] = dg.EnvVar("JOBPIPELINE_LLM_BASE_URL")
    if os.environ.get("JOBPIPELINE_LLM_API_KEY"):
        settings["api_key"] = dg.EnvVar("JOBPIPELINE_LLM_API_KEY")
    return LLMResource(**settings)
