"""``jobpipeline extract``: postings as JSON lines on stdin → one JSON object of fields per line.

    echo '{"title": "Senior Python Engineer", "location": "Remote (US)", "description": "$150k-$180k"}' \\
        | jobpipeline extract --backend rules

Exactly one output line per input line, in order: the fields, or ``{"line": N, "error": "..."}``
for a line that is not a JSON object of strings (or not UTF-8) or whose extraction failed; the
exit code is 1 when any line failed. The OpenAI-compatible backend's API key comes from the
environment (``JOBPIPELINE_LLM_API_KEY``), never the command line, where ``ps`` shows it.

Also ``jobpipeline prepare-model``: builds the SmolLM2 CPU test model folder for the vllm backend.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from jobpipeline.cli.errors import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("extract", help="extract structured fields from postings (JSON lines on stdin)")
    p.add_argument("--backend", choices=("rules", "vllm", "openai", "hybrid"), default="rules")
    p.add_argument("--model", default=None, help="model id or local folder (vllm/openai); default: the production model")
    p.add_argument(
        "--base-url",
        default=None,
        help="OpenAI-compatible server (openai; hybrid uses it when given); default: JOBPIPELINE_LLM_BASE_URL, else http://127.0.0.1:8000/v1",
    )
    # Refused with a clear message: a key on the command line is visible to every user in `ps`.
    p.add_argument("--api-key", default=None, help=argparse.SUPPRESS)
    p.add_argument("--quantization", default="auto", help="auto (FP8 on a CUDA GPU that has it), fp8, none")
    p.add_argument("--max-model-len", type=int, default=8192)
    p.add_argument("--gpu-memory-utilization", type=float, default=0.9, help="on CPU: share of RAM (≤ 0.5)")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--max-tokens", type=int, default=512)
    p.add_argument("--max-description-tokens", type=int, default=None)
    p.set_defaults(func=run_extract)

    prep = subparsers.add_parser("prepare-model", help="build the SmolLM2-135M CPU test model folder for vLLM")
    prep.add_argument("--out", default=None, help="default: $JOBPIPELINE_HOME/models/smollm2-135m-instruct")
    prep.add_argument("--force", action="store_true")
    prep.set_defaults(func=run_prepare_model)


TEXT_FIELDS = ("title", "location", "description")


def read_postings(stream: Any) -> list[dict | str]:
    """Each input line (bytes) as a posting of clean text fields, or the error that line gets instead."""
    from jobpipeline.lib.text import clean_text

    read: list[dict | str] = []
    for number, raw in enumerate(stream, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            read.append(f"line {number}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})")
            continue
        if not line.strip():
            read.append(f"line {number}: empty (expected a JSON object with title, location, description)")
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            read.append(f"line {number}: not JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(item, dict):
            read.append(f"line {number}: expected a JSON object with title, location, description")
            continue
        wrong = [k for k in TEXT_FIELDS if item.get(k) is not None and not isinstance(item[k], str)]
        if wrong:
            read.append(f"line {number}: {', '.join(wrong)}: expected a string")
            continue
        # The one sanitizer: markup, controls and lone surrogates (JSON's "\\ud800") out before any model.
        read.append({k: clean_text(item.get(k)) for k in TEXT_FIELDS})
    return read


def run_extract(args: argparse.Namespace) -> int:
    from jobpipeline.lib.extract.backends import PostingText, make_backend
    from jobpipeline.lib.extract.backends.vllm_backend import QuantizationError
    from jobpipeline.lib.extract.enrich import extract_postings

    if args.api_key is not None:
        raise CommandError("--api-key is not accepted (any user sees it in `ps`): set JOBPIPELINE_LLM_API_KEY instead")
    read = read_postings(sys.stdin.buffer)
    postings = [p for p in read if isinstance(p, dict)]
    options: dict[str, Any] = {
        "quantization": args.quantization,
        "max_model_len": args.max_model_len,
        "gpu_memory_utilization": args.gpu_memory_utilization,
        "dtype": args.dtype,
        "max_tokens": args.max_tokens,
        "max_description_tokens": args.max_description_tokens,
    }
    if args.model:
        options["model"] = args.model
    if args.backend == "openai" or (args.backend == "hybrid" and args.base_url is not None):
        from jobpipeline import settings
        from jobpipeline.defs.enrich.resources import DEFAULT_BASE_URL

        env = settings.current()
        base_url = args.base_url or env.llm_base_url or DEFAULT_BASE_URL
        options.update(base_url=base_url, api_key=env.llm_api_key.get_secret_value() if env.llm_api_key else "")
    try:
        backend = make_backend(args.backend, **options)
    except ModuleNotFoundError as exc:
        raise CommandError(f"backend {args.backend} needs {exc.name}: bash jobpipeline_tests/install_cpu_vllm.sh") from exc
    texts = [PostingText(str(i), p["title"], p["location"], p["description"]) for i, p in enumerate(postings)]
    try:
        outcomes = extract_postings(backend, texts) if texts else []
    except QuantizationError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        backend.close()
    extracted = iter(outcomes)
    failed = 0
    for number, posting in enumerate(read, 1):
        if isinstance(posting, str):
            record: dict[str, Any] = {"line": number, "error": posting}
        else:
            outcome = next(extracted)
            if outcome.fields is None:
                record = {"line": number, "error": outcome.error}
            else:
                record = outcome.fields.model_dump()
        failed += "error" in record
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 1 if failed else 0


def run_prepare_model(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jobpipeline.lib.extract.model_prep import prepare_model

    try:
        print(prepare_model(Path(args.out) if args.out else None, force=args.force))
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from exc
    return 0
