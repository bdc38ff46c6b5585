"""The sync's SQLite fast paths (``jobpipeline.lib.sync.fast_sql``) read what SQLAlchemy's plain
query would: runs of integer keys as ranges, the rest as bound IN lists."""

from __future__ import annotations

from datetime import date

import numpy as np

from jobpipeline.lib.postings import BoardOutcome, Posting, postings_frame
from jobpipeline.lib.store import create_schema, get_engine, writer
from jobpipeline.lib.sync import fast_sql, sync_postings
from jobpipeline.lib.sync.state import DatabaseState


def test_runs_of_integer_keys_are_read_as_ranges_and_give_what_an_in_list_gives(tmp_path, monkeypatch):
    """200 jobs (ids 1-200). Asked for a run of 145 ids, a shorter run, scattered, missing and
    repeated ids: the long run is read as one range, the rest by IN list, and the jobs read are
    the ones the IN list alone reads, each once."""
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    create_schema(engine)
    postings = [Posting(source="greenhouse", board="acme", source_job_id=str(n), company="Acme", title=f"Role {n}") for n in range(200)]
    sync_postings(
        engine, postings_frame(postings), seen_on=date(2026, 11, 1), outcomes=[BoardOutcome(source="greenhouse", board="acme", ok=True)]
    )
    wanted = [*range(5, 150), 170, 172, *range(180, 200), 400, 401, 5, 6]
    assert fast_sql.integer_runs(wanted) == ([(5, 149)], [170, 172, *range(180, 200), 400, 401])
    assert fast_sql.integer_runs(["a", *range(100)]) == ([], ["a", *range(100)])  # not all integers: IN lists only
    # Ids already distinct and increasing (a slice's known jobs) are not sorted again; ids that
    # only look so (one repeat, one step back) still are.
    distinct = sorted(set(wanted))
    assert fast_sql.integer_runs(np.array(distinct)) == fast_sql.integer_runs(wanted)
    assert fast_sql.integer_runs([*distinct, distinct[-1]]) == fast_sql.integer_runs(wanted)
    assert fast_sql.integer_runs([*distinct[:-1], 7, distinct[-1]]) == fast_sql.integer_runs(wanted)

    executed: list[str] = []
    with writer(engine).begin() as conn:
        conn.connection.dbapi_connection.set_trace_callback(executed.append)
        state = DatabaseState(conn)
        ranged = state.jobs(wanted).sort("job_id")
        history = state.hash_history(wanted).sort("job_id")
        monkeypatch.setattr(fast_sql, "RANGE_RUN", 10**9)
        listed = state.jobs(wanted).sort("job_id")
        assert history.equals(state.hash_history(wanted).sort("job_id"))
    assert ranged.equals(listed)
    assert ranged["job_id"].to_list() == sorted(set(wanted) - {400, 401})
    assert any("BETWEEN 5 AND 149" in sql for sql in executed)
