"""The operational store: SQLModel tables, engine creation and schema set-up.

Any SQLAlchemy URL works (SQLite by default, PostgreSQL in the docker stack). SQLite-only features
(WAL, FTS5) sit behind ``engine.dialect.name`` checks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Column, LargeBinary, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel

from jobpipeline import settings

log = logging.getLogger(__name__)

# Application status a user can give a job; the sync never writes it.
APPLICATION_STATUSES = ("saved", "applied", "interviewing", "offer", "rejected", "archived")


class Job(SQLModel, table=True):
    """One deduplicated job. Its content comes from its canonical posting (source, board, source_job_id)."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(index=True)
    content_hash: str  # not indexed: see ``DROPPED_INDEXES``
    source: str
    board: str
    source_job_id: str
    company: str = Field(index=True)
    title: str
    locations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    remote: bool | None = None
    workplace_type: str | None = None
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


class JobText(SQLModel, table=True):
    """A job's description, apart from the hot ``job`` row: a daily sync moves ``last_seen`` on every
    open job, and SQLite rewrites a whole record on UPDATE (7× slower with 5 KB descriptions inline).
    ``job_full`` is the view that joins them back."""

    __tablename__ = "job_text"

    job_id: int = Field(foreign_key="job.id", primary_key=True)
    description: str = Field(default="", sa_column_kwargs={"info": {"long_text": True}})  # bound as bytes by the sync (fast_sql)


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


class BoardScrapeSkipped(SQLModel, table=True):
    """A posting a successful scrape listed but could not read (``BoardResult.skipped_ids``).

    The board still lists it, so the sync does not close it from that day; its content stays as
    last read. A table of its own, not a column of ``board_scrape``, so existing stores gain it
    from ``create_schema`` without a migration."""

    __tablename__ = "board_scrape_skipped"

    source: str = Field(primary_key=True)
    board: str = Field(primary_key=True)
    scraped_on: date = Field(primary_key=True)
    source_job_id: str = Field(primary_key=True)


class Enrichment(SQLModel, table=True):
    """Fields extracted from one posting content by one model with one prompt version: the enrichment
    cache (``extract/cache.py`` reads and writes it; the analytics read its ok rows)."""

    __tablename__ = "enrichment"

    content_hash: str = Field(primary_key=True)
    model: str = Field(primary_key=True)  # "rules" for the deterministic extractor
    prompt_version: str = Field(primary_key=True)
    status: str = Field(index=True)  # ok | failed
    error: str | None = None
    attempts: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0
    backend: str = ""
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # The extracted fields, as real columns so analytics can query them.
    seniority: str | None = Field(default=None, index=True)
    employment_type: str | None = None
    remote: str | None = Field(default=None, index=True)
    remote_regions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))
    salary_min: float | None = None
    salary_max: float | None = None
    salary_currency: str | None = None
    salary_period: str | None = None
    years_experience_min: int | None = None
    visa_sponsorship: bool | None = None
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))
    summary: str | None = None
    # Where each salary/remote value came from: "api" (the board said so) or "extracted".
    salary_source: str | None = None
    remote_source: str | None = None


class StoreChange(SQLModel, table=True):
    """One write transaction's changes to the rows the analytics read (``lib/changes.py``): the
    change feed that lets ``job_snapshot`` follow a daily sync without reading every job again.
    Written on SQLite only, pruned after two weeks. A table of its own, so existing stores gain it
    from ``create_schema`` without a migration."""

    __tablename__ = "store_change"

    seq: int | None = Field(default=None, primary_key=True)
    changed_at: datetime
    kind: str  # "sync" | "enrichment"
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # Arrow IPC of changes.CHANGE_SCHEMA rows


class SearchIndexPending(SQLModel, table=True):
    """Jobs a sync inserted or rewrote whose search-index entry is not refreshed yet.

    Written in the sync's own transaction, emptied by ``refresh_search_index`` in its: a crash
    between the two (the index is refreshed after the sync commits) leaves the ids here, and the
    next sync's refresh indexes them. Used on SQLite only (FTS5); elsewhere it stays empty."""

    __tablename__ = "job_search_pending"

    job_id: int = Field(primary_key=True)


# A plain (self-contained) FTS5 table keyed by job id: rows can be replaced by rowid alone, so
# indexing can run after the sync, in bulk, and be redone safely after a crash.
_FTS_DDL = ("CREATE VIRTUAL TABLE IF NOT EXISTS job_search USING fts5(title, description)",)
_VIEW_SQL = "SELECT job.*, job_text.description FROM job LEFT JOIN job_text ON job_text.job_id = job.id"


