"""``job_snapshot`` follows the store's change feed (``lib/changes.py``, ``analytics/incremental.py``):
after every sync and enrichment of random histories (merges, closings, reopenings, skipped
postings, failed boards, user data, syncs in slices), an analytics database updated step by step
holds, table for table, what a full rebuild of the same store gives; the update reads only the
jobs that changed; and whenever the feed cannot vouch for an update the snapshot is rebuilt in full."""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobpipeline.lib import changes
from jobpipeline.lib.analytics import build, incremental, load
from jobpipeline.lib.extract import cache
from jobpipeline.lib.extract.schema import JobFields
from jobpipeline.lib.postings import BoardOutcome, postings_frame
from jobpipeline.lib.store import create_schema, get_engine
from jobpipeline.lib.sync import slices as slices_module
from jobpipeline.lib.sync import sync_postings
from jobpipeline_tests.lib.test_sync_slices import DAYS, ONE_SHOT, edit_user_data, history, sync_day

from .conftest import POSTINGS, make_store

SKILLS = ["Python", "Go", "SQL"]
# (after which step, which stored content hash (by rank), prompt version, skill; None: a failed extraction)
enrichments = st.lists(
    st.tuples(st.integers(0, len(DAYS) - 1), st.integers(0, 5), st.sampled_from(["v1", "v2"]), st.sampled_from([*SKILLS, None])),
    max_size=6,
)


def tables(con) -> dict[str, list[tuple]]:
    return {name: con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall() for name in build.TABLES_BY_NAME}


def full_rebuild(engine, path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path)) as con:
        build.build(con, engine, incremental=False)
        return tables(con)


def enrich(engine, rank: int, version: str, skill: str | None) -> None:
    """An enrichment of the ``rank``-th stored content hash (if there is one), through the cache."""
    with engine.connect() as conn:
        hashes = conn.exec_driver_sql("SELECT DISTINCT content_hash FROM job ORDER BY 1").scalars().all()
    if hashes:
        fields = None if skill is None else JobFields(skills=[skill], seniority="senior")
        cache.upsert(
            engine, [cache.enrichment_row(hashes[rank % len(hashes)], "m", version, "rules", fields, error=None if fields else "bad")]
        )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(history, st.sampled_from([1, ONE_SHOT]), enrichments)
def test_a_snapshot_updated_from_the_feed_after_every_step_is_the_full_rebuild(history, slice_jobs, enriched):
    with tempfile.TemporaryDirectory() as directory, pytest.MonkeyPatch.context() as patch:
        patch.setattr(slices_module, "POSTING_BATCH", 3)  # the sliced sync closes boards in batches: a feed entry each
        folder = Path(directory)
        engine = get_engine(f"sqlite:///{folder}/store.db")
        create_schema(engine)
        with duckdb.connect(str(folder / "followed.duckdb")) as followed:
            build.build(followed, engine)
            for step, index in enumerate(history["order"]):
                followed_before = build.feed_position(engine) is not None  # the last build recorded where it stood
                sync_day(engine, history["days"][index], DAYS[index], slice_jobs)
                for posting_id, field in (edit for after, edit in history["edits"] if after == step):
                    edit_user_data(engine, posting_id, field)
                for _, rank, version, skill in (e for e in enriched if e[0] == step):
                    enrich(engine, rank, version, skill)
                notes: dict[str, str] = {}
                build.build(followed, engine, notes=notes)
                if followed_before:  # else a full one: an empty feed gives no position to stand at
                    assert notes["job_snapshot"].startswith("incremental"), notes
                    assert notes["board_scrapes"].startswith("incremental"), notes
                    assert notes["scrape_health"].startswith("incremental"), notes
                assert tables(followed) == full_rebuild(engine, folder / f"full-{step}.duckdb")
        engine.dispose()


