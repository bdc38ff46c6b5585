"""Bad postings and bad bodies from real recorded payloads: what is sound is kept, what is hostile is
dropped, and the board's outcome says what it dropped.

Every case starts from a real recording in data/replay/, changed in the one way the case is about,
and goes through the real scrape (replay server on 127.0.0.1, ``scrape_boards``) or the adapter.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobpipeline.lib.boards import Board
from jobpipeline.lib.http import HttpSettings, make_client
from jobpipeline.lib.postings import postings_frame
from jobpipeline.lib.replay import ReplayServer
from jobpipeline.lib.scrape import BoardResult, scrape_boards
from jobpipeline.lib.sources import ADAPTERS, SourceFormatError, parse_board
from jobpipeline.lib.sources.base import decode_json
from jobpipeline.lib.sync import sync_postings
from jobpipeline.lib.text import clean_line, clean_text, html_to_text
from jobpipeline.settings import replay_corpus_dir

SETTINGS = HttpSettings(backoff_base_s=0.01, backoff_cap_s=0.05)
ANSWERSNOW = Board("ashby", "answersnow", "AnswersNow")  # 3 real listed postings


def recorded(board: Board) -> dict | list:
    return json.loads((replay_corpus_dir() / board.ats / f"{board.token}.json").read_text(encoding="utf-8"))


def scrape_corpus(corpus: Path, boards: list[Board]) -> list[BoardResult]:
    """The boards scraped from a replay server over ``corpus`` (``<ats>/<token>.json``)."""

    async def go() -> list[BoardResult]:
        async with make_client(SETTINGS) as client:
            return await scrape_boards(boards, client=client, base_urls=server.base_urls, settings=SETTINGS)

    with ReplayServer(corpus) as server:
        return asyncio.run(go())


def write_corpus(root: Path, board: Board, body: object) -> Path:
    path = root / board.ats / f"{board.token}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")
    details = replay_corpus_dir() / board.ats / f"{board.token}.details"
    if details.is_dir():  # the board's recorded details come along (the server lists them too)
        shutil.copytree(details, root / board.ats / f"{board.token}.details", dirs_exist_ok=True)
    return root


def test_one_ashby_posting_without_id_numeric_title_or_list_for_object_is_skipped_and_the_rest_kept(tmp_path):
    body = recorded(ANSWERSNOW)
    sound = [job["id"] for job in body["jobs"]]
    broken = [dict(body["jobs"][0]) for _ in range(3)]
    del broken[0]["id"]
    broken[1].update(id="numeric-title", title=12345)
    broken[2].update(id="list-for-object", compensation=[{"compensationType": "Salary"}])
    body["jobs"] = broken + body["jobs"]
    (result,) = scrape_corpus(write_corpus(tmp_path, ANSWERSNOW, body), [ANSWERSNOW])

    assert result.ok, result.error
    assert sorted(p.source_job_id for p in result.postings) == sorted(sound)
    assert (result.n_postings, result.n_skipped) == (3, 3)
    summary = result.summary()
    assert summary["n_skipped"] == 3
    assert summary["skipped_reasons"] == [
        "posting 0: id: missing",
        "posting 1 (id 'numeric-title'): title: expected a string, got number",
        "posting 2 (id 'list-for-object'): compensation: expected an object, got list",
    ]


@pytest.mark.parametrize(
    ("board", "id_key"),
    [
        (Board("greenhouse", "lattice", "Lattice"), "id"),
        (Board("lever", "palantir", "Palantir"), "id"),
        (Board("smartrecruiters", "WesternDigital", "Western Digital"), "id"),
        (Board("workday", "nvidia/NVIDIAExternalCareerSite", "NVIDIA"), "bulletFields"),
    ],
)
def test_every_adapter_skips_a_posting_with_a_null_id_and_never_stores_none(tmp_path, replay, board, id_key):
    """A null id became the string 'None' (Greenhouse, Lever, SmartRecruiters) or sank the board."""
    (original,) = scrape_corpus(replay.corpus_dir, [board])
    body = recorded(board)
    items = body if isinstance(body, list) else body["jobs" if "jobs" in body else "content" if "content" in body else "jobPostings"]
    items[0][id_key] = None
    if board.ats == "workday":
        items[0]["externalPath"] = None  # the id falls back to the path
    (result,) = scrape_corpus(write_corpus(tmp_path, board, body), [board])

    assert result.ok and result.n_skipped == 1, result.error
    assert "None" not in {p.source_job_id for p in result.postings}
    assert result.n_postings == original.n_postings - 1
    assert {p.source_job_id for p in result.postings} < {p.source_job_id for p in original.postings}


def test_a_body_of_the_wrong_shape_fails_the_board_and_closes_none_of_its_jobs(tmp_path, engine):
    """``{"jobs": [1, 2, 3]}`` was an empty success, and the sync closed every open job of the board.
    (No list, or an object for the list, already failed the board before: kept so.)"""
    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    (good,) = scrape_corpus(write_corpus(day1, ANSWERSNOW, recorded(ANSWERSNOW)), [ANSWERSNOW])
    (bad,) = scrape_corpus(write_corpus(day2, ANSWERSNOW, {"jobs": [1, 2, 3]}), [ANSWERSNOW])

    assert good.ok and good.n_postings == 3
    assert not bad.ok and bad.postings == []
    assert bad.error == "ashby/answersnow: none of the 3 listed postings could be read (first: posting 0: expected an object, got number)"
    for day, result in ((date(2026, 11, 1), good), (date(2026, 11, 2), bad)):
        sync_postings(
            engine,
            postings_frame(result.postings),
            seen_on=day,
            outcomes=[result.outcome()],
        )
    with engine.connect() as conn:
        closed = conn.exec_driver_sql("SELECT count(*) FROM job WHERE closed_at IS NOT NULL").scalar()
        total = conn.exec_driver_sql("SELECT count(*) FROM job").scalar()
    assert (total, closed) == (3, 0)


def test_stored_text_has_no_live_or_escaped_markup_controls_or_bidi_overrides(tmp_path):
    body = recorded(ANSWERSNOW)
    first, second, third = body["jobs"]
    first.update(
        title="Senior\x00 Engineer \u202eredli\u202c <script>alert(1)</script>",
        descriptionHtml="<p>Hi</p>&lt;script&gt;alert(1)&lt;/script&gt;<style>p{}</style><noscript>n</noscript>",
        location="Berlin\t<b>DE</b>\u2066",
        department="&lt;img src=x onerror=alert(1)&gt;Eng",
    )
    second.update(descriptionHtml=None, descriptionPlain="Plain &amp;lt;script&amp;gt;x()&amp;lt;/script&amp;gt; text\x07\u200f")
    third.update(applyUrl="javascript:alert(1)", jobUrl=None)
    (result,) = scrape_corpus(write_corpus(tmp_path, ANSWERSNOW, body), [ANSWERSNOW])
    by_id = {p.source_job_id: p for p in result.postings}

    one, two, three = by_id[first["id"]], by_id[second["id"]], by_id[third["id"]]
    assert one.title == "Senior Engineer redli"
    assert one.description == "Hi"
    assert one.locations[0] == "Berlin DE" and one.department == "Eng"
    assert two.description == "Plain text"
    assert three.apply_url is None


def test_the_sanitizer_decodes_then_strips_again_and_keeps_real_text():
    assert html_to_text("<p>Hi</p>&lt;script&gt;alert(1)&lt;/script&gt;") == "Hi"
    assert html_to_text("&lt;p&gt;One&lt;/p&gt;&lt;ul&gt;&lt;li&gt;two &amp;amp; three&lt;/li&gt;&lt;/ul&gt;") == "One\n\n- two & three"
    assert clean_text("a < b and c > d, AT&T, R&D, 5 &lt; 6") == "a < b and c > d, AT&T, R&D, 5 < 6"
    assert clean_text("x <script") == "x"
    assert clean_line("  Zürich\u00a0/\u200eRemote\n(EU) ") == "Zürich /Remote (EU)"
    assert clean_text("नमस्ते\u200d and فارسی\u200c") == "नमस्ते\u200d and فارسی\u200c"  # joiners shape real scripts


# Text near what the sanitizer tests for: spaces of every kind, markup and entity starts, controls,
# bidi marks, line breaks, and letters.
_LINE_ALPHABET = " \t\n\r\xa0\u2003\u200b\u200e\u202e\x00\x85<>&;/#pbrai=\"'xyZé中"


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=_LINE_ALPHABET, max_size=24) | st.text(max_size=24))
def test_a_line_taken_as_already_clean_is_what_the_full_sanitizer_returns(value: str):
    # clean_line returns a text it finds clean (most titles and locations) as it is, without the
    # full pass: that shortcut must never keep what the full pass would change.
    assert clean_line(value) == " ".join(clean_text(value).split())


def test_skipped_reasons_keep_only_the_first_few(tmp_path):
    body = recorded(ANSWERSNOW)
    body["jobs"] += [{"id": f"bad-{i}", "title": ["list"]} for i in range(12)]
    parsed = parse_board(ADAPTERS["ashby"], [json.dumps(body).encode()], ANSWERSNOW)
    assert (len(parsed.postings), parsed.skipped, len(parsed.reasons)) == (3, 12, 5)
    assert parsed.reasons[0] == "posting 3 (id 'bad-0'): title: expected a string, got list"


def test_a_board_whose_every_posting_is_unreadable_fails_naming_the_first_reason():
    body = json.dumps({"jobs": [{"title": "x"}, {"title": "y"}]}).encode()
    with pytest.raises(SourceFormatError, match=r"none of the 2 listed postings could be read \(first: posting 0: id: missing\)"):
        parse_board(ADAPTERS["ashby"], [body], ANSWERSNOW)


def test_skipped_postings_reach_the_materialization_metadata(tmp_path):
    from jobpipeline.defs.scrape.assets import outcomes_metadata

    body = recorded(ANSWERSNOW)
    body["jobs"].append({"id": None, "title": "no id"})
    (result,) = scrape_corpus(write_corpus(tmp_path, ANSWERSNOW, body), [ANSWERSNOW])
    metadata = outcomes_metadata([result.summary()])
    assert (metadata["postings"], metadata["postings_skipped"]) == (3, 1)
    assert "| 1 | posting 3: id: missing |" in metadata["board_outcomes"].value


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(_JSON, st.booleans())
def test_bodies_decode_as_the_standard_librarys_json_reads_them(value, ascii_only: bool):
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(body)
    except ValueError:  # a lone surrogate Python's json cannot read either
        return
    assert decode_json(body) == expected


def test_integers_past_64_bits_decode_whole_as_json_reads_them():
    """orjson reads them as floats (1e+20), which would turn an id of 20 digits into another
    number; hypothesis found one (-9223372036854775809) in the property test above."""
    body = b'{"id": 99999999999999999999, "low": -9223372036854775809, "ids": ["12345678901234567890123"], "ok": 9223372036854775807}'
    decoded = decode_json(body)
    assert decoded == json.loads(body)
    assert decoded["id"] == 99999999999999999999 and isinstance(decoded["id"], int) and isinstance(decoded["low"], int)


def test_what_orjson_refuses_but_json_reads_still_decodes():
    # orjson (the fast path) rejects each of these; Python's json, which the adapters used before, reads them.
    body = b'\xef\xbb\xbf{"pay": NaN, "id": 123456789012345678901234567890, "max": Infinity}'
    decoded = decode_json(body)
    assert decoded["id"] == 123456789012345678901234567890 and decoded["max"] == float("inf")
    assert decoded["pay"] != decoded["pay"]  # NaN
