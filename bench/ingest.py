"""Ingest benchmark: dedupe + hash + sync of N synthetic postings into SQLite, cold and re-sync.

Synthetic postings are real Ashby postings from the shipped replay corpus reused under new ids,
companies and titles (5 % of them repeated under a second location, to exercise dedup). Each size
runs in a fresh subprocess so peak RSS is that size's own. The naive baseline (one SQLModel
``session.merge`` per posting, commit per 50) runs on the first 5,000 postings of each size.

    python bench/ingest.py --postings 10000 100000

Prints a table; the last line is one JSON object with the figures of the largest size.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, timedelta
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jobpipeline.lib.boards import Board  # noqa: E402
from jobpipeline.lib.postings import Posting, postings_frame  # noqa: E402
from jobpipeline.lib.sources import ashby, parse_board  # noqa: E402
from jobpipeline.lib.text import html_to_text  # noqa: E402

NAIVE_SAMPLE = 5_000
DAY = date(2026, 11, 2)


CORPUS = REPO / "data" / "replay"


def templates() -> list[Posting]:
    found: list[Posting] = []
    for path in sorted((CORPUS / "ashby").glob("*.json")):
        found.extend(parse_board(ashby, [path.read_bytes()], Board("ashby", path.stem, path.stem)).postings)
    if not found:
        raise SystemExit("no Ashby recordings under data/replay/ashby: run `jobpipeline replay build-corpus` first")
    return found


def synthetic(n: int, seed: int = 7) -> pl.DataFrame:
    rng = random.Random(seed)
    base = templates()
    rows = []
    for i in range(n):
        t = base[i % len(base)]
        board = f"company{i % 2000:04d}"
        rows.append(
            Posting(
                source="ashby",
                board=board,
                source_job_id=f"syn-{i}",
                company=f"Company {i % 2000}",
                title=f"{t.title} {i // len(base)}",
                locations=t.locations[:1] or ["Remote"],
                remote=t.remote,
                workplace_type=t.workplace_type,
                description=t.description,
                department=t.department,
                employment_type=t.employment_type,
                posted_at=t.posted_at,
                salary_min=t.salary_min,
                salary_max=t.salary_max,
                salary_currency=t.salary_currency,
                salary_period=t.salary_period,
                salary_text=t.salary_text,
                apply_url=t.apply_url,
            )
        )
        if rng.random() < 0.05:  # the same job listed once more under another location
            rows.append(Posting(**{**rows[-1].as_row(), "source_job_id": f"syn-{i}-b", "locations": ["Berlin, Germany"]}))
    return postings_frame(rows)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(parquet: Path) -> dict:
    """One size, in this process: cold sync, unchanged re-sync (next day), naive baseline.

    The postings are read from Parquet, as the ``jobs`` asset reads a raw partition, so peak RSS is
    the sync's own and not the generator's."""
    from jobpipeline.lib.postings import BoardOutcome
    from jobpipeline.lib.store import create_schema, get_engine
    from jobpipeline.lib.sync import sync_postings

    frame = pl.read_parquet(parquet)
    scope = [BoardOutcome(source=source, board=board, ok=True) for source, board in frame.select("source", "board").unique().rows()]
    with tempfile.TemporaryDirectory() as tmp:
        engine = get_engine(f"sqlite:///{tmp}/bench.db")
        create_schema(engine)
        t0 = time.perf_counter()
        cold = sync_postings(engine, frame, seen_on=DAY, outcomes=scope)
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = sync_postings(engine, frame, seen_on=DAY + timedelta(days=1), outcomes=scope)
        resync_s = time.perf_counter() - t0
        rss = peak_rss_mb()
        assert cold.new == again.unchanged and again.new == again.changed == 0, (cold, again)
        sample = frame.head(NAIVE_SAMPLE)
        naive_s = naive_sync(f"sqlite:///{tmp}/naive.db", sample)
        t0 = time.perf_counter()
        engine2 = get_engine(f"sqlite:///{tmp}/fast.db")
        create_schema(engine2)
        sample_scope = [
            BoardOutcome(source=source, board=board, ok=True) for source, board in sample.select("source", "board").unique().rows()
        ]
        sync_postings(engine2, sample, seen_on=DAY, outcomes=sample_scope)
        fast_sample_s = time.perf_counter() - t0
    return {
        "postings": frame.height,
        "jobs": cold.jobs,
        "cold_s": cold_s,
        "ingest_per_s": frame.height / cold_s,
        "resync_s": resync_s,
        "peak_rss_mb": rss,
        "naive_per_s": sample.height / naive_s,
        "naive_ratio": naive_s / fast_sample_s,
    }


def naive_sync(url: str, frame: pl.DataFrame) -> float:
    """The obvious ORM version: look each posting up, merge it, commit every 50."""
    from sqlmodel import Session, select

    from jobpipeline.lib.normalize import content_hashes, dedup_keys
    from jobpipeline.lib.store import Job, create_schema, get_engine

    engine = get_engine(url)
    create_schema(engine)
    t0 = time.perf_counter()
    keys, hashes = dedup_keys(frame), content_hashes(frame)
    with Session(engine) as session:
        for i, (row, key, h) in enumerate(zip(frame.iter_rows(named=True), keys, hashes)):
            job = session.exec(select(Job).where(Job.dedup_key == key)).first()
            if job is None:
                job = Job(
                    dedup_key=key, content_hash=h, first_seen=DAY, last_seen=DAY, content_seen=DAY, updated_at=DAY, synced_at=_now(), **row
                )
            else:
                job.locations = sorted(set(job.locations) | set(row["locations"]))
                job.last_seen = DAY
            session.add(job)
            if i % 50 == 49:
                session.commit()
        session.commit()
    return time.perf_counter() - t0


def _now():
    from datetime import datetime

    return datetime.now(UTC)


def html_rate() -> float:
    bodies = [json.loads(p.read_bytes()) for p in sorted((CORPUS / "ashby").glob("*.json"))]
    docs = [j.get("descriptionHtml") or "" for b in bodies for j in b.get("jobs", [])]
    t0 = time.perf_counter()
    for doc in docs:
        html_to_text(doc)
    return len(docs) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="replay corpus whose ashby/ postings are the templates")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # child mode: measure one Parquet file
    args = parser.parse_args()
    globals()["CORPUS"] = args.corpus
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.postings:
            parquet = Path(tmp) / f"postings-{n}.parquet"
            synthetic(n).write_parquet(parquet)
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(parquet), "--corpus", str(args.corpus)], check=True, capture_output=True, text=True
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    rate = html_rate()
    print(f"{'postings':>9} {'jobs':>8} {'cold s':>7} {'ingest/s':>9} {'resync s':>9} {'peak RSS MB':>12} {'naive/s':>8} {'naive ×':>8}")
    for r in results:
        print(
            f"{r['postings']:>9} {r['jobs']:>8} {r['cold_s']:>7.2f} {r['ingest_per_s']:>9.0f} {r['resync_s']:>9.2f} "
            f"{r['peak_rss_mb']:>12.0f} {r['naive_per_s']:>8.0f} {r['naive_ratio']:>8.1f}"
        )
    print(f"html_to_text on real Ashby descriptionHtml: {rate:.0f} docs/s (done at scrape time, not in the sync)")
    last = results[-1]
    print(
        json.dumps(
            {
                "postings": last["postings"],
                "ingest_per_s": round(last["ingest_per_s"]),
                "resync_s": round(last["resync_s"], 3),
                "peak_rss_mb": round(last["peak_rss_mb"]),
                "naive_ratio": round(last["naive_ratio"], 1),
                "html_docs_per_s": round(rate),
            }
        )
    )


if __name__ == "__main__":
    main()
