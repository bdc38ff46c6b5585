"""A small known store (two boards, three days, six jobs, enrichments) for the analytics tests.

Days: Mon 2026-01-05 and Tue 2026-01-06 (week 1), Mon 2026-01-12 (week 2).

    job  board            seen on          closed_at   salary (posting)         enrichment (latest ok)
    A1   greenhouse/acme  05, 06, 12       -           100k-140k USD / year     senior; Python, SQL (v1: Java)
    A2   greenhouse/acme  05, 06           2026-01-12  50-70 USD / hour         mid;    Python, Spark
    A3   greenhouse/acme  05               2026-01-06  -                        junior; Figma
    A4   greenhouse/acme  12               -           -                        -;      TypeScript, Python (v2 failed)
    G1   lever/globex     05, 06           -           6,000-8,000 EUR / month  senior; Kubernetes, Python
    G2   lever/globex     06               -           - (extracted 90k-110k EUR / year) mid; Python, PyTorch

On 2026-01-12 the globex board fails (HTTP 500): nothing of globex closes that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from jobpipeline.lib.analytics import load
from jobpipeline.lib.postings import BoardOutcome, Posting, postings_frame
from jobpipeline.lib.store import Job, create_schema, get_engine
from jobpipeline.lib.sync import sync_postings

D1, D2, D3 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 12)
W1, W2 = date(2026, 1, 5), date(2026, 1, 12)

POSTINGS = {
    "A1": Posting(
        "greenhouse",
        "acme",
        "a1",
        "Acme",
        "Backend Engineer",
        ["Berlin"],
        workplace_type="hybrid",
        description="Build APIs.",
        salary_min=100_000,
        salary_max=140_000,
        salary_currency="USD",
        salary_period="year",
    ),
    "A2": Posting(
        "greenhouse",
        "acme",
        "a2",
        "Acme",
        "Data Engineer",
        ["Remote"],
        remote=True,
        description="Pipelines.",
        salary_min=50,
        salary_max=70,
        salary_currency="USD",
        salary_period="hour",
    ),
    "A3": Posting("greenhouse", "acme", "a3", "Acme", "Product Designer", ["Berlin"], description="Design things."),
    "A4": Posting("greenhouse", "acme", "a4", "Acme", "Frontend Engineer", ["Berlin"], description="React."),
    "G1": Posting(
        "lever",
        "globex",
        "g1",
        "Globex",
        "Site Reliability Engineer",
        ["Remote"],
        workplace_type="remote",
        description="Keep it up.",
        salary_min=6_000,
        salary_max=8_000,
        salary_currency="EUR",
        salary_period="month",
    ),
    "G2": Posting("lever", "globex", "g2", "Globex", "ML Engineer", ["Paris"], workplace_type="onsite", description="Models."),
}
SCRAPES = {  # day -> (postings seen, boards ok, board outcomes)
    D1: (["A1", "A2", "A3", "G1"], [("greenhouse", "acme"), ("lever", "globex")], []),
    D2: (["A1", "A2", "G1", "G2"], [("greenhouse", "acme"), ("lever", "globex")], []),
    D3: (
        ["A1", "A4"],
        [("greenhouse", "acme")],
        [BoardOutcome(source="lever", board="globex", ok=False, http_status=500, error="HTTP 500")],
    ),
}
# (job, model, prompt_version, status, enriched_at, fields)
ENRICHMENTS = [
    ("A1", "m", "v1", "ok", "2026-01-05 10:00:00", {"skills": ["Java"], "seniority": "mid"}),  # superseded by v2
    ("A1", "m", "v2", "ok", "2026-01-06 10:00:00", {"skills": ["Python", "SQL"], "seniority": "senior"}),
    ("A2", "m", "v2", "ok", "2026-01-06 10:00:00", {"skills": ["Python", "Spark"], "seniority": "mid"}),
    ("A3", "m", "v2", "ok", "2026-01-06 10:00:00", {"skills": ["Figma"], "seniority": "junior"}),
    ("A4", "m", "v1", "ok", "2026-01-12 09:00:00", {"skills": ["TypeScript", "Python"]}),
    ("A4", "m", "v2", "failed", "2026-01-12 10:00:00", {"skills": ["React"], "seniority": "senior"}),  # failed: ignored
    ("G1", "m", "v2", "ok", "2026-01-06 10:00:00", {"skills": ["Kubernetes", "Python"], "seniority": "senior"}),
    (
        "G2",
        "m",
        "v2",
        "ok",
        "2026-01-06 10:00:00",
        {
            "skills": ["Python", "PyTorch"],
            "seniority": "mid",
            "salary_min": 90_000,
            "salary_max": 110_000,
            "salary_currency": "EUR",
            "salary_period": "year",
        },
    ),
]


@dataclass
class KnownStore:
    engine: sa.Engine
    url: str
    path: Path
    ids: dict[str, int]  # "A1" -> job id


def enrichment_table(engine: sa.Engine) -> sa.Table:
    """The cache table (the real one once it exists; until then one with the documented columns)."""
    create_schema(engine)
    found = load.enrichment_table(engine)
    if found is None:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE enrichment_cache (content_hash TEXT, model TEXT, prompt_version TEXT, status TEXT, "
                "skills JSON, seniority TEXT, employment_type TEXT, remote TEXT, remote_regions JSON, salary_min FLOAT, "
                "salary_max FLOAT, salary_currency TEXT, salary_period TEXT, years_experience_min INTEGER, "
                "visa_sponsorship BOOLEAN, summary TEXT, created_at DATETIME, "
                "PRIMARY KEY (content_hash, model, prompt_version))"
            )
        found = load.enrichment_table(engine)
    return sa.Table(found[0], sa.MetaData(), autoload_with=engine)


def add_enrichments(engine: sa.Engine, hashes: dict[str, str], rows=ENRICHMENTS) -> None:
    table = enrichment_table(engine)
    time_col = load.ENRICHED_AT if load.ENRICHED_AT in table.c else None
    values = []
    for job, model, version, status, at, fields in rows:
        row = {
            "content_hash": hashes[job],
            "model": model,
            "prompt_version": version,
            "status": status,
            "skills": fields.get("skills", []),
            "remote_regions": [],
            "summary": "",
            **fields,
        }
        if time_col:
            row[time_col] = datetime.fromisoformat(at).replace(tzinfo=UTC)
        for column in table.c:  # fill whatever else the real cache requires
            if column.name not in row and not column.nullable and column.default is None and not column.primary_key:
                row[column.name] = _placeholder(column.type)
        values.append({k: v for k, v in row.items() if k in table.c})
    keys = {k for row in values for k in row}  # executemany takes its columns from the first row
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [{k: row.get(k) for k in keys} for row in values])


def _placeholder(type_: sa.types.TypeEngine):
    python_type = getattr(type_, "python_type", str)
    return {int: 0, float: 0.0, bool: False, str: "", dict: {}, list: []}.get(python_type, "")


def make_store(path: Path, enrich: bool = True) -> KnownStore:
    url = f"sqlite:///{path}"
    engine = get_engine(url)
    create_schema(engine)
    for day, (seen, ok_boards, outcomes) in SCRAPES.items():
        frame = postings_frame([POSTINGS[k] for k in seen])
        ok = [BoardOutcome(source=source, board=board, ok=True) for source, board in ok_boards]
        sync_postings(engine, frame, seen_on=day, outcomes=ok + outcomes, now=datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
    job = Job.__table__
    with engine.connect() as conn:
        by_source_id = {
            r.source_job_id: (r.id, r.content_hash) for r in conn.execute(sa.select(job.c.source_job_id, job.c.id, job.c.content_hash))
        }
    ids = {k: by_source_id[p.source_job_id][0] for k, p in POSTINGS.items()}
    if enrich:
        add_enrichments(engine, {k: by_source_id[p.source_job_id][1] for k, p in POSTINGS.items()})
    return KnownStore(engine=engine, url=url, path=path, ids=ids)


@pytest.fixture
def store(tmp_path: Path) -> KnownStore:
    known = make_store(tmp_path / "store.db")
    yield known
    known.engine.dispose()


@pytest.fixture
def analytics_db(tmp_path: Path) -> Path:
    return tmp_path / "analytics.duckdb"
