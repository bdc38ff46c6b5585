"""Parse benchmark: every shipped ATS recording through its adapter (per-posting isolation + the
sanitizer of every stored text field), no network.

    python bench/parse.py --rounds 20

Reads ``data/replay/<ats>/**.json`` once, then parses all of it ``--rounds`` times and reports
postings/s and body MB/s per ATS and in total. Runs on code from before ``parse_board`` too
(``adapter.parse``), so the two can be measured back to back: ``PYTHONPATH=<old checkout>``.
Prints a table; the last line is one JSON object with the totals.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # after PYTHONPATH, so an old checkout given there wins

from jobpipeline.lib.boards import Board  # noqa: E402
from jobpipeline.lib.sources import ADAPTERS  # noqa: E402

try:
    from jobpipeline.lib.sources import parse_board  # noqa: E402
except ImportError:  # the code before per-posting isolation
    parse_board = None


def parse(ats: str, bodies: list[bytes], board: Board) -> int:
    if parse_board is None:
        return len(ADAPTERS[ats].parse(bodies, board))
    return len(parse_board(ADAPTERS[ats], bodies, board).postings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    corpus = REPO / "data" / "replay"
    boards: list[tuple[str, Board, list[bytes]]] = []
    for ats in sorted(ADAPTERS):
        for path in sorted((corpus / ats).rglob("*.json")):
            token = str(path.relative_to(corpus / ats).with_suffix(""))
            boards.append((ats, Board(ats, token, token), [path.read_bytes()]))
    rows = {}
    for ats in sorted(ADAPTERS):
        mine = [(b, bodies) for a, b, bodies in boards if a == ats]
        size = sum(len(body) for _, bodies in mine for body in bodies)
        started = time.perf_counter()
        postings = 0
        for _ in range(args.rounds):
            postings += sum(parse(ats, bodies, board) for board, bodies in mine)
        seconds = time.perf_counter() - started
        rows[ats] = {"postings": postings // args.rounds, "mb": size / 1e6, "seconds": seconds / args.rounds}
    print(f"{'ats':<16} {'postings':>9} {'MB':>7} {'ms/round':>9} {'postings/s':>11} {'MB/s':>7}")
    for ats, r in rows.items():
        print(
            f"{ats:<16} {r['postings']:>9} {r['mb']:>7.2f} {r['seconds'] * 1000:>9.1f} "
            f"{r['postings'] / r['seconds']:>11,.0f} {r['mb'] / r['seconds']:>7.1f}"
        )
    total_postings = sum(r["postings"] for r in rows.values())
    total_s = sum(r["seconds"] for r in rows.values())
    total_mb = sum(r["mb"] for r in rows.values())
    print(
        f"{'total':<16} {total_postings:>9} {total_mb:>7.2f} {total_s * 1000:>9.1f} "
        f"{total_postings / total_s:>11,.0f} {total_mb / total_s:>7.1f}"
    )
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "postings": total_postings,
                "mb": round(total_mb, 3),
                "seconds_per_round": round(total_s, 4),
                "postings_per_s": round(total_postings / total_s),
                "isolation": parse_board is not None,
            }
        )
    )


if __name__ == "__main__":
    main()
