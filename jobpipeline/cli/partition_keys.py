"""The one check of a partition key given on the command line (``run --date``, ``backfill --from/--to``).

A key Dagster does not know ends, deep in a run, in a ``DagsterUnknownPartitionError`` traceback;
checked here first it is one line that says what was wrong and which keys exist (exit code 2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobpipeline.cli.errors import CommandError

_FORMATS = {"YYYY-MM-DD": "%Y-%m-%d", "YYYY-MM": "%Y-%m"}


def check_partition_key(partitions_def: Any, key: str, shape: str, flag: str) -> str:
    """``key`` if it is a partition of ``partitions_def``, else ``CommandError`` naming ``flag``.

    ``shape`` is the key's form (``YYYY-MM-DD`` or ``YYYY-MM``); the message says whether the key
    is not of that form or out of range, and gives the first and last keys that exist.
    """
    if partitions_def.has_partition_key(key):
        return key
    first, last = partitions_def.get_first_partition_key(), partitions_def.get_last_partition_key()
    exist = f"partitions are {shape}, from {first} to {last}"
    try:
        datetime.strptime(key, _FORMATS[shape])
    except ValueError:
        raise CommandError(f"{flag} {key!r} is not a date in {shape} form: {exist}") from None
    if len(key) != len(shape):  # strptime reads "2026-1-5"; Dagster's keys are zero-padded
        raise CommandError(f"{flag} {key!r} is not a zero-padded date in {shape} form: {exist}")
    raise CommandError(f"{flag} {key!r} is not a partition: {exist}")
