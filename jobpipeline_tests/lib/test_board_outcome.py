"""The board outcome is one type (``postings.BoardOutcome``): what ``outcomes.json`` keeps, what
``board_scrape`` stores and what the analytics read all come from its fields, and partitions written
before it existed (by main's ``BoardResult.summary()``, fixture in ``fixtures/main_partition``) still
sync."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from jobpipeline.defs.jobs.assets import sync_raw_partition
from jobpipeline.lib.analytics.load import BOARD_SCRAPE_COLUMNS
from jobpipeline.lib.postings import BoardOutcome, BoardOutcomes, Posting, postings_frame
from jobpipeline.lib.rawstore import RawPartition
from jobpipeline.lib.store import BoardScrape, create_schema, get_engine
from jobpipeline.lib.sync import close_ended_board, sync_postings

MAIN_PARTITION = Path(__file__).parents[1] / "fixtures" / "main_partition" / "raw"
PACKAGE = Path(__file__).parents[2] / "jobpipeline"


@pytest.fixture
def engine(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_schema(engine)
    return engine


def test_stored_fields_are_the_board_scrape_columns_the_analytics_read():
    table = [c.name for c in BoardScrape.__table__.columns]
    assert table == ["source", "board", "scraped_on", *BoardOutcome.stored_columns()]
    assert list(BOARD_SCRAPE_COLUMNS) == table


def test_a_partition_written_by_main_reads_back_as_outcomes_and_writes_the_same_json(tmp_path):
    written = json.loads((MAIN_PARTITION / "ashby" / "2026-11-01" / "outcomes.json").read_text(encoding="utf-8"))
    outcomes = [BoardOutcome.from_json(row, source="ashby") for row in written]
    assert [(o.board, o.ok, o.http_status, o.n_postings, o.skipped_ids) for o in outcomes] == [
        ("Kombo", True, 200, 5, ["20d6cb5f-9b51-4a6b-8005-613446316dd8"]),
        ("downco", False, 503, 0, []),
    ]
    assert [o.as_json() for o in outcomes] == written  # today's writer keeps main's keys and values


def test_a_partition_written_by_main_syncs_its_outcomes_and_skips(tmp_path, engine):
    shutil.copytree(MAIN_PARTITION, tmp_path / "raw")
    result = sync_raw_partition(engine, "ashby", "2026-11-01", RawPartition.at(tmp_path / "raw", "ashby", "2026-11-01"))
    assert (result.postings, result.new) == (5, 5)
    with engine.connect() as conn:
        scrapes = conn.exec_driver_sql(
            "SELECT board, scraped_on, ok, http_status, error, n_postings, n_bytes, duration_s FROM board_scrape ORDER BY board"
        ).all()
        skipped = conn.exec_driver_sql("SELECT board, source_job_id FROM board_scrape_skipped").all()
    assert [tuple(r) for r in scrapes] == [
        ("Kombo", "2026-11-01", 1, 200, None, 5, 86086, 0.25),
        ("downco", "2026-11-01", 0, 503, "HTTP 503 from https://api.ashbyhq.com/posting-api/job-board/downco", 0, 0, 1.5),
    ]
    assert [tuple(r) for r in skipped] == [("Kombo", "20d6cb5f-9b51-4a6b-8005-613446316dd8")]


def test_an_hn_month_outcome_as_main_wrote_it_reads_with_the_partition_source():
    """Main's ``outcome_row`` wrote no source or company, and the thread's own keys beside the board's."""
    row = {
        "board": "2026-01",
        "ok": True,
        "http_status": 200,
        "error": None,
        "n_postings": 3,
        "n_bytes": 900,
        "duration_s": 1.234,
        "story_id": 1,
        "title": "Ask HN: Who is hiring? (January 2026)",
        "author": "whoishiring",
        "thread_created_at": "2026-01-02T16:00:00+00:00",
        "discovered_via": "algolia",
        "api": "algolia",
        "fetched_on": "2026-01-20",
        "counts": {"seen": 3},
    }
    outcome = BoardOutcome.from_json(row, source="hn")
    assert outcome == BoardOutcome(source="hn", board="2026-01", ok=True, http_status=200, n_postings=3, n_bytes=900, duration_s=1.234)


