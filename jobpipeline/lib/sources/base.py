"""The shape every source adapter has, the one helper that parses a board with it, and small helpers.

An adapter is a module (or any object) with:

- ``NAME``: the ATS name used in ``boards.csv`` and the replay corpus (``greenhouse``, ...);
- ``DEFAULT_BASE_URL``: the live API's scheme + host (tests and the replay server pass their own);
- ``check_token(token)``: raise ``ValueError`` if the board token cannot be right for this ATS;
- ``async fetch(client, board, base_url) -> list[bytes]``: every raw body the board's listing takes
  (one per page where the API pages), fetched with a ``jobpipeline.lib.http.Fetcher``;
- ``items(body, board) -> list``: the postings one body lists, as the API gives them; a body of the
  wrong shape as a whole (HTML, not JSON, no list where the API has one) is ``SourceFormatError``;
- ``posting(item, board) -> Posting | None``: one listed object as a ``Posting`` (None: a posting the
  board does not show); it may raise on anything it cannot read;
- optionally ``item_id(item) -> str``: the id ``posting`` gives a listed object, read alone, so a
  posting skipped as unreadable is still known by its id (without it: ``item["id"]``).

``parse_board(adapter, bodies, board)`` is the rest, the same for every adapter: each posting is
isolated (one that raises is skipped and counted, its reason kept; the board keeps its sound ones),
every text field goes through the one sanitizer (``sanitize_posting``), and a board where nothing at
all could be read fails, so it closes nothing. Adding a source means one new module with these six
names and one line in ``sources/__init__.py``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.text import clean_line, clean_or_none, clean_text

if TYPE_CHECKING:
    from jobpipeline.lib.http import Fetcher


class SourceAdapter(Protocol):
    NAME: str
    DEFAULT_BASE_URL: str

    def check_token(self, token: str) -> None: ...

    async def fetch(self, client: Fetcher, board: Board, base_url: str) -> list[bytes]: ...

    def items(self, body: bytes, board: Board) -> list[Any]: ...

    def posting(self, item: dict, board: Board) -> Posting | None: ...


class SourceFormatError(ValueError):
    """A body that is not what the API returns: HTML, truncated JSON, or JSON of the wrong shape."""


class PostingError(ValueError):
    """One posting that cannot be read (no id, a field of the wrong type); the message names the field."""


MAX_REASONS = 5  # skipped postings' reasons kept per board: enough to see the pattern, small in metadata
_REASON_CHARS = 200


@dataclass(slots=True)
class ParsedBoard:
    """A board's postings, and the ones that could not be read: how many, and the first few reasons."""

    postings: list[Posting] = field(default_factory=list)
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)
    items: dict[str, dict] = field(default_factory=dict)  # posting id -> its list item (detail adapters only)
    # Ids of the skipped postings whose id could be read: the board still lists them, so the sync
    # must not close their jobs (a skipped posting without a readable id matches nothing).
    skipped_ids: list[str] = field(default_factory=list)

    def skip(self, reason: str, posting_id: str | None = None) -> None:
        self.skipped += 1
        if posting_id is not None and posting_id not in self.skipped_ids:
            self.skipped_ids.append(posting_id)
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(clean_line(reason)[:_REASON_CHARS])


def parse_board(adapter: SourceAdapter, bodies: list[bytes], board: Board) -> ParsedBoard:
    """Every posting of the board's bodies, each one isolated and sanitized (see module docstring).

    Raises ``SourceFormatError`` when a body has the wrong shape as a whole, or when the board listed
    postings and not one of them could be read (``{"jobs": [1, 2, 3]}``): a failed board closes
    nothing, where an empty success would close every open job of the board.
    """
    parsed = ParsedBoard()
    keep_items = callable(getattr(adapter, "fetch_detail", None))  # detail fetches need the list item
    for page, body in enumerate(bodies, start=1):
        listed = adapter.items(body, board)
        for index, item in enumerate(listed):
            item_id = listed_id(adapter, item)
            where = f"posting {index}" + (f" of page {page}" if len(bodies) > 1 else "") + (f" (id {item_id[:40]!r})" if item_id else "")
            try:
                if not isinstance(item, dict):
                    raise PostingError(f"expected an object, got {_type_name(item)}")
                posting = adapter.posting(item, board)
                if posting is not None:
                    parsed.postings.append(sanitize_posting(posting))
                    if keep_items:
                        parsed.items.setdefault(posting.source_job_id, item)
            except Exception as exc:  # one bad posting must not sink its board's sound ones
                detail = str(exc) if isinstance(exc, PostingError) else f"{type(exc).__name__}: {exc}"
                parsed.skip(f"{where}: {detail}", item_id)
    if parsed.skipped and not parsed.postings:
        raise SourceFormatError(f"{board.key}: none of the {parsed.skipped} listed postings could be read (first: {parsed.reasons[0]})")
    return parsed


