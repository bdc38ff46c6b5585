"""The operational store: SQLModel tables, engine creation and schema set-up.

Any SQLAlchemy URL works (SQLite by default, PostgreSQL in the docker stack). SQLite-only features
(WAL, FTS5) sit behind ``engine.dialect.name`` checks.
"""

from __future__ import annotations

import importlib
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Column, event
from sqlmodel import Field, SQLModel

from jobpipeline import settings

# Application status a user can give a job; the sync never writes it.
APPLICATION_STATUSES = ("saved", "applied", "interviewing", "offer", "rejected", "archived")

# Modules that define more tables in the same metadata (imported by ``create_schema``).
TABLE_MODULES = ("jobpipeline.lib.extract.cache",)


class Job(SQLModel, table=True):
    """One deduplicated job. Its content comes from its canonical posting (source, board, source_job_id)."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(index=True)
    content_hash: str = Field(index=True)
    source: str
    board: str
    source_job_id: str
    company: str = Field(index=True)
    title: str
    locations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    remote: bool | None = None
    workplace_type: str | None = None
    description: str = ""
    department: str | None = None
    employment_type: str | None = None
    posted_at: datetime | None = Field(default=None, index=True)
    source_updated_at: datetime | None = None
    salary_min: float | None = None
    salary_max: float | None = None
    salary_currency: str | None = None
    salary_period: str | None = None
    salary_text: str | None = None
    apply_url: str | None = None
    first_seen: date
    last_seen: date
    content_seen: date  # partition date of the content held now (later partitions win)
    updated_at: date  # earliest partition date at which the current content hash was seen
    closed_at: date | None = Field(default=None, index=True)
    synced_at: datetime  # wall clock of the last sync that changed this row
    # User fields: written only by the user, never by a sync.
    favorite: bool = Field(default=False)
    notes: str | None = None
    status: str | None = Field(default=None, index=True)


class JobPosting(SQLModel, table=True):
    """One posting on one board, pointing at the job it was deduplicated into."""

    __tablename__ = "job_posting"

    source: str = Field(primary_key=True)
    board: str = Field(primary_key=True)
    source_job_id: str = Field(primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True)
    content_hash: str
    first_seen: date
    last_seen: date
    closed_at: date | None = None  # first successful scrape of its board after last_seen


class JobHashHistory(SQLModel, table=True):
    """Every content hash a job has had, with the first partition date it was seen on."""

    __tablename__ = "job_hash_history"

    job_id: int = Field(foreign_key="job.id", primary_key=True)
    content_hash: str = Field(primary_key=True)
    first_seen: date


class BoardScrape(SQLModel, table=True):
    """Outcome of scraping one board for one partition date (drives closing and scrape health)."""

    __tablename__ = "board_scrape"

    source: str = Field(primary_key=True)
    board: str = Field(primary_key=True)
    scraped_on: date = Field(primary_key=True)
    ok: bool
    http_status: int | None = None
    error: str | None = None
    n_postings: int = 0
    n_bytes: int = 0
    duration_s: float = 0.0


_FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS job_fts USING fts5("
    "title, description, content='job', content_rowid='id')",
    "CREATE TRIGGER IF NOT EXISTS job_fts_insert AFTER INSERT ON job BEGIN "
    "INSERT INTO job_fts(rowid, title, description) VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER IF NOT EXISTS job_fts_delete AFTER DELETE ON job BEGIN "
    "INSERT INTO job_fts(job_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); END",
    # Only content edits reindex; timestamp moves (the bulk of a re-sync) do not.
    "CREATE TRIGGER IF NOT EXISTS job_fts_update AFTER UPDATE OF title, description ON job BEGIN "
    "INSERT INTO job_fts(job_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); "
    "INSERT INTO job_fts(rowid, title, description) VALUES (new.id, new.title, new.description); END",
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def get_engine(url: str | None = None) -> sa.Engine:
    """An engine for ``url`` (default: ``settings.database_url()``); SQLite gets WAL and a busy timeout."""
    url = url or settings.database_url()
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_schema(engine: sa.Engine) -> None:
    """Create every table (idempotent), plus FTS5 over title + description on SQLite."""
    for module in TABLE_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    SQLModel.metadata.create_all(engine)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            for ddl in _FTS_DDL:
                conn.exec_driver_sql(ddl)


def search_jobs(engine: sa.Engine, query: str, limit: int = 20) -> list[sa.Row]:
    """Full-text search over title + description (FTS5 on SQLite, ILIKE elsewhere)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = sa.text(
                "SELECT job.id, job.company, job.title FROM job_fts JOIN job ON job.id = job_fts.rowid "
                "WHERE job_fts MATCH :q ORDER BY rank LIMIT :n"
            )
            return list(conn.execute(sql, {"q": query, "n": limit}))
        job = Job.__table__
        pattern = f"%{query}%"
        stmt = (
            sa.select(job.c.id, job.c.company, job.c.title)
            .where(sa.or_(job.c.title.ilike(pattern), job.c.description.ilike(pattern)))
            .limit(limit)
        )
        return list(conn.execute(stmt))
