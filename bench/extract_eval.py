"""Enrichment quality: every backend scored the same way, per field, on real postings.

    python bench/extract_eval.py --backend rules
    python bench/extract_eval.py --backend hybrid [--llm none|vllm|openai] [--model ...] [--base-url ...]
    python bench/extract_eval.py --backend vllm --model DIR
    python bench/extract_eval.py --backend openai --base-url http://host/v1 --model NAME

Gold sets (real text only; nothing here is written for the test):
- ``labelled``: 139 real Ashby postings of the shipped corpus (``data/replay/ashby``), hand-labelled
  in ``jobpipeline_tests/fixtures/enrich/hand_labelled_ashby.jsonl`` (salary the text states for the
  job's location, years of experience, seniority, skills on a subset), plus the real HN comments and
  Ashby descriptions of ``labelled.jsonl`` (hand-labelled from their text).
- ``api``: the structured fields an ATS API gives beside the text: Ashby compensation, ``isRemote``,
  ``workplaceType``, ``employmentType`` (shipped corpus); Lever ``workplaceType``/commitment (shipped);
  Recruitee ``salary``/``remote``/``hybrid``/``on_site``; Pinpoint ``compensation_*``/``workplace_type``;
  BambooHR ``locationType``/employment status; Personio schedule; SmartRecruiters remote flag and
  employment type (copies under ``fixtures/enrich/ats``, provenance in its SOURCES.md). An API value
  that fails the plausibility rule (Ashby's "$150 a year" intern) is not gold.

Per field: precision = right answers / answers given, recall = right answers / gold values, on the
examples where the field is labelled. Salary is scored per part (min, max, currency, period: exact)
and whole (all four right). ``false_pay`` = share of postings whose gold says "no pay stated" that
got a salary anyway. Prints one table per gold set; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FIXTURES = REPO / "jobpipeline_tests" / "fixtures" / "enrich"
REPLAY = REPO / "data" / "replay"
SALARY_PARTS = ("salary_min", "salary_max", "salary_currency", "salary_period")
FIELDS = (*SALARY_PARTS, "salary", "remote", "employment_type", "seniority", "years_experience_min", "skills")


@dataclass
class Example:
    """One real posting and what is known to be true about it (only the labelled fields)."""

    key: str
    title: str
    location: str
    description: str
    gold: dict = field(default_factory=dict)  # field → value, a tuple of acceptable values, or None


# --- gold loaders ---------------------------------------------------------------------------------


def _ashby_postings() -> dict[str, object]:
    """Every shipped Ashby posting, parsed by the pipeline's own adapter, by ``ashby/<file>#<id>``."""
    from jobpipeline.lib.boards import Board
    from jobpipeline.lib.sources import ashby
    from jobpipeline.lib.sources.base import parse_board

    out = {}
    for path in sorted((REPLAY / "ashby").glob("*.json")):
        board = Board("ashby", path.stem, path.stem)
        for posting in parse_board(ashby, [path.read_bytes()], board).postings:
            out[f"ashby/{path.name}#{posting.source_job_id}"] = posting
    return out


def _plausible_gold(low, high, currency, period) -> bool:
    from jobpipeline.lib.extract.salary import plausible

    return plausible(low, high, currency, period)


def _text_of(posting) -> tuple[str, str, str]:
    return posting.title, ", ".join(posting.locations), posting.description


