"""Fuzz every adapter with its real recorded payloads, mutated: bad input never loses good data.

Each case takes one adapter's bodies as the replay server serves them (the API's own shape) and
mutates a few postings in them: a field dropped, a value swapped for another type, a string replaced
with markup (live or escaped), control and bidi characters, or 100 KB of text, a posting duplicated.
Then ``parse_board`` must hold three promises:

- it raises nothing but ``SourceFormatError``, and that only when no posting at all could be read;
- every posting the mutations did not touch comes out exactly as it does from the untouched body;
- no stored text holds ``<script`` or a control character (newlines in descriptions aside).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobpipeline.lib.boards import Board
from jobpipeline.lib.http import HttpSession, HttpSettings, make_client
from jobpipeline.lib.postings import Posting
from jobpipeline.lib.sources import ADAPTERS, SourceFormatError, parse_board
from jobpipeline.lib.sources.base import sanitize_posting

BOARDS = [
    Board("greenhouse", "generalassembly", "General Assembly"),  # HTML-escaped `content`, offices, departments
    Board("greenhouse", "lattice", "Lattice"),
    Board("ashby", "answersnow", "AnswersNow"),  # compensation, secondary locations
    Board("ashby", "etched", "Etched"),
    Board("lever", "palantir", "Palantir"),
    Board("smartrecruiters", "WesternDigital", "Western Digital"),
    Board("workday", "nvidia/NVIDIAExternalCareerSite", "NVIDIA"),
]
LIST_KEY = {"greenhouse": "jobs", "ashby": "jobs", "lever": None, "smartrecruiters": "content", "workday": "jobPostings"}

MARKUP = [
    "<script>alert(1)</script>Engineer",
    "&lt;script&gt;alert(1)&lt;/script&gt;Engineer",
    "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    "<p>Hi</p>&lt;script&gt;alert(1)&lt;/script&gt;",
    "<img src=x onerror=alert(1)><SCRIPT SRC=//x.example/a.js></SCRIPT>",
    "<style>p{}</style><iframe src=javascript:alert(1)></iframe><noscript><script>x</script></noscript>ok",
    "x <script",
    "javascript:alert(1)",
]
CONTROLS = "\x00\x01\x07\x08\x0b\x0c\x1b\x1f\x7f\x85\x9b\u200e\u200f\u202a\u202b\u202d\u202e\u2066\u2067\u2069\ufeff\r\t"
SWAPS: list[Any] = [None, 0, 12345, -1.5, True, False, "", [], {}, [1, "a", None], {"a": [1]}, "12"]
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class Recorded(dict):
    """Board key → (board, bodies); a short repr, so a failing case's report stays readable."""

    def __repr__(self) -> str:
        return f"<recorded bodies of {len(self)} boards>"


@pytest.fixture(scope="module")
def recorded(replay) -> Recorded:
    """Each board's bodies exactly as its adapter fetches them from the replay server."""
    http = HttpSettings(backoff_base_s=0.01, backoff_cap_s=0.05)

    async def fetch_all() -> Recorded:
        async with make_client(http) as client:
            session = HttpSession(client, http)
            return Recorded({b.key: (b, await ADAPTERS[b.ats].fetch(session.fetcher(), b, replay.base_urls[b.ats])) for b in BOARDS})

    return asyncio.run(fetch_all())


def decode(board: Board, body: bytes) -> tuple[dict | None, list[Any]]:
    data = json.loads(body)
    key = LIST_KEY[board.ats]
    return (data, data[key]) if key else (None, data)


def encode(board: Board, items: list[Any], envelope: dict | None) -> bytes:
    key = LIST_KEY[board.ats]
    return json.dumps({**(envelope or {}), key: items} if key else items).encode()


def expected_posting(board: Board, item: Any) -> Posting | None:
    """What the untouched posting gives on its own (None: a posting the board does not show)."""
    posting = ADAPTERS[board.ats].posting(copy.deepcopy(item), board)
    return None if posting is None else sanitize_posting(posting)