@pytest.mark.parametrize(
    "row, message",
    [
        ({"ok": True}, "board outcome without board"),
        ({"board": "acme"}, "board outcome without ok"),
        ({"board": "acme", "ok": "yes"}, "board outcome greenhouse/acme: ok must be true or false, got 'yes'"),
    ],
)
def test_a_malformed_outcome_row_names_what_is_wrong(row, message):
    with pytest.raises(ValueError, match=message):
        BoardOutcome.from_json(row, source="greenhouse")


def partition_with_outcomes(tmp_path: Path, rows: object) -> RawPartition:
    """The main fixture's partition with ``rows`` as its outcomes.json."""
    shutil.copytree(MAIN_PARTITION, tmp_path / "raw")
    partition = RawPartition.at(tmp_path / "raw", "ashby", "2026-11-01")
    partition.outcomes_path.write_bytes(json.dumps(rows).encode() if not isinstance(rows, bytes) else rows)
    return partition


HN_ROW = {"board": "2026-01", "ok": True, "http_status": 200, "n_postings": 3, "story_id": 1, "counts": {"seen": 3}, "api": "algolia"}
OUTCOME_ROWS = {
    "main's partition": json.loads((MAIN_PARTITION / "ashby" / "2026-11-01" / "outcomes.json").read_text(encoding="utf-8")),
    "an HN month as main wrote it": [HN_ROW],
    "nulls take the defaults": [
        {"source": "x", "board": "a", "ok": True, "n_postings": None, "n_bytes": None, "duration_s": None, "skipped_ids": None},
        {"source": "x", "board": "b", "ok": False, "http_status": None, "error": "HTTP 500", "skipped_ids": ["9", "10"]},
    ],
    "a board twice, skips on both": [
        {"board": "a", "ok": True, "skipped_ids": ["2", "1"], "n_postings": 7},
        {"board": "a", "ok": False, "http_status": 503, "skipped_ids": ["3"]},
        {"board": "b", "ok": True, "duration_s": 2},
    ],
    "no boards": [],
}


@pytest.mark.parametrize("rows", OUTCOME_ROWS.values(), ids=OUTCOME_ROWS.keys())
def test_a_partitions_outcomes_read_as_one_frame_are_the_outcomes_read_row_by_row(tmp_path, rows):
    """The sync reads outcomes.json into columns (polars), not a ``BoardOutcome`` a board; what it
    reads is what ``from_json`` reads of each row, the partition's source filling or overriding the
    stored one, and so are the ones it builds from objects (``BoardOutcomes.of``)."""
    partition = partition_with_outcomes(tmp_path, rows)
    row_by_row = BoardOutcomes.of([BoardOutcome.from_json(row, source="ashby") for row in rows]).frame
    assert BoardOutcomes.read_json(partition.outcomes_path.read_bytes(), source="ashby") is not None  # polars read it all
    assert partition.read_board_outcomes("ashby").frame.to_dicts() == row_by_row.to_dicts()
    assert BoardOutcomes.from_json(rows, source="ashby").frame.to_dicts() == row_by_row.to_dicts()


@pytest.mark.parametrize(
    "row, message",
    [
        ({"ok": True}, "board outcome without board"),
        ({"board": "acme", "ok": None}, "board outcome without ok"),
        ({"board": "acme", "ok": "yes"}, "board outcome ashby/acme: ok must be true or false, got 'yes'"),
        ({"board": "acme", "ok": 1}, "board outcome ashby/acme: ok must be true or false, got 1"),
    ],
)
def test_a_malformed_outcome_row_in_a_partition_is_refused_by_the_sync_naming_what_is_wrong(tmp_path, engine, row, message):
    partition = partition_with_outcomes(tmp_path, [{"board": "fine", "ok": True}, row])
    with pytest.raises(ValueError, match=message):
        sync_raw_partition(engine, "ashby", "2026-11-01", partition)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM board_scrape").scalar() == 0  # nothing written