@pytest.mark.parametrize("adbc", [False, True], ids=["sqlalchemy", "adbc-child"])
def test_an_update_reads_only_the_jobs_that_changed(tmp_path, monkeypatch, adbc):
    """A day that rewrites one job and closes another reads that one job, not the store; through
    SQLAlchemy (a small store) and through the ADBC child (a large one), which reads while the
    feed's restamps are set."""
    if adbc:
        monkeypatch.setattr(load, "ADBC_MIN_ROWS", 0)
    store = make_store(tmp_path / "store.db")
    with duckdb.connect(str(tmp_path / "analytics.duckdb")) as con:
        build.build(con, store.engine)
        reads: list[list[str]] = []
        real = load.StoreReads.submit
        monkeypatch.setattr(load.StoreReads, "submit", lambda self, queries: reads.append([q for q, _ in queries]) or real(self, queries))
        a1 = dataclasses.replace(POSTINGS["A1"], title="Staff Backend Engineer")
        ok = [BoardOutcome(source="greenhouse", board="acme", ok=True)]
        sync_postings(store.engine, postings_frame([a1]), seen_on=date(2026, 1, 13), outcomes=ok, now=datetime(2026, 1, 13, 12, tzinfo=UTC))
        notes: dict[str, str] = {}
        build.build(con, store.engine, notes=notes)
        assert notes["job_snapshot"] == (  # the day's sync, and its board outcomes
            "incremental: 2 store changes; 1 jobs read again, 0 last seen and 0 first seen moved, 1 closed or reopened, 1 dropped or replaced"
        )
        assert notes["board_scrapes"] == "incremental: 1 partitions (source x day) read again, 1 board scrapes"
        job_reads = [query for queried in reads for query in queried if " FROM job" in query and "count(*)" not in query]
        assert job_reads and all(f"WHERE id IN ({store.ids['A1']})" in query for query in job_reads), job_reads  # A1 alone
        scrape_reads = [query for queried in reads for query in queried if " FROM board_scrape" in query and "count(*)" not in query]
        assert scrape_reads == [  # the day's partition alone, not every board scrape
            f"{load.BOARD_SCRAPE_QUERY[0]} WHERE (source = 'greenhouse' AND scraped_on = '2026-01-13')"
        ]
        got = con.execute(
            "SELECT title, last_seen, is_open FROM job_snapshot WHERE job_id = ? OR job_id = ? ORDER BY job_id",
            [store.ids["A1"], store.ids["A4"]],
        ).fetchall()
        assert got == [("Staff Backend Engineer", date(2026, 1, 13), True), ("Frontend Engineer", date(2026, 1, 12), False)]
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full.duckdb")
    store.engine.dispose()


def test_an_update_after_an_enrichment_reads_its_jobs_by_id_not_by_scanning_the_store(tmp_path, monkeypatch):
    """The jobs of a content hash that gained an enrichment are found in the snapshot and read from
    the store by id. The store's ``job`` table has no index on the hash, so a lookup by hash has
    SQLite scan every job: a deployment enriches each day's new and rewritten jobs before the
    analytics run, and at a million jobs that scan cost the update 1.9-2.2 s of its 3.5-4.0 s."""
    store = make_store(tmp_path / "store.db", enrich=False)
    with duckdb.connect(str(tmp_path / "analytics.duckdb")) as con:
        build.build(con, store.engine)
        reads: list[str] = []
        real = load.StoreReads.submit
        monkeypatch.setattr(load.StoreReads, "submit", lambda self, queries: reads.extend(q for q, _ in queries) or real(self, queries))
        with store.engine.connect() as conn:
            a1_hash = conn.exec_driver_sql("SELECT content_hash FROM job WHERE id = ?", (store.ids["A1"],)).scalar_one()
        cache.upsert(store.engine, [cache.enrichment_row(a1_hash, "m", "v1", "rules", JobFields(skills=["Go"], seniority="senior"))])
        notes: dict[str, str] = {}
        build.build(con, store.engine, notes=notes)
        assert notes["job_snapshot"].startswith("incremental: 1 store changes; 1 jobs read again"), notes
        job_reads = [query for query in reads if " FROM job " in query and "count(*)" not in query]
        assert len(job_reads) == 2, job_reads  # the job rows, and the enrichments of their content
        with store.engine.connect() as conn:
            for query in job_reads:
                assert f"id IN ({store.ids['A1']})" in query, query
                plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}")]
                assert not [step for step in plan if step.startswith("SCAN job")], (query, plan)  # every job read
                if "FROM enrichment" in query:  # by the cache's key, not by walking every ok row in status's index
                    assert [step for step in plan if step.startswith("SEARCH enrichment")] == [
                        "SEARCH enrichment USING INDEX sqlite_autoindex_enrichment_1 (content_hash=?)"
                    ], (query, plan)
        skills = con.execute("SELECT skills FROM job_snapshot WHERE job_id = ?", [store.ids["A1"]]).fetchone()
        assert skills == (["Go"],)
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full.duckdb")
    store.engine.dispose()


