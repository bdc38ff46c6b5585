"""Enrichment benchmark: batched offline vLLM vs one request at a time, and the rules extractor.

Same 64 real Ashby postings (``jobpipeline_tests/fixtures/enrich/ashby_64.jsonl``) for every line:
1. vLLM (CPU build) on SmolLM2-135M-Instruct: one engine, prefix caching on, whitespace-free JSON;
   ``batched`` sends all 64 in one ``LLM.chat``; ``sequential`` sends them one at a time through the
   same engine (so both reuse the cached system prefix). Jobs/s of each and the ratio.
2. The rules extractor over the same postings (repeated), jobs/s on one core.
3. With ``--compare-with DIR`` (another checkout, e.g. ``git archive main | tar -x -C /tmp/main``):
   that checkout's ``extract_rules`` and this one's in one process, interleaved round by round,
   outputs asserted equal. On a shared machine separate runs scatter ±10 %; interleaving does not.
   (Code before the keyword scan moved to ahocorasick_rs needs ``pip install pyahocorasick``.)

    python bench/enrich.py [--model DIR] [--description-tokens 256] [--skip-vllm] [--compare-with DIR]

Prints a table; the last line is one JSON object. On a machine other sessions share, CPU seconds
of this process are printed beside wall seconds (vLLM's engine runs in child processes, so for it
only wall time is meaningful).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

POSTINGS = REPO / "jobpipeline_tests" / "fixtures" / "enrich" / "ashby_64.jsonl"


def load_postings():
    from jobpipeline.lib.extract.backends import PostingText

    rows = [json.loads(line) for line in POSTINGS.read_text().splitlines() if line.strip()]
    return [PostingText(str(i), r["title"], r["location"], r["description"]) for i, r in enumerate(rows)]


def bench_rules(postings, repeat: int) -> dict:
    from jobpipeline.lib.extract.rules import extract_rules

    items = [(p.title, p.location, p.description) for p in postings] * repeat
    extract_rules(*items[0])
    wall, cpu = time.perf_counter(), time.process_time()
    for item in items:
        extract_rules(*item)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"jobs": len(items), "wall_s": wall, "cpu_s": cpu, "jobs_per_s": len(items) / wall, "jobs_per_cpu_s": len(items) / cpu}


def load_other_rules(checkout: Path):
    """``extract_rules`` of another checkout, importable beside this one: its ``lib/extract`` is
    copied as the package ``other_extract`` (its absolute imports rewritten to that name)."""
    import importlib
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="bench-enrich-"))
    shutil.copytree(checkout / "jobpipeline" / "lib" / "extract", root / "other_extract")
    for module in (root / "other_extract").glob("*.py"):
        module.write_text(module.read_text().replace("jobpipeline.lib.extract", "other_extract"))
    sys.path.insert(0, str(root))
    return importlib.import_module("other_extract.rules").extract_rules


def compare_rules(postings, other_checkout: Path, rounds: int) -> dict:
    """This checkout's and another's ``extract_rules``, interleaved (the order flips every round)."""
    from jobpipeline.lib.extract.rules import extract_rules

    other = load_other_rules(other_checkout)
    items = [(p.title, p.location, p.description) for p in postings]
    for item in items:
        if other(*item).model_dump() != extract_rules(*item).model_dump():
            raise SystemExit(f"outputs differ on {item[0]!r}: {other(*item)} != {extract_rules(*item)}")
    cpu = {"this": 0.0, "other": 0.0}
    for r in range(rounds):
        for name, fn in (("this", extract_rules), ("other", other))[:: 1 if r % 2 else -1]:
            started = time.process_time()
            for item in items:
                fn(*item)
            cpu[name] += time.process_time() - started
    jobs = rounds * len(items)
    return {
        "jobs": jobs,
        "this_jobs_per_cpu_s": jobs / cpu["this"],
        "other_jobs_per_cpu_s": jobs / cpu["other"],
        "ratio": cpu["other"] / cpu["this"],
    }


def bench_vllm(postings, model: str, description_tokens: int, max_tokens: int) -> dict:
    from jobpipeline.lib.extract.backends import validate_generation
    from jobpipeline.lib.extract.backends.vllm_backend import VllmBackend, VllmConfig
    from jobpipeline.lib.extract.prompt import build_messages

    backend = VllmBackend(
        VllmConfig(
            model=model, max_model_len=2048, gpu_memory_utilization=0.3, max_tokens=max_tokens, max_description_tokens=description_tokens
        )
    )
    started = time.perf_counter()
    backend.llm  # noqa: B018 - engine start is not part of either timing
    load_s = time.perf_counter() - started
    tok = backend._tokenizer
    raw_tokens = sum(len(tok.encode(p.description)) for p in postings)
    cut_tokens = sum(len(tok.encode(build_messages(p.title, p.location, p.description)[1]["content"])) for p in postings)
    backend.generate(postings[:1])  # warm-up: caches the shared system prefix for both runs

    t = time.perf_counter()
    batched = backend.generate(postings)
    batched_s = time.perf_counter() - t
    print(f"batched: {batched_s:.1f}s", file=sys.stderr, flush=True)
    t = time.perf_counter()
    sequential = [backend.generate([p])[0] for p in postings]
    sequential_s = time.perf_counter() - t
    backend.close()

    def stats(gens, seconds):
        return {
            "seconds": seconds,
            "jobs_per_s": len(gens) / seconds,
            "valid": sum(validate_generation(g)[0] is not None for g in gens),
            "prompt_tokens": sum(g.prompt_tokens for g in gens),
            "completion_tokens": sum(g.completion_tokens for g in gens),
        }

    return {
        "engine_start_s": load_s,
        "description_tokens_raw": raw_tokens / len(postings),
        "user_message_tokens_after_cut": cut_tokens / len(postings),  # before truncation
        "batched": stats(batched, batched_s),
        "sequential": stats(sequential, sequential_s),
    }


def main() -> None:
    from jobpipeline.lib.extract.model_prep import default_model_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(default_model_dir()))
    parser.add_argument("--description-tokens", type=int, default=256)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--rules-repeat", type=int, default=20)
    parser.add_argument("--skip-vllm", action="store_true")
    parser.add_argument("--compare-with", type=Path, help="another checkout: its extract_rules interleaved with this one's")
    parser.add_argument("--compare-rounds", type=int, default=30)
    args = parser.parse_args()

    postings = load_postings()
    rules = bench_rules(postings, args.rules_repeat)
    result: dict = {
        "postings": len(postings),
        "rules_jobs_per_s": round(rules["jobs_per_s"], 1),
        "rules_jobs_per_cpu_s": round(rules["jobs_per_cpu_s"], 1),
        "load_avg_1m": os.getloadavg()[0],
    }
    print(f"{'what':40s} {'jobs':>6s} {'seconds':>9s} {'jobs/s':>9s} {'valid':>6s} {'prompt tok':>11s} {'output tok':>11s}")
    print(
        f"{'rules extractor (1 core)':40s} {rules['jobs']:6d} {rules['wall_s']:9.2f} {rules['jobs_per_s']:9.1f} {'':>6s} {'':>11s} {'':>11s}"
    )
    print(f"{'rules extractor, jobs per CPU-second':40s} {rules['jobs']:6d} {rules['cpu_s']:9.2f} {rules['jobs_per_cpu_s']:9.1f}")
    if args.compare_with:
        c = compare_rules(postings, args.compare_with, args.compare_rounds)
        print(f"{'interleaved: this checkout (CPU)':40s} {c['jobs']:6d} {'':9s} {c['this_jobs_per_cpu_s']:9.1f}")
        print(f"{'interleaved: ' + str(args.compare_with)[-27:] + ' (CPU)':40s} {c['jobs']:6d} {'':9s} {c['other_jobs_per_cpu_s']:9.1f}")
        print(f"this / other: {c['ratio']:.2f}x (outputs equal on all {len(postings)} postings)")
        result.update(
            {
                "compare_this_jobs_per_cpu_s": round(c["this_jobs_per_cpu_s"], 1),
                "compare_other_jobs_per_cpu_s": round(c["other_jobs_per_cpu_s"], 1),
                "compare_ratio": round(c["ratio"], 3),
            }
        )
    if not args.skip_vllm:
        v = bench_vllm(postings, args.model, args.description_tokens, args.max_tokens)
        for name in ("batched", "sequential"):
            s = v[name]
            label = f"vLLM CPU SmolLM2, {name}"
            print(
                f"{label:40s} {len(postings):6d} {s['seconds']:9.2f} {s['jobs_per_s']:9.2f} {s['valid']:6d} {s['prompt_tokens']:11d} {s['completion_tokens']:11d}"
            )
        ratio = v["batched"]["jobs_per_s"] / v["sequential"]["jobs_per_s"]
        print(
            f"batched / sequential: {ratio:.2f}x   engine start {v['engine_start_s']:.0f}s   "
            f"description tokens/job: raw {v['description_tokens_raw']:.0f}, after boilerplate cut {v['user_message_tokens_after_cut']:.0f}, "
            f"then truncated to ≤ {args.description_tokens}"
        )
        result.update(
            {
                "vllm_batched_jobs_per_s": round(v["batched"]["jobs_per_s"], 3),
                "vllm_sequential_jobs_per_s": round(v["sequential"]["jobs_per_s"], 3),
                "batched_over_sequential": round(ratio, 2),
                "vllm_batched_s": round(v["batched"]["seconds"], 1),
                "vllm_sequential_s": round(v["sequential"]["seconds"], 1),
                "valid_batched": v["batched"]["valid"],
                "valid_sequential": v["sequential"]["valid"],
                "prompt_tokens_per_job": round(v["batched"]["prompt_tokens"] / len(postings), 1),
                "output_tokens_per_job": round(v["batched"]["completion_tokens"] / len(postings), 1),
            }
        )
    print(json.dumps(result))


if __name__ == "__main__":  # vLLM starts its workers with spawn
    main()