def sanitize_posting(posting: Posting) -> Posting:
    """The posting with every text field through the one sanitizer (``lib/text.py``), in place.

    Titles, company, locations, department and the other short fields become one clean line;
    the description clean multi-line text (markup, controls and bidi overrides gone, escaped markup
    included); URLs are kept only when they are http(s); salary numbers only when finite. A
    posting left without an id is a ``PostingError``.
    """
    posting.source_job_id = clean_line(posting.source_job_id)
    if not posting.source_job_id:
        raise PostingError("id: missing or empty")
    posting.company = clean_line(posting.company) or clean_line(posting.board)
    posting.title = clean_line(posting.title)
    posting.locations = unique([clean_line(location) for location in posting.locations])
    posting.description = clean_text(posting.description)
    for name in ("workplace_type", "department", "employment_type", "salary_currency", "salary_period", "salary_text"):
        setattr(posting, name, clean_or_none(getattr(posting, name)))
    posting.apply_url = http_url(posting.apply_url)
    for name in ("salary_min", "salary_max"):
        value = getattr(posting, name)
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        setattr(posting, name, float(value) if number else None)
    return posting


def posting_id(value: Any, what: str = "id") -> str:
    """An API's posting id as text: a non-empty string or an integer, never ``'None'``."""
    if isinstance(value, bool) or value is None:
        raise PostingError(f"{what}: missing" if value is None else f"{what}: expected a string or integer, got bool")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and clean_line(value):
        return clean_line(value)
    if isinstance(value, str):
        raise PostingError(f"{what}: empty")
    raise PostingError(f"{what}: expected a string or integer, got {_type_name(value)}")


def text_field(item: dict, key: str) -> str:
    """``item[key]`` as text: ``""`` when missing or null, ``PostingError`` when not a string."""
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PostingError(f"{key}: expected a string, got {_type_name(value)}")
    return value


def obj(item: dict, key: str) -> dict:
    """``item[key]`` as an object: ``{}`` when missing or null, ``PostingError`` when not an object."""
    value = item.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PostingError(f"{key}: expected an object, got {_type_name(value)}")
    return value


def http_url(value: Any) -> str | None:
    """An http(s) URL without whitespace or controls, else None (a ``javascript:`` link is dropped).

    ``clean_line`` already removed controls and turned every other whitespace into plain spaces."""
    url = clean_line(value)
    if not url or " " in url or not url.lower().startswith(("https://", "http://")):
        return None
    return url


def _type_name(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "bool", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


def listed_id(adapter: SourceAdapter, item: Any) -> str | None:
    """The id ``adapter.posting`` would give ``item`` (its ``item_id``, else ``item["id"]``), read
    alone so that a posting failing elsewhere is still known by it; None when it is unreadable too."""
    if not isinstance(item, dict):
        return None
    read_id = getattr(adapter, "item_id", None) or (lambda item: posting_id(item.get("id")))
    try:
        return clean_line(read_id(item)) or None
    except Exception:  # an id we cannot read is no id: it must match nothing
        return None


MAX_PAGES = 200  # a paging loop that has not ended by then is a server bug, not a big board


# Every byte as b"0" but the ASCII digits, as b"1": a body with 19 digits in a row may hold an
# integer past 64 bits (~0.05 s for the 37 MB of the recorded corpus, against 0.21 s to decode it).
_DIGIT_BYTES = bytes(0x31 if 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))
_LONG_RUN = b"1" * 19


