"""The pipeline on PostgreSQL: Dagster's instance storage (dagster-postgres) and the operational store
(``postgresql+psycopg``) give the same jobs as the SQLite defaults on the same recordings.

Needs a server: ``export JOBPIPELINE_TEST_PG_URL="$(bash jobpipeline_tests/ops/setup_postgres.sh)"``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from jobpipeline.settings import REPO_DIR
from jobpipeline_tests.ops.helpers import clean_env, cli, store_snapshot

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.timeout(1800),
]  # two stacks side by side, two days each: ~9-11 min on 2 cores since runs are submitted through a daemon

PG_URL = os.environ.get("JOBPIPELINE_TEST_PG_URL")
if not PG_URL:
    pytest.skip("JOBPIPELINE_TEST_PG_URL is unset (bash jobpipeline_tests/ops/setup_postgres.sh prints one)", allow_module_level=True)

DAY_1, DAY_2 = "2025-11-03", "2025-11-04"
# A session time zone far from UTC: timestamps must not move on the way in or out.
STORE_OPTIONS = {"options": "-c timezone=America/Los_Angeles"}


def _url(database: str, driver: str) -> sa.URL:
    return sa.make_url(PG_URL).set(drivername=f"postgresql+{driver}", database=database)


@pytest.fixture
def pg_databases() -> Iterator[dict[str, sa.URL]]:
    """Two fresh databases on the test server, one for Dagster and one for the store; dropped after."""
    admin = sa.create_engine(_url(sa.make_url(PG_URL).database or "postgres", "psycopg"), isolation_level="AUTOCOMMIT")
    prefix = f"jp_{uuid.uuid4().hex[:10]}"
    names = {"dagster": f"{prefix}_dagster", "store": f"{prefix}_store"}
    with admin.connect() as conn:
        for name in names.values():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield {
            # dagster-postgres needs psycopg2: SQLAlchemy 2.1's bare postgresql:// means psycopg 3
            "dagster": _url(names["dagster"], "psycopg2"),
            "store": _url(names["store"], "psycopg").update_query_dict(STORE_OPTIONS),
        }
    finally:
        try:
            with admin.connect() as conn:
                for name in names.values():
                    _drop_database(conn, name)
        finally:
            admin.dispose()


def _drop_database(conn: sa.Connection, name: str, attempts: int = 5) -> None:
    """DROP ... WITH (FORCE) ends the sessions still open on it (a daemon's, an autovacuum worker's);
    a session that starts in between makes one attempt fail, so it is tried again."""
    for attempt in range(attempts):
        try:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except sa.exc.DBAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(1 + attempt)


def _day_two_corpus(day_one: Path, into: Path) -> Path:
    """Day one's recordings with two Greenhouse postings gone (closed) and one retitled (changed)."""
    shutil.copytree(day_one, into)
    boards = sorted(p for p in (into / "greenhouse").glob("*.json") if len(json.loads(p.read_text())["jobs"]) >= 3)
    assert len(boards) >= 3, "the shipped Greenhouse corpus should have boards with several jobs"
    for path in boards[:2]:
        body = json.loads(path.read_text())
        body["jobs"] = body["jobs"][:-1]
        path.write_text(json.dumps(body))
    body = json.loads(boards[2].read_text())
    body["jobs"][0]["title"] += " (Remote)"
    boards[2].write_text(json.dumps(body))
    return into


def _run_days(home: Path, env: dict[str, str], days: list[tuple[str, Path]]) -> list[str]:
    """``jobpipeline run`` for each (day, corpus), in order, as a user would from a shell."""
    outputs = []
    for day, corpus in days:
        done = subprocess.run(
            cli("jobpipeline", "run", "--date", day, "--replay", str(corpus)),
            env={**env, "JOBPIPELINE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")},
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"jobpipeline run --date {day} failed ({home}):\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
        outputs.append(done.stdout)
    return outputs


