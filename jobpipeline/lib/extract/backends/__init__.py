"""Extraction backends: one interface (``base.Backend``), four implementations.

- ``RulesBackend`` (``base``): the deterministic rules extractor, no model;
- ``VllmBackend`` (``vllm_backend``): vLLM in-process, batched (imported only when asked for: it
  needs the ``vllm`` package);
- ``OpenAIBackend`` (``openai_backend``): any OpenAI-compatible server over HTTP;
- ``HybridBackend`` (``hybrid``): the rules' fields plus a model's prose.
"""

from __future__ import annotations

from typing import Any

from jobpipeline.lib.extract.backends.base import Backend, Generation, PostingText, RulesBackend, validate_generation
from jobpipeline.lib.extract.backends.hybrid import HybridBackend

__all__ = ["Backend", "Generation", "HybridBackend", "PostingText", "RulesBackend", "make_backend", "validate_generation"]


def make_backend(name: str, **options: Any) -> Backend:
    """A backend by name: rules, vllm, openai or hybrid (hybrid = rules + vllm, or + openai with base_url).

    Options set to None mean "the backend's default"."""
    options = {k: v for k, v in options.items() if v is not None}
    if name == "rules":
        return RulesBackend()
    if name == "vllm":
        from jobpipeline.lib.extract.backends.vllm_backend import VllmBackend, VllmConfig

        return VllmBackend(VllmConfig(**{k: v for k, v in options.items() if k in VllmConfig.__dataclass_fields__}))
    if name == "openai":
        from jobpipeline.lib.extract.backends.openai_backend import OpenAIBackend, OpenAIConfig

        return OpenAIBackend(OpenAIConfig(**{k: v for k, v in options.items() if k in OpenAIConfig.__dataclass_fields__}))
    if name == "hybrid":
        inner = "openai" if options.get("base_url") else "vllm"
        return HybridBackend(make_backend(inner, **options))
    raise ValueError(f"unknown backend {name!r}: expected rules, vllm, openai or hybrid")