def test_the_child_reader_starts_before_the_feed_is_read_and_a_failed_read_leaves_the_snapshot(tmp_path, monkeypatch):
    """On a large store the update's ADBC child is started before the change feed is read (its
    start-up overlaps the decoding), and handed its queries after. When that read fails, the
    update's restamps, already set in the open transaction, are rolled back: the snapshot and its
    feed position stay as they were, no child is left running, and the next build updates."""
    from jobpipeline.lib.analytics import sqlite_reader

    monkeypatch.setattr(load, "ADBC_MIN_ROWS", 0)
    store = make_store(tmp_path / "store.db")
    with duckdb.connect(str(tmp_path / "analytics.duckdb")) as con:
        build.build(con, store.engine)
        before, position = tables(con), con.execute(f"SELECT * FROM {build.FEED_STATE}").fetchall()
        events: list[str] = []
        children: list[sqlite_reader.ChildReader] = []

        class Child(sqlite_reader.ChildReader):
            def __init__(self, *args, **kwargs):
                events.append("child started")
                super().__init__(*args, **kwargs)
                children.append(self)

            def submit(self, queries):
                events.append("queries submitted")
                super().submit([*queries[:-1], ("SELECT no_such_column FROM job", None)])  # the last read fails

        real_changes_since = incremental.changes_since
        monkeypatch.setattr(load, "ChildReader", Child)
        monkeypatch.setattr(incremental, "changes_since", lambda *a: events.append("feed read") or real_changes_since(*a))
        sync_a_day(store)
        with pytest.raises(RuntimeError, match="reading the store .* failed: .*no_such_column"):
            build.build(con, store.engine)
        assert events == ["child started", "feed read", "queries submitted"]
        assert tables(con) == before and con.execute(f"SELECT * FROM {build.FEED_STATE}").fetchall() == position
        assert [child._process.poll() for child in children] == [1]  # ended, not left running
        monkeypatch.setattr(load, "ChildReader", sqlite_reader.ChildReader)
        notes: dict[str, str] = {}
        build.build(con, store.engine, notes=notes)
        assert notes["job_snapshot"].startswith("incremental: 2 store changes"), notes
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full.duckdb")
    store.engine.dispose()


def test_an_update_over_days_synced_out_of_order_takes_each_jobs_last_stamps(tmp_path):
    """Several days replayed by one update, synced out of order: one job's restamp runs overlap
    across the feed's changes, and each stamp takes the last value written (last seen stays the
    latest day, first seen moves back to the earliest)."""
    store = make_store(tmp_path / "store.db")
    with duckdb.connect(str(tmp_path / "analytics.duckdb")) as con:
        build.build(con, store.engine)
        for day in (14, 16, 15, 2):
            sync_a_day(store, day)
        notes: dict[str, str] = {}
        build.build(con, store.engine, notes=notes)
        assert notes["job_snapshot"].startswith("incremental"), notes
        stamps = con.execute("SELECT first_seen, last_seen FROM job_snapshot WHERE job_id = ?", [store.ids["A1"]]).fetchone()
        assert stamps == (date(2026, 1, 2), date(2026, 1, 16))
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full.duckdb")
    store.engine.dispose()


