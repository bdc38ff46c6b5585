"""The two public HN APIs this source reads, and one JSON GET helper for both.

Algolia HN Search (``https://hn.algolia.com``): ``/api/v1/search_by_date``, ``/api/v1/items/<id>``.
Official Firebase API (``https://hacker-news.firebaseio.com``): ``/v0/item/<id>.json``,
``/v0/user/<name>.json``. Base URLs are parameters everywhere so the replay server can stand in.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

ALGOLIA_BASE = "https://hn.algolia.com"
FIREBASE_BASE = "https://hacker-news.firebaseio.com"

_RETRY_STATUS = {429, 500, 502, 503, 504}
_ATTEMPTS = 3


class HNSourceError(RuntimeError):
    """Base error of the HN source: the message names the month / story / URL at fault."""


async def get_json(
    client: httpx.AsyncClient, url: str, *, params: dict[str, str] | None = None, allow_404: bool = True
) -> Any | None:
    """GET ``url`` as JSON; ``None`` on 404 (unrecorded in replay, unknown to the API) when ``allow_404``.

    Retries 429/5xx and transport errors a few times with a short backoff (the HN APIs shed load
    that way); any other status raises ``httpx.HTTPStatusError``.
    """
    for attempt in range(_ATTEMPTS):
        try:
            response = await client.get(url, params=params)
        except httpx.TransportError:
            if attempt == _ATTEMPTS - 1:
                raise
        else:
            if response.status_code == 404 and allow_404:
                return None
            if response.status_code not in _RETRY_STATUS or attempt == _ATTEMPTS - 1:
                response.raise_for_status()
                return response.json()
        await asyncio.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


def algolia_url(algolia_base: str, path: str) -> str:
    return f"{algolia_base.rstrip('/')}/api/v1/{path.lstrip('/')}"


def firebase_url(firebase_base: str, path: str) -> str:
    return f"{firebase_base.rstrip('/')}/v0/{path.lstrip('/')}"
