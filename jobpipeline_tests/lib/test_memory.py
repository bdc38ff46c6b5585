"""A sync hands the memory it freed back to the system (``lib/memory.py``).

glibc keeps freed memory inside its arenas, in holes between what is still in use; a process that
synced partition after partition grew by ~100 MB a 300k-posting partition (``bench/RESULTS.md``,
session 21). The first test makes such holes on a worker thread, as the sync's writer thread does,
and checks that ``release_freed_memory`` gives their pages back; the others, that every sync ends
with it, failed ones too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date

import polars as pl
import pytest

import jobpipeline.lib.sync as sync_module
from jobpipeline.lib.postings import BoardOutcome, Posting, postings_frame
from jobpipeline.lib.sync import sync_postings

HOLES = textwrap.dedent(
    """
    import ctypes, ctypes.util, json, threading
    from jobpipeline.lib.memory import release_freed_memory

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    CHUNK, COUNT = 16384, 12800  # 200 MiB in chunks under glibc's mmap threshold: inside an arena

    def rss_anon_mb():
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024

    def holes():  # every 64th chunk kept: the arena cannot shrink from its top
        chunks = [libc.malloc(CHUNK) for _ in range(COUNT)]
        for chunk in chunks:
            ctypes.memset(chunk, 1, CHUNK)
        for number, chunk in enumerate(chunks):
            if number % 64:
                libc.free(chunk)

    start = rss_anon_mb()
    worker = threading.Thread(target=holes)
    worker.start()
    worker.join()
    freed = rss_anon_mb()
    released = release_freed_memory()
    print(json.dumps({"start": start, "freed": freed, "after": rss_anon_mb(), "released": released}))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim; RssAnon from /proc")
def test_freed_memory_held_in_an_arena_goes_back_to_the_system():
    out = subprocess.run([sys.executable, "-c", HOLES], capture_output=True, text=True, check=True, timeout=120)
    rss = json.loads(out.stdout)
    assert rss["released"] is True
    # The holes stay resident until released: ~197 MiB of the 200 MiB were freed.
    assert rss["freed"] - rss["start"] > 150, rss
    assert rss["freed"] - rss["after"] > 150, rss


def _postings() -> pl.DataFrame:
    return postings_frame(
        [
            Posting(
                source="greenhouse", board="acme", source_job_id=str(n), company="Acme", title=f"Engineer {n}", description="Build APIs."
            )
            for n in range(3)
        ]
    )


OUTCOMES = [BoardOutcome(source="greenhouse", board="acme", ok=True)]


@pytest.fixture
def releases(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(sync_module, "release_freed_memory", lambda: calls.append("released") or True)
    return calls


@pytest.mark.parametrize("slice_jobs", [0, 1], ids=["one plan", "in slices"])
def test_every_sync_ends_by_releasing_what_it_freed(engine, releases, slice_jobs):
    result = sync_postings(engine, _postings(), seen_on=date(2026, 11, 1), outcomes=OUTCOMES, slice_jobs=slice_jobs)
    assert result.new == 3
    assert releases == ["released"]


def test_a_failed_sync_releases_too(engine, releases, monkeypatch: pytest.MonkeyPatch):
    def broken(*args, **kwargs):
        raise RuntimeError("plan failed")

    monkeypatch.setattr(sync_module, "plan_sync", broken)
    with pytest.raises(RuntimeError, match="plan failed"):
        sync_postings(engine, _postings(), seen_on=date(2026, 11, 1), outcomes=OUTCOMES, slice_jobs=0)
    assert releases == ["released"]
