"""Ingest benchmark: dedupe + hash + sync of N synthetic postings into SQLite, cold and re-sync,
and the same postings through the seed project's approach (``bench/peer.py``) for a ratio.

How the postings are made: every field but the description is copied from a real Ashby posting of
the shipped replay corpus (``data/replay/ashby``), under a new id, company and numbered title; 5 %
of postings are listed once more under a second location, to exercise dedup. Each description is
unique and built from real text only: a first line naming the posting's own title, company and id,
then real paragraphs (lines) of the corpus's descriptions drawn at random, as many as make the
length of a real description drawn at random (so the length distribution is the corpus's: ~3 KB
mean). No text is invented; the recombination is synthetic. Postings are written to Parquet in
parts of ``PART_ROWS`` rows, so the generator never holds a large size in memory.

Each size is written as one raw partition (``RawPartition.write``, as a scrape writes it) and
synced from disk as the ``jobs`` asset does (``sync_raw_partition``, which reads the partition
itself: lazily since 2026-12-02 10:00, whole before): cold in a fresh subprocess, then again as
the next day's partition (the same files) in another fresh subprocess, as a deployment runs each
partition's sync in a step process of its own (until 2026-12-03 the re-sync ran in the cold
sync's process, and its peak counted what the cold sync's allocators still held). Peak RSS is
reported two ways: the process peak during each sync (``/proc/self/status`` VmHWM, reset just
before it through ``/proc/self/clear_refs``), and the sync alone: the higher of the two syncs'
peaks minus the RSS of its process just before it started (the imports; the partition's read is
part of the sync). The peer runs on the
first ``--peer-sample`` postings (10,000 by default; 0 for all), and ours runs again on exactly
those, each into a fresh store, so the ratio compares per-posting rates on the same postings.

    python bench/ingest.py --postings 10000 100000
    python bench/ingest.py --postings 1000000 --peer-sample 20000   # minutes; ~3 GB of text
    python bench/ingest.py --postings 100000 --slice-jobs 0       # JOBPIPELINE_SYNC_SLICE_JOBS for the syncs

Prints a table; the last line is one JSON object with the figures of the largest size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer import print_comparison  # noqa: E402

from jobpipeline.lib.boards import Board  # noqa: E402
from jobpipeline.lib.postings import POSTING_SCHEMA, Posting  # noqa: E402
from jobpipeline.lib.sources import ashby, parse_board  # noqa: E402
from jobpipeline.lib.text import html_to_text  # noqa: E402

PEER_SAMPLE = 10_000
PART_ROWS = 50_000
DAY = date(2026, 11, 2)
DAYS = [DAY.isoformat(), (DAY + timedelta(days=1)).isoformat()]  # the cold sync's, the re-sync's
SECOND_LOCATION_SHARE = 0.05


CORPUS = REPO / "data" / "replay"


def templates() -> list[Posting]:
    found: list[Posting] = []
    for path in sorted((CORPUS / "ashby").glob("*.json")):
        found.extend(parse_board(ashby, [path.read_bytes()], Board("ashby", path.stem, path.stem)).postings)
    if not found:
        raise SystemExit("no Ashby recordings under data/replay/ashby: run `jobpipeline replay build-corpus` first")
    return found


class DescriptionMaker:
    """Unique descriptions from real text: a real length drawn at random, filled with real
    paragraphs drawn at random, after a first line that names the posting itself."""

    def __init__(self, base: list[Posting], rng: random.Random) -> None:
        self.rng = rng
        self.lengths = [len(p.description) for p in base if p.description]
        self.paragraphs = sorted({line for p in base for line in p.description.split("\n") if line.strip()})
        if not self.paragraphs:
            raise SystemExit("the Ashby templates have no description text")
        self.mean_paragraph = sum(map(len, self.paragraphs)) / len(self.paragraphs)

    def __call__(self, title: str, company: str, posting_id: str) -> str:
        target = self.rng.choice(self.lengths)
        drawn = self.rng.choices(self.paragraphs, k=max(1, round(target / self.mean_paragraph)))
        return "\n".join([f"{title} at {company} (posting {posting_id})", *drawn])


def synthetic_parts(n: int, seed: int = 7, part_rows: int = PART_ROWS):
    """The ``n`` synthetic postings (plus their 5 % second listings) as frames of about ``part_rows`` rows."""
    rng = random.Random(seed)
    base = templates()
    describe = DescriptionMaker(base, rng)
    columns: dict[str, list] = {name: [] for name in POSTING_SCHEMA}
    for i in range(n):
        t = base[i % len(base)]
        row = t.as_row() | {
            "board": f"company{i % 2000:04d}",
            "source_job_id": f"syn-{i}",
            "company": f"Company {i % 2000}",
            "title": f"{t.title} {i // len(base)}",
            "locations": t.locations[:1] or ["Remote"],
        }
        row["description"] = describe(row["title"], row["company"], row["source_job_id"])
        for name in POSTING_SCHEMA:
            columns[name].append(row[name])
        if rng.random() < SECOND_LOCATION_SHARE:  # the same job listed once more under another location
            for name in POSTING_SCHEMA:
                columns[name].append({"source_job_id": f"syn-{i}-b", "locations": ["Berlin, Germany"]}.get(name, row[name]))
        if len(columns["source"]) >= part_rows or i == n - 1:
            yield pl.DataFrame(columns, schema=POSTING_SCHEMA)
            columns = {name: [] for name in POSTING_SCHEMA}


def synthetic(n: int, seed: int = 7) -> pl.DataFrame:
    """The ``n`` synthetic postings as one frame (small sizes; large ones go through ``write_synthetic``)."""
    parts = list(synthetic_parts(n, seed))
    return pl.concat(parts) if parts else pl.DataFrame(schema=POSTING_SCHEMA)


def write_synthetic(n: int, folder: Path, seed: int = 7) -> Path:
    """Write the ``n`` synthetic postings as Parquet parts under ``folder``; returns the parts' glob."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, part in enumerate(synthetic_parts(n, seed)):
        part.write_parquet(folder / f"part-{number:05d}.parquet")
    return folder / "part-*.parquet"


