"""Detail fetches: one extra request per posting for list APIs that carry no description.

SmartRecruiters, Workday, BambooHR and Rippling list postings without their text; each posting's
description sits behind its own detail URL. An adapter that needs this has three more names:

- ``detail_stamp(item) -> str``: what says the listed posting changed (an update stamp, or the list
  item's own hash: ``item_hash``); equal stamps mean the stored description still holds;
- ``async fetch_detail(client, board, base_url, item) -> bytes``: the detail body of one list item;
- ``apply_detail(posting, body, board)``: fill the posting from that body (description, and what
  else only the detail gives); raises ``SourceFormatError`` / ``PostingError`` on a body it cannot read.

``fill_details`` is the rest, the same for every such adapter. Why this shape:

- *never the same detail twice*: a daily re-scrape of an unchanged board must cost one list
  request, not one per posting. ``PreviousDetails`` holds what the last raw partition on disk
  stored (its postings' detail fields and the stamps they were fetched under); a posting whose
  stamp is unchanged gets those fields back and no request is made;
- *a failed detail never drops its posting*: it keeps what the list gave (no description), is
  counted (``DetailOutcome.failed``) with the first few reasons, and, having no stamp stored,
  is fetched again next time;
- *bounded*: at most ``DETAIL_CONCURRENCY`` detail requests of one board in flight (the shared
  ``HttpSession`` also bounds them per host and overall), with the same retries as any request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobpipeline.lib.http import HttpStatusError, TransportError
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import MAX_REASONS, PostingError, SourceFormatError, sanitize_posting
from jobpipeline.lib.text import clean_line

if TYPE_CHECKING:
    from jobpipeline.lib.http import Fetcher

DETAIL_CONCURRENCY = 4  # per board; many boards run at once, and the session bounds each host too

# What a detail body may add to a listed posting, and so what a reused detail copies back: an
# ``apply_detail`` that sets any other field would make a reused posting differ from a fetched one.
DETAIL_FIELDS = (
    "description",
    "locations",
    "employment_type",
    "workplace_type",
    "remote",
    "posted_at",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "salary_text",
)


def has_details(adapter: Any) -> bool:
    """Whether ``adapter`` fetches one detail per posting (it defines the three detail names)."""
    return all(callable(getattr(adapter, name, None)) for name in ("detail_stamp", "fetch_detail", "apply_detail"))


def item_hash(item: Any, ignore: Iterable[str] = ()) -> str:
    """A stable hash of a list item (keys sorted), leaving out ``ignore``d keys such as relative dates."""
    if isinstance(item, dict) and ignore:
        item = {k: v for k, v in item.items() if k not in set(ignore)}
    return hashlib.sha1(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredDetail:
    """One posting's detail as the last partition stored it: the stamp it was fetched under, its fields."""

    stamp: str
    fields: Mapping[str, Any]


class PreviousDetails:
    """Stored details by board key (``ats/token``) and posting id, from the last raw partition (``rawstore``)."""

    def __init__(self, by_board: Mapping[str, Mapping[str, StoredDetail]] | None = None):
        self.by_board = dict(by_board or {})

    def get(self, board: str, job_id: str) -> StoredDetail | None:
        return self.by_board.get(board, {}).get(job_id)

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_board.values())


@dataclass(slots=True)
class DetailOutcome:
    """What the detail step did for one board: fetched, reused from the store, failed (posting kept)."""

    fetched: int = 0
    reused: int = 0
    failed: int = 0
    reasons: list[str] = field(default_factory=list)
    stamps: dict[str, str] = field(default_factory=dict)  # posting id -> stamp, for postings that have their detail

    def fail(self, reason: str) -> None:
        self.failed += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(clean_line(reason)[:200])


async def fill_details(
    adapter: Any,
    client: Fetcher,
    board: Board,
    base_url: str,
    postings: list[Posting],
    items: Mapping[str, dict],
    previous: PreviousDetails | None = None,
) -> DetailOutcome:
    """Give each posting its detail: reused where its stamp is unchanged, else fetched (see module docstring).

    ``items`` maps each posting id to the list item it came from. Postings are changed in place and
    none is ever removed.
    """
    outcome = DetailOutcome()
    # Postings by id: an API that lists a posting once per location still gets one detail request.
    by_id: dict[str, list[Posting]] = {}
    for posting in postings:
        if posting.source_job_id in items:
            by_id.setdefault(posting.source_job_id, []).append(posting)
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for job_id, same in by_id.items():
        stamp = adapter.detail_stamp(items[job_id])
        stored = previous.get(board.key, job_id) if previous is not None else None
        if stored is not None and stored.stamp == stamp:
            for posting in same:
                for name, value in stored.fields.items():
                    if name in DETAIL_FIELDS and value is not None and not getattr(posting, name):
                        setattr(posting, name, value)
            outcome.reused += 1
            outcome.stamps[job_id] = stamp
        else:
            queue.put_nowait((job_id, stamp))

    async def worker() -> None:
        while not queue.empty():
            job_id, stamp = queue.get_nowait()
            try:
                body = await adapter.fetch_detail(client, board, base_url, items[job_id])
                for posting in by_id[job_id]:
                    adapter.apply_detail(posting, body, board)
                    sanitize_posting(posting)
            except (HttpStatusError, SourceFormatError, PostingError, TransportError, ValueError, KeyError, TypeError) as exc:
                outcome.fail(f"posting {job_id!r}: detail {_describe(exc)}")
                continue
            outcome.fetched += 1
            outcome.stamps[job_id] = stamp

    await asyncio.gather(*(worker() for _ in range(min(DETAIL_CONCURRENCY, queue.qsize()))))
    return outcome


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (HttpStatusError, SourceFormatError, PostingError, TransportError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
