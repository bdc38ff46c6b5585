"""The store owns its tables: ``create_schema`` makes every one of them from ``store.py`` alone, and
neither the store nor the analytics find a module of the project by its name."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import sqlalchemy as sa

LIB = Path(__file__).parents[2] / "jobpipeline" / "lib"


def test_create_schema_makes_the_enrichment_table_without_the_cache_module(tmp_path):
    """In a fresh interpreter, so that no other test has imported the cache already."""
    script = (
        "import sys\n"
        "from jobpipeline.lib.store import create_schema, get_engine\n"
        f"engine = get_engine('sqlite:///{tmp_path / 'store.db'}')\n"
        "create_schema(engine)\n"
        "print(sorted(m for m in sys.modules if m.startswith('jobpipeline.lib.extract')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    columns = {c["name"] for c in sa.inspect(sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")).get_columns("enrichment")}
    assert {"content_hash", "model", "prompt_version", "status", "skills", "created_at", "salary_source"} <= columns


def test_the_store_and_the_analytics_import_the_project_plainly():
    by_name = [
        str(path.relative_to(LIB))
        for path in [LIB / "store.py", *sorted((LIB / "analytics").glob("*.py"))]
        if "importlib" in path.read_text(encoding="utf-8")
    ]
    assert by_name == []


def test_the_analytics_read_an_enrichment_table_that_lacks_newer_columns(tmp_path):
    """A store made before ``salary_source`` existed: the column reads as NULL, nothing fails."""
    from jobpipeline.lib.analytics.load import enrichment_table, read_store
    from jobpipeline.lib.store import create_schema, get_engine

    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_schema(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE enrichment DROP COLUMN salary_source")
        conn.exec_driver_sql(
            "INSERT INTO enrichment (content_hash, model, prompt_version, status, attempts, prompt_tokens, completion_tokens, "
            "backend, created_at, skills, remote_regions) VALUES ('h', 'rules', 'v1', 'ok', 1, 0, 0, 'rules', "
            "'2026-11-01 10:00:00.000000', '[]', '[]')"
        )
    name, columns = enrichment_table(engine)
    assert name == "enrichment" and "salary_source" not in columns
    table = read_store(engine, board_scrapes=False)["store_enrichment"]
    assert table.num_rows == 1
    assert table.column("salary_source").to_pylist() == [None]
    assert table.column("enriched_at").to_pylist() == ["2026-11-01 10:00:00.000000"]


def test_a_new_sqlite_store_gets_16_kib_pages_and_an_existing_one_keeps_its_own(tmp_path):
    """A ~3 KB description filled a 4 KiB page alone: new stores take 16 KiB pages. A store made
    before (4 KiB, SQLite's default) keeps them: its rows stay readable and writable."""
    from jobpipeline.lib.store import create_schema, get_engine

    new = get_engine(f"sqlite:///{tmp_path / 'new.db'}")
    create_schema(new)
    old_path = tmp_path / "old.db"
    with sa.create_engine(f"sqlite:///{old_path}").begin() as conn:  # as a store was made before
        conn.exec_driver_sql("CREATE TABLE kept (v TEXT)")
        conn.exec_driver_sql("INSERT INTO kept VALUES ('row')")
    old = get_engine(f"sqlite:///{old_path}")
    create_schema(old)
    with new.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16_384
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    with old.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4_096
        assert conn.exec_driver_sql("SELECT v FROM kept").scalar() == "row"
        conn.exec_driver_sql("INSERT INTO kept VALUES ('another')")
    new.dispose()
    old.dispose()


def test_the_wal_file_shrinks_once_a_big_sync_is_checkpointed(tmp_path, monkeypatch):
    """A first sync writes its whole partition into the WAL, and SQLite keeps the file at that size
    for good (3.4 GB beside a 16 GB store after the first day at 3.5 M open postings). With the
    store's limit, the first write transaction after the sync's checkpoint leaves the file at the
    limit; the store's rows are all there."""
    from jobpipeline.lib import store
    from jobpipeline.lib.postings import BoardOutcome, Posting, postings_frame
    from jobpipeline.lib.sync import record_board_outcomes, sync_postings

    monkeypatch.setattr(store, "SQLITE_WAL_LIMIT_BYTES", 1024 * 1024)
    engine = store.get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_schema(engine)
    day, board = date(2026, 11, 2), BoardOutcome(source="greenhouse", board="acme", ok=True)
    postings = [
        Posting(source="greenhouse", board="acme", source_job_id=str(n), company="Acme", title=f"Role {n}", description=f"{n} " * 1_000)
        for n in range(6_000)
    ]  # ~30 MB of descriptions: past the 1,000-page WAL that makes a commit checkpoint
    sync_postings(engine, postings_frame(postings), seen_on=day, outcomes=[board])
    wal = tmp_path / "store.db-wal"
    assert wal.stat().st_size > 16 * 1024 * 1024
    record_board_outcomes(engine, day, [board])  # the next write (the search index's refresh, in the jobs asset)
    assert wal.stat().st_size <= 1024 * 1024
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM job JOIN job_text ON job_text.job_id = job.id").scalar() == 6_000
    engine.dispose()


def test_a_store_keeps_no_index_on_the_job_content_hash_and_an_older_one_loses_it(tmp_path):
    """Nothing looks a job up by its content hash, and every new or rewritten job put a random key
    into that index. A new store never makes it; a store made with it loses it at the next
    ``create_schema``, and nothing else: its rows, its other indexes, and what reads the hash (the
    enrichment's cache probe) stay as they were."""
    from jobpipeline.lib.extract.enrich import read_jobs
    from jobpipeline.lib.postings import BoardOutcome, Posting, postings_frame
    from jobpipeline.lib.store import create_schema, get_engine
    from jobpipeline.lib.sync import sync_postings

    def job_indexes(engine: sa.Engine) -> set[str]:
        with engine.connect() as conn:
            return {name for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'job'")}

    new = get_engine(f"sqlite:///{tmp_path / 'new.db'}")
    create_schema(new)
    assert "ix_job_content_hash" not in job_indexes(new)
    assert {"ix_job_dedup_key", "ix_job_company", "ix_job_posted_at", "ix_job_closed_at", "ix_job_status"} <= job_indexes(new)

    old = get_engine(f"sqlite:///{tmp_path / 'old.db'}")
    create_schema(old)
    day, board = date(2026, 11, 2), BoardOutcome(source="greenhouse", board="acme", ok=True)
    postings = [Posting(source="greenhouse", board="acme", source_job_id=str(n), company="Acme", title=f"Role {n}") for n in range(3)]
    sync_postings(old, postings_frame(postings), seen_on=day, outcomes=[board])
    with old.begin() as conn:  # as a store made before 2026-12-06 has it
        conn.exec_driver_sql("CREATE INDEX ix_job_content_hash ON job (content_hash)")
    before = job_indexes(old)
    create_schema(old)
    assert job_indexes(old) == before - {"ix_job_content_hash"}
    jobs = read_jobs(old, model="rules")
    assert sorted(job.title for job in jobs) == ["Role 0", "Role 1", "Role 2"]
    with old.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(DISTINCT content_hash) FROM job").scalar() == 3
    new.dispose()
    old.dispose()
