"""The two public HN APIs this source reads, fetched through the project's polite HTTP session.

Algolia HN Search (``https://hn.algolia.com``): ``/api/v1/search_by_date``, ``/api/v1/items/<id>``.
Official Firebase API (``https://hacker-news.firebaseio.com``): ``/v0/item/<id>.json``,
``/v0/user/<name>.json``. Base URLs are parameters everywhere so the replay server can stand in.
Retries, backoff and the concurrency bound come from ``jobpipeline.lib.http``.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from jobpipeline.lib.http import Fetcher, HttpSession, HttpSettings, HttpStatusError
from jobpipeline.lib.sources.base import decode_json

ALGOLIA_BASE = "https://hn.algolia.com"
FIREBASE_BASE = "https://hacker-news.firebaseio.com"

Client = aiohttp.ClientSession | HttpSession


class HNSourceError(RuntimeError):
    """Base error of the HN source: the message names the month / story / URL at fault."""


def session_for(client: Client, *, max_concurrency: int = 16) -> HttpSession:
    """An ``HttpSession`` over ``client`` (kept as is when it already is one).

    Both APIs are one host each, so the per-host bound is the overall one.
    """
    if isinstance(client, HttpSession):
        return client
    return HttpSession(client, HttpSettings(max_concurrency=max_concurrency, per_host=max_concurrency))


async def get_json(fetcher: Fetcher, url: str, *, params: dict[str, str] | None = None, allow_404: bool = True) -> Any | None:
    """GET ``url`` as JSON; ``None`` on 404 (unrecorded in replay, unknown to the API) when ``allow_404``.

    429/5xx and transport errors are retried by the fetcher; other statuses raise ``HttpStatusError``.
    """
    try:
        body = await fetcher.get(url, params=params)
    except HttpStatusError as exc:
        if exc.status == 404 and allow_404:
            return None
        raise
    return decode_json(body)


def algolia_url(algolia_base: str, path: str) -> str:
    return f"{algolia_base.rstrip('/')}/api/v1/{path.lstrip('/')}"


def firebase_url(firebase_base: str, path: str) -> str:
    return f"{firebase_base.rstrip('/')}/v0/{path.lstrip('/')}"
