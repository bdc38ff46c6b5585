"""The sync's contract: new / changed / unchanged / vanished, user fields kept, order-independent."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import polars as pl
import pytest
import sqlalchemy as sa

from jobpipeline.lib import changes
from jobpipeline.lib.postings import BoardOutcome, Posting, postings_frame
from jobpipeline.lib.store import Job, create_schema, get_engine, job_full, refresh_search_index, search_jobs
from jobpipeline.lib.sync import sync_postings

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
BOARD = ("greenhouse", "acme")


def posting(
    job_id: str,
    title: str = "Backend Engineer",
    description: str = "Build APIs in Go.",
    *,
    location: str = "Berlin",
    source: str = "greenhouse",
    board: str = "acme",
    company: str = "Acme",
) -> Posting:
    return Posting(
        source=source,
        board=board,
        source_job_id=job_id,
        company=company,
        title=title,
        locations=[location],
        description=description,
        posted_at=datetime(2026, 10, 1, 9, 30, tzinfo=UTC),
    )


def sync(engine, postings: list[Posting], day: date, boards=(BOARD,), skipped: tuple[str, ...] = ()):
    """``skipped``: ids the board listed on ``day`` but that could not be read."""
    outcomes = [
        BoardOutcome(source=source, board=board, ok=True, skipped_ids=list(skipped) if (source, board) == BOARD else [])
        for source, board in boards
    ]
    return sync_postings(engine, postings_frame(postings), seen_on=day, outcomes=outcomes)


def ok_outcomes(*boards: tuple[str, str]) -> list[BoardOutcome]:
    return [BoardOutcome(source=source, board=board, ok=True) for source, board in boards]


def jobs_by_id(engine) -> dict[str, dict]:
    """Store rows keyed by their canonical posting id (job ids depend on insertion order)."""
    with engine.connect() as conn:
        rows = conn.execute(job_full()).mappings().all()
    return {r["source_job_id"]: dict(r) for r in rows}


def postings_by_id(engine) -> dict[str, tuple]:
    """Each stored posting's (content_hash, first_seen, last_seen, closed_at), by its posting id."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT source_job_id, content_hash, first_seen, last_seen, closed_at FROM job_posting").all()
    return {row[0]: tuple(row[1:]) for row in rows}


def comparable(engine) -> set[tuple]:
    ignore = {"id", "synced_at"}
    return {tuple((k, str(v)) for k, v in sorted(row.items()) if k not in ignore) for row in jobs_by_id(engine).values()}


def sync_in_date_order_and_in(order, days: dict[date, list[Posting]], tmp_path, skipped: dict[date, tuple[str, ...]] | None = None):
    """Two stores: ``days`` synced in date order, and in ``order`` (with that order's sync results);
    ``skipped``: per day, the ids listed but unreadable."""
    skipped = skipped or {}
    in_order = get_engine(f"sqlite:///{tmp_path}/a.db")
    shuffled = get_engine(f"sqlite:///{tmp_path}/b.db")
    for eng in (in_order, shuffled):
        create_schema(eng)
    for day in sorted(days):
        sync(in_order, days[day], day, skipped=skipped.get(day, ()))
    return in_order, shuffled, [sync(shuffled, days[day], day, skipped=skipped.get(day, ())) for day in order]


def test_new_changed_unchanged_and_vanished_postings(engine):
    first = sync(engine, [posting("1"), posting("2", "Data Engineer", "Pipelines.")], D1)
    assert (first.new, first.changed, first.unchanged) == (2, 0, 0)

    second = sync(engine, [posting("1", description="Build APIs in Rust.")], D2)
    assert (second.new, second.changed, second.unchanged, second.closed) == (0, 1, 0, 1)
    rows = jobs_by_id(engine)
    assert rows["1"]["description"] == "Build APIs in Rust."
    assert rows["1"]["updated_at"] == D2 and rows["1"]["last_seen"] == D2 and rows["1"]["first_seen"] == D1
    assert rows["2"]["closed_at"] == D2 and rows["2"]["last_seen"] == D1  # closed, not deleted
    # The posting seen again with a new description takes the new hash with its new last_seen.
    assert postings_by_id(engine)["1"] == (rows["1"]["content_hash"], str(D1), str(D2), None)

    with engine.connect() as conn:
        history = conn.exec_driver_sql("SELECT count(*) FROM job_hash_history WHERE job_id = ?", (rows["1"]["id"],)).scalar()
    assert history == 2

    third = sync(engine, [posting("1", description="Build APIs in Rust."), posting("2", "Data Engineer", "Pipelines.")], D3)
    assert (third.unchanged, third.reopened) == (2, 1)
    assert jobs_by_id(engine)["2"]["closed_at"] is None