def _seed_dagster_home(home: Path, dagster_url: sa.URL) -> None:
    """The repository's dagster.yaml plus PostgreSQL storage (what the docker stack does too)."""
    config = yaml.safe_load((REPO_DIR / "dagster.yaml").read_text())
    config["storage"] = {"postgres": {"postgres_url": dagster_url.render_as_string(hide_password=False)}}
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text(yaml.safe_dump(config))


def test_pipeline_on_postgres_keeps_the_same_jobs_as_on_sqlite(tmp_path: Path, ats_corpus: Path, pg_databases: dict[str, sa.URL]) -> None:
    days = [(DAY_1, ats_corpus), (DAY_2, _day_two_corpus(ats_corpus, tmp_path / "corpus-day2"))]
    sqlite_home, pg_home = tmp_path / "sqlite", tmp_path / "pg"
    _seed_dagster_home(pg_home, pg_databases["dagster"])
    store_url = pg_databases["store"].render_as_string(hide_password=False)
    env = clean_env()
    with ThreadPoolExecutor(2) as pool:  # the two stacks share nothing: run them side by side
        on_sqlite = pool.submit(_run_days, sqlite_home, env, days)
        on_pg = pool.submit(_run_days, pg_home, {**env, "JOBPIPELINE_DATABASE_URL": store_url}, days)
        sqlite_out, pg_out = on_sqlite.result(), on_pg.result()

    # The same summaries, line for line, but for the run's wall time (the progress lines before the
    # summary name run ids and times, which differ).
    def summary(out: str) -> list[str]:
        return out[out.index("jobpipeline run —") :].splitlines()[1:]

    assert [summary(o) for o in pg_out] == [summary(o) for o in sqlite_out]
    day_two = {kind: int(n) for n, kind in re.findall(r"(\d+) (changed|closed)", sqlite_out[1])}
    assert day_two["changed"] >= 1 and day_two["closed"] >= 1, sqlite_out[1]  # the fixture exercised both

    expected = store_snapshot(f"sqlite:///{sqlite_home / 'jobpipeline.db'}")
    actual = store_snapshot(pg_databases["store"])
    assert len(expected["job"]) > 500 and {"job", "job_posting", "board_scrape"} <= set(expected)
    for table in expected:
        assert actual[table] == expected[table], f"{table} differs between PostgreSQL and SQLite"
    assert not (pg_home / "jobpipeline.db").exists(), "the PostgreSQL run must not have written a SQLite store"
    _assert_runs_recorded_in_postgres(pg_home / "dagster")


def _assert_runs_recorded_in_postgres(dagster_home: Path) -> None:
    """Dagster's runs and materializations went to PostgreSQL, not to SQLite files in DAGSTER_HOME."""
    import dagster as dg
    from dagster._core.storage.dagster_run import DagsterRunStatus

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        runs = instance.get_runs()
        assert runs and all(r.status == DagsterRunStatus.SUCCESS for r in runs), [(r.job_name, r.status) for r in runs]
        assert {r.tags.get("dagster/partition/date") for r in runs if r.job_name == "daily_scrape_job"} == {DAY_1, DAY_2}
        assert instance.get_latest_materialization_event(dg.AssetKey("jobs")) is not None
    finally:
        instance.dispose()
    assert not list(dagster_home.rglob("*.db")), "instance storage fell back to SQLite files"