def decode_json(body: bytes) -> Any:
    """``json.loads`` at half the CPU: orjson, and the standard library for what orjson refuses and
    Python's json reads (NaN, a UTF-8 BOM), so no body reads differently. orjson reads an integer
    past 64 bits as a float (1e+20 for 99999999999999999999) where json keeps it whole, so a body
    with 19 digits in a row anywhere (3 of the corpus's 350, ids in strings) is read by json."""
    if _LONG_RUN in bytes(body).translate(_DIGIT_BYTES):
        return json.loads(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def load_json(body: bytes, board: Board, expect: type = dict) -> Any:
    """The body decoded as JSON of type ``expect``, or ``SourceFormatError`` saying what it was instead."""
    text = body.lstrip()[:80].decode("utf-8", "replace").replace("\n", " ")
    if text.startswith("<"):
        raise SourceFormatError(f"{board.key}: expected JSON, got HTML ({len(body)} bytes: {text!r})")
    try:
        data = decode_json(body)
    except ValueError as exc:
        raise SourceFormatError(f"{board.key}: invalid or truncated JSON ({len(body)} bytes): {exc}") from None
    if not isinstance(data, expect):
        raise SourceFormatError(f"{board.key}: expected a JSON {expect.__name__}, got {type(data).__name__}")
    return data


def listed(data: Any, key: str, board: Board) -> list[Any]:
    """``data[key]`` as the API's list of postings, or ``SourceFormatError`` saying what came instead.

    Items are returned as they are: ``parse_board`` skips (and counts) the ones that are not objects.
    """
    if not isinstance(data, dict):
        raise SourceFormatError(f"{board.key}: expected a JSON object, got {_type_name(data)}")
    value = data.get(key)
    if not isinstance(value, list):
        got = f"keys {sorted(map(str, data))[:8]}" if key not in data else f"{_type_name(value)} under {key!r}"
        raise SourceFormatError(f"{board.key}: expected a list under {key!r}, got {got}")
    return value


def utc(value: Any) -> datetime | None:
    """An ISO-8601 string (any offset, or ``Z``) or epoch milliseconds as an aware UTC datetime.

    Anything else (another type, a date out of range) is None: a bad timestamp loses the timestamp,
    not the posting.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
        return None
    try:
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None:  # no offset given: the APIs we read mean UTC then
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def require_path_segment(token: str, what: str, allow_spaces: bool = False) -> None:
    """``ValueError`` unless ``token`` is one URL path segment; ``what`` names the token for the message.

    No '/' or '\\', no whitespace (plain spaces where ``allow_spaces``: Ashby board names have them),
    no control or invisible format characters, and not '.' or '..' (which a URL resolver would turn
    into another path on the API's host).
    """
    if not token:
        raise ValueError(f"{what} is empty")
    if token in (".", ".."):
        raise ValueError(f"{what} cannot be {token!r}")
    if "/" in token or "\\" in token:
        raise ValueError(f"{what} is one URL path segment, with no '/' or '\\'")
    bad = next((c for c in token if (c.isspace() and not (allow_spaces and c == " ")) or not c.isprintable()), None)
    if bad is not None:
        raise ValueError(f"{what} has a whitespace or control character ({bad!r}); it is one URL path segment")


def text_or_none(value: Any) -> str | None:
    """A stripped non-empty string, else None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def unique(values: Iterable[Any]) -> list[str]:
    """Non-empty strings in first-seen order, without duplicates."""
    seen: dict[str, None] = {}
    for value in values:
        if value := text_or_none(value):
            seen.setdefault(value, None)
    return list(seen)


# The one workplace vocabulary: what ``Posting.workplace_type`` holds for every source (API labels
# through ``workplace``, HN headline wording through ``lib/hn/fields.remote_wording``) and what the
# extractor's ``JobFields.remote`` answers (a test keeps the two equal).
REMOTE, HYBRID, ONSITE = "remote", "hybrid", "onsite"
WORKPLACE_VALUES: tuple[str, ...] = (REMOTE, HYBRID, ONSITE)

WORKPLACE_TYPES = {
    "remote": REMOTE,
    "hybrid": HYBRID,
    "onsite": ONSITE,
    "on-site": ONSITE,
    "on site": ONSITE,
    "in office": ONSITE,
}


def workplace(value: Any) -> str | None:
    """An API's workplace label (``OnSite``, ``hybrid``, ``Remote``…) as remote | hybrid | onsite."""
    if not isinstance(value, str):
        return None
    return WORKPLACE_TYPES.get(value.strip().lower().replace("_", " "))