def test_rematerializing_a_partition_changes_nothing(engine):
    sync(engine, [posting("1"), posting("2", "PM")], D1)
    before = jobs_by_id(engine)
    again = sync(engine, [posting("1"), posting("2", "PM")], D1)
    assert (again.new, again.changed, again.closed) == (0, 0, 0)
    assert jobs_by_id(engine) == before  # synced_at included: no row was written


def test_vanished_posting_with_notes_is_closed_not_deleted_and_keeps_user_fields(engine):
    sync(engine, [posting("1"), posting("2", "PM")], D1)
    with engine.begin() as conn:
        conn.execute(
            Job.__table__.update().where(Job.__table__.c.source_job_id == "2").values(favorite=True, notes="call Tue", status="applied")
        )
        conn.execute(Job.__table__.update().where(Job.__table__.c.source_job_id == "1").values(notes="nice team"))
    result = sync(engine, [posting("1", description="Rewritten.")], D2)
    rows = jobs_by_id(engine)
    assert rows["2"]["closed_at"] == D2
    assert (rows["2"]["favorite"], rows["2"]["notes"], rows["2"]["status"]) == (True, "call Tue", "applied")
    # A job with user data keeps the content the user saw; only its timestamps move.
    assert result.frozen == 1 and rows["1"]["description"] == "Build APIs in Go." and rows["1"]["last_seen"] == D2
    assert rows["1"]["notes"] == "nice team"


def test_failed_board_closes_nothing(engine):
    sync(engine, [posting("1")], D1)
    result = sync(engine, [], D2, boards=())  # the board failed: not among the scraped boards
    assert result.closed == 0 and jobs_by_id(engine)["1"]["closed_at"] is None


def test_same_job_under_several_locations_and_sources_is_one_job(engine):
    berlin, paris = posting("1", location="Berlin"), posting("2", location="Paris")
    lever = posting("abc", location="Remote", source="lever", board="acme")
    result = sync_postings(engine, postings_frame([berlin, paris, lever]), seen_on=D1, outcomes=ok_outcomes(BOARD, ("lever", "acme")))
    assert (result.postings, result.jobs, result.new) == (3, 1, 1)
    (row,) = jobs_by_id(engine).values()
    assert row["locations"] == ["Berlin", "Paris", "Remote"]
    assert (row["source"], row["source_job_id"]) == ("greenhouse", "1")  # smallest (source, board, id) is canonical
    # One more source later: matched by dedup key, no new job; not canonical, so content stays.
    later = sync(engine, [posting("9", source="workday", board="acme-co")], D2, boards=[("workday", "acme-co")])
    assert (later.new, later.unchanged) == (0, 1)


def test_duplicate_ids_on_one_board_count_once(engine):
    result = sync(engine, [posting("1"), posting("1")], D1)
    assert (result.jobs, result.new) == (1, 1)


