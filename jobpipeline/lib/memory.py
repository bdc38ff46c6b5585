"""Freed heap memory handed back to the operating system after a big step.

glibc's allocator keeps memory a process has freed inside its arenas (one per thread that
allocated, up to eight per core) for reuse, and gives back only what lies at the top of each. A
sync frees most of what it allocated, but in holes between what it keeps, so a process that syncs
one partition after another (a backfill run, the simulation in ``bench/simulate.py``) grew by
~90 MB a partition of 300k postings and held ~3 GB after a few days of 3.5 M open postings, while
each sync's own peak stayed 150–275 MB above the RSS before it. ``malloc_trim`` returns the free
pages inside the arenas too, in 1–21 ms at 300k postings. Elsewhere (macOS, musl) there is no
such call and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # no C library to load, or not glibc's
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Give the heap's free pages back to the system (glibc's ``malloc_trim``). False where the
    C library has no such call."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
