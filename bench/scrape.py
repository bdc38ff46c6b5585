"""Time the scrape code path end to end against the replay server: N boards, added latency per request.

    python bench/scrape.py --boards 1000 --latency-ms 100

The boards are the shipped corpus's real payloads reused under new tokens (hard links in a temp
dir), served by ``jobpipeline replay serve`` in a subprocess so server and client do not share one
interpreter. Times ``scrape_boards`` (fetch + parse into postings) concurrently, then the same
scrape one board at a time on a sample of boards, extrapolated to all N for the ratio.

``--into-partition`` times what the ``raw_postings`` asset runs instead: ``scrape_partition``, which
also writes the raw partition (bodies, ``postings.parquet``, outcomes) into a temporary folder; its
peak RSS is that of the whole scrape and write. No sequential sample then.

    python bench/scrape.py --boards 1000 --latency-ms 100 --into-partition
Prints a table; the last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jobpipeline.lib.boards import Board  # noqa: E402
from jobpipeline.lib.http import HttpSettings, make_client  # noqa: E402
from jobpipeline.lib.postings import BoardOutcome  # noqa: E402
from jobpipeline.lib.replay import base_urls_at, corpus_boards  # noqa: E402
from jobpipeline.lib.replay.corpus import DETAILS_SUFFIX  # noqa: E402
from jobpipeline.lib.scrape import BoardResult, scrape_boards  # noqa: E402
from jobpipeline.settings import replay_corpus_dir  # noqa: E402


def make_corpus(root: Path, n_boards: int) -> list[Board]:
    """``n_boards`` boards cycling through the shipped corpus's recordings, each under a new token."""
    boards = []
    corpus = replay_corpus_dir()
    shipped = corpus_boards()
    for i in range(n_boards):
        board = shipped[i % len(shipped)]
        if board.ats == "workday":
            tenant, _, site = board.token.partition("/")
            token = f"{tenant}-b{i}/{site}"
        else:
            token = f"{board.token}-b{i}"
        # The board's list recording (.json, or .xml for Personio) and its recorded details
        # (``<token>.details/``), where it has them.
        for suffix in (".json", ".xml", DETAILS_SUFFIX):
            source = corpus / board.ats / f"{board.token}{suffix}"
            target = root / board.ats / f"{token}{suffix}"
            if not source.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, copy_function=_link_or_copy)
            else:
                _link_or_copy(source, target)
        boards.append(Board(board.ats, token, board.company))
    return boards


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(corpus: Path, port: int, latency_ms: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from jobpipeline.cli import main; sys.exit(main())",
            "replay",
            "serve",
            "--dir",
            str(corpus),
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return process
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"replay server did not come up: {process.stderr.read().decode()[-2000:]}")


async def timed_scrape(boards: list[Board], base_urls: dict, settings: HttpSettings) -> tuple[float, float, list[BoardResult]]:
    """Wall and CPU seconds of one concurrent ``scrape_boards`` over ``boards``, and its results."""
    async with make_client(settings) as client:
        started, cpu_started = time.perf_counter(), time.process_time()
        results = await scrape_boards(boards, client=client, base_urls=base_urls, settings=settings)
        return time.perf_counter() - started, time.process_time() - cpu_started, results


def timed_partition(boards: list[Board], base_urls: dict, settings: HttpSettings, raw_dir: Path) -> tuple[float, float, list[dict]]:
    """Wall and CPU seconds of ``scrape_partition`` over ``boards`` into ``raw_dir``, and the outcomes."""
    from jobpipeline.lib.ingest import ScrapeSession, scrape_partition, today_utc

    session = ScrapeSession("bench", boards, base_urls, http=settings, mode="replay")

    def no_store():
        raise AssertionError("a board failed: the benchmark's boards all answer")

    started, cpu_started = time.perf_counter(), time.process_time()
    scraped = scrape_partition(
        raw_dir, "bench", today_utc(), lambda: contextlib.nullcontext(session), store_engine=no_store, log=lambda _: None
    )
    return time.perf_counter() - started, time.process_time() - cpu_started, scraped.outcomes


