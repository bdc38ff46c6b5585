"""The seed project's way to sync, timed against ours on the same postings in the same run.

The seed's approach, as issue 15 describes it: one ORM object per posting in a SQLModel session,
its content hash computed and compared row by row. ``peer_sync`` does that over this project's own
tables (``job``, ``job_text``, ``job_posting``, created by ``create_schema`` with their indexes), so
both engines write the same schema: per posting it looks the posting up by its key, else its job by
dedup key, inserts a new job (flushing for its id), or compares the posting's hash with the one
stored on its row and rewrites the job if its content posting changed, merges locations, and moves
``last_seen``. It commits every ``--commit-every`` postings (1,000 by default; the earlier
"naive baseline" committed every 50, which on SQLite mostly timed fsyncs). It hashes with the same
xxh3 as ours, one row at a time, so the ratio measures the approach rather than the hash function.
It does not close vanished postings, keep hash history or handle merges and user data, so it does
less work than ours: the ratio is, if anything, flattering to the peer.

``compare`` runs both engines on the same frame, each into a fresh SQLite file: a cold sync (empty
store) and a re-sync of the same postings the next day (every hash unchanged), and gives
postings per (wall) second of each and the ratio ours / peer, also by CPU seconds, which moves less
when other work shares the machine. ``bench/ingest.py`` calls it on a sample
of its postings; alone:

    python bench/peer.py --postings 5000

Prints a table; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import xxhash

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jobpipeline.lib.normalize import HASHED_FIELDS  # noqa: E402
from jobpipeline.lib.sync.plan import ALIAS, JOB_CONTENT  # noqa: E402

DAY = date(2026, 11, 2)
_SEP = "\x1f"
_NOT_ALNUM = re.compile(r"[\W_]+")
JOB_FIELDS = (*ALIAS, *JOB_CONTENT)  # the job columns a posting fills, as the sync's plan takes them


@dataclass
class PeerCounts:
    postings: int = 0
    new: int = 0  # postings that made a new job
    changed: int = 0  # postings whose stored content hash differed, on the posting the job reads
    unchanged: int = 0


def row_dedup_key(row: dict) -> str:
    """Ours (``normalize.dedup_keys``) computed for one row: folded company and title, description digest."""
    company = _NOT_ALNUM.sub(" ", (row["company"] or "").lower()).strip()
    title = _NOT_ALNUM.sub(" ", (row["title"] or "").lower()).strip()
    digest = xxhash.xxh3_128_hexdigest((row["description"] or "").encode())
    return xxhash.xxh3_64_hexdigest(f"{company}{_SEP}{title}{_SEP}{digest}".encode())


def row_content_hash(row: dict) -> str:
    """A content hash of one row over the fields ours hashes (``HASHED_FIELDS``)."""
    parts = []
    for name in HASHED_FIELDS:
        value = row[name]
        parts.append("|".join(sorted(value)) if name == "locations" else "" if value is None else str(value))
    return xxhash.xxh3_128_hexdigest(_SEP.join(parts).encode())


def peer_sync(engine, frame: pl.DataFrame, seen_on: date, commit_every: int = 1_000) -> PeerCounts:
    """Sync ``frame`` (``POSTING_SCHEMA`` rows) the seed's way: one ORM object per posting."""
    from sqlmodel import Session, select

    from jobpipeline.lib.store import Job, JobPosting, JobText

    counts = PeerCounts()
    synced_at = datetime.now(UTC)
    with Session(engine) as session:
        for i, row in enumerate(frame.iter_rows(named=True)):
            key, content_hash = row_dedup_key(row), row_content_hash(row)
            fields = {name: row[name] for name in JOB_FIELDS}
            posting = session.get(JobPosting, (row["source"], row["board"], row["source_job_id"]))
            job = session.get(Job, posting.job_id) if posting else session.exec(select(Job).where(Job.dedup_key == key)).first()
            if job is None:
                job = Job(
                    dedup_key=key,
                    content_hash=content_hash,
                    first_seen=seen_on,
                    last_seen=seen_on,
                    content_seen=seen_on,
                    updated_at=seen_on,
                    synced_at=synced_at,
                    **fields,
                )
                session.add(job)
                session.flush()  # the job's id, for its text and posting rows
                session.add(JobText(job_id=job.id, description=row["description"]))
                counts.new += 1
            elif posting is not None and posting.content_hash != content_hash and _is_canonical(job, row):
                for name, value in fields.items():
                    setattr(job, name, value)
                job.content_hash, job.content_seen, job.updated_at, job.synced_at = content_hash, seen_on, seen_on, synced_at
                session.get(JobText, job.id).description = row["description"]
                counts.changed += 1
            else:
                merged = sorted(set(job.locations) | set(row["locations"]))
                if merged != job.locations:
                    job.locations = merged
                counts.unchanged += 1
            job.last_seen = max(job.last_seen, seen_on)
            if posting is None:
                session.add(
                    JobPosting(
                        source=row["source"],
                        board=row["board"],
                        source_job_id=row["source_job_id"],
                        job_id=job.id,
                        content_hash=content_hash,
                        first_seen=seen_on,
                        last_seen=seen_on,
                    )
                )
            else:
                posting.content_hash, posting.last_seen = content_hash, max(posting.last_seen, seen_on)
            counts.postings += 1
            if (i + 1) % commit_every == 0:
                session.commit()
        session.commit()
    return counts


