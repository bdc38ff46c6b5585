"""History benchmark: HN "Who is hiring?" parse + normalize + sync, and a simulated full-history backfill.

1. The three recorded threads (2011-04 Algolia, 2019-11 and 2020-02 Firebase) read from the shipped
   corpus: comments → postings (parse), deduplicated + hashed + synced into a fresh SQLite store,
   as ``hn_jobs`` does; best of ``--repeat``. Rate = top-level comments seen per second.
2. Every month from 2011-04 to this month backfilled through Dagster (``hn_month_job``, op ``hn_month``: discovery,
   fetch, parse, raw partition, sync), each month's thread served by the replay server with
   ``--latency-ms`` per request from recorded comments reused under new ids (month i gets the
   comments of recorded thread i mod 3, shifted into its month, served both as Firebase items and as
   one *simulated* Algolia ``items/<id>`` body, ``routes_hn.simulated_algolia_item``; ``search_by_date``
   pages list one story per month). Requests are counted at the replay server, per endpoint. Runs go as
   ``jobpipeline backfill hn --in-process --workers N`` runs them: one Dagster run per range of
   ``MONTHS_PER_RUN`` months (the assets' ``multi_run``; 8 runs for the full history), N at a time,
   N = the instance's ``max_concurrent_runs`` (4 in dagster.yaml) unless ``--workers`` says otherwise.

    python bench/history.py [--months 24] [--workers 4] [--latency-ms 50]

The backfill is CPU-bound on 2 cores (parsing, the sync and Dagster's run bookkeeping; the HN
client makes about one request per month since the comments come from Algolia's items endpoint and
discovery is shared through ``raw/hn/.thread_index.json``), so its wall time depends on what else
runs: the table shows CPU seconds too. ``--months 24`` gives a quick run.

Prints a table; the last line is one JSON object: ``comments_per_s``, ``full_backfill_s`` (and more).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jobpipeline.lib.hn import parse_thread  # noqa: E402
from jobpipeline.lib.hn.comments import ThreadComments, comments_from_algolia_item, comments_from_firebase_items  # noqa: E402
from jobpipeline.lib.postings import (
    BoardOutcome,  # noqa: E402
    postings_frame,  # noqa: E402
)
from jobpipeline.lib.replay.routes_hn import simulated_algolia_item  # noqa: E402
from jobpipeline.lib.store import create_schema, get_engine  # noqa: E402
from jobpipeline.lib.sync import sync_postings  # noqa: E402

HN_DIR = REPO / "data" / "replay" / "hn"
RECORDED = {
    "2011-04": "algolia/items/2396027.json.gz",
    "2019-11": "firebase/item/2019-11_21419536.jsonl.gz",
    "2020-02": "firebase/item/2020-02_22225314.jsonl.gz",
}
HITS_PER_PAGE = 20  # Algolia's default page size
FIRST_SYNTHETIC_ID = 90_000_000  # above every real HN id of the recordings


def recorded_thread(month: str) -> ThreadComments:
    raw = gzip.decompress((HN_DIR / RECORDED[month]).read_bytes())
    if month == "2011-04":
        return comments_from_algolia_item(json.loads(raw))
    story, *kids = (json.loads(line) for line in raw.splitlines())
    return comments_from_firebase_items(story, kids)


# --- 1. parse + normalize + sync ---------------------------------------------------------------


def parse_and_sync(repeat: int) -> dict:
    threads = {month: recorded_thread(month) for month in RECORDED}
    comments = sum(len(t.comments) for t in threads.values())
    best: dict | None = None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            engine = get_engine(f"sqlite:///{tmp}/store.db")
            create_schema(engine)
            started = time.perf_counter()
            frames = {}
            for month, thread in threads.items():
                postings, _ = parse_thread(thread, month)
                frames[month] = postings_frame(postings)
            parsed = time.perf_counter()
            for month, frame in frames.items():
                sync_postings(
                    engine, frame, seen_on=date.fromisoformat(f"{month}-28"), outcomes=[BoardOutcome(source="hn", board=month, ok=True)]
                )
            synced = time.perf_counter()
            engine.dispose()
        run = {
            "comments": comments,
            "postings": sum(f.height for f in frames.values()),
            "parse_s": parsed - started,
            "sync_s": synced - parsed,
            "total_s": synced - started,
        }
        if best is None or run["total_s"] < best["total_s"]:
            best = run
    assert best is not None
    best["comments_per_s"] = best["comments"] / best["total_s"]
    return best


# --- 2. simulated full-history backfill --------------------------------------------------------


def months_until_now(limit: int | None) -> list[str]:
    from jobpipeline.defs.history.partitions import hn_months

    months = hn_months.get_partition_keys()
    return months[-limit:] if limit else months


def firebase_items(thread: ThreadComments) -> tuple[int, list[dict]]:
    """The story time and every top-level comment as a Firebase item (Algolia's converted)."""
    story_time = int(thread.story.get("time") or thread.story.get("created_at_i"))
    items = []
    for c in thread.comments:
        if thread.api == "firebase":
            items.append(dict(c.raw))
        else:
            items.append(
                {"id": c.id, "type": "comment", "by": c.by, "text": c.text, "time": int(c.time.timestamp()), "parent": thread.story_id}
            )
    return story_time, items


def build_corpus(root: Path, months: list[str]) -> dict:
    """A replay corpus ``root/hn`` holding one synthetic thread per month (recorded comments, new ids)."""
    sources = [firebase_items(recorded_thread(m)) for m in RECORDED]
    hits, lines, live = [], [], 0
    algolia_items: dict[int, dict] = {}
    for i, month in enumerate(months):
        story_time0, kids0 = sources[i % len(sources)]
        story_id = FIRST_SYNTHETIC_ID + i * 10_000
        posted = int(datetime.fromisoformat(f"{month}-01T15:00:00+00:00").timestamp())
        title = f"Ask HN: Who is hiring? ({datetime.fromisoformat(f'{month}-01'):%B %Y})"
        kids = []
        for k, item in enumerate(kids0, start=1):
            kid = dict(item, id=story_id + k, parent=story_id)
            if "time" in kid:
                kid["time"] = posted + (int(kid["time"]) - story_time0)
            kids.append(kid)
            live += bool(kid.get("by") and kid.get("text") and not kid.get("dead"))
        story = {"id": story_id, "type": "story", "by": "whoishiring", "title": title, "time": posted, "kids": [k["id"] for k in kids]}
        algolia_items[story_id] = simulated_algolia_item(story, kids)
        lines.append(json.dumps(story))
        lines.extend(json.dumps(k) for k in kids)
        hits.append(
            {
                "objectID": str(story_id),
                "title": title,
                "author": "whoishiring",
                "created_at_i": posted,
                "num_comments": len(kids),
                "story_text": None,
            }
        )
    hn = root / "hn"
    (hn / "firebase" / "item").mkdir(parents=True)
    (hn / "algolia" / "search_by_date").mkdir(parents=True)
    (hn / "algolia" / "items").mkdir(parents=True)
    (hn / "firebase" / "item" / "synthetic.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode(), compresslevel=1))
    for story_id, body in algolia_items.items():
        (hn / "algolia" / "items" / f"{story_id}.json.gz").write_bytes(gzip.compress(json.dumps(body).encode(), compresslevel=1))
    hits.reverse()  # search_by_date: newest first
    pages = [hits[p : p + HITS_PER_PAGE] for p in range(0, len(hits), HITS_PER_PAGE)]
    for p, page in enumerate(pages):
        body = {"hits": page, "page": p, "nbPages": len(pages), "hitsPerPage": HITS_PER_PAGE}
        (hn / "algolia" / "search_by_date" / f"page{p}.json.gz").write_bytes(gzip.compress(json.dumps(body).encode()))
    return {"months": len(months), "comments": len(lines) - len(months), "live_comments": live, "search_pages": len(pages)}


def cpu_seconds() -> float:
    """CPU time of this process (the replay server's thread included) and its finished children (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def requests_by_api(paths: dict[str, int]) -> dict[str, int]:
    """The replay server's requests per HN endpoint: discovery pages, Algolia items, Firebase items/users."""
    counts = {"search_requests": 0, "algolia_item_requests": 0, "firebase_requests": 0}
    for path, n in paths.items():
        if "/api/v1/search_by_date" in path:
            counts["search_requests"] += n
        elif "/api/v1/items/" in path:
            counts["algolia_item_requests"] += n
        elif "/v0/" in path:
            counts["firebase_requests"] += n
    return counts


def full_backfill(months: list[str], workers: int | None, latency_ms: float) -> dict:
    import dagster as dg

    from jobpipeline.cli.backfill import BackfillRequest, run_in_process
    from jobpipeline.lib.replay import ReplayServer

    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        root = Path(tmp)
        built = time.perf_counter()
        corpus = build_corpus(root / "corpus", months)
        built = time.perf_counter() - built
        os.environ["JOBPIPELINE_HOME"] = str(root / "home")
        os.environ["DAGSTER_HOME"] = str(root / "home" / "dagster")
        store_url = f"sqlite:///{root / 'home' / 'store.db'}"
        from jobpipeline.cli.run import dagster_home

        dagster_home()  # seeded with the repo's dagster.yaml: max_concurrent_runs
        engine = get_engine(store_url)
        create_schema(engine)  # an existing store, as in production: the runs only sync into it
        engine.dispose()
        with dg.DagsterInstance.get() as instance:
            allowed = getattr(instance.run_coordinator, "max_concurrent_runs", 4)
        workers = workers or allowed
        with ReplayServer(root / "corpus", latency_ms=latency_ms) as server:
            run_config = {
                "resources": {
                    "job_boards": {"config": {"base_urls": {"hn": server.base_urls["hn"]}}},
                    "store": {"config": {"database_url": store_url}},
                }
            }
            request = BackfillRequest("hn", months, run_config, f"hn {months[0]}…{months[-1]} (synthetic)")
            started, cpu = time.perf_counter(), cpu_seconds()
            summary = run_in_process(request, workers=workers)
            seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            requests = sum(server.stats.requests.values())
            by_api = requests_by_api(server.stats.paths)
        engine = get_engine(store_url)
        with engine.connect() as conn:
            postings = conn.exec_driver_sql("SELECT count(*) FROM job_posting").scalar()
            jobs = conn.exec_driver_sql("SELECT count(*) FROM job").scalar()
        engine.dispose()
    failed = [r for r in summary.runs if r.status != "SUCCESS"]
    if failed:
        first_line = (failed[0].error or "").splitlines()[0][:300]
        raise SystemExit(f"{len(failed)} months failed, e.g. {failed[0].partitions}: {first_line}")
    return {
        **corpus,
        "corpus_build_s": built,
        "workers": workers,
        "max_concurrent_runs": allowed,
        "runs": len(summary.runs),
        "seconds": seconds,
        "cpu_s": cpu,
        "requests": requests,
        **by_api,
        "postings_in_store": postings,
        "jobs_in_store": jobs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="parse + sync repetitions (best is kept)")
    parser.add_argument("--months", type=int, help="only the latest N months (default: every month since 2011-04)")
    parser.add_argument("--workers", type=int, help="runs at once (default: the instance's max_concurrent_runs)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()

    rate = parse_and_sync(args.repeat)
    print(f"{'recorded threads':<18} {'comments':>9} {'postings':>9} {'parse s':>8} {'sync s':>7} {'comments/s':>11}")
    print(
        f"{'2011-04,2019-11,20-02':<18} {rate['comments']:>9} {rate['postings']:>9} {rate['parse_s']:>8.2f} "
        f"{rate['sync_s']:>7.2f} {rate['comments_per_s']:>11.0f}"
    )

    months = months_until_now(args.months)
    full = full_backfill(months, args.workers, args.latency_ms)
    print()
    print(
        f"{'full backfill':<18} {'months':>7} {'comments':>9} {'requests':>9} {'search':>7} {'alg. items':>10} {'firebase':>9} "
        f"{'runs':>5} {'runs at once':>13} {'latency ms':>11} {'wall s':>8} {'CPU s':>7} {'CPU s/month':>12}"
    )
    print(
        f"{months[0] + '..' + months[-1]:<18} {full['months']:>7} {full['comments']:>9} {full['requests']:>9} "
        f"{full['search_requests']:>7} {full['algolia_item_requests']:>10} {full['firebase_requests']:>9} "
        f"{full['runs']:>5} {full['workers']:>13} {args.latency_ms:>11.0f} {full['seconds']:>8.1f} {full['cpu_s']:>7.0f} {full['cpu_s'] / full['months']:>12.2f}"
    )
    print(
        f"store after the backfill: {full['postings_in_store']} HN postings, {full['jobs_in_store']} jobs "
        f"(the same recorded texts every third month deduplicate into one job); corpus built in {full['corpus_build_s']:.1f} s; "
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        json.dumps(
            {
                "comments_per_s": round(rate["comments_per_s"]),
                "full_backfill_s": round(full["seconds"], 1),
                "full_backfill_cpu_s": round(full["cpu_s"]),
                "full_backfill_requests": full["requests"],
                "search_requests": full["search_requests"],
                "algolia_item_requests": full["algolia_item_requests"],
                "firebase_requests": full["firebase_requests"],
                "months": full["months"],
                "runs": full["runs"],
                "workers": full["workers"],
                "latency_ms": args.latency_ms,
            }
        )
    )


if __name__ == "__main__":
    main()
