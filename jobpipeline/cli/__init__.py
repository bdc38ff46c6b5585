"""The ``jobpipeline`` console script: one sub-command module per verb, each with ``register``."""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from jobpipeline.cli.errors import CommandError

__all__ = ["CommandError", "build_parser", "entry", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Each verb's module defines ``register(subparsers)``, adding its verb with
    ``set_defaults(func=...)``; ``func(args)`` returns the process exit code. The modules are
    imported here, not at the top, so that ``from jobpipeline.cli import main`` stays cheap."""
    from jobpipeline.cli import backfill, boards, dev, extract, query, replay, run

    parser = argparse.ArgumentParser(prog="jobpipeline", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for verb in (run, dev, replay, extract, query, backfill, boards):
        verb.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Dagster flags beta/preview APIs on every import; the CLI's output is for the user's data.
    warnings.filterwarnings("ignore", message=r".*(is currently in beta|is currently in preview|is deprecated).*")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"jobpipeline {args.command}: {exc}", file=sys.stderr)
        return 2


def entry() -> None:
    """Console-script entry: exits without interpreter finalization, where DuckDB's bindings print
    spurious nanobind "leaked" reports; output is flushed first, and every resource is closed by then."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
