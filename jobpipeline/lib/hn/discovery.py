"""Month ("2019-11") → the story id of that month's "Ask HN: Who is hiring?" thread.

Primary: Algolia ``search_by_date`` over stories by ``whoishiring`` / ``_whoishiring`` (2015-04 and
2015-05 came from ``_whoishiring``), newest first, paged. Fallback: the Firebase ``submitted`` list
of those accounts, each story fetched until one matches. A story is the month's thread when its
title, trimmed and lower-cased, starts with ``ask hn: who is hiring?`` (this excludes "Who wants to
be hired?", "Freelancer? Seeking freelancer?", "Who is hiring right now?" and other posts); the
month comes from the title's "(April 2011)", else from the creation time.

A backfill asks for many months, one run each: ``ThreadIndex`` keeps the months found by a walk
on disk (only months already over, whose thread can no longer change), so the walk happens once per
backfill instead of once per month (a walk back to 2011 is ~10 pages).

No override table: the one known wrong thread (2011-12: 3300371, 6 comments) says so in its own
text ("Please see this month's canonical post @ …item?id=3300290"), so any story whose text points
to a "canonical post" is followed to it (``CANONICAL_POINTER``).
"""

from __future__ import annotations

import asyncio
import calendar
import dataclasses
import html
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jobpipeline.lib.hn.api import Client, HNSourceError, algolia_url, firebase_url, get_json, session_for
from jobpipeline.lib.http import HttpStatusError, TransportError

FIRST_MONTH = "2011-04"
ACCOUNTS = ("whoishiring", "_whoishiring")
TITLE_PREFIX = "ask hn: who is hiring?"
_EXCLUDED_TITLE_WORDS = ("who wants to be hired", "freelancer")

# The query the recordings hold (ryanwi/hiringtrends); the replay answers exactly this one.
ALGOLIA_SEARCH_PARAMS = {"query": "hiring", "tags": "story,(author__whoishiring,author_whoishiring)"}

CANONICAL_POINTER = re.compile(r"canonical post\W+(?:https?://)?news\.ycombinator\.\w+/item\?id=(\d+)", re.I)
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_TITLE_MONTH = re.compile(r"\((" + "|".join(calendar.month_name[1:]) + r")\s+(\d{4})\)", re.I)
_MONTH_NUMBER = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
# Threads open on the 1st to 3rd; a story up to this far before the month still counts as "reached".
_SLACK = timedelta(days=7)


class ThreadNotFoundError(HNSourceError, LookupError):
    """No "Who is hiring?" thread is known for the month."""


@dataclass(frozen=True, slots=True)
class Thread:
    """One month's hiring thread as discovered."""

    month: str
    story_id: int
    title: str
    author: str
    created_at: datetime
    num_comments: int | None  # Algolia's count (nested replies included); None from Firebase
    via: str  # "algolia" | "firebase"
    redirected_from: int | None = None  # the account's story that pointed to the canonical one


def parse_month(month: str) -> tuple[int, int]:
    """``"2019-11"`` → ``(2019, 11)``; rejects other shapes and months before the first thread."""
    match = _MONTH_RE.match(month)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"month must look like '2019-11', got {month!r}")
    if month < FIRST_MONTH:
        raise ValueError(f"month {month} is before the first 'Who is hiring?' thread ({FIRST_MONTH})")
    return int(match[1]), int(match[2])


def month_start(month: str) -> datetime:
    year, mon = parse_month(month)
    return datetime(year, mon, 1, tzinfo=UTC)


def is_hiring_title(title: str | None) -> bool:
    """True for "Ask HN: Who is hiring? (…)" in any case, with or without trailing spaces."""
    norm = (title or "").strip().lower()
    return norm.startswith(TITLE_PREFIX) and not any(w in norm for w in _EXCLUDED_TITLE_WORDS)


def thread_month(title: str, created_at: datetime) -> str:
    """The month a thread is for: "(April 2011)" in the title, else the month it was posted."""
    if match := _TITLE_MONTH.search(title):
        return f"{int(match[2]):04d}-{_MONTH_NUMBER[match[1].lower()]:02d}"
    return created_at.strftime("%Y-%m")


def canonical_pointer(story_text: str | None) -> int | None:
    """The story id a "see this month's canonical post @ …item?id=N" text points to, if any."""
    match = CANONICAL_POINTER.search(html.unescape(story_text or ""))
    return int(match[1]) if match else None


def threads_from_search_hits(hits: Iterable[dict[str, Any]]) -> dict[str, Thread]:
    """Month → thread from Algolia ``search_by_date`` hits (pure; pages may be concatenated).

    Where several stories match one month, the one with the most comments wins.
    """
    threads: dict[str, Thread] = {}
    for hit in hits:
        title = hit.get("title") or ""
        if not is_hiring_title(title):
            continue
        created = datetime.fromtimestamp(int(hit["created_at_i"]), UTC)
        story_id = int(hit["objectID"])
        pointer = canonical_pointer(hit.get("story_text"))
        thread = Thread(
            month=thread_month(title, created),
            story_id=pointer or story_id,
            title=title.strip(),
            author=hit.get("author") or "",
            created_at=created,
            num_comments=hit.get("num_comments"),
            via="algolia",
            redirected_from=story_id if pointer else None,
        )
        known = threads.get(thread.month)
        if known is None or (thread.num_comments or 0) > (known.num_comments or 0):
            threads[thread.month] = thread
    return threads