def write_partition(n: int, folder: Path, seed: int = 7) -> Path:
    """The ``n`` synthetic postings as a raw partition of day ``DAY`` under ``folder/raw`` (every
    board ok), and the same files again as the next day's partition; returns the raw folder. How
    long and how much CPU the partition's write took (the digests, each posting's dedup key and hash,
    the Parquet file; from one frame, where a scrape spills every 2,048 postings) goes to
    ``folder/write.json``."""
    from jobpipeline.lib.rawstore import RawPartition

    parts = write_synthetic(n, folder / "parts", seed)
    frame = pl.read_parquet(parts)
    outcomes = [{"source": "ashby", "board": board, "ok": True} for board in sorted(frame["board"].unique().to_list())]
    first = RawPartition.at(folder / "raw", "ashby", DAYS[0])
    t0, cpu0 = time.perf_counter(), time.process_time()
    first.write(frame, outcomes, {})
    (folder / "write.json").write_text(json.dumps({"write_s": time.perf_counter() - t0, "write_cpu_s": time.process_time() - cpu0}))
    del frame
    second = RawPartition.at(folder / "raw", "ashby", DAYS[1])
    second.root.mkdir(parents=True)
    for name in ("postings.parquet", "outcomes.json"):
        os.link(first.root / name, second.root / name)
    return folder


def _status_mb(field: str) -> float:
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(found.group(1)) / 1024 if found else float("nan")


def reset_peak_rss() -> None:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM to the current RSS)."""
    Path("/proc/self/clear_refs").write_text("5")


def cpu_seconds() -> float:
    """CPU seconds of this process and of the children it has waited for: a sync's read-ahead
    readers (``lib/sync/read_ahead.py``) count toward the sync's CPU."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed_sync(store: Path, folder: Path, day: str) -> dict:
    """One sync of ``folder``'s raw partition of ``day`` into ``store``, in this process: seconds,
    CPU seconds, the process's RSS before it and its peak RSS during it, and its counts."""
    from jobpipeline.lib.ingest import sync_raw_partition
    from jobpipeline.lib.rawstore import RawPartition
    from jobpipeline.lib.store import create_schema, get_engine

    engine = get_engine(f"sqlite:///{store}")
    create_schema(engine)
    before_mb = _status_mb("VmRSS")
    reset_peak_rss()
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    result = sync_raw_partition(engine, "ashby", day, RawPartition.at(folder / "raw", "ashby", day))
    seconds, cpu_s = time.perf_counter() - t0, cpu_seconds() - cpu0
    peak_mb = _status_mb("VmHWM")
    engine.dispose()
    return {"s": seconds, "cpu_s": cpu_s, "before_mb": before_mb, "peak_mb": peak_mb, **result.as_dict()}


