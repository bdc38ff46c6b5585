"""Temporary folders left by a write that crashed (its process killed) are removed by the next write
of the same source; a live writer's folder is left alone; a crash between the two renames of a
replace does not lose the last complete partition. Real folders, a real dead process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from jobpipeline.lib.postings import Posting, postings_frame
from jobpipeline.lib.rawstore import ORPHAN_AGE_S, RawPartition


def dead_pid() -> int:
    """The id of a process that has just exited."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(done.stdout)


def write(raw: Path, day: str, n: int = 2) -> RawPartition:
    partition = RawPartition.at(raw, "lever", day)
    postings = postings_frame([Posting("lever", "palantir", f"p{i}", "Palantir", f"Engineer {i}") for i in range(n)])
    outcomes = [{"board": "palantir", "ok": True, "http_status": 200, "error": None, "n_postings": n, "n_bytes": 1, "duration_s": 0.1}]
    partition.write(postings, outcomes, {"palantir": ["{}"]})
    return partition


def crashed_write(raw: Path, day: str, pid: int, kind: str = "tmp") -> Path:
    """What a writer killed mid-write leaves: a half-written temporary folder."""
    path = raw / "lever" / f".{day}.{socket.gethostname()}-{pid}-0123abcd.{kind}"
    (path / "bodies").mkdir(parents=True)
    (path / "bodies" / "palantir.json").write_text('["{\\"jobs\\": [')
    return path


def test_the_next_write_removes_folders_of_dead_writers_and_keeps_live_ones(tmp_path):
    raw = tmp_path / "raw"
    write(raw, "2026-11-01")
    dead = crashed_write(raw, "2026-11-02", dead_pid())
    live = crashed_write(raw, "2026-11-03", os.getpid())  # a write still in progress in this process
    stale = raw / "lever" / ".2026-11-04.0123abcd.tmp"  # an older format's, from another host: only age tells
    stale.mkdir()
    old = time.time() - ORPHAN_AGE_S - 60
    os.utime(stale, (old, old))
    write(raw, "2026-11-05")
    left = sorted(p.name for p in (raw / "lever").iterdir())
    assert left == sorted(["2026-11-01", "2026-11-05", live.name])
    assert not dead.exists() and not stale.exists()
    assert RawPartition.at(raw, "lever", "2026-11-01").read_postings().height == 2


def test_a_crash_between_the_renames_of_a_replace_keeps_the_last_complete_partition(tmp_path):
    raw = tmp_path / "raw"
    complete = write(raw, "2026-11-01", n=3)
    # Killed after moving the partition aside (.old) and before moving the new one in (.tmp, half-written).
    aside = raw / "lever" / f".2026-11-01.{socket.gethostname()}-{dead_pid()}-0123abcd.old"
    complete.root.rename(aside)
    crashed_write(raw, "2026-11-01", dead_pid())
    write(raw, "2026-11-02")
    assert complete.exists() and complete.read_postings().height == 3
    assert sorted(p.name for p in (raw / "lever").iterdir()) == ["2026-11-01", "2026-11-02"]