@pytest.mark.parametrize("order", list(itertools.permutations([D1, D2, D3])))
def test_partitions_in_any_order_leave_the_same_store(tmp_path, order):
    days = {
        D1: [posting("1"), posting("2", "PM"), posting("3", "QA")],
        D2: [posting("1", description="v2"), posting("3", "QA")],
        D3: [posting("1", description="v2"), posting("4", "SRE"), posting("2", "PM")],
    }
    in_order, shuffled, _ = sync_in_date_order_and_in(order, days, tmp_path)
    assert comparable(shuffled) == comparable(in_order)
    assert postings_by_id(shuffled) == postings_by_id(in_order)
    rows = jobs_by_id(in_order)
    assert postings_by_id(in_order)["1"][0] == rows["1"]["content_hash"]  # the hash of its latest sighting
    assert rows["3"]["closed_at"] == D3 and rows["2"]["closed_at"] is None and rows["1"]["description"] == "v2"


@pytest.mark.parametrize("order", list(itertools.permutations([D1, D2, D3])))
def test_postings_listed_but_unreadable_close_nothing_in_any_order(tmp_path, order):
    """1 is unreadable on D2 and gone on D3: closed on D3, not D2. 3 is gone on D2 and listed
    unreadable on D3: open again. 4 is unreadable on D2, before it was ever read (D3): the skip
    still counts once 4 is stored, whichever day is synced first. Content and last_seen stay as read."""
    days = {
        D1: [posting("1"), posting("2", "PM"), posting("3", "QA")],
        D2: [posting("2", "PM")],
        D3: [posting("2", "PM"), posting("4", "SRE")],
    }
    skipped = {D2: ("1", "4"), D3: ("3",)}
    in_order, shuffled, _ = sync_in_date_order_and_in(order, days, tmp_path, skipped)
    assert comparable(shuffled) == comparable(in_order)
    rows = jobs_by_id(shuffled)
    assert {k: (r["closed_at"], r["last_seen"]) for k, r in rows.items()} == {
        "1": (D3, D1),
        "2": (None, D3),
        "3": (None, D1),
        "4": (None, D3),
    }


@pytest.mark.parametrize("order", list(itertools.permutations([D1, D2, D3])))
def test_a_job_whose_posting_is_rewritten_apart_stays_one_job_in_any_order(tmp_path, order):
    """Postings 1 and 2 are one job on D1; 1 is rewritten on D2 and D3. Synced latest first, D3 makes
    two jobs of them, and D1 (which shows them together) merges them back: the date-order store."""
    days = {
        D1: [posting("1"), posting("2", location="Paris")],
        D2: [posting("1", description="Build APIs in Go. Also Denver."), posting("2", location="Paris")],
        D3: [posting("1", description="Build APIs in Go. Also Denver."), posting("2", location="Paris")],
    }
    in_order, shuffled, results = sync_in_date_order_and_in(order, days, tmp_path)
    merged = sum(r.merged for r in results)
    assert merged == (1 if order.index(D1) > min(order.index(D2), order.index(D3)) else 0)
    assert comparable(shuffled) == comparable(in_order)
    (row,) = jobs_by_id(shuffled).values()
    assert (row["source_job_id"], row["description"], row["first_seen"], row["updated_at"]) == (
        "1",
        "Build APIs in Go. Also Denver.",
        D1,
        D2,
    )
    with shuffled.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(DISTINCT job_id), count(*) FROM job_posting").one() == (1, 2)
        assert conn.exec_driver_sql("SELECT count(*) FROM job_text").scalar() == 1


def split_job(engine) -> dict[str, dict]:
    """Postings 1 and 2 as two jobs: the later day (1 rewritten) synced before the day they were one job."""
    sync(engine, [posting("1", description="Build APIs in Go. Also Denver."), posting("2", location="Paris")], D2)
    return jobs_by_id(engine)


def set_user_fields(engine, job_id: int, **values) -> None:
    with engine.begin() as conn:
        conn.execute(Job.__table__.update().where(Job.__table__.c.id == job_id).values(**values))