def test_overlapping_restamp_runs_give_each_job_once_with_its_last_stamps():
    """The feed's restamps as the update sets them: one row per job (an UPDATE joined on id takes
    any of several), each stamp the last written; a NULL stamp in a run left the value alone."""
    import polars as pl

    rows = pl.DataFrame(
        {
            "op": ["stamped", "stamped", "seen", "stamped"],
            "id": [1, 5, 3, 9],
            "last_id": [10, 6, None, 9],
            "first_seen": [None, None, date(2026, 1, 2), date(2026, 1, 1)],
            "last_seen": [date(2026, 1, 14), date(2026, 1, 16), date(2026, 1, 15), None],
        },
        schema_overrides={"op": pl.Enum(changes.OPS)},
    )
    got = {stamp: frame.sort("id").rows() for stamp, frame in incremental._stamps(rows).items()}
    assert got["first_seen"] == [(3, date(2026, 1, 2)), (9, date(2026, 1, 1))]
    assert got["last_seen"] == [(i, date(2026, 1, 15 if i == 3 else 16 if i in (5, 6) else 14)) for i in range(1, 11)]


def sync_a_day(store, day: int = 13) -> None:
    ok = [BoardOutcome(source="greenhouse", board="acme", ok=True)]
    sync_postings(store.engine, postings_frame([POSTINGS["A1"]]), seen_on=date(2026, 1, day), outcomes=ok)


