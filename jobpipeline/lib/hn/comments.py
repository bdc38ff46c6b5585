"""A thread's top-level comments, from the Algolia items endpoint or from Firebase items.

Algolia (tried first): one ``/api/v1/items/<id>`` gives the whole tree with nested ``children``;
top-level is ``parent_id == story id``; it leaves deleted and dead comments out. Firebase (the
fallback): the story's ``kids`` (HN rank order), each ``/v0/item/<id>.json`` fetched concurrently
under a bounded pool, one request per comment; deleted and dead comments are among them.

Why Algolia first, for every month, the current one included: a full backfill costs one request per
thread instead of one per comment (188 threads, ~83,000 comments), and the postings are the same —
deleted and dead comments never become postings, and a comment deleted since the last snapshot is
closed by the sync because it is absent, whichever API left it out. What Algolia does not give is
the deleted/dead *counts* and bodies in the raw partition (the outcome's ``api`` says which API
answered). Taking one API for every snapshot of a month also keeps one HTML dialect per thread, so a
re-fetch does not rewrite descriptions. Firebase is asked when Algolia answers 404, fails (5xx/429
after the retries, a transport error) or gives a body that is not the story's tree.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from jobpipeline.lib.hn.api import Client, HNSourceError, algolia_url, firebase_url, get_json, session_for
from jobpipeline.lib.http import HttpStatusError, TransportError

Api = Literal["firebase", "algolia"]


class ThreadUnavailableError(HNSourceError):
    """Neither API could give the thread's comments (e.g. 404 in replay for an unrecorded month)."""


@dataclass(slots=True)
class HNComment:
    """One top-level comment as either API gave it; ``raw`` is the body as received."""

    id: int
    parent: int | None
    by: str | None
    text: str | None  # HN HTML
    time: datetime | None  # UTC
    dead: bool
    deleted: bool
    raw: dict[str, Any] = field(repr=False)
    api: Api = "firebase"  # which API gave it (their text dialects differ)

    @property
    def is_live(self) -> bool:
        """A job-post candidate: not deleted (it has an author and text) and not dead."""
        return not self.deleted and not self.dead and bool(self.by) and bool(self.text)


@dataclass(slots=True)
class ThreadComments:
    story_id: int
    api: Api
    story: dict[str, Any] = field(repr=False)  # the story body (Algolia: without ``children``)
    comments: list[HNComment] = field(default_factory=list)  # every top-level item seen, in API order
    moved: int = 0  # Firebase kids whose ``parent`` is another story now (moderator moves); left out
    fallback_reason: str | None = None  # why the preferred API did not give the comments, when it did not


