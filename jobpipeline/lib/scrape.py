"""Scrape many boards at once: fetch with the source adapters, parse, and record each board's outcome.

One failing board never raises: an HTTP error, an HTML page, truncated JSON or a body of the wrong
shape becomes a ``BoardResult`` with ``ok=False`` and an error that says what was wrong, and the
others land. One failing posting never fails its board: it is skipped, and the board's result
counts it (``n_skipped``), keeps the first few reasons (``skipped_reasons``) and the ids it could
still read (``skipped_ids``: listed today, so the sync does not close their jobs).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import aiohttp

from jobpipeline.lib.http import HttpSession, HttpSettings, HttpStatusError, TransportError
from jobpipeline.lib.postings import Board, BoardOutcome, Posting
from jobpipeline.lib.sources import ADAPTERS, DEFAULT_BASE_URLS, parse_board
from jobpipeline.lib.sources.base import SourceFormatError
from jobpipeline.lib.sources.details import PreviousDetails, fill_details, has_details


@dataclass(slots=True, kw_only=True)
class BoardResult(BoardOutcome):
    """One board's outcome in one scrape (``BoardOutcome``'s fields), with what it fetched."""

    postings: list[Posting] = field(default_factory=list)
    raw_bodies: list[bytes] = field(default_factory=list)  # as fetched, one per page
    detail_stamps: dict[str, str] = field(default_factory=dict)  # posting id -> stamp its stored detail was fetched under

    def summary(self) -> dict:
        """The result without postings and bodies: what ``outcomes.json``, run metadata and logs keep."""
        return self.as_json()


async def scrape_board(session: HttpSession, board: Board, base_url: str, previous: PreviousDetails | None = None) -> BoardResult:
    """Fetch and parse one board; every failure is caught and described in the result.

    For adapters with detail fetches, ``previous`` holds the details already stored: a posting whose
    list item is unchanged reuses its detail instead of fetching it again (``sources/details.py``).
    """
    started = time.perf_counter()
    fetcher = session.fetcher()
    result = BoardResult(source=board.ats, board=board.token, company=board.company, ok=False)
    adapter = ADAPTERS.get(board.ats)
    try:
        if adapter is None:
            raise LookupError(f"no source adapter for ATS {board.ats!r}")
        result.raw_bodies = await adapter.fetch(fetcher, board, base_url)
        parsed = parse_board(adapter, result.raw_bodies, board)
        result.postings = parsed.postings
        result.n_postings = len(parsed.postings)
        result.n_skipped, result.skipped_reasons, result.skipped_ids = parsed.skipped, parsed.reasons, parsed.skipped_ids
        if has_details(adapter):
            details = await fill_details(adapter, fetcher, board, base_url, parsed.postings, parsed.items, previous)
            result.n_details_fetched, result.n_details_reused = details.fetched, details.reused
            result.n_details_failed, result.details_failed_reasons = details.failed, details.reasons
            result.detail_stamps = details.stamps
        result.ok = True
    except (HttpStatusError, SourceFormatError, TransportError) as exc:  # their messages name the URL
        result.error = str(exc)
    except Exception as exc:  # a parser bug on one board must not sink the others
        result.error = f"{board.key}: {type(exc).__name__}: {exc}"
    result.http_status = fetcher.status
    result.n_bytes = fetcher.bytes
    result.requests = fetcher.requests
    result.duration_s = time.perf_counter() - started
    return result


async def scrape_boards(
    boards: Iterable[Board],
    *,
    client: aiohttp.ClientSession,
    base_urls: Mapping[str, str] | None = None,
    settings: HttpSettings | None = None,
    on_result: Callable[[BoardResult], None] | None = None,
    previous: PreviousDetails | None = None,
) -> list[BoardResult]:
    """Scrape ``boards`` concurrently (bounded by ``settings``); results in the order of ``boards``.

    ``base_urls`` overrides the live API base URL per ATS (a replay server's ``base_urls``);
    ``on_result`` is called with each result as it completes, for progress bars and log lines;
    ``previous`` is the details already stored (``RawPartition.read_details``), reused when unchanged.
    """
    session = HttpSession(client, settings)
    urls = {**DEFAULT_BASE_URLS, **(base_urls or {})}

    async def one(board: Board) -> BoardResult:
        result = await scrape_board(session, board, urls.get(board.ats, ""), previous)
        if on_result is not None:
            on_result(result)
        return result

    return list(await asyncio.gather(*(one(board) for board in boards)))


__all__ = ["BoardResult", "HttpSettings", "scrape_board", "scrape_boards"]
