"""The shape every source adapter has, and the small helpers they share.

An adapter is a module (or any object) with:

- ``NAME``: the ATS name used in ``boards.csv`` and the replay corpus (``greenhouse``, ...);
- ``DEFAULT_BASE_URL``: the live API's scheme + host (tests and the replay server pass their own);
- ``check_token(token)``: raise ``ValueError`` if the board token cannot be right for this ATS;
- ``async fetch(client, board, base_url) -> list[bytes]``: every raw body the board's listing takes
  (one per page where the API pages), fetched with a ``jobpipeline.lib.http.Fetcher``;
- ``parse(bodies, board) -> list[Posting]``: those bodies as normalized postings, no network.

Adding a source means one new module with these five names and one line in ``sources/__init__.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from jobpipeline.lib.boards import Board
    from jobpipeline.lib.http import Fetcher
    from jobpipeline.lib.postings import Posting


class SourceAdapter(Protocol):
    NAME: str
    DEFAULT_BASE_URL: str

    def check_token(self, token: str) -> None: ...

    async def fetch(self, client: Fetcher, board: Board, base_url: str) -> list[bytes]: ...

    def parse(self, bodies: list[bytes], board: Board) -> list[Posting]: ...


class SourceFormatError(ValueError):
    """A body that is not what the API returns: HTML, truncated JSON, or JSON of the wrong shape."""


MAX_PAGES = 200  # a paging loop that has not ended by then is a server bug, not a big board


def load_json(body: bytes, board: Board, expect: type = dict) -> Any:
    """The body decoded as JSON of type ``expect``, or ``SourceFormatError`` saying what it was instead."""
    text = body.lstrip()[:80].decode("utf-8", "replace").replace("\n", " ")
    if text.startswith("<"):
        raise SourceFormatError(f"{board.key}: expected JSON, got HTML ({len(body)} bytes: {text!r})")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SourceFormatError(f"{board.key}: invalid or truncated JSON ({len(body)} bytes): {exc}") from None
    if not isinstance(data, expect):
        raise SourceFormatError(f"{board.key}: expected a JSON {expect.__name__}, got {type(data).__name__}")
    return data


def items(data: dict, key: str, board: Board) -> list[dict]:
    """``data[key]`` as a list of objects, or ``SourceFormatError`` naming the missing key."""
    value = data.get(key)
    if not isinstance(value, list):
        raise SourceFormatError(f"{board.key}: expected a list under {key!r}, got keys {sorted(data)[:8]}")
    return [item for item in value if isinstance(item, dict)]


def utc(value: str | int | float | None) -> datetime | None:
    """An ISO-8601 string (any offset, or ``Z``) or epoch milliseconds as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:  # no offset given: the APIs we read mean UTC then
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def require_path_segment(token: str, what: str) -> None:
    """``ValueError`` unless ``token`` is one URL path segment (no '/', no space); ``what`` names it."""
    if "/" in token or " " in token:
        raise ValueError(f"{what} is one URL path segment, with no '/' or space")


def text_or_none(value: Any) -> str | None:
    """A stripped non-empty string, else None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def unique(values: list[str | None]) -> list[str]:
    """Non-empty strings in first-seen order, without duplicates."""
    seen: dict[str, None] = {}
    for value in values:
        if value := text_or_none(value):
            seen.setdefault(value, None)
    return list(seen)


WORKPLACE_TYPES = {
    "remote": "remote",
    "hybrid": "hybrid",
    "onsite": "onsite",
    "on-site": "onsite",
    "on site": "onsite",
    "in office": "onsite",
}


def workplace(value: Any) -> str | None:
    """An API's workplace label (``OnSite``, ``hybrid``, ``Remote``…) as remote | hybrid | onsite."""
    if not isinstance(value, str):
        return None
    return WORKPLACE_TYPES.get(value.strip().lower().replace("_", " "))