def _utc(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(int(seconds), UTC) if seconds is not None else None


def comment_from_firebase(item: dict[str, Any]) -> HNComment:
    by, text = item.get("by"), item.get("text")
    return HNComment(
        id=int(item["id"]),
        parent=item.get("parent"),
        by=by,
        text=text,
        time=_utc(item.get("time")),
        dead=bool(item.get("dead")),
        deleted=bool(item.get("deleted")) or not by or not text,
        raw=item,
    )


def comments_from_firebase_items(story: dict[str, Any], items: list[dict[str, Any] | None]) -> ThreadComments:
    """Pure: the story body and its kids' bodies (same order; ``None`` for a null body) → comments."""
    story_id = int(story["id"])
    thread = ThreadComments(story_id=story_id, api="firebase", story=story)
    for kid_id, item in zip(story.get("kids") or [], items, strict=True):
        if item is None:  # Firebase answers null for an item that is gone entirely
            item = {"id": kid_id, "parent": story_id, "deleted": True}
        if item.get("parent") not in (None, story_id):
            thread.moved += 1
            continue
        thread.comments.append(comment_from_firebase(item))
    return thread


def comments_from_algolia_item(body: dict[str, Any]) -> ThreadComments:
    """Pure: an Algolia ``items/<story>`` body → its top-level comments (replies dropped).

    Raises ``ValueError`` for a body that is not a story's tree (no id, not a story, children not a list).
    """
    if not isinstance(body, dict) or body.get("type") != "story" or not isinstance(body.get("children", []), list):
        raise ValueError(f"not an Algolia story item: {str(body)[:120]!r}")
    story_id = int(body["id"])
    story = {k: v for k, v in body.items() if k != "children"}
    thread = ThreadComments(story_id=story_id, api="algolia", story=story)
    for child in body.get("children") or []:
        if child.get("parent_id") != story_id or child.get("type") != "comment":
            continue
        raw = {k: v for k, v in child.items() if k != "children"}
        author, text = child.get("author"), child.get("text")
        thread.comments.append(
            HNComment(
                id=int(child["id"]),
                parent=story_id,
                by=author,
                text=text,
                time=_utc(child.get("created_at_i")),
                dead=False,
                deleted=not author or not text,
                raw=raw,
                api="algolia",
            )
        )
    return thread


async def fetch_firebase_comments(story_id: int, *, client: Client, firebase_base: str, max_concurrency: int = 16) -> ThreadComments | None:
    """The story and all its kids from Firebase, at most ``max_concurrency`` requests in flight;
    None when the story itself is 404/null."""
    fetcher = session_for(client, max_concurrency=max_concurrency).fetcher()
    story = await get_json(fetcher, firebase_url(firebase_base, f"item/{story_id}.json"))
    if story is None:
        return None
    pool = asyncio.Semaphore(max_concurrency)  # also bounds a shared session's wider limits

    async def one(kid: int) -> dict[str, Any] | None:
        url = firebase_url(firebase_base, f"item/{kid}.json")
        async with pool:
            try:
                # Firebase answers null for a vanished item, never 404: a 404 means an incomplete source.
                return await get_json(fetcher, url, allow_404=False)
            except HttpStatusError as exc:
                if exc.status != 404:
                    raise
                raise ThreadUnavailableError(f"comment {kid} of story {story_id}: {url} answered 404") from exc

    items = await asyncio.gather(*(one(int(k)) for k in story.get("kids") or []))
    return comments_from_firebase_items(story, list(items))


async def fetch_algolia_comments(story_id: int, *, client: Client, algolia_base: str) -> ThreadComments | None:
    """The story's top-level comments from Algolia ``items``, in one request; None on 404."""
    fetcher = session_for(client).fetcher()
    body = await get_json(fetcher, algolia_url(algolia_base, f"items/{story_id}"))
    if body is None:
        return None
    thread = comments_from_algolia_item(body)
    if thread.story_id != story_id:
        raise ValueError(f"Algolia items/{story_id} answered story {thread.story_id}")
    return thread


# What makes one API give way to the other: an answer that never came, or came unusable.
_API_FAILURES = (HNSourceError, HttpStatusError, TransportError, json.JSONDecodeError, ValueError, KeyError, TypeError)


async def fetch_thread_comments(
    story_id: int,
    *,
    client: Client,
    algolia_base: str,
    firebase_base: str,
    max_concurrency: int = 16,
    prefer: Api = "algolia",
) -> ThreadComments:
    """Top-level comments from ``prefer`` (default Algolia: the whole thread in one request; see the
    module docstring), else from the other API; ``fallback_reason`` says why the other was used.

    Raises ``ThreadUnavailableError`` naming both APIs' answers when neither gives the comments.
    """

    async def via(api: Api) -> ThreadComments | None:
        if api == "firebase":
            return await fetch_firebase_comments(story_id, client=client, firebase_base=firebase_base, max_concurrency=max_concurrency)
        return await fetch_algolia_comments(story_id, client=client, algolia_base=algolia_base)

    urls = {
        "firebase": f"Firebase {firebase_url(firebase_base, f'item/{story_id}.json')}",
        "algolia": f"Algolia {algolia_url(algolia_base, f'items/{story_id}')}",
    }
    order: tuple[Api, Api] = ("firebase", "algolia") if prefer == "firebase" else ("algolia", "firebase")
    problems: list[str] = []
    for api in order:
        try:
            thread = await via(api)
        except _API_FAILURES as exc:
            problems.append(f"{urls[api]} failed: {type(exc).__name__}: {exc}")
            continue
        if thread is None:
            problems.append(f"{urls[api]} answered 404")
            continue
        thread.fallback_reason = problems[0] if problems else None
        return thread
    if all(p.endswith("answered 404") for p in problems):
        raise ThreadUnavailableError(f"story {story_id}: {urls[order[0]]} and {urls[order[1]]} both answered 404")
    raise ThreadUnavailableError(f"story {story_id}: " + "; ".join(problems))
