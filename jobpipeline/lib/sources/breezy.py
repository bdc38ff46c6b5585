"""Breezy HR careers-site API: ``GET https://{company}.breezy.hr/json`` → a bare list of positions.

One request, no paging, no description (the list carries title, place, department, type and the
salary line as the company wrote it, kept as ``salary_text``). ``location.is_remote`` is the
API's remote flag.
"""

from __future__ import annotations

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import REMOTE, load_json, obj, posting_id, text_field, text_or_none, unique, utc
from jobpipeline.lib.sources.hosted import board_base_url, require_subdomain

NAME = "breezy"
DEFAULT_BASE_URL = "https://{token}.breezy.hr"


def check_token(token: str) -> None:
    require_subdomain(token, "a Breezy HR company (the part before .breezy.hr), e.g. 'breezy',")


def positions_url(base_url: str, token: str) -> str:
    return f"{board_base_url(base_url, token)}/json"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    return [await client.get(positions_url(base_url, board.token))]


def items(body: bytes, board: Board) -> list:
    return load_json(body, board, expect=list)  # the body is the list of positions itself


def posting(item: dict, board: Board) -> Posting:
    location = obj(item, "location")
    extra = item.get("locations")
    places = [location, *(extra if isinstance(extra, list) else [])]
    is_remote = location.get("is_remote")
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=posting_id(item.get("id")),
        company=text_or_none(obj(item, "company").get("name")) or board.company,
        title=text_field(item, "name"),
        locations=unique(place.get("name") for place in places if isinstance(place, dict)),
        remote=True if is_remote is True else None,  # absent or false: the API does not say on-site
        workplace_type=REMOTE if is_remote is True else None,
        department=text_or_none(item.get("department")),
        employment_type=text_or_none(obj(item, "type").get("name")),
        posted_at=utc(item.get("published_date")),
        salary_text=text_or_none(item.get("salary")),
        apply_url=text_or_none(item.get("url")),
    )