def delete_job(store) -> None:
    with store.engine.begin() as conn:  # a write past the feed: the job and what points at it
        for table in ("job_posting", "job_text", "job_hash_history"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE job_id = :id"), {"id": store.ids["A3"]})
        conn.execute(sa.text("DELETE FROM job WHERE id = :id"), {"id": store.ids["A3"]})


def prune_feed(store) -> None:
    with store.engine.begin() as conn:
        conn.execute(changes.CHANGE.delete())


def rewrite_most(store) -> None:
    """A day that rewrites 2 of the 6 jobs, where updates read at most 20 % (and no floor)."""
    incremental.MIN_READ = 0
    retitled = [dataclasses.replace(POSTINGS[k], title=f"{POSTINGS[k].title} II") for k in ("A1", "A4")]
    ok = [BoardOutcome(source="greenhouse", board="acme", ok=True)]
    sync_postings(store.engine, postings_frame(retitled), seen_on=date(2026, 1, 13), outcomes=ok)


@pytest.mark.parametrize(
    ("between", "reason"),
    [
        (prune_feed, "no longer reaches back"),
        (delete_job, "the update left 6 jobs where the store holds 5"),
        (rewrite_most, "2 jobs or content hashes changed: more than 20% of 6 jobs"),
    ],
)
def test_an_update_the_feed_cannot_vouch_for_is_a_full_rebuild(tmp_path, monkeypatch, between, reason):
    monkeypatch.setattr(incremental, "MIN_READ", incremental.MIN_READ)
    store = make_store(tmp_path / "store.db")
    with duckdb.connect(str(tmp_path / "analytics.duckdb")) as con:
        build.build(con, store.engine)
        sync_a_day(store)
        between(store)
        notes: dict[str, str] = {}
        build.build(con, store.engine, notes=notes)
        assert notes["job_snapshot"].startswith("full: ") and reason in notes["job_snapshot"], notes
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full.duckdb")
        incremental.MIN_READ = 10_000
        for day in (14, 15):  # and once the feed has a position again (an emptied one has none), updates follow it
            sync_a_day(store, day)
            build.build(con, store.engine, notes=notes)
        assert notes["job_snapshot"].startswith("incremental"), notes
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full-2.duckdb")
    store.engine.dispose()


def test_a_position_recorded_for_other_sql_or_another_store_is_not_followed(tmp_path, monkeypatch):
    store = make_store(tmp_path / "store.db")
    other = make_store(tmp_path / "other.db")
    with duckdb.connect(str(tmp_path / "analytics.duckdb")) as con:
        build.build(con, store.engine)
        notes: dict[str, str] = {}
        build.build(con, other.engine, notes=notes)
        assert notes["job_snapshot"].startswith("full: no position"), notes
        monkeypatch.setattr(build, "fingerprint", lambda table: "changed sql")
        build.build(con, other.engine, notes=notes)
        assert notes["job_snapshot"].startswith("full: no position"), notes
        build.build(con, other.engine, notes=notes, incremental=False)
        assert notes["job_snapshot"] == "full: asked for"
    store.engine.dispose()
    other.engine.dispose()


def test_the_feed_is_pruned_after_its_retention(tmp_path, monkeypatch):
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_schema(engine)
    ok = [BoardOutcome(source="greenhouse", board="acme", ok=True)]
    sync_postings(engine, postings_frame([POSTINGS["A1"]]), seen_on=date(2026, 1, 5), outcomes=ok)
    with engine.begin() as conn:
        conn.execute(changes.CHANGE.update().values(changed_at=datetime.now(UTC) - changes.RETENTION - changes.timedelta(minutes=1)))
    sync_postings(engine, postings_frame([POSTINGS["A1"]]), seen_on=date(2026, 1, 6), outcomes=ok)
    with engine.connect() as conn:
        kept = conn.execute(sa.select(changes.CHANGE.c.kind, changes.CHANGE.c.body).order_by(changes.CHANGE.c.seq)).all()
    assert [kind for kind, _ in kept] == ["scrape", "sync"]  # the second day's: its board outcomes, then its sync
    assert changes.decode(kept[0].body).select("op", "source", "day").rows() == [("scraped", "greenhouse", date(2026, 1, 6))]
    assert changes.decode(kept[1].body).select("op", "last_seen").rows() == [("stamped", date(2026, 1, 6))]
    engine.dispose()


def test_each_followed_table_stands_at_its_own_position_through_subset_builds(tmp_path):
    """A run may build some tables only (the analytics asset is subsettable): ``job_snapshot``,
    ``board_scrapes`` and ``scrape_health`` each keep their own feed position, so a table left out of a build catches up
    (in full) in the next one that includes it, and then follows the feed again."""
    store = make_store(tmp_path / "store.db")
    with duckdb.connect(str(tmp_path / "analytics.duckdb")) as con:
        build.build(con, store.engine)
        sync_a_day(store, 13)
        notes: dict[str, str] = {}
        build.build(con, store.engine, ["job_snapshot"], notes=notes)  # board_scrapes stays behind
        assert notes["job_snapshot"].startswith("incremental") and "board_scrapes" not in notes
        sync_a_day(store, 14)
        notes = {}
        build.build(con, store.engine, notes=notes)
        assert notes["job_snapshot"].startswith("incremental") and "board_scrapes" not in notes, notes  # read in full
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full-1.duckdb")
        sync_a_day(store, 15)
        build.build(con, store.engine, ["board_scrapes"], notes=notes)  # job_snapshot stays behind
        sync_a_day(store, 16)
        notes = {}
        build.build(con, store.engine, notes=notes)
        assert notes["job_snapshot"].startswith("incremental: 4 store changes"), notes
        assert "board_scrapes" not in notes, notes  # stood elsewhere: read in full
        sync_a_day(store, 17)
        notes = {}
        build.build(con, store.engine, notes=notes)
        assert notes["board_scrapes"].startswith("incremental: 1 partitions"), notes  # together again
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full-2.duckdb")
        sync_a_day(store, 18)
        build.build(con, store.engine, [name for name in build.TABLES_BY_NAME if name != "scrape_health"])  # scrape_health behind
        sync_a_day(store, 19)
        notes = {}
        build.build(con, store.engine, notes=notes)
        assert notes["board_scrapes"].startswith("incremental") and "scrape_health" not in notes, notes  # rebuilt from board_scrapes
        sync_a_day(store, 20)
        notes = {}
        build.build(con, store.engine, notes=notes)
        assert notes["scrape_health"] == "incremental: 1 partitions (source x day) recomputed", notes
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full-3.duckdb")
    store.engine.dispose()


def test_a_database_with_the_single_position_of_before_rebuilds_once_then_follows(tmp_path):
    """``_store_feed`` once held one row (job_snapshot's position, no table column): such a
    database rebuilds its followed tables in full once, then updates them."""
    store = make_store(tmp_path / "store.db")
    with duckdb.connect(str(tmp_path / "analytics.duckdb")) as con:
        build.build(con, store.engine)
        con.execute(f"DROP TABLE {build.FEED_STATE}")
        con.execute(f"CREATE TABLE {build.FEED_STATE} (store VARCHAR, fingerprint VARCHAR, seq BIGINT, changed_at VARCHAR)")
        con.execute(f"INSERT INTO {build.FEED_STATE} VALUES ('old', 'old', 1, 'old')")
        sync_a_day(store)
        notes: dict[str, str] = {}
        build.build(con, store.engine, notes=notes)
        assert notes["job_snapshot"].startswith("full: no position"), notes
        sync_a_day(store, 14)
        build.build(con, store.engine, notes=notes)
        assert notes["job_snapshot"].startswith("incremental") and notes["board_scrapes"].startswith("incremental"), notes
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full.duckdb")
    store.engine.dispose()


def test_a_change_written_before_the_feed_carried_scrapes_decodes_beside_new_ones():
    """Bodies written before the ``scraped`` op and its columns existed (kept for ``RETENTION``
    after an upgrade) decode to today's schema, so a replay concatenates them with new ones."""
    import io

    import polars as pl

    old_ops = ("seen", "closed", "content", "gone", "enriched")
    old = pl.DataFrame(
        {
            "op": ["seen"],
            "id": [7],
            "first_seen": [date(2026, 1, 1)],
            "last_seen": [date(2026, 1, 2)],
            "closed_at": [None],
            "content_hash": [None],
        },
        schema={
            "op": pl.Enum(old_ops),
            "id": pl.Int64,
            "first_seen": pl.Date,
            "last_seen": pl.Date,
            "closed_at": pl.Date,
            "content_hash": pl.String,
        },
    )
    body = io.BytesIO()
    old.write_ipc(body, compression="zstd")
    new = changes.change_frame("scraped", pl.DataFrame({"source": ["ashby"], "day": [date(2026, 1, 2)]}), source="source", day="day")
    both = pl.concat([changes.decode(body.getvalue()), new])
    assert both.schema == pl.Schema(changes.CHANGE_SCHEMA)
    assert both.select("op", "id", "last_seen", "source").rows() == [("seen", 7, date(2026, 1, 2), None), ("scraped", None, None, "ashby")]


def test_a_day_scraped_again_replaces_its_board_scrapes(tmp_path):
    """A partition re-materialized (its boards failed, then answered) upserts the same
    ``board_scrape`` rows: the update replaces that partition's rows in ``board_scrapes`` and its
    ``scrape_health`` row, adding none."""
    from jobpipeline.lib.sync import record_board_outcomes

    store = make_store(tmp_path / "store.db")
    with duckdb.connect(str(tmp_path / "analytics.duckdb")) as con:
        build.build(con, store.engine)
        outage = [BoardOutcome(source="greenhouse", board="acme", ok=False, http_status=503, error="HTTP 503")]
        record_board_outcomes(store.engine, date(2026, 1, 13), outage)
        build.build(con, store.engine)
        sync_a_day(store, 13)  # the same day again: the board answered
        notes: dict[str, str] = {}
        build.build(con, store.engine, notes=notes)
        assert notes["board_scrapes"] == "incremental: 1 partitions (source x day) read again, 1 board scrapes", notes
        assert con.execute(
            "SELECT ok, http_status FROM board_scrapes WHERE source = 'greenhouse' AND board = 'acme' AND scraped_on = '2026-01-13'"
        ).fetchall() == [(True, None)]
        assert tables(con) == full_rebuild(store.engine, tmp_path / "full.duckdb")
    store.engine.dispose()