def job_full() -> sa.Select:
    """Jobs with their description: the query behind the ``job_full`` view."""
    job, text = Job.__table__, JobText.__table__
    return sa.select(job, text.c.description).join(text, text.c.job_id == job.c.id, isouter=True)


def has_search_index(conn: sa.Connection) -> bool:
    """Whether the store keeps the FTS5 search index: SQLite, with ``Settings.search_index`` on
    when ``create_schema`` last ran."""
    return (
        conn.dialect.name == "sqlite"
        and conn.exec_driver_sql("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'job_search'").first() is not None
    )


def mark_for_search_index(conn: sa.Connection, job_ids: list[int]) -> None:
    """Note jobs whose search entry must be refreshed, inside the transaction that changed them
    (nothing where the store keeps no search index)."""
    if not job_ids or not has_search_index(conn):
        return
    conn.exec_driver_sql("INSERT OR IGNORE INTO job_search_pending (job_id) VALUES (?)", [(i,) for i in sorted(set(job_ids))])


def refresh_search_index(engine: sa.Engine, batch: int | None = None) -> int:
    """(Re-)index in FTS5 on SQLite (a no-op elsewhere) every job pending (``job_search_pending``:
    what each sync inserted or rewrote, marked in its own transaction, so also what a crash after
    its commit left unindexed, and what ``create_schema`` found missing in an older store).
    Returns the number of jobs indexed: 0 where the store keeps no index (``has_search_index``).

    Kept out of the sync transaction: tokenizing descriptions costs several times the sync itself,
    and search may lag a sync by seconds without harm. Reads no more than that: looking for jobs
    missing from the index here, after every partition, scanned the index's copy of every text
    (``SELECT rowid FROM job_search``; at a million jobs 3.3 GB, seconds from the page cache).

    In transactions of ``batch`` jobs (default ``SEARCH_INDEX_BATCH``), each taking its jobs off the
    pending list: a first day at a million jobs took 155 s, and in one transaction it held the
    store (``writer``) from every other source's sync that long, and a crash lost all of it. Two
    refreshes at once (two sources' ``jobs`` steps) share the pending list, batch by batch. A store
    with nothing to do is only read."""
    if engine.dialect.name != "sqlite":
        return 0
    batch = batch or SEARCH_INDEX_BATCH
    with engine.connect() as conn:
        if not has_search_index(conn) or conn.exec_driver_sql("SELECT 1 FROM job_search_pending LIMIT 1").first() is None:
            return 0
    indexed = 0
    while True:
        with writer(engine).begin() as conn:
            if not has_search_index(conn):  # dropped meanwhile (``Settings.search_index`` off)
                return indexed
            ids = [r[0] for r in conn.exec_driver_sql("SELECT job_id FROM job_search_pending ORDER BY job_id LIMIT ?", (batch,))]
            for start in range(0, len(ids), 500):
                chunk = tuple(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                conn.exec_driver_sql(f"DELETE FROM job_search WHERE rowid IN ({marks})", chunk)
                conn.exec_driver_sql(
                    "INSERT INTO job_search(rowid, title, description) SELECT job.id, job.title, job_text.description "
                    f"FROM job LEFT JOIN job_text ON job_text.job_id = job.id WHERE job.id IN ({marks})",
                    chunk,
                )
                conn.exec_driver_sql(f"DELETE FROM job_search_pending WHERE job_id IN ({marks})", chunk)
        indexed += len(ids)
        if len(ids) < batch:
            return indexed


SEARCH_INDEX_BATCH = 20_000  # jobs re-indexed per transaction (``refresh_search_index``)
SQLITE_PAGE_SIZE = 16_384
BUSY_TIMEOUT_MS = 30_000  # what a read waits for a lock (a WAL reader rarely does)
SQLITE_CACHE_KIB = 65_536  # a connection's page cache (64 MiB), unless a sync sizes its own
SYNC_CACHE_MIN_KIB = 16_384
# The WAL file's size once a transaction after a checkpoint commits: SQLite otherwise keeps the file
# at its largest transaction's size for good (a first sync's: 3.4 GB at 3.5 M open postings).
SQLITE_WAL_LIMIT_BYTES = 64 * 1024 * 1024
SYNC_CACHE_BYTES_PER_ROW = 64  # page cache a sync gives each posting stored or synced


@contextmanager
def sync_page_cache(conn: sa.Connection, postings: int) -> Iterator[Callable[[], None]]:
    """On SQLite, the page cache of a sync of ``postings`` into this store: ``SYNC_CACHE_MIN_KIB``
    while it reads and restamps, and sized to the work (``SYNC_CACHE_BYTES_PER_ROW`` per posting
    stored or synced, 16-64 MiB) once the callable it yields is called, before the sync writes keys
    into the store's indexes; the connection's own size is set back after it.

    A sync keeps its dirty pages in the cache until it commits (spilling when full), so a sync of
    100k postings filled 64 MiB whatever it needed; 16 MiB took 20-50 MB off the peak at the same
    CPU (100k and 300k postings, cold and re-synced: bench/RESULTS.md, 2026-12-03). A million
    postings' random inserts into the key and hash indexes want the large cache (16 MiB: +11 % CPU),
    and the indexes grow with the store, hence per row. Reads and restamps (rows rewritten in place,
    no indexed column) gain nothing from it: a re-sync of a million unchanged postings peaked
    ~50 MB lower at 16 MiB, at the same CPU (session 13), so the cache grows only for a plan that
    inserts or rewrites jobs, inserts postings or merges (``SyncPlan.writes_index_keys``)."""
    if conn.dialect.name != "sqlite":
        yield lambda: None
        return
    stored = conn.exec_driver_sql("SELECT max(rowid) FROM job_posting").scalar() or 0
    wanted = min(SQLITE_CACHE_KIB, max(SYNC_CACHE_MIN_KIB, (stored + postings) * SYNC_CACHE_BYTES_PER_ROW // 1024))
    size = SYNC_CACHE_MIN_KIB

    def for_index_writes() -> None:
        nonlocal size
        if size != wanted:
            size = wanted
            conn.exec_driver_sql(f"PRAGMA cache_size=-{size}")

    conn.exec_driver_sql(f"PRAGMA cache_size=-{size}")
    try:
        yield for_index_writes
    finally:
        with suppress(sa.exc.DBAPIError):  # on a failed sync's connection: never hide the failure
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below emits BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # first: switching to WAL takes a lock too
    # 16 KiB pages where the file is new (an existing store keeps its own): a ~3 KB description
    # filled a 4 KiB page alone; a cold sync of 100k postings took 10-12 % less time.
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_LIMIT_BYTES}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # bulk syncs touch six indexes at once
    cursor.execute("PRAGMA temp_store=MEMORY")
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
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _postgres_begin)
    return engine


class StoreBusyError(RuntimeError):
    """A write to the store waited ``Settings.store_write_wait_s`` for another writer and gave up;
    nothing of it was written."""


# The PostgreSQL advisory lock every store writer holds for its transaction ("jobpipe" in ASCII).
STORE_LOCK_KEY = int.from_bytes(b"jobpipe", "big")


def writer(engine: sa.Engine) -> sa.Engine:
    """The engine for a write transaction to the store: one writer at a time, the others waiting up
    to ``Settings.store_write_wait_s`` in turn (then ``StoreBusyError``).

    Several writers run at once in a deployment: the syncs of several sources (one run per source,
    four runs at a time), the search index refresh, the enrichment cache, ``create_schema``. A sync
    plans from the store as it stands when it begins (``sync/``), so on PostgreSQL two syncs side
    by side each inserted a job for one posting that two sources list (same dedup key): two jobs
    where the store keeps one. On SQLite the write lock is taken up front (BEGIN IMMEDIATE), so
    writers queue instead of failing when a read transaction tries to upgrade to a write, and wait
    the setting's time, not the connection's 30 s busy timeout: at a million open postings a sync
    holds the store 17-21 s a day (50 s a first day), and four of them queue. On PostgreSQL each write transaction first
    takes the advisory lock ``STORE_LOCK_KEY`` (released at its end)."""
    return engine.execution_options(store_writer=True)


def _write_wait_ms() -> int:
    return max(1, round(settings.current().store_write_wait_s * 1000))


def _busy(engine: sa.Engine, wait_ms: int, error: Exception) -> StoreBusyError:
    return StoreBusyError(
        f"the store {engine.url.render_as_string(hide_password=True)} stayed locked by another writer for "
        f"{wait_ms / 1000:g} s (JOBPIPELINE_STORE_WRITE_WAIT_S); nothing was written: {error}"
    )


def _sqlite_begin(conn: sa.Connection) -> None:
    if not conn.get_execution_options().get("store_writer", False):
        conn.exec_driver_sql("BEGIN")
        return
    wait_ms = _write_wait_ms()
    try:
        conn.exec_driver_sql("PRAGMA busy_timeout=0")  # first without waiting: a wait is said
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except sa.exc.OperationalError as error:
            if not _locked(error):
                raise
        _waiting(conn.engine, wait_ms)
        conn.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except sa.exc.OperationalError as error:
            if _locked(error):
                raise _busy(conn.engine, wait_ms, error.orig) from error
            raise
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _locked(error: sa.exc.OperationalError) -> bool:
    return "locked" in str(error.orig) or "busy" in str(error.orig)


def _postgres_begin(conn: sa.Connection) -> None:
    if not conn.get_execution_options().get("store_writer", False):
        return
    if conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({STORE_LOCK_KEY})").scalar():
        return
    wait_ms = _write_wait_ms()
    _waiting(conn.engine, wait_ms)
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
    try:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({STORE_LOCK_KEY})")
    except sa.exc.OperationalError as error:
        raise _busy(conn.engine, wait_ms, error.orig) from error


def _waiting(engine: sa.Engine, wait_ms: int) -> None:
    """Say that a write waits for another (the run's log shows it, where a step otherwise sits silent)."""
    log.warning(
        "another writer holds the store %s: waiting for it, up to %g s (JOBPIPELINE_STORE_WRITE_WAIT_S)",
        engine.url.render_as_string(hide_password=True),
        wait_ms / 1000,
    )


# Indexes that stores made before took and that ``create_schema`` drops. ``ix_job_content_hash``:
# no query of the project looks a job up by its hash (the enrichment cache is probed by its own
# key), and each new or rewritten job put a random key into it: ~4 % of a day's sync at 3.5 M open
# postings, and 0.1-0.4 s of a cold 100k sync's job inserts (bench/RESULTS.md, session 22).
DROPPED_INDEXES = ("ix_job_content_hash",)


def create_schema(engine: sa.Engine, search_index: bool | None = None) -> None:
    """Create every table (idempotent), plus FTS5 over title + description on SQLite where
    ``search_index`` (default: ``Settings.search_index``); drop the indexes a store no longer keeps
    (``DROPPED_INDEXES``), and the search index where ``search_index`` is off (with its pending
    marks: nothing refreshes it, and a stale index would answer searches wrongly). A store made
    before the search index or its pending list, or that had it dropped, gets every job the index
    lacks marked pending, once: the next refresh indexes them all.

    A store already so is only read: every run calls this when it first uses the store, and a
    write would wait for the writer before it (``writer``), a whole sync."""
    sqlite = engine.dialect.name == "sqlite"
    search_index = settings.current().search_index if search_index is None else search_index
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    if (
        set(SQLModel.metadata.tables) <= tables
        and "job_full" in inspector.get_view_names()
        and not {index["name"] for index in inspector.get_indexes("job")} & set(DROPPED_INDEXES)
        and (not sqlite or ("job_search" in tables) == search_index)
    ):
        return
    catch_up = sqlite and search_index and not {"job_search", SearchIndexPending.__tablename__} <= tables
    SQLModel.metadata.create_all(writer(engine))  # one writer at a time: concurrent first runs queue instead of failing
    with writer(engine).begin() as conn:
        for index in DROPPED_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
        if sqlite:
            conn.exec_driver_sql(f"CREATE VIEW IF NOT EXISTS job_full AS {_VIEW_SQL}")
            if not search_index:
                conn.exec_driver_sql("DROP TABLE IF EXISTS job_search")
                conn.exec_driver_sql("DELETE FROM job_search_pending")
            for ddl in _FTS_DDL if search_index else ():
                conn.exec_driver_sql(ddl)
            if catch_up:
                conn.exec_driver_sql(
                    "INSERT OR IGNORE INTO job_search_pending (job_id) SELECT id FROM job WHERE id NOT IN (SELECT rowid FROM job_search)"
                )
        else:
            conn.exec_driver_sql(f"CREATE OR REPLACE VIEW job_full AS {_VIEW_SQL}")


def search_jobs(engine: sa.Engine, query: str, limit: int = 20) -> list[sa.Row]:
    """Full-text search over title + description (FTS5 on SQLite that keeps the index, ranked;
    elsewhere ILIKE on the phrase, unranked)."""
    with engine.connect() as conn:
        if has_search_index(conn):
            sql = sa.text(
                "SELECT job.id, job.company, job.title FROM job_search JOIN job ON job.id = job_search.rowid "
                "WHERE job_search MATCH :q ORDER BY rank LIMIT :n"
            )
            return list(conn.execute(sql, {"q": query, "n": limit}))
        job, text = Job.__table__, JobText.__table__
        pattern = f"%{query}%"
        stmt = (
            sa.select(job.c.id, job.c.company, job.c.title)
            .join(text, text.c.job_id == job.c.id, isouter=True)
            .where(sa.or_(job.c.title.ilike(pattern), text.c.description.ilike(pattern)))
            .limit(limit)
        )
        return list(conn.execute(stmt))


def upsert(conn: sa.Connection, table: sa.Table, rows: list[dict], keys: list[str], set_: Callable[[Any], dict]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, in the engine's own dialect (SQLite or PostgreSQL)."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is None:
        raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {conn.dialect.name!r}")
    stmt = dialect.insert(table)
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=set_(stmt.excluded)), rows)