def _is_canonical(job, row: dict) -> bool:
    """Whether ``row`` is the posting ``job`` takes its content from (a job's other postings only add locations)."""
    return (job.source, job.board, job.source_job_id) == (row["source"], row["board"], row["source_job_id"])


def stored_jobs(engine) -> int:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM job")).scalar_one()


def compare(frame: pl.DataFrame, commit_every: int = 1_000) -> dict:
    """Ours and the peer on ``frame``, each into a fresh SQLite file: cold sync, then an unchanged
    re-sync the next day. Rates are postings per second; ratios are ours / peer."""
    from jobpipeline.lib.postings import BoardOutcome
    from jobpipeline.lib.store import create_schema, get_engine
    from jobpipeline.lib.sync import sync_postings

    scope = [BoardOutcome(source=source, board=board, ok=True) for source, board in frame.select("source", "board").unique().rows()]
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ours, peer = get_engine(f"sqlite:///{tmp}/ours.db"), get_engine(f"sqlite:///{tmp}/peer.db")
        create_schema(ours)
        create_schema(peer)
        for label, day in (("cold", DAY), ("resync", DAY + timedelta(days=1))):
            with timed(timings, f"ours_{label}"):
                sync_postings(ours, frame, seen_on=day, outcomes=scope)
            with timed(timings, f"peer_{label}"):
                counts = peer_sync(peer, frame, day, commit_every)
            if label == "resync" and counts.new + counts.changed:
                raise AssertionError(f"the peer's re-sync of unchanged postings changed something: {counts}")
        ours_jobs, peer_jobs = stored_jobs(ours), stored_jobs(peer)
        ours.dispose()
        peer.dispose()
    if ours_jobs != peer_jobs:
        raise AssertionError(f"ours stored {ours_jobs} jobs, the peer {peer_jobs}: they did not sync the same postings alike")
    result: dict = {"postings": frame.height, "jobs": ours_jobs}
    for label in ("cold", "resync"):
        ours_rate, peer_rate = frame.height / timings[f"ours_{label}_s"], frame.height / timings[f"peer_{label}_s"]
        ours_cpu_rate, peer_cpu_rate = frame.height / timings[f"ours_{label}_cpu_s"], frame.height / timings[f"peer_{label}_cpu_s"]
        result |= {
            f"ours_{label}_per_s": ours_rate,
            f"peer_{label}_per_s": peer_rate,
            f"{label}_ratio": ours_rate / peer_rate,
            f"{label}_cpu_ratio": ours_cpu_rate / peer_cpu_rate,
        }
    return result


@contextmanager
def timed(timings: dict[str, float], name: str):
    """Wall and CPU seconds of the block, as ``name_s`` and ``name_cpu_s``: on a loaded machine the
    CPU figure is the steadier one (each engine runs in one thread)."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    timings[f"{name}_s"], timings[f"{name}_cpu_s"] = time.perf_counter() - wall, time.process_time() - cpu


def print_comparison(r: dict) -> None:
    print(f"{'same postings':>13} {'jobs':>7} {'':>6} {'ours/s':>8} {'peer/s':>8} {'ours / peer':>11} {'by CPU time':>11}")
    for label in ("cold", "resync"):
        print(
            f"{r['postings']:>13} {r['jobs']:>7} {label:>6} {r[f'ours_{label}_per_s']:>8.0f} {r[f'peer_{label}_per_s']:>8.0f} "
            f"{r[f'{label}_ratio']:>10.1f}× {r[f'{label}_cpu_ratio']:>10.1f}×"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=5_000, help="synthetic postings, made as bench/ingest.py makes them")
    parser.add_argument("--commit-every", type=int, default=1_000, help="the peer commits its session every this many postings")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ingest import synthetic

    result = compare(synthetic(args.postings), args.commit_every)
    print_comparison(result)
    print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    main()