def load_labelled() -> list[Example]:
    """The hand-labelled real postings: 139 Ashby postings of the shipped corpus plus real HN/Ashby texts."""
    postings = _ashby_postings()
    examples = []
    for line in (FIXTURES / "hand_labelled_ashby.jsonl").read_text().splitlines():
        row = json.loads(line)
        posting = postings[row["source"]]
        title, location, description = _text_of(posting)
        examples.append(Example(row["source"], title, location, description, dict(row["labels"])))
    for line in (FIXTURES / "labelled.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["origin"] not in ("hn", "ashby-description"):
            continue  # the others are fragments (titles, tier summaries) or hand-written, not postings
        gold = {k: v for k, v in row["expected"].items() if k in FIELDS}
        if "salary_min" in gold or "salary_max" in gold:
            for part in SALARY_PARTS:
                gold.setdefault(part, None)
        examples.append(Example(row["source"], row["title"], row["location"], row["description"], gold))
    return examples


def _salary_gold(low, high, currency, period) -> dict:
    if (low is None and high is None) or not _plausible_gold(low, high, currency, period):
        return {}
    return {"salary_min": low, "salary_max": high, "salary_currency": currency, "salary_period": period}


def _remote_gold(workplace_type: str | None, is_remote: bool | None) -> dict:
    if workplace_type in ("remote", "hybrid", "onsite"):
        return {"remote": workplace_type}
    if is_remote is True:
        return {"remote": ("remote", "hybrid")}  # Ashby's isRemote is true for hybrid jobs too
    if is_remote is False:
        return {"remote": ("onsite", "hybrid")}  # "not remote" says nothing about hybrid (Lindy: 4 days in office)
    return {}


def _strip_html(text: str) -> str:
    from jobpipeline.lib.text import html_to_text

    return html_to_text(text or "")


def load_api() -> list[Example]:
    """Postings whose ATS API states salary, workplace or employment type beside the text."""
    from jobpipeline.lib.boards import Board
    from jobpipeline.lib.extract.rules import employment_type_from_api
    from jobpipeline.lib.sources import lever
    from jobpipeline.lib.sources.base import parse_board

    examples: list[Example] = []
    for key, p in _ashby_postings().items():
        gold = {**_salary_gold(p.salary_min, p.salary_max, p.salary_currency, p.salary_period), **_remote_gold(p.workplace_type, p.remote)}
        if (kind := employment_type_from_api(p.employment_type)) is not None:
            gold["employment_type"] = kind
        examples.append(Example(key, *_text_of(p), gold))
    for path in sorted((REPLAY / "lever").glob("*.json")):
        for p in parse_board(lever, [path.read_bytes()], Board("lever", path.stem, path.stem)).postings:
            gold = {
                **_salary_gold(p.salary_min, p.salary_max, p.salary_currency, p.salary_period),
                **_remote_gold(p.workplace_type, p.remote),
            }
            if (kind := employment_type_from_api(p.employment_type)) is not None:
                gold["employment_type"] = kind
            examples.append(Example(f"lever/{path.name}#{p.source_job_id}", *_text_of(p), gold))

    ats = FIXTURES / "ats"
    recruitee_types = {
        "fulltime_permanent": "full_time",
        "fulltime": "full_time",
        "parttime": "part_time",
        "fulltime_fixed_term": "temporary",
        "internship": "internship",
        "freelance": "contract",
    }
    for offer in json.loads((ats / "recruitee" / "channable.json").read_text())["offers"]:
        s = offer.get("salary") or {}
        num = lambda v: float(v) if v not in (None, "") else None  # noqa: E731 - Recruitee sends strings
        mode = "remote" if offer.get("remote") else "hybrid" if offer.get("hybrid") else "onsite" if offer.get("on_site") else None
        gold = {**_salary_gold(num(s.get("min")), num(s.get("max")), s.get("currency"), s.get("period")), **_remote_gold(mode, None)}
        if (kind := recruitee_types.get(offer.get("employment_type_code") or "")) is not None:
            gold["employment_type"] = kind
        text = _strip_html((offer.get("description") or "") + (offer.get("requirements") or ""))
        examples.append(Example(f"recruitee/channable.json#{offer['id']}", offer["title"], offer.get("location") or "", text, gold))
    for job in json.loads((ats / "pinpoint" / "workwithus.json").read_text()):
        gold = {
            **_salary_gold(
                job.get("compensation_minimum"),
                job.get("compensation_maximum"),
                job.get("compensation_currency"),
                job.get("compensation_frequency"),
            ),
            **_remote_gold(job.get("workplace_type"), None),
        }
        if (kind := employment_type_from_api(job.get("employment_type"))) is not None:
            gold["employment_type"] = kind
        location = (job.get("location") or {}).get("name", "") if isinstance(job.get("location"), dict) else ""
        examples.append(
            Example(f"pinpoint/workwithus.json#{job['id']}", job["title"], location, _strip_html(job.get("description") or ""), gold)
        )
    bamboo_modes = {"0": "onsite", "1": "remote", "2": "hybrid"}
    for job in json.loads((ats / "bamboohr" / "holisticai.json").read_text())["result"]:
        detail = job.get("detail") or {}
        gold = _remote_gold(bamboo_modes.get(str(job.get("locationType"))), None)
        if (kind := employment_type_from_api(detail.get("employmentStatusLabel"))) is not None:
            gold["employment_type"] = kind
        examples.append(
            Example(f"bamboohr/holisticai.json#{job['id']}", job["jobOpeningName"], "", _strip_html(detail.get("description") or ""), gold)
        )
    for path in sorted((ats / "smartrecruiters").glob("*.json")):
        job = json.loads(path.read_text())
        loc = job.get("location") or {}
        mode = "remote" if loc.get("remote") else "hybrid" if loc.get("hybrid") else "onsite"
        gold = {**_remote_gold(mode, None)}
        if (kind := employment_type_from_api((job.get("typeOfEmployment") or {}).get("label"))) is not None:
            gold["employment_type"] = kind
        sections = (job.get("jobAd") or {}).get("sections") or {}
        text = _strip_html("".join((s or {}).get("text", "") for s in sections.values()))
        examples.append(Example(f"smartrecruiters/{path.name}", job["name"], loc.get("fullLocation", ""), text, gold))
    root = ET.parse(ats / "personio" / "personio-integration-test.xml").getroot()
    schedules = {"full-time": "full_time", "part-time": "part_time"}
    for pos in root.iter("position"):
        text = _strip_html("".join(html.unescape(v.text or "") for v in pos.iter("value")))
        gold = {}
        if (kind := schedules.get((pos.findtext("schedule") or "").strip())) is not None:
            gold["employment_type"] = kind
        examples.append(
            Example(
                f"personio/personio-integration-test.xml#{pos.findtext('id')}",
                pos.findtext("name") or "",
                pos.findtext("office") or "",
                text,
                gold,
            )
        )
    return [e for e in examples if e.gold]


# --- scoring ---------------------------------------------------------------------------------------


def _same(want, have) -> bool:
    if isinstance(want, tuple):
        return have in want
    if isinstance(want, (int, float)) and isinstance(have, (int, float)):
        return abs(have - want) <= max(1.0, 0.005 * abs(want))
    return want == have


@dataclass
class Tally:
    right: int = 0
    answered: int = 0  # non-null answers on examples where the field is labelled
    gold: int = 0  # non-null gold values

    def precision(self) -> float | None:
        return self.right / self.answered if self.answered else None

    def recall(self) -> float | None:
        return self.right / self.gold if self.gold else None


def _canon(name: str) -> str:
    from jobpipeline.lib.extract.skills import canonical_skill

    return (canonical_skill(name) or name).lower()


def score(examples: list[Example], answers: list[dict | None]) -> dict:
    """Per-field tallies, the false-pay rate and the misses (for reading), over one gold set."""
    tallies = {name: Tally() for name in FIELDS}
    pay_free = false_pay = 0
    misses: list[str] = []
    for ex, got in zip(examples, answers, strict=True):
        got = got or {}
        has_pay = got.get("salary_min") is not None or got.get("salary_max") is not None
        for name in FIELDS:
            if name == "salary":
                if "salary_min" not in ex.gold:
                    continue
                want_pay = ex.gold["salary_min"] is not None or ex.gold["salary_max"] is not None
                ok = want_pay and has_pay and all(_same(ex.gold[p], got.get(p)) for p in SALARY_PARTS)
                t = tallies[name]
                t.answered += has_pay
                t.gold += want_pay
                t.right += ok
                if not want_pay:
                    pay_free += 1
                    false_pay += has_pay
                if has_pay != want_pay or (has_pay and not ok):
                    misses.append(f"salary {ex.key}: want {[ex.gold[p] for p in SALARY_PARTS]} got {[got.get(p) for p in SALARY_PARTS]}")
                continue
            if name not in ex.gold:
                continue
            want, have = ex.gold[name], got.get(name)
            t = tallies[name]
            if name == "skills":
                wanted = {_canon(s) for s in want}
                found = {_canon(s) for s in (have or [])}
                t.gold += len(wanted)
                t.answered += len(found)
                t.right += len(wanted & found)
                continue
            t.answered += have is not None
            t.gold += want is not None
            ok = want is not None and have is not None and _same(want, have)
            t.right += ok
            if (want is not None or have is not None) and not ok:
                misses.append(f"{name} {ex.key}: want {want!r} got {have!r}")
    return {"tallies": tallies, "pay_free": pay_free, "false_pay": false_pay, "misses": misses}


def run_backend(backend, examples: list[Example], batch: int = 64) -> tuple[list[dict | None], float]:
    """Each example's fields as the backend answers them (validated like enrichment does), and seconds."""
    from jobpipeline.lib.extract.backends import PostingText
    from jobpipeline.lib.extract.enrich import extract_postings

    texts = [PostingText(str(i), e.title, e.location, e.description) for i, e in enumerate(examples)]
    started = time.perf_counter()
    answers: list[dict | None] = []
    for lo in range(0, len(texts), batch):
        for outcome in extract_postings(backend, texts[lo : lo + batch]):
            answers.append(outcome.fields.model_dump() if outcome.fields is not None else None)
    return answers, time.perf_counter() - started


def make_eval_backend(name: str, llm: str | None = None, **options):
    """The backend under test. ``hybrid`` with ``llm='none'`` has no model: its LLM fields stay empty
    (the rules half is what CI can score without a model)."""
    from jobpipeline.lib.extract.backends import HybridBackend, make_backend

    if name == "hybrid":
        inner = None if llm in (None, "none") else make_backend(llm, **options)
        return HybridBackend(inner)
    return make_backend(name, **options)


def evaluate(backend_name: str, llm: str | None = None, sets: tuple[str, ...] = ("labelled", "api"), **options) -> dict:
    """Scores one backend on the gold sets; the summary dict the CI gate and the JSON line read."""
    backend = make_eval_backend(backend_name, llm, **options)
    loaders = {"labelled": load_labelled, "api": load_api}
    sets = {name: loaders[name]() for name in sets}
    report: dict = {"backend": backend_name, "llm": llm if backend_name == "hybrid" else None, "sets": {}}
    try:
        for set_name, examples in sets.items():
            answers, seconds = run_backend(backend, examples)
            result = score(examples, answers)
            report["sets"][set_name] = {
                "examples": len(examples),
                "seconds": round(seconds, 3),
                "fields": {
                    n: {"precision": t.precision(), "recall": t.recall(), "answered": t.answered, "gold": t.gold, "right": t.right}
                    for n, t in result["tallies"].items()
                    if t.answered or t.gold
                },
                "pay_free": result["pay_free"],
                "false_pay": result["false_pay"],
                "false_pay_rate": result["false_pay"] / result["pay_free"] if result["pay_free"] else None,
                "misses": result["misses"],
            }
    finally:
        backend.close()
    return report


def _fmt(x: float | None) -> str:
    return "    -" if x is None else f"{x:5.3f}"


def print_report(report: dict, show_misses: bool = False) -> None:
    for set_name, s in report["sets"].items():
        label = report["backend"] + (f" (llm={report['llm']})" if report["llm"] else "")
        print(f"\n{label} on '{set_name}': {s['examples']} real postings, {s['seconds']:.2f}s")
        print(f"  {'field':22s} {'precision':>9s} {'recall':>7s} {'right':>6s} {'answers':>8s} {'gold':>5s}")
        for name, f in s["fields"].items():
            print(f"  {name:22s} {_fmt(f['precision']):>9s} {_fmt(f['recall']):>7s} {f['right']:6d} {f['answered']:8d} {f['gold']:5d}")
        if s["pay_free"]:
            print(f"  false pay: {s['false_pay']}/{s['pay_free']} pay-free postings = {s['false_pay_rate']:.1%}")
        if show_misses:
            for miss in s["misses"]:
                print("   miss:", miss[:240])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("rules", "hybrid", "vllm", "openai"), default="rules")
    parser.add_argument(
        "--llm",
        choices=("none", "vllm", "openai"),
        default=None,
        help="hybrid's model half (default: openai when --base-url is given, else vllm)",
    )
    parser.add_argument("--model")
    parser.add_argument("--base-url")
    parser.add_argument("--sets", default="labelled,api", help="gold sets to score (a model on CPU: labelled only)")
    parser.add_argument("--max-model-len", type=int, help="vLLM context (CPU: 2048)")
    parser.add_argument("--max-tokens", type=int, help="answer budget per posting")
    parser.add_argument("--description-tokens", type=int, help="description budget per posting (CPU: 256)")
    parser.add_argument("--gpu-memory-utilization", type=float)
    parser.add_argument("--misses", action="store_true", help="print every wrong or missing answer")
    args = parser.parse_args()
    llm = args.llm or ("openai" if args.base_url else "vllm")
    report = evaluate(
        args.backend,
        llm,
        tuple(args.sets.split(",")),
        model=args.model,
        base_url=args.base_url,
        max_model_len=args.max_model_len,
        max_tokens=args.max_tokens,
        max_description_tokens=args.description_tokens,
        gpu_memory_utilization=args.gpu_memory_utilization,
    )
    print_report(report, args.misses)
    summary = {"backend": args.backend, "llm": report["llm"], "load_avg_1m": round(os.getloadavg()[0], 2)}
    for set_name, s in report["sets"].items():
        for name, f in s["fields"].items():
            summary[f"{set_name}.{name}.precision"] = None if f["precision"] is None else round(f["precision"], 4)
            summary[f"{set_name}.{name}.recall"] = None if f["recall"] is None else round(f["recall"], 4)
        summary[f"{set_name}.false_pay_rate"] = None if s["false_pay_rate"] is None else round(s["false_pay_rate"], 4)
    print(json.dumps(summary))


if __name__ == "__main__":  # vLLM starts its workers with spawn
    main()