def measure(folder: Path, peer_sample: int) -> dict:
    """One size: cold sync of the raw partition in this process, the unchanged re-sync (next day)
    in a fresh one, then ours and the peer on the first ``peer_sample`` postings."""
    from peer import compare

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bench.db"
        cold = timed_sync(store, folder, DAYS[0])
        out = subprocess.run(
            [sys.executable, __file__, "--resync", str(store), str(folder)], capture_output=True, text=True, env=os.environ
        )
        if out.returncode:
            raise SystemExit(f"the re-sync failed:\n{out.stderr}")
        again = json.loads(out.stdout.strip().splitlines()[-1])
    assert cold["new"] == again["unchanged"] and again["new"] == again["changed"] == 0, (cold, again)
    cold_s, cold_cpu_s, resync_s, resync_cpu_s = cold["s"], cold["cpu_s"], again["s"], again["cpu_s"]
    before_mb, cold_peak_mb, resync_peak_mb = cold["before_mb"], cold["peak_mb"], again["peak_mb"]
    parts = str(folder / "parts" / "part-*.parquet")
    description_mb = pl.scan_parquet(parts).select(pl.col("description").str.len_bytes().sum()).collect().item() / 1e6
    frame = pl.read_parquet(parts, n_rows=peer_sample or None)
    versus = compare(frame)
    return {
        **json.loads((folder / "write.json").read_text()),
        "postings": cold["postings"],
        "jobs": cold["jobs"],
        "description_mb": description_mb,
        "cold_s": cold_s,
        "ingest_per_s": cold["postings"] / cold_s,
        "cold_cpu_s": cold_cpu_s,
        "resync_s": resync_s,
        "resync_cpu_s": resync_cpu_s,
        "rss_before_sync_mb": before_mb,
        "cold_peak_rss_mb": cold_peak_mb,
        "resync_peak_rss_mb": resync_peak_mb,
        "rss_before_resync_mb": again["before_mb"],
        "sync_rss_growth_mb": max(cold_peak_mb - before_mb, resync_peak_mb - again["before_mb"]),
        "peer": versus,
    }


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
    parser.add_argument("--peer-sample", type=int, default=PEER_SAMPLE, help="postings the peer (bench/peer.py) syncs; 0: all")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="replay corpus whose ashby/ postings are the templates")
    parser.add_argument("--slice-jobs", help="JOBPIPELINE_SYNC_SLICE_JOBS for the syncs (default: the setting's default)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: measure one size's raw partition
    parser.add_argument("--resync", nargs=2, help=argparse.SUPPRESS)  # child mode: STORE FOLDER, the re-sync alone
    args = parser.parse_args()
    globals()["CORPUS"] = args.corpus
    if args.resync:
        print(json.dumps(timed_sync(Path(args.resync[0]), Path(args.resync[1]), DAYS[1])))
        return
    if args.one:
        print(json.dumps(measure(Path(args.one), args.peer_sample)))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.postings:
            folder = write_partition(n, Path(tmp) / f"postings-{n}")
            env = os.environ | ({"JOBPIPELINE_SYNC_SLICE_JOBS": args.slice_jobs} if args.slice_jobs is not None else {})
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(folder), "--corpus", str(args.corpus), "--peer-sample", str(args.peer_sample)],
                capture_output=True,
                text=True,
                env=env,
            )
            if out.returncode:
                raise SystemExit(f"measuring {n} postings failed:\n{out.stderr}")
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    rate = html_rate()
    print(
        f"{'postings':>9} {'jobs':>8} {'text MB':>8} {'cold s':>7} {'CPU s':>6} {'ingest/s':>9} {'resync s':>9} {'CPU s':>6} "
        f"{'RSS before':>10} {'peak cold':>9} {'peak resync':>11} {'sync alone':>10}  (RSS in MB)"
    )
    for r in results:
        print(
            f"{r['postings']:>9} {r['jobs']:>8} {r['description_mb']:>8.0f} {r['cold_s']:>7.2f} {r['cold_cpu_s']:>6.2f} {r['ingest_per_s']:>9.0f} "
            f"{r['resync_s']:>9.2f} {r['resync_cpu_s']:>6.2f} {r['rss_before_sync_mb']:>10.0f} {r['cold_peak_rss_mb']:>9.0f} {r['resync_peak_rss_mb']:>11.0f} "
            f"{r['sync_rss_growth_mb']:>10.0f}"
        )
    for r in results:
        print(
            f"{r['postings']:>9} postings' raw partition written in {r['write_s']:.2f} s ({r['write_cpu_s']:.2f} CPU-s, from one frame: "
            "the digests, each posting's dedup key and hash, the Parquet file; a scrape spills every 2,048; not in the sync's figures)"
        )
    print("ours against the seed project's approach (bench/peer.py), on the same postings:")
    for r in results:
        print_comparison(r["peer"])
    print(f"html_to_text on real Ashby descriptionHtml: {rate:.0f} docs/s (done at scrape time, not in the sync)")
    last = results[-1]
    print(
        json.dumps(
            {
                "postings": last["postings"],
                "description_mb": round(last["description_mb"]),
                "ingest_per_s": round(last["ingest_per_s"]),
                "resync_s": round(last["resync_s"], 3),
                "resync_cpu_s": round(last["resync_cpu_s"], 2),
                "cold_cpu_s": round(last["cold_cpu_s"], 2),
                "write_s": round(last["write_s"], 2),
                "write_cpu_s": round(last["write_cpu_s"], 2),
                "peak_rss_mb": round(max(last["cold_peak_rss_mb"], last["resync_peak_rss_mb"])),
                "sync_rss_growth_mb": round(last["sync_rss_growth_mb"]),
                "peer_postings": last["peer"]["postings"],
                "peer_cold_ratio": round(last["peer"]["cold_ratio"], 1),
                "peer_resync_ratio": round(last["peer"]["resync_ratio"], 1),
                "peer_cold_cpu_ratio": round(last["peer"]["cold_cpu_ratio"], 1),
                "peer_resync_cpu_ratio": round(last["peer"]["resync_cpu_ratio"], 1),
                "html_docs_per_s": round(rate),
            }
        )
    )


if __name__ == "__main__":
    main()