def test_docker_instance_config_works_against_postgres(
    tmp_path: Path, pg_databases: dict[str, sa.URL], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docker/dagster.yaml as the stack's containers read it (env vars), and docker/pools.sh on it."""
    import dagster as dg

    url = pg_databases["dagster"]
    config = yaml.safe_load((REPO_DIR / "docker" / "dagster.yaml").read_text())
    config["compute_logs"]["config"]["base_dir"] = str(tmp_path / "logs")  # /opt/dagster in the image
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    env = clean_env(
        DAGSTER_HOME=str(home),
        DAGSTER_PG_HOST=url.host,
        DAGSTER_PG_PORT=str(url.port),
        DAGSTER_PG_USER=url.username,
        DAGSTER_PG_PASSWORD=url.password,
        DAGSTER_PG_DB=url.database,
    )
    done = subprocess.run(["sh", str(REPO_DIR / "docker" / "pools.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr

    for key in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
        monkeypatch.setenv(key, env[key])
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert instance.event_log_storage.get_concurrency_info("scrape").slot_count == 5
        assert instance.event_log_storage.get_concurrency_info("duckdb").slot_count == 1
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    finally:
        instance.dispose()


def test_a_job_split_by_order_merges_back_on_postgres(pg_databases):
    """The merge step's statements on PostgreSQL: postings move, the user's job survives as it was."""
    from jobpipeline.lib.store import create_schema, get_engine
    from jobpipeline_tests.lib.test_sync import D1, jobs_by_id, posting, set_user_fields, split_job, sync

    engine = get_engine(pg_databases["store"].render_as_string(hide_password=False))
    try:
        create_schema(engine)
        before = split_job(engine)
        set_user_fields(engine, before["2"]["id"], notes="ask about Paris")
        result = sync(engine, [posting("1"), posting("2", location="Paris")], D1)
        assert (result.merged, result.new) == (1, 0)
        (row,) = jobs_by_id(engine).values()
        assert (row["id"], row["notes"], row["first_seen"]) == (before["2"]["id"], "ask about Paris", D1)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT DISTINCT job_id FROM job_posting").all() == [(row["id"],)]
    finally:
        engine.dispose()


def test_two_sources_synced_side_by_side_keep_one_job_for_a_posting_both_list(pg_databases: dict[str, sa.URL], monkeypatch, caplog) -> None:
    """A deployment syncs several sources at once (one run per source). A sync plans from the store
    as it stands when it begins, so the second sync of two side by side must wait for the first
    (``store.writer``: an advisory lock on PostgreSQL): without it each inserted a job for the one
    posting two sources list, and the store kept two jobs with one dedup key."""
    import threading

    import jobpipeline.lib.sync as sync_module
    from jobpipeline.lib.postings import BoardOutcome, postings_frame
    from jobpipeline.lib.store import create_schema, get_engine
    from jobpipeline.lib.sync import sync_postings
    from jobpipeline_tests.lib.test_sync import D1, posting

    engine = get_engine(pg_databases["store"].render_as_string(hide_password=False))
    create_schema(engine)
    written, release = threading.Event(), threading.Event()
    write_plan = sync_module.write_plan

    def write_then_hold(*args, **kwargs):  # the first sync holds its transaction open once it wrote
        write_plan(*args, **kwargs)
        if threading.current_thread().name == "first":
            written.set()
            release.wait(30)

    monkeypatch.setattr(sync_module, "write_plan", write_then_hold)

    def run(source: str) -> None:
        outcomes = [BoardOutcome(source=source, board="acme", ok=True)]
        sync_postings(engine, postings_frame([posting("x1", source=source, board="acme")]), seen_on=D1, outcomes=outcomes)

    first = threading.Thread(target=run, args=("greenhouse",), name="first")
    first.start()
    assert written.wait(30)
    second = threading.Thread(target=run, args=("lever",), name="second")
    second.start()

    def said_it_waits() -> bool:
        return any("another writer holds the store postgresql+psycopg://" in r.getMessage() for r in caplog.records)

    deadline = time.monotonic() + 30
    while not said_it_waits() and second.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    waited = said_it_waits() and second.is_alive()  # it waits for the first's commit, and says so
    release.set()
    first.join(30)
    second.join(30)
    with engine.connect() as conn:
        jobs = conn.exec_driver_sql("SELECT id, dedup_key FROM job").all()
        postings = conn.exec_driver_sql("SELECT source, job_id FROM job_posting ORDER BY source").all()
    engine.dispose()
    assert waited
    assert len(jobs) == 1 and postings == [("greenhouse", jobs[0].id), ("lever", jobs[0].id)]