def test_a_merge_keeps_the_job_with_user_data_untouched_and_drops_the_other_from_search(engine):
    before = split_job(engine)
    kept, gone = before["2"]["id"], before["1"]["id"]  # the user's job survives, though "1" is canonical
    set_user_fields(engine, kept, favorite=True, notes="ask about Paris", status="saved")
    refresh_search_index(engine)
    result = sync(engine, [posting("1"), posting("2", location="Paris")], D1)  # together: one job after all
    assert (result.merged, result.unmerged, result.new) == (1, 0, 0) and gone in result.touched_ids
    (row,) = jobs_by_id(engine).values()
    assert row["id"] == kept
    assert (row["favorite"], row["notes"], row["status"]) == (True, "ask about Paris", "saved")
    assert {k: row[k] for k in row if k not in ("first_seen", "last_seen", "synced_at")} == {
        k: v for k, v in before["2"].items() if k not in ("first_seen", "last_seen", "synced_at", "favorite", "notes", "status")
    } | {"favorite": True, "notes": "ask about Paris", "status": "saved"}  # content as the user saw it
    assert (row["first_seen"], row["last_seen"], row["closed_at"]) == (D1, D2, None)
    refresh_search_index(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT job_id FROM job_posting").all() == [(kept,), (kept,)]
        assert conn.exec_driver_sql("SELECT rowid FROM job_search").all() == [(kept,)]
        assert conn.exec_driver_sql("SELECT count(*) FROM job_hash_history WHERE job_id = ?", (gone,)).scalar() == 0


def test_two_jobs_with_user_data_are_never_merged(engine):
    before = split_job(engine)
    set_user_fields(engine, before["1"]["id"], notes="nice team")
    set_user_fields(engine, before["2"]["id"], status="applied")
    result = sync(engine, [posting("1"), posting("2", location="Paris")], D1)
    assert (result.merged, result.unmerged) == (0, 2)
    rows = jobs_by_id(engine)
    assert (rows["1"]["notes"], rows["2"]["status"]) == ("nice team", "applied")
    assert rows["1"]["description"] == "Build APIs in Go. Also Denver."  # frozen: D1's older text does not win
    assert rows["2"] == {**before["2"], "status": "applied"}  # not a byte moved
    with engine.connect() as conn:
        owners = conn.exec_driver_sql("SELECT source_job_id, job_id FROM job_posting ORDER BY 1").all()
    assert owners == [("1", rows["1"]["id"]), ("2", rows["2"]["id"])]


def test_full_text_search_finds_synced_jobs(engine):
    sync(engine, [posting("1", "Rust Engineer", "Tokio and async."), posting("2", "Designer", "Figma.")], D1)
    assert refresh_search_index(engine) == 2
    hits = search_jobs(engine, "tokio")
    assert [h.title for h in hits] == ["Rust Engineer"]


def test_sync_of_a_malformed_frame_names_the_problem_and_writes_nothing(engine):
    sync(engine, [posting("1")], D1)
    bad = pl.DataFrame({"source": ["greenhouse"], "board": ["acme"]})
    with pytest.raises(pl.exceptions.ColumnNotFoundError, match="source_job_id"):
        sync_postings(engine, bad, seen_on=D2, outcomes=ok_outcomes(BOARD))
    assert jobs_by_id(engine)["1"]["last_seen"] == D1


def test_a_sync_sizes_its_page_cache_to_the_store_and_gives_the_connection_back_as_it_was(engine, monkeypatch):
    """SQLite keeps a sync's dirty pages in the cache until it commits: a sync reads and restamps in
    16 MiB, a large store's sync (by stored postings) grows to the connection's 64 MiB before it
    writes index keys (a new posting or job), a re-sync of unchanged postings never does, sliced or
    not; a sliced sync's second connection, which reads the store as it was (``store_as_it_was``),
    reads in 2 MiB; and every connection has its own size again afterwards."""
    from jobpipeline.lib import store

    sizes: list[tuple[int, str]] = []

    def record(conn, cursor, statement, *args):
        if "cache_size" in statement:
            sizes.append((id(conn.connection.dbapi_connection), statement))

    def by_connection() -> list[list[str]]:
        connections = list(dict.fromkeys(connection for connection, _ in sizes))  # the sync's first
        return [[statement for connection, statement in sizes if connection == c] for c in connections]

    sa.event.listen(engine, "before_cursor_execute", record)
    sync(engine, [posting("1")], D1)
    assert by_connection() == [["PRAGMA cache_size=-16384", "PRAGMA cache_size=-65536"]]
    monkeypatch.setattr(store, "SYNC_CACHE_BYTES_PER_ROW", 64 * 1024 * 1024)  # as if a posting stood for a million
    two = [posting("1"), posting("2", "Designer", "Figma.")]
    sizes.clear()
    sync(engine, two, D2)
    assert by_connection() == [["PRAGMA cache_size=-16384", "PRAGMA cache_size=-65536", "PRAGMA cache_size=-65536"]]
    reader = ["PRAGMA cache_size=-2048", "PRAGMA cache_size=-65536"]
    for slice_jobs, others in ((0, []), (1, [reader])):
        sizes.clear()
        result = sync_postings(engine, postings_frame(two), seen_on=D3, outcomes=ok_outcomes(BOARD), slice_jobs=slice_jobs)
        assert (result.new, result.unchanged) == (0, 2)
        assert by_connection() == [["PRAGMA cache_size=-16384", "PRAGMA cache_size=-65536"], *others], f"slice_jobs={slice_jobs}"
    sizes.clear()
    three = [*two, posting("3", "Analyst", "SQL.")]
    sync_postings(engine, postings_frame(three), seen_on=D3, outcomes=ok_outcomes(BOARD), slice_jobs=1)
    assert by_connection() == [["PRAGMA cache_size=-16384", "PRAGMA cache_size=-65536", "PRAGMA cache_size=-65536"], reader]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -65536


def test_a_day_of_unchanged_postings_is_restamped_by_runs_of_rows_not_a_row_each(engine):
    """A day that sees its postings again moves their and their jobs' last seen. Those writes go as
    a few UPDATEs over runs of job ids and of the postings' rowids, not a row each; a posting whose
    hash changes is still written by its key, with its new hash."""
    day1 = [posting(str(i), f"Engineer {i}") for i in range(300)]
    sync(engine, day1, D1)
    updated: dict[str, int] = {"job": 0, "job_posting": 0}  # rows given to UPDATE statements, by table

    def count(conn, cursor, statement: str, parameters, context, executemany: bool) -> None:
        table = statement.split()[1] if statement.startswith("UPDATE ") else None
        if table in updated:
            updated[table] += len(parameters) if executemany else 1

    sa.event.listen(engine, "before_cursor_execute", count)
    result = sync(engine, [*day1[:-1], posting("299", "Engineer 299", "Now in Rust.")], D2)
    sa.event.remove(engine, "before_cursor_execute", count)

    assert (result.unchanged, result.changed) == (299, 1)
    assert updated["job"] <= 6 and updated["job_posting"] <= 6, updated
    jobs, postings = jobs_by_id(engine), postings_by_id(engine)
    assert {(row["first_seen"], row["last_seen"], row["content_seen"]) for row in jobs.values()} == {(D1, D2, D2)}
    assert {(first, last) for _, first, last, _ in postings.values()} == {(str(D1), str(D2))}
    assert postings["299"][0] == jobs["299"]["content_hash"] != postings["298"][0]
    # The change feed carries those restamps as one run of ids too: only last seen moved.
    with engine.connect() as conn:
        body = conn.execute(
            sa.select(changes.CHANGE.c.body).where(changes.CHANGE.c.kind == "sync").order_by(changes.CHANGE.c.seq.desc())
        ).first()
    stamped = changes.decode(body[0]).filter(pl.col("op") == "stamped").select("id", "last_id", "first_seen", "last_seen")
    assert stamped.height <= 2 and set(stamped["first_seen"]) == {None} and set(stamped["last_seen"]) == {D2}, (
        stamped
    )  # the rewritten job splits it
    in_runs = sorted(i for first, last in stamped.select("id", "last_id").iter_rows() for i in range(first, last + 1))
    assert in_runs == sorted(job["id"] for key, job in jobs.items() if key != "299")