async def timed_sequential(boards: list[Board], base_urls: dict, settings: HttpSettings) -> float:
    async with make_client(settings) as client:
        started = time.perf_counter()
        for board in boards:
            await scrape_boards([board], client=client, base_urls=base_urls, settings=settings)
        return time.perf_counter() - started


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--concurrency", type=int, default=200, help="max requests in flight, overall and per host")
    parser.add_argument("--sequential-sample", type=int, default=40, help="boards timed one at a time")
    parser.add_argument("--into-partition", action="store_true", help="time scrape_partition (scrape and write the raw partition)")
    args = parser.parse_args()

    # Against the replay server every ATS is one host, so per-host equals the overall bound here.
    settings = HttpSettings(max_concurrency=args.concurrency, per_host=args.concurrency)
    with tempfile.TemporaryDirectory(prefix="bench-scrape-") as tmp:
        corpus = Path(tmp)
        boards = make_corpus(corpus, args.boards)
        port = free_port()
        server = start_server(corpus, port, args.latency_ms)
        try:
            base_urls = base_urls_at("127.0.0.1", port, {b.ats for b in boards})
            load_before = os.getloadavg()[0]
            if args.into_partition:
                wall_s, cpu_s, outcomes = timed_partition(boards, base_urls, settings, Path(tmp) / "raw")
                results = [BoardOutcome.from_json(o) for o in outcomes]
            else:
                wall_s, cpu_s, results = asyncio.run(timed_scrape(boards, base_urls, settings))
            rss_mb = peak_rss_mb()
            sample = boards[:: max(1, len(boards) // args.sequential_sample)][: args.sequential_sample]
            sample_s = asyncio.run(timed_sequential(sample, base_urls, settings)) if not args.into_partition else float("nan")
        finally:
            server.terminate()
            server.wait(timeout=10)
    server_rss_mb = peak_rss_mb(resource.RUSAGE_CHILDREN)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu_s = children.ru_utime + children.ru_stime

    ok = sum(r.ok for r in results)
    postings = sum(r.n_postings for r in results)
    megabytes = sum(r.n_bytes for r in results) / 1e6
    sequential_s = sample_s / len(sample) * len(boards)
    figures = {
        "mode": "scrape_partition" if args.into_partition else "scrape_boards",
        "boards": len(boards),
        "wall_s": round(wall_s, 3),
        "boards_per_s": round(len(boards) / wall_s, 1),
        "peak_rss_mb": round(rss_mb, 1),
        "sequential_ratio": None if args.into_partition else round(sequential_s / wall_s, 1),
        "scraper_cpu_s": round(cpu_s, 2),
        "load_avg": round(load_before, 1),
        "requests": sum(r.requests for r in results),
        "details_fetched": sum(r.n_details_fetched for r in results),
        "details_failed": sum(r.n_details_failed for r in results),
    }
    rows = [
        ("boards (ok / total)", f"{ok} / {len(boards)}"),
        ("postings parsed", f"{postings:,}"),
        ("bytes received", f"{megabytes:.1f} MB"),
        (
            "requests (detail fetches ok / failed)",
            f"{figures['requests']:,} ({figures['details_fetched']:,} / {figures['details_failed']:,})",
        ),
        ("latency added per request", f"{args.latency_ms:g} ms"),
        ("concurrency (overall = per host)", f"{args.concurrency}"),
        ("measured", "scrape_partition (scrape + raw partition on disk)" if args.into_partition else "scrape_boards (fetch + parse)"),
        ("wall, concurrent", f"{wall_s:.2f} s"),
        ("boards/s", f"{len(boards) / wall_s:.1f}"),
        ("CPU, scraper process (fetch + parse)", f"{cpu_s:.2f} s"),
        (f"load average before (on {os.cpu_count()} CPUs)", f"{load_before:.1f}"),
        ("peak RSS, scraper process", f"{rss_mb:.0f} MB"),
        ("peak RSS, replay server process", f"{server_rss_mb:.0f} MB"),
        ("CPU, replay server (both runs)", f"{server_cpu_s:.2f} s"),
    ]
    if not args.into_partition:
        rows += [
            (f"sequential, {len(sample)} boards timed", f"{sample_s:.2f} s"),
            (f"sequential, extrapolated to {len(boards)}", f"{sequential_s:.1f} s"),
            ("concurrent speed-up (sequential ratio)", f"{sequential_s / wall_s:.1f}x"),
        ]
    width = max(len(k) for k, _ in rows)
    print(f"{'scrape benchmark':<{width}}  value")
    print(f"{'-' * width}  {'-' * 12}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
