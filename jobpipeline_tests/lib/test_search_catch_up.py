"""The search index catches up at every sync: jobs a crashed run synced but never indexed (the
index is refreshed after the sync's commit) are indexed by the next sync's refresh, whichever
boards that sync touched. On a real SQLite file with FTS5."""

from __future__ import annotations

from jobpipeline.lib.store import refresh_search_index, search_jobs
from jobpipeline_tests.lib.test_sync import D1, D2, D3, posting, sync

OTHER = ("lever", "globex")


def titles(engine, query: str) -> set[str]:
    return {row.title for row in search_jobs(engine, query)}


def test_jobs_synced_by_a_run_that_crashed_before_indexing_are_indexed_by_the_next_sync(engine):
    sync(engine, [posting("a1", "Rust Engineer"), posting("a2", "Data Engineer")], D1)  # crash: no refresh
    assert titles(engine, "Rust") == set()
    later = sync(engine, [posting("g1", "Site Reliability Engineer", source="lever", board="globex", company="Globex")], D2, boards=[OTHER])
    indexed = refresh_search_index(engine, later.touched_ids)  # what `jobs` / `hn_jobs` run after each sync
    assert indexed == 3
    assert titles(engine, "Rust") == {"Rust Engineer"} and titles(engine, "Reliability") == {"Site Reliability Engineer"}
    assert refresh_search_index(engine, []) == 0  # nothing left over: the catch-up is not redone every time


def test_a_rewrite_synced_by_a_crashed_run_is_reindexed_by_the_next_sync(engine):
    first = sync(engine, [posting("a1", description="Build APIs in Go.")], D1)
    refresh_search_index(engine, first.touched_ids)
    sync(engine, [posting("a1", description="Build APIs in Go and Elixir.")], D2)  # rewritten; crash before indexing
    assert titles(engine, "Elixir") == set()
    later = sync(engine, [posting("g1", source="lever", board="globex", company="Globex")], D3, boards=[OTHER])
    refresh_search_index(engine, later.touched_ids)
    assert titles(engine, "Elixir") == {"Backend Engineer"}