def test_a_partition_is_synced_without_an_outcome_object_a_board(tmp_path, engine, monkeypatch):
    """50,000 boards a source at 3.5 M open postings: their objects took a sync 0.5-0.6 s to make."""
    shutil.copytree(MAIN_PARTITION, tmp_path / "raw")

    def refused(*args, **kwargs):
        raise AssertionError("an outcome object made by the sync")

    monkeypatch.setattr(BoardOutcome, "from_json", refused)
    result = sync_raw_partition(engine, "ashby", "2026-11-01", RawPartition.at(tmp_path / "raw", "ashby", "2026-11-01"))
    assert (result.postings, result.new) == (5, 5)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT board, ok FROM board_scrape ORDER BY board").all() == [("Kombo", 1), ("downco", 0)]
        assert conn.exec_driver_sql("SELECT board, source_job_id FROM board_scrape_skipped").all() == [
            ("Kombo", "20d6cb5f-9b51-4a6b-8005-613446316dd8")
        ]


def test_closing_an_ended_board_closes_its_postings_on_that_day(engine):
    postings = [Posting(source="hn", board="2026-01", source_job_id=str(i), company=f"Co{i}", title="Engineer") for i in range(3)]
    sync_postings(
        engine, postings_frame(postings), seen_on=date(2026, 1, 31), outcomes=[BoardOutcome(source="hn", board="2026-01", ok=True)]
    )
    ended = close_ended_board(engine, "hn", "2026-01", date(2026, 2, 1))
    assert (ended.postings, ended.new, ended.closed) == (0, 0, 3)
    with engine.connect() as conn:
        closed = conn.execute(sa.text("SELECT DISTINCT closed_at FROM job")).scalars().all()
        scrape = conn.execute(sa.text("SELECT ok, n_postings FROM board_scrape WHERE scraped_on = '2026-02-01'")).one()
    assert closed == ["2026-02-01"]
    assert tuple(scrape) == (1, 0)


def _import_cycles() -> list[set[str]]:
    """Strongly connected components of the package's import graph, imports inside functions included."""
    modules = {".".join(f.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): f for f in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    reach = {name: _reachable(graph, name) for name in graph}
    return [c for c in {frozenset(m for m in reach[n] if n in reach[m]) | {n} for n in graph} if len(c) > 1]


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_the_contracts_boards_and_sources_are_in_no_import_cycle():
    """``boards.py`` loads the adapters to check tokens, and the adapters take a ``Board``: the type
    lives in ``postings.py`` so that neither needs the other late."""
    contracts = (
        "jobpipeline.lib.postings",
        "jobpipeline.lib.boards",
        "jobpipeline.lib.sources",
        "jobpipeline.lib.scrape",
        "jobpipeline.lib.sync",
    )
    in_cycles = sorted(m for cycle in _import_cycles() for m in cycle if m.startswith(contracts))
    assert in_cycles == []


def test_outcomes_built_from_objects_keep_their_skipped_ids_without_loading_pyarrow_compute():
    """``BoardOutcomes.of`` a list of ``BoardOutcome`` (an HN month's sync, an ended board's) takes
    the skipped ids in through Arrow: each board's list, an empty one for a board with none, and
    the column typed as the schema says. A Series made from an Arrow array imports
    ``pyarrow.compute``: a first call took 110-130 ms with it against 67-74 without, and a re-sync
    of 10,000 postings after it 0.23-0.26 s against 0.18-0.20. A record batch does not import it."""
    script = """
import sys
from jobpipeline.lib.postings import BoardOutcome, BoardOutcomes

outcomes = BoardOutcomes.of([
    BoardOutcome(source="ashby", board="a", ok=True, skipped_ids=["7", "9"]),
    BoardOutcome(source="ashby", board="b", ok=True),
    BoardOutcome(source="ashby", board="c", ok=False, error="HTTP 503", skipped_ids=["x"]),
])
assert outcomes.frame["skipped_ids"].to_list() == [["7", "9"], [], ["x"]], outcomes.frame
assert outcomes.frame.schema == BoardOutcomes.schema(), outcomes.frame.schema
assert "pyarrow.compute" not in sys.modules, "pyarrow.compute was imported"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
