"""Millions of jobs: daily partitions of a large board set synced for a month, then the analytics.

A fixed number of open postings (``--open-postings``; a freehire-sized board set is 3.5 M) spread
over ``--sources`` sources of ``--boards`` boards each (one raw partition per source per day, as the
``jobs`` asset syncs them). Day 1 lists them all; each later day 3–5 % of the open postings change
(their description is redrawn) and 1–2 % vanish, replaced by as many new ones, so the open count
stays put. Every partition is written to disk as a raw partition and synced through the ``jobs``
asset's own path (``sync_raw_partition``), then deleted (30 days of a 3.5 M set would be ~300 GB of
Parquet). Descriptions are made as ``bench/ingest.py`` makes them: real paragraphs of the shipped
Ashby recordings recombined, unique per posting and version.

Per day: the sync's wall and CPU seconds, its peak RSS above the RSS before it (``VmHWM`` reset
through ``/proc/self/clear_refs`` before each partition), this process's RSS after the day (it has
synced every day so far: memory a long-lived process keeps shows here, not in the peak above it),
and the store's size on disk, its WAL file apart. The
partitions are generated in a child process, so the memory the generator leaves behind cannot hide
the sync's peak (before 2026-12-03 it did: the peak read 0 MB at 1M open postings). At the end:
the analytics updated after the last day from the store's change feed (built before it, kept in
``followed.duckdb``), the full analytics rebuild on that store (``bench/analytics.py``'s timing),
the update again as a deployment runs it (the day's new and rewritten jobs enriched first, as
``enriched_jobs`` does before the analytics: ``enrich_changed``), and the size of the change feed.
Every day before the last has its new and rewritten contents enriched after its syncs (outside
the timings), so the cache holds an answer for every content, as a deployment's does: before
2026-12-07 only the last day's were, and the analytics read a cache of 53,658 rows at a million
jobs where a deployment's holds one per content.

With ``--search-index``, each partition's sync is followed by what the ``jobs`` asset runs after it:
the refresh of the store's FTS5 search index for the jobs the sync inserted or rewrote
(``refresh_search_index``), timed apart from the sync (day 1 indexes every job), and the store's
size includes the index.

    python bench/simulate.py --open-postings 3500000 --days 30   # the issue's size: hours here
    python bench/simulate.py --open-postings 100000 --days 30    # minutes on a 2-core machine

Prints a table; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analytics import time_rebuild, timed_build  # noqa: E402
from ingest import DescriptionMaker, _status_mb, cpu_seconds, reset_peak_rss, templates  # noqa: E402

from jobpipeline.lib.changes import Position, changes_since, latest_position  # noqa: E402
from jobpipeline.lib.extract import cache  # noqa: E402
from jobpipeline.lib.extract.enrich import ENRICH_BATCH  # noqa: E402
from jobpipeline.lib.extract.schema import JobFields  # noqa: E402
from jobpipeline.lib.ingest import sync_raw_partition  # noqa: E402
from jobpipeline.lib.postings import POSTING_SCHEMA, BoardOutcome  # noqa: E402
from jobpipeline.lib.rawstore import ROW_GROUP_ROWS, RawPartition, postings_file_writer, with_digests  # noqa: E402
from jobpipeline.lib.store import create_schema, get_engine, refresh_search_index  # noqa: E402

FIRST_DAY = date(2026, 11, 1)
SOURCES = ("greenhouse", "lever", "ashby", "workable", "smartrecruiters")
PART_ROWS = 16 * ROW_GROUP_ROWS


class Postings:
    """The open postings as two integer arrays: slot ``i`` holds posting ``ident[i]`` at content
    ``version[i]``. A change bumps the version; a vanished posting's slot takes a new ident."""

    def __init__(self, n: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.ident = np.arange(n, dtype=np.int64)
        self.version = np.zeros(n, dtype=np.int64)
        self.next_ident = n

    def advance(self) -> tuple[int, int]:
        """One day: 3–5 % change, 1–2 % vanish (and as many new ones). Returns (changed, vanished)."""
        n = len(self.ident)
        changed = self.rng.choice(n, size=int(n * self.rng.uniform(0.03, 0.05)), replace=False)
        self.version[changed] += 1
        vanished = self.rng.choice(n, size=int(n * self.rng.uniform(0.01, 0.02)), replace=False)
        self.ident[vanished] = np.arange(self.next_ident, self.next_ident + len(vanished))
        self.version[vanished] = 0
        self.next_ident += len(vanished)
        return len(changed), len(vanished)


def write_partition(root: Path, idents: np.ndarray, versions: np.ndarray, source: str, boards: int, make) -> None:
    """Write one source's raw partition under ``root`` as ``RawPartition.write`` lays it out (postings
    sorted by posting key, row groups of ``ROW_GROUP_ROWS``, description digests beside them), part by part, so the generator never
    holds the partition's text; plus ``outcomes.json``."""
    root.mkdir(parents=True)
    keys = sorted(zip((f"board{b:05d}" for b in (idents % boards).tolist()), (f"sim-{i}" for i in idents.tolist()), range(len(idents))))
    order = np.fromiter((position for _, _, position in keys), dtype=np.int64, count=len(keys))
    idents, versions = idents[order], versions[order]
    with postings_file_writer(root / "postings.parquet") as writer:
        for start in range(0, len(idents), PART_ROWS):
            table = with_digests(make(idents[start : start + PART_ROWS], versions[start : start + PART_ROWS]))
            writer.write_table(table.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(writer.schema), row_group_size=ROW_GROUP_ROWS)
    # Every board of the source scraped fine that day: what vanished from it closes.
    (root / "outcomes.json").write_text(all_ok(source, boards), encoding="utf-8")


@functools.cache
def all_ok(source: str, boards: int) -> str:
    """``outcomes.json`` of a day when every board of ``source`` was scraped fine (the same each day)."""
    return json.dumps([BoardOutcome(source=source, board=f"board{b:05d}", ok=True).as_json() for b in range(boards)], default=str)


_MAKERS: dict[tuple[str, int, int], object] = {}


def write_partition_here(root: str, idents: np.ndarray, versions: np.ndarray, source: str, boards: int, seed: int) -> None:
    """``write_partition`` in the generator's process (``main`` runs it in a child), its makers kept."""
    make = _MAKERS.setdefault((source, boards, seed), posting_maker(source, boards, seed))
    write_partition(Path(root), idents, versions, source, boards, make)


def posting_maker(source: str, boards: int, seed: int):
    """``make(idents, versions)``: the postings of these idents at these versions, as a frame. Every
    field but the description is taken from a real Ashby posting (the ident's template) or made
    from the ident, column by column; each description is drawn from the ident and version alone
    (the same posting and version: the same text)."""
    base = templates()
    describe = DescriptionMaker(base, random.Random(seed))
    rows = [t.as_row() for t in base]
    template = pl.DataFrame({name: [row[name] for row in rows] for name in POSTING_SCHEMA}, schema=POSTING_SCHEMA)
    titles = [t.title for t in base]
    locations = pl.Series([t.locations[:1] or ["Remote"] for t in base], dtype=POSTING_SCHEMA["locations"])

    def make(idents: np.ndarray, versions: np.ndarray) -> pl.DataFrame:
        which = (idents % len(base)).tolist()
        board_numbers = (idents % boards).tolist()
        ident_list, version_list = idents.tolist(), versions.tolist()
        title = [f"{titles[w]} {i // len(base)}" for w, i in zip(which, ident_list, strict=True)]
        company = [f"Company {b}" for b in board_numbers]
        descriptions = []
        for ident, version, row_title, row_company in zip(ident_list, version_list, title, company, strict=True):
            describe.rng.seed(ident * 1_000 + version)  # the same posting and version: the same text
            descriptions.append(describe(row_title, row_company, f"sim-{ident} v{version}"))
        picked = pl.Series(which, dtype=pl.Int64)
        return template[picked].with_columns(
            pl.Series("source", [source] * len(which), dtype=pl.String),
            pl.Series("board", [f"board{b:05d}" for b in board_numbers], dtype=pl.String),
            pl.Series("source_job_id", [f"sim-{i}" for i in ident_list], dtype=pl.String),
            pl.Series("company", company, dtype=pl.String),
            pl.Series("title", title, dtype=pl.String),
            locations.gather(picked).alias("locations"),
            pl.Series("description", descriptions, dtype=pl.String),
        )

    return make


def feed_mb(store: Path) -> float:
    """The change feed's bodies in the store, MB."""
    import sqlite3

    with sqlite3.connect(store) as conn:
        return (conn.execute("SELECT coalesce(sum(length(body)), 0) FROM store_change").fetchone()[0]) / 1e6


def store_mb(path: Path) -> float:
    """The store on disk, MB: the database file and its WAL (SQLite keeps the WAL file after a checkpoint)."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def wal_mb(path: Path) -> float:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size / 1e6 if wal.exists() else 0.0


def enrich_changed(store: Path, position: Position | None) -> int:
    """Enrich, through the cache, the content of every job the store's change feed says was
    inserted or rewritten after ``position`` (None: every job), one fixed answer each: what a
    deployment's ``enriched_jobs`` run writes (and adds to the feed) between a day's sync and its
    analytics, in batches of ``ENRICH_BATCH`` as it caches them. Returns the content hashes enriched."""
    engine = get_engine(f"sqlite:///{store}")
    with engine.connect() as conn:
        if position is None:
            hashes = conn.exec_driver_sql("SELECT DISTINCT content_hash FROM job").scalars().all()
        else:
            found = changes_since(conn, position)
            if found is None:
                raise RuntimeError(f"the change feed no longer reaches back to change {position[0]}")
            frames, _ = found
            ids = pl.concat(frames).filter(pl.col("op") == "content")["id"].unique().sort().to_list() if frames else []
            hashes = [
                h
                for start in range(0, len(ids), 30_000)
                for h in conn.exec_driver_sql(
                    f"SELECT content_hash FROM job WHERE id IN ({', '.join(map(str, ids[start : start + 30_000]))})"
                ).scalars()
            ]
    hashes = sorted(set(hashes))
    fields = JobFields(skills=["Python", "SQL"], seniority="senior")
    written = 0
    for start in range(0, len(hashes), ENRICH_BATCH):
        batch = hashes[start : start + ENRICH_BATCH]
        written += cache.upsert(engine, [cache.enrichment_row(h, "bench", "v1", "rules", fields) for h in batch])
    engine.dispose()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open-postings", type=int, default=3_500_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--boards", type=int, default=0, help="boards per source (default: one per 70 open postings)")
    parser.add_argument("--sources", type=int, default=len(SOURCES), choices=range(1, len(SOURCES) + 1))
    parser.add_argument("--work-dir", type=Path, default=None, help="where the store and partitions go (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--search-index", action="store_true", help="refresh the search index after each sync, as the jobs asset does")
    args = parser.parse_args()
    boards = args.boards or max(1, args.open_postings // 70)
    sources = SOURCES[: args.sources]
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="bench-simulate-"))
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store.db"
    for stale in work.glob("store.db*"):
        stale.unlink()
    engine = get_engine(f"sqlite:///{store}")
    create_schema(engine)
    postings = Postings(args.open_postings, args.seed)
    generator = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    raw = work / "raw"
    days = []
    print(
        f"{'day':<11} {'postings':>9} {'changed':>8} {'vanished':>8} {'new':>7} {'rewrote':>7} {'closed':>7} {'sync s':>7} {'CPU s':>6} {'peak MB':>8} {'RSS MB':>7} {'store MB':>9} {'WAL MB':>7}"
        + (f" {'index s':>8}" if args.search_index else "")
    )
    followed = work / "followed.duckdb"  # the analytics built before the last day, then updated after it
    followed.unlink(missing_ok=True)
    before_last = None
    for number in range(args.days):
        day = (FIRST_DAY + timedelta(days=number)).isoformat()
        last = number == args.days - 1
        if last and number:
            before_last = timed_build(store, followed)
        with engine.connect() as conn:
            day_from = latest_position(conn)
        changed, vanished = postings.advance() if number else (0, 0)
        # Slot -> source: the posting's board decides, so a posting never changes source.
        owner = postings.ident % (boards * len(sources)) // boards
        totals = {"postings": 0, "new": 0, "changed": 0, "closed": 0, "sync_s": 0.0, "cpu_s": 0.0, "peak_mb": 0.0, "index_s": 0.0}
        for index, source in enumerate(sources):
            mine = owner == index
            partition = RawPartition.at(raw, source, day)
            generator.submit(
                write_partition_here, str(partition.root), postings.ident[mine], postings.version[mine], source, boards, args.seed
            ).result()
            before = _status_mb("VmRSS")
            reset_peak_rss()
            t0, c0 = time.perf_counter(), cpu_seconds()
            result = sync_raw_partition(engine, source, day, partition)
            totals["sync_s"] += time.perf_counter() - t0
            totals["cpu_s"] += cpu_seconds() - c0
            totals["peak_mb"] = max(totals["peak_mb"], _status_mb("VmHWM") - before)
            for name in ("postings", "new", "changed", "closed"):
                totals[name] += getattr(result, name)
            if args.search_index:  # the jobs asset's refresh after its sync (the sync marked its jobs pending)
                t0 = time.perf_counter()
                refresh_search_index(engine)
                totals["index_s"] += time.perf_counter() - t0
            shutil.rmtree(partition.root)
        totals |= {
            "day": day,
            "changed_upstream": changed,
            "vanished_upstream": vanished,
            "rss_mb": _status_mb("VmRSS"),  # this process's, after every day so far
            "store_mb": store_mb(store),
            "wal_mb": wal_mb(store),
        }
        if not last:  # the day's enriched_jobs run: the cache holds every content, as a deployment's does
            generator.submit(enrich_changed, store, day_from).result()  # apart: its memory is not the syncs'
        days.append(totals)
        print(
            f"{day:<11} {totals['postings']:>9} {changed:>8} {vanished:>8} {totals['new']:>7} {totals['changed']:>7} {totals['closed']:>7} "
            f"{totals['sync_s']:>7.2f} {totals['cpu_s']:>6.2f} {totals['peak_mb']:>8.0f} {totals['rss_mb']:>7.0f} {totals['store_mb']:>9.0f} {totals['wal_mb']:>7.0f}"
            + (f" {totals['index_s']:>8.2f}" if args.search_index else ""),
            flush=True,
        )
    engine.dispose()
    generator.shutdown()
    followed_enriched = work / "followed-enriched.duckdb"  # the same update, after the day's enrichment
    if before_last:
        shutil.copyfile(followed, followed_enriched)
    update = timed_build(store, followed) if before_last else None
    rebuild = time_rebuild(store, work, 1)
    enriched = enrich_changed(store, day_from) if before_last else 0
    update_enriched = timed_build(store, followed_enriched) if enriched else None
    later = days[1:] or days
    summary = {
        "open_postings": args.open_postings,
        "days": args.days,
        "sources": len(sources),
        "boards": boards * len(sources),
        "first_day_sync_s": round(days[0]["sync_s"], 2),
        "daily_sync_s_median": round(sorted(d["sync_s"] for d in later)[len(later) // 2], 2),
        "daily_sync_s_max": round(max(d["sync_s"] for d in later), 2),
        "peak_sync_rss_mb": round(max(d["peak_mb"] for d in days)),
        "store_mb": round(days[-1]["store_mb"]),
        "wal_mb": round(days[-1]["wal_mb"]),
        "process_rss_mb": round(days[-1]["rss_mb"]),
        "vanished_total": sum(d["vanished_upstream"] for d in days),
        "changed_total": sum(d["changed_upstream"] for d in days),
        "rewritten_total": sum(d["changed"] for d in days),
        "analytics_rebuild_s": round(rebuild["wall_s"], 2),
        "analytics_update_s": round(update["wall_s"], 2) if update else None,
        "analytics_update_cpu_s": round(update["cpu_s"], 2) if update else None,
        "analytics_update_enriched_s": round(update_enriched["wall_s"], 2) if update_enriched else None,
        "enriched_before_update": enriched,
        "change_feed_mb": round(feed_mb(store), 1),
    }
    if args.search_index:  # the jobs asset's search index refresh after each sync, apart from the sync
        summary |= {
            "first_day_index_s": round(days[0]["index_s"], 2),
            "daily_index_s_median": round(sorted(d["index_s"] for d in later)[len(later) // 2], 2),
            "daily_index_s_max": round(max(d["index_s"] for d in later), 2),
        }
    if update:
        print(
            f"analytics before the last day: {before_last['wall_s']:.2f} s ({before_last['how']}); after it: {update['wall_s']:.2f} s, "
            f"{update['cpu_s']:.2f} CPU-s [target <= 0.5 s]: {update['how']}; "
            + ", ".join(f"{k} {v:.3f} s" for k, v in update["steps"].items())
        )
    if update_enriched:
        print(
            f"analytics after the last day's sync and the enrichment of its {enriched:,} new contents (as a deployment runs them): "
            f"{update_enriched['wall_s']:.2f} s, {update_enriched['cpu_s']:.2f} CPU-s: {update_enriched['how']}; "
            + ", ".join(f"{k} {v:.3f} s" for k, v in update_enriched["steps"].items())
        )
    print(
        f"daily sync after day 1: median {summary['daily_sync_s_median']} s, max {summary['daily_sync_s_max']} s "
        f"[target <= 60 s at 3.5 M]; peak sync RSS {summary['peak_sync_rss_mb']} MB [<= 1 GB]; store {summary['store_mb']} MB; "
        f"analytics rebuild {summary['analytics_rebuild_s']} s"
        + (f"; search index refresh after each sync: median {summary['daily_index_s_median']} s a day" if args.search_index else "")
    )
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
