"""``jobpipeline replay``: serve a replay corpus on 127.0.0.1, or (re)build the shipped one."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from jobpipeline.cli.errors import CommandError
from jobpipeline.settings import REPO_DIR, replay_corpus_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("replay", help="serve or build a corpus of recorded API responses")
    verbs = parser.add_subparsers(dest="replay_command", required=True)

    serve = verbs.add_parser("serve", help="serve DIR under each API's own paths until Ctrl-C")
    serve.add_argument("--dir", type=Path, default=replay_corpus_dir(), help="corpus: <ats>/<token>.json")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    serve.add_argument("--latency-ms", type=float, default=0, help="added to every request")
    serve.add_argument("--fail-rate", type=float, default=0.0, help="share of board requests answered 503")
    serve.add_argument("--seed", type=int, default=0, help="seed of the random failures")
    serve.set_defaults(func=_serve)

    build = verbs.add_parser("build-corpus", help="byte-copy the chosen real recordings into a corpus")
    build.add_argument("--source", type=Path, default=REPO_DIR.parent / "shared" / "realdata")
    build.add_argument("--out", type=Path, default=replay_corpus_dir())
    build.add_argument("--boards-out", type=Path, default=None, help="also write a boards config listing the corpus boards")
    build.set_defaults(func=_build_corpus)


def _serve(args: argparse.Namespace) -> int:
    from jobpipeline.lib.replay import ReplayServer

    try:
        server = ReplayServer(args.dir, port=args.port, latency_ms=args.latency_ms, fail_rate=args.fail_rate, seed=args.seed)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    with server as srv:
        try:  # Ctrl-C may come while the URLs are still printed (a dozen kinds): stop cleanly then too
            print(f"replaying {len(srv.boards())} boards from {args.dir} on http://127.0.0.1:{srv.port}", flush=True)
            for kind, url in srv.base_urls.items():
                print(f"  {kind:<16} {url}", flush=True)
            print("Ctrl-C to stop", flush=True)
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def _build_corpus(args: argparse.Namespace) -> int:
    from jobpipeline.lib.boards import write_boards
    from jobpipeline.lib.replay import CORPUS, build_corpus, corpus_boards

    try:
        written = build_corpus(args.source, args.out)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    size = sum(p.stat().st_size for p in written)
    kinds = sorted({f.ats for f in CORPUS})
    print(f"copied {len(written)} recordings ({size / 1e6:.1f} MB) into {args.out}: {', '.join(kinds)}")
    if args.boards_out:
        write_boards(
            args.boards_out,
            corpus_boards(),
            comment="Real public job boards: exactly those whose recorded responses are in data/replay/.\n"
            "Columns: ats (greenhouse|lever|ashby|smartrecruiters|workday), board_token, company.\n"
            "Workday tokens are tenant/site (host tenant.wd5.myworkdayjobs.com) or tenant.wdN/site.",
        )
        print(f"wrote {len(CORPUS)} boards to {args.boards_out}")
    return 0
