"""``jobpipeline boards``: find a company's board from its careers-page URL, and add it to the boards file.

``detect URL...`` prints one ``ats,board_token,company`` line per URL it can map (``lib/detect.py``
holds the URL patterns); ``add URL...`` appends those boards to the boards file, skipping any already
there, after each adapter has checked its token; ``--check`` first asks each board's API whether the
board exists (live by default; ``--replay DIR`` or ``--base-url ATS=URL`` point it elsewhere).
Any URL not mapped or board not added is named on stderr, and the exit code is then 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from jobpipeline import settings
from jobpipeline.cli.errors import CommandError

if TYPE_CHECKING:
    from jobpipeline.lib.boards import Board

EXIT_INCOMPLETE = 2  # some URL unmapped or some board not added: the rest was still done


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("boards", help="detect boards from careers-page URLs, add them to the boards file")
    verbs = parser.add_subparsers(dest="boards_command", required=True)

    detect = verbs.add_parser("detect", help="print ats,board_token,company for each careers-page URL")
    detect.add_argument("urls", nargs="+", metavar="URL")
    detect.set_defaults(func=_detect)

    add = verbs.add_parser("add", help="append the boards of these careers-page URLs to the boards file")
    add.add_argument("urls", nargs="+", metavar="URL")
    add.add_argument("--boards", type=Path, default=None, help="boards file (default: the one the pipeline reads, see settings)")
    add.add_argument("--check", action="store_true", help="first ask each board's API whether it exists")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--replay", metavar="DIR", type=Path, help="with --check: ask a replay server of DIR, not the live APIs")
    where.add_argument(
        "--base-url", metavar="ATS=URL", action="append", default=[], help="with --check: this ATS's API base URL (repeatable)"
    )
    add.set_defaults(func=_add)


def _detect(args: argparse.Namespace) -> int:
    from jobpipeline.lib.sources import ADAPTERS

    boards, unmapped = _detect_all(args.urls)
    failed = len(unmapped)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    for url, board in boards:
        adapter = ADAPTERS.get(board.ats)
        if adapter is None:
            print(f"{url}: {board.ats} has no adapter in this version; token not checked", file=sys.stderr)
        else:
            try:
                adapter.check_token(board.token)
            except ValueError as exc:
                print(f"{url}: {board.ats} board token {board.token!r} rejected: {exc}", file=sys.stderr)
                failed += 1
                continue
        writer.writerow((board.ats, board.token, board.company))
    sys.stdout.flush()
    for why in unmapped:  # after the lines that could be printed
        print(why, file=sys.stderr)
    return EXIT_INCOMPLETE if failed else 0


def _add(args: argparse.Namespace) -> int:
    from jobpipeline.lib.boards import BoardsConfigError, append_boards, load_boards
    from jobpipeline.lib.detect import missing_boards
    from jobpipeline.lib.sources import ADAPTERS

    if (args.replay or args.base_url) and not args.check:
        raise CommandError("--replay and --base-url only apply with --check")
    path = args.boards or settings.boards_config_path()
    detected, unmapped = _detect_all(args.urls)
    for why in unmapped:
        print(why, file=sys.stderr)
    failed = len(unmapped)
    candidates = []
    for url, board in detected:
        adapter = ADAPTERS.get(board.ats)
        if adapter is None:
            print(f"{url}: not added: {board.ats} has no adapter in this version of jobpipeline", file=sys.stderr)
            failed += 1
            continue
        try:
            adapter.check_token(board.token)
        except ValueError as exc:
            print(f"{url}: not added: {board.ats} board token {board.token!r} rejected: {exc}", file=sys.stderr)
            failed += 1
            continue
        candidates.append(board)

    # Boards already listed are skipped before any API is asked (append_boards skips them again).
    try:
        listed = {(b.ats, b.token.lower()) for b in load_boards(path)} if path.exists() else set()
    except (BoardsConfigError, OSError) as exc:
        raise CommandError(f"nothing added: {exc}") from None
    for board in [b for b in candidates if (b.ats, b.token.lower()) in listed]:
        print(f"{board.key}: already in {path}, skipped")
    candidates = [b for b in candidates if (b.ats, b.token.lower()) not in listed]
    candidates = list({(b.ats, b.token.lower()): b for b in reversed(candidates)}.values())[::-1]  # first of each

    if args.check and candidates:
        with _check_endpoints(args.replay, args.base_url) as base_urls:
            missing = asyncio.run(missing_boards(candidates, base_urls))
        for board in candidates:
            if board.key in missing:
                print(f"{board.key}: not added: {missing[board.key]}", file=sys.stderr)
                failed += 1
        candidates = [board for board in candidates if board.key not in missing]

    try:
        added, already_there = append_boards(path, candidates)
    except (BoardsConfigError, OSError) as exc:
        raise CommandError(f"{path}: nothing added: {exc}") from None
    for board in already_there:
        print(f"{board.key}: already in {path}, skipped")
    for board in added:
        print(f"{board.key}: added to {path} as {board.company!r}")
    return EXIT_INCOMPLETE if failed else 0


def _detect_all(urls: list[str]) -> tuple[list[tuple[str, Board]], list[str]]:
    """``([(url, board)...], [why a URL maps to no board...])``."""
    from jobpipeline.lib.detect import UndetectableURLError, detect_board

    boards = []
    unmapped = []
    for url in urls:
        try:
            boards.append((url, detect_board(url)))
        except UndetectableURLError as exc:
            unmapped.append(f"cannot map {exc}")
    return boards, unmapped


@contextlib.contextmanager
def _check_endpoints(replay_dir: Path | None, base_url_args: list[str]) -> Iterator[dict[str, str]]:
    """The API base URLs for ``--check``: a replay server of ``replay_dir``, the given ones, or live."""
    base_urls: dict[str, str] = {}
    for item in base_url_args:
        ats, sep, url = item.partition("=")
        if not sep or not ats or not url:
            raise CommandError(f"--base-url expects ATS=URL, got {item!r}")
        base_urls[ats.strip().lower()] = url.strip()
    if replay_dir is None:
        yield base_urls
        return
    from jobpipeline.lib.replay import ReplayServer

    try:
        server = ReplayServer(replay_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    with server:
        yield dict(server.base_urls)
