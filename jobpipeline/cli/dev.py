"""``jobpipeline dev``: the Dagster UI (``dagster dev``) on the same project, home and instance as ``run``."""

from __future__ import annotations

import argparse
import os
import sys

from jobpipeline import settings
from jobpipeline.cli.instance import prepared_instance


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dev", help="open the Dagster UI on this project (dagster dev)")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    with prepared_instance():  # created under the lock, pools set, runs of dead workers failed
        pass
    print(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']}  JOBPIPELINE_HOME={settings.home()}")
    os.execv(
        sys.executable,
        [sys.executable, "-m", "dagster", "dev", "-w", str(settings.REPO_DIR / "workspace.yaml"), "-h", args.host, "-p", str(args.port)],
    )