async def search_algolia(client: Client, algolia_base: str, *, back_to: str | None = None) -> dict[str, Thread]:
    """Walk ``search_by_date`` pages newest first; stop once past ``back_to`` (or at the last page).

    Raises ``HNSourceError`` when the first page is unavailable (404).
    """
    fetcher = session_for(client).fetcher()
    stop_before = month_start(back_to) - _SLACK if back_to else None
    hits: list[dict[str, Any]] = []
    page = 0
    while True:
        body = await get_json(fetcher, algolia_url(algolia_base, "search_by_date"), params={**ALGOLIA_SEARCH_PARAMS, "page": str(page)})
        if body is None:
            if page == 0:
                raise HNSourceError(f"Algolia search_by_date at {algolia_base} answered 404")
            break  # a page past the recorded/served ones: what we have is all there is
        page_hits = body.get("hits") or []
        hits.extend(page_hits)
        page += 1
        if not page_hits or page >= int(body.get("nbPages") or 0):
            break
        oldest = min(int(h["created_at_i"]) for h in page_hits)
        if stop_before and datetime.fromtimestamp(oldest, UTC) < stop_before:
            break
    return threads_from_search_hits(hits)


async def search_firebase(month: str, client: Client, firebase_base: str, *, batch: int = 16) -> Thread | None:
    """The month's thread from the accounts' ``submitted`` lists (newest first), or None.

    Items that are missing (404 / null) are skipped; the walk stops at the first story older than
    the month, since ids grow with time.
    """
    fetcher = session_for(client).fetcher()
    start = month_start(month)
    for account in ACCOUNTS:
        user = await get_json(fetcher, firebase_url(firebase_base, f"user/{account}.json"))
        submitted = [int(i) for i in (user or {}).get("submitted") or []]
        for offset in range(0, len(submitted), batch):
            ids = submitted[offset : offset + batch]
            items = await asyncio.gather(*(get_json(fetcher, firebase_url(firebase_base, f"item/{i}.json")) for i in ids))
            reached_older = False
            for item in items:
                if not item or item.get("type") != "story":
                    continue
                created = datetime.fromtimestamp(int(item["time"]), UTC)
                if created < start - _SLACK:
                    reached_older = True
                title = item.get("title") or ""
                if is_hiring_title(title) and thread_month(title, created) == month:
                    pointer = canonical_pointer(item.get("text"))
                    return Thread(
                        month=month,
                        story_id=pointer or int(item["id"]),
                        title=title.strip(),
                        author=item.get("by") or account,
                        created_at=created,
                        num_comments=None,
                        via="firebase",
                        redirected_from=int(item["id"]) if pointer else None,
                    )
            if reached_older:
                break
    return None


class ThreadIndex:
    """Month → thread for months that are over, in one JSON file, so that a backfill's runs (separate
    processes) share one ``search_by_date`` walk.

    Only months before ``current_month`` are kept: their thread is fixed once the month is over, so a
    kept entry never goes stale; the current month is always searched again. The file belongs to one
    Algolia base URL (a replay server's differs from the live API's); under another base it is ignored
    and rewritten. It is a cache: unreadable or missing means "search", and concurrent writers may
    lose each other's entries (a later run searches again), never corrupt them (atomic replace).
    """

    def __init__(self, path: Path, algolia_base: str):
        self.path = Path(path)
        self.algolia_base = algolia_base

    def read(self) -> dict[str, Thread]:
        try:
            body = json.loads(self.path.read_text())
            if body.get("algolia_base") != self.algolia_base:
                return {}
            return {month: Thread(**dict(t, created_at=datetime.fromisoformat(t["created_at"]))) for month, t in body["threads"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def get(self, month: str) -> Thread | None:
        return self.read().get(month)

    def add(self, threads: dict[str, Thread], *, current_month: str) -> None:
        """Keep ``threads`` of months before ``current_month`` (with what the file already holds)."""
        over = {m: t for m, t in threads.items() if m < current_month}
        if not over:
            return
        merged = {**self.read(), **over}
        body = {
            "algolia_base": self.algolia_base,
            "threads": {m: dict(dataclasses.asdict(t), created_at=t.created_at.isoformat()) for m, t in sorted(merged.items())},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(body, out, indent=0)
            os.replace(tmp, self.path)
        finally:
            Path(tmp).unlink(missing_ok=True)  # left only when the write failed


async def find_thread(
    month: str,
    *,
    client: Client,
    algolia_base: str,
    firebase_base: str,
    index: ThreadIndex | None = None,
    current_month: str | None = None,
) -> Thread:
    """The month's thread: from ``index`` when it knows the month, else Algolia search (whose finds
    go into ``index`` for months before ``current_month``, default: this UTC month), else Firebase
    ``submitted``.

    Raises ``ThreadNotFoundError`` (naming the month) when neither knows one, ``HNSourceError``
    when Algolia gave no answer and Firebase failed too.
    """
    parse_month(month)
    if index is not None and (known := index.get(month)) is not None:
        return known
    algolia_problem = "no matching story"
    try:
        threads = await search_algolia(client, algolia_base, back_to=month)
        if index is not None:
            index.add(threads, current_month=current_month or datetime.now(UTC).strftime("%Y-%m"))
        if month in threads:
            return threads[month]
    except (HNSourceError, HttpStatusError, TransportError, ValueError) as exc:
        algolia_problem = f"failed: {exc}"
    try:
        thread = await search_firebase(month, client, firebase_base)
    except (HttpStatusError, TransportError, ValueError) as exc:
        raise HNSourceError(
            f"cannot find the 'Who is hiring?' thread of {month}: Algolia at {algolia_base} {algolia_problem}, "
            f"Firebase at {firebase_base} failed: {exc}"
        ) from exc
    if thread is not None:
        return thread
    raise ThreadNotFoundError(
        f"no 'Ask HN: Who is hiring?' thread found for {month}: Algolia search_by_date at {algolia_base} "
        f"({algolia_problem}) and Firebase submitted of {', '.join(ACCOUNTS)} at {firebase_base} (no matching story)"
    )
