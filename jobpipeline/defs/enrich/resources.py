"""The LLM as a Dagster resource: one backend (rules, vllm, openai, hybrid) per run.

Swapped, not patched: tests and CPU machines pick ``rules`` or the vllm backend on the SmolLM2
folder; production keeps the defaults (``Qwen/Qwen3-4B-Instruct-2507-FP8``, FP8, 8K, 90 %).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from jobpipeline import settings
from jobpipeline.lib.extract.backends import Backend, make_backend
from jobpipeline.lib.extract.backends.vllm_backend import DEFAULT_MODEL

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"


def default_backend() -> str:
    """``vllm`` where vLLM is installed and a CUDA GPU is present, else ``rules`` (works on any machine)."""
    if importlib.util.find_spec("vllm") is None:
        return "rules"
    import torch

    return "vllm" if torch.cuda.is_available() else "rules"


class LLMResource(dg.ConfigurableResource):
    """Which extractor ``enriched_jobs`` runs, and the vLLM / OpenAI settings it runs with.

    ``backend``, ``model``, ``base_url`` and ``api_key`` left unset take ``JOBPIPELINE_LLM_*`` from
    ``jobpipeline.settings`` when the backend is built (run time), else the defaults below; the API key
    so never sits in run config or the definitions."""

    backend: str | None = Field(
        default=None,
        description="rules | vllm | openai | hybrid | auto (vllm on a CUDA GPU, else rules); default: JOBPIPELINE_LLM_BACKEND, else auto",
    )
    model: str | None = Field(default=None, description=f"model id or local folder (default: JOBPIPELINE_LLM_MODEL, else {DEFAULT_MODEL})")
    quantization: str = Field(default="auto", description="auto = FP8 on a CUDA GPU that supports it, none on CPU")
    max_model_len: int = 8192
    gpu_memory_utilization: float = Field(default=0.9, description="GPU memory share; on CPU the RAM share (≤ 0.5)")
    dtype: str = "auto"
    max_tokens: int = 512
    max_description_tokens: int | None = None
    base_url: str | None = Field(
        default=None, description=f"OpenAI-compatible server (openai backend; default: JOBPIPELINE_LLM_BASE_URL, else {DEFAULT_BASE_URL})"
    )
    api_key: str | None = Field(
        default=None, description="API key of that server (default: JOBPIPELINE_LLM_API_KEY; in code, give it as dg.EnvVar)"
    )
    concurrency: int = 16

    _backend: Backend | None = PrivateAttr(default=None)

    def resolved_backend_name(self) -> str:
        name = self.backend or settings.current().llm_backend or "auto"
        return default_backend() if name == "auto" else name

    def resolved_model(self) -> str:
        return self.model or settings.current().llm_model or DEFAULT_MODEL

    def options(self) -> dict[str, Any]:
        env = settings.current()
        openai = {
            "base_url": self.base_url or env.llm_base_url or DEFAULT_BASE_URL,
            "api_key": self.api_key or (env.llm_api_key.get_secret_value() if env.llm_api_key else ""),
        }
        return {
            "model": self.resolved_model(),
            "quantization": self.quantization,
            "max_model_len": self.max_model_len,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "dtype": self.dtype,
            "max_tokens": self.max_tokens,
            "max_description_tokens": self.max_description_tokens,
            "concurrency": self.concurrency,
            **(openai if (self.backend or env.llm_backend) == "openai" else {}),
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