mutation = st.tuples(
    st.sampled_from(["drop", "swap", "swap", "markup", "controls", "huge", "duplicate"]),  # types swapped most: the usual bug
    st.integers(min_value=0, max_value=10_000),  # which posting (mod the page's count)
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=3),  # path into the posting
    st.integers(min_value=0, max_value=10_000),  # which swap value / markup / control string
)


def mutate(item: dict, kind: str, path: list[int], pick: int) -> None:
    """Apply one mutation at a path chosen by ``path`` (indices into keys, walking into objects)."""
    target: Any = item
    for depth, step in enumerate(path):
        keys = list(target) if isinstance(target, dict) else list(range(len(target))) if isinstance(target, list) else []
        if not keys:
            return
        key = keys[step % len(keys)]
        value = target[key]
        if depth + 1 < len(path) and isinstance(value, (dict, list)) and value:
            target = value
            continue
        if kind == "drop":
            if isinstance(target, dict):
                del target[key]
            else:
                target.pop(key)
        elif kind == "swap":
            target[key] = copy.deepcopy(SWAPS[pick % len(SWAPS)])
        elif kind == "markup":
            target[key] = MARKUP[pick % len(MARKUP)]
        elif kind == "controls":
            chars = CONTROLS[pick % len(CONTROLS) :] + CONTROLS[: pick % len(CONTROLS)]
            target[key] = f"{chars[:3]}A{chars[3:6]}B{chars[6:]}" if not isinstance(value, str) else chars[:4] + value + chars[4:]
        elif kind == "huge":
            target[key] = ("<b>long</b> text &amp; more " * 4000)[:100_000]
        return


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure here is a bug, not bad luck
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(which=st.sampled_from([b.key for b in BOARDS]), mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_real_payloads_keep_sound_postings_and_store_no_markup_or_controls(recorded, which, mutations):
    board, bodies = recorded[which]
    decoded = [decode(board, body) for body in bodies]
    pages = [copy.deepcopy(items) for _, items in decoded]
    touched: set[tuple[int, int]] = set()
    duplicates = 0
    for n, (kind, index, path, pick) in enumerate(mutations):
        page = pages[n % len(pages)]
        if not page:
            continue
        i = index % len(page)
        if kind == "duplicate":
            page.append(copy.deepcopy(page[i]))  # appended: the other postings keep their places
            duplicates += 1
            continue
        touched.add((n % len(pages), i))
        if isinstance(page[i], dict):
            mutate(page[i], kind, path, pick)
    sound = Counter(
        repr(p.as_row())
        for p_i, (_, items) in enumerate(decoded)
        for i, item in enumerate(items)
        if (p_i, i) not in touched and (p := expected_posting(board, item)) is not None
    )
    new_bodies = [encode(board, page, envelope) for page, (envelope, _) in zip(pages, decoded, strict=True)]

    try:
        parsed = parse_board(ADAPTERS[board.ats], new_bodies, board)
    except SourceFormatError as exc:
        assert not sound, f"the board failed although {sum(sound.values())} postings were sound: {exc}"
        return
    got = Counter(repr(p.as_row()) for p in parsed.postings)
    lost = sound - got
    assert not lost, f"sound postings lost: {list(lost)[:1]}"
    assert parsed.skipped <= len(touched) + duplicates and len(parsed.reasons) == min(parsed.skipped, 5)
    for posting in parsed.postings:
        for name, value in posting.as_row().items():
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str):
                    assert "<script" not in text.lower(), (name, text[:200])
                    assert not _CONTROL_IN_TEXT.search(text), (name, text[:200])
                    assert name == "description" or "\n" not in text, (name, text[:200])
        assert posting.source_job_id and posting.source_job_id != "None"
        assert posting.apply_url is None or posting.apply_url.startswith(("http://", "https://"))
