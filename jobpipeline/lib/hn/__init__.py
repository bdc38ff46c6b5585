"""Hacker News "Ask HN: Who is hiring?" as a monthly source: month → thread → comments → postings.

One call does it all (the Dagster monthly partition calls this)::

    result = await fetch_month("2019-11", client=client, algolia_base=ALGOLIA_BASE, firebase_base=FIREBASE_BASE)
    result.postings  # list[Posting], source "hn", board "2019-11"

Modules: ``discovery`` (month → story id), ``comments`` (story → top-level comments),
``parse`` + ``fields`` (comment → ``Posting``), ``api`` (URLs, GET). The offline routes are
``jobpipeline.lib.replay.routes_hn``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobpipeline.lib.hn.api import ALGOLIA_BASE, FIREBASE_BASE, Client, HNSourceError, session_for
from jobpipeline.lib.hn.comments import Api, HNComment, ThreadComments, ThreadUnavailableError, fetch_thread_comments
from jobpipeline.lib.hn.discovery import Thread, ThreadIndex, ThreadNotFoundError, find_thread
from jobpipeline.lib.hn.parse import ParsedComment, parse_comment
from jobpipeline.lib.postings import Posting

__all__ = [
    "ALGOLIA_BASE",
    "Api",
    "HNComment",
    "ParsedComment",
    "ThreadComments",
    "FIREBASE_BASE",
    "HNSourceError",
    "MonthCounts",
    "MonthResult",
    "Thread",
    "ThreadIndex",
    "ThreadNotFoundError",
    "ThreadUnavailableError",
    "fetch_month",
    "find_thread",
    "parse_comment",
    "parse_thread",
]


@dataclass(slots=True)
class MonthCounts:
    """What happened to the thread's top-level comments. ``seen`` = deleted + dead + pipe + free_form."""

    seen: int = 0
    deleted: int = 0
    dead: int = 0
    pipe: int = 0  # parsed from a "Company | Role | …" headline
    free_form: int = 0  # kept with whatever could be parsed
    moved: int = 0  # listed in the story's kids but now under another story (not in ``seen``)

    @property
    def parsed(self) -> int:
        return self.pipe + self.free_form


@dataclass(slots=True)
class MonthResult:
    month: str
    story_id: int
    thread: Thread
    api: Api  # which API gave the comments
    postings: list[Posting]
    counts: MonthCounts
    # Every top-level comment body as the API gave it (deleted and dead included; Algolia's nested
    # ``children`` removed), for the raw partition: re-running a month can see edits and removals.
    raw_comments: list[dict[str, Any]] = field(repr=False, default_factory=list)
    fallback_reason: str | None = None  # why ``api`` is not the preferred one, when it is not


def parse_thread(thread: ThreadComments, month: str) -> tuple[list[Posting], MonthCounts]:
    """Pure: every live comment → a posting (in API order), plus the counts."""
    counts = MonthCounts(seen=len(thread.comments), moved=thread.moved)
    postings = []
    for comment in thread.comments:
        if comment.deleted:
            counts.deleted += 1
        elif comment.dead:
            counts.dead += 1
        else:
            parsed = parse_comment(comment, month)
            if parsed.layout == "pipe":
                counts.pipe += 1
            else:
                counts.free_form += 1
            postings.append(parsed.posting)
    return postings, counts


async def fetch_month(
    month: str,
    *,
    client: Client,
    algolia_base: str = ALGOLIA_BASE,
    firebase_base: str = FIREBASE_BASE,
    max_concurrency: int = 16,
    prefer: Api = "algolia",
    index: ThreadIndex | None = None,
    current_month: str | None = None,
) -> MonthResult:
    """Find ``month``'s thread ("2019-11"), fetch its top-level comments and parse them.

    ``client`` is an ``aiohttp.ClientSession`` (``lib.http.make_client``) (or a ``jobpipeline.lib.http.HttpSession``); at most
    ``max_concurrency`` requests are in flight. The comments come from ``prefer`` (Algolia: one
    request per thread), else from the other API (``comments.fetch_thread_comments``); ``index``
    and ``current_month`` let a backfill's months share one discovery walk (``find_thread``). Raises ``ThreadNotFoundError`` when no thread is
    known for the month and ``ThreadUnavailableError`` when its comments cannot be fetched (both
    ``HNSourceError``; the message names the month), ``ValueError`` for a malformed month.
    """
    session = session_for(client, max_concurrency=max_concurrency)
    thread = await find_thread(
        month, client=session, algolia_base=algolia_base, firebase_base=firebase_base, index=index, current_month=current_month
    )
    try:
        comments = await fetch_thread_comments(
            thread.story_id,
            client=session,
            algolia_base=algolia_base,
            firebase_base=firebase_base,
            max_concurrency=max_concurrency,
            prefer=prefer,
        )
    except ThreadUnavailableError as exc:
        raise ThreadUnavailableError(f"{month}: cannot fetch the comments of its thread: {exc}") from exc
    postings, counts = parse_thread(comments, month)
    return MonthResult(
        month=month,
        story_id=thread.story_id,
        thread=thread,
        api=comments.api,
        postings=postings,
        counts=counts,
        raw_comments=[c.raw for c in comments.comments],
        fallback_reason=comments.fallback_reason,
    )
