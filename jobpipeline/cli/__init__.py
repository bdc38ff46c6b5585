"""The ``jobpipeline`` console script: one sub-command module per verb, each with ``register``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

# Each module defines ``register(subparsers)``, adding its verb with ``set_defaults(func=...)``;
# ``func(args)`` returns the process exit code.
COMMAND_MODULES = ("run", "dev", "replay", "extract", "query", "backfill", "boards")


class CommandError(Exception):
    """A user error: printed as one line, exit code 2, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobpipeline", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"jobpipeline.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"jobpipeline.cli.{name}":
                continue  # verb not built yet in this checkout
            raise
        module.register(subparsers)
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
