"""iCIMS career sites (Jibe platform) job search: ``GET https://{careers host}/api/jobs?page=N&limit=100``.

Board token: the career site's host, e.g. ``careers.garmin.com``. The body is
``{"jobs": [{"data": {...}}, ...], "totalCount": n}``; pages are numbered from 1 and fetched until
``totalCount`` is reached or a page comes back short. Each job's ``data`` has the description in
three HTML parts (``description``, ``responsibilities``, ``qualifications``), ``full_location``
(and ``additional_locations`` where the job has several), ``employment_type`` and the apply URL
on the iCIMS host. No salary, and no workplace field common to all companies (Jibe's ``tags``
are each company's own), so those are left to extraction.
"""

from __future__ import annotations

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import (
    MAX_PAGES,
    PostingError,
    listed,
    load_json,
    posting_id,
    text_field,
    text_or_none,
    unique,
    utc,
)
from jobpipeline.lib.sources.hosted import board_base_url, require_host
from jobpipeline.lib.text import html_to_text

NAME = "icims"
DEFAULT_BASE_URL = "https://{token}"
PAGE_SIZE = 100


def check_token(token: str) -> None:
    require_host(token, "an iCIMS (Jibe) board token")


def jobs_url(base_url: str, token: str) -> str:
    return f"{board_base_url(base_url, token)}/api/jobs"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    url = jobs_url(base_url, board.token)
    bodies: list[bytes] = []
    seen = 0
    for page in range(1, MAX_PAGES + 1):
        body = await client.get(url, params={"page": page, "limit": PAGE_SIZE})
        bodies.append(body)
        data = load_json(body, board)
        got = len(listed(data, "jobs", board))
        seen += got
        total = data.get("totalCount")
        if got < PAGE_SIZE or (isinstance(total, int) and seen >= total):
            break
    return bodies


def items(body: bytes, board: Board) -> list:
    return listed(load_json(body, board), "jobs", board)


def posting(item: dict, board: Board) -> Posting:
    job = item.get("data")
    if not isinstance(job, dict):
        raise PostingError("data: expected an object holding the job")
    extra = job.get("additional_locations")
    others = [
        place.get("full_location") or place.get("city") if isinstance(place, dict) else place
        for place in (extra if isinstance(extra, list) else [])
    ]
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=posting_id(text_or_none(job.get("req_id")) or job.get("slug"), "req_id"),
        company=board.company,  # hiring_organization names the legal entity, which varies within a company
        title=text_field(job, "title"),
        locations=unique([job.get("full_location") or job.get("location_name"), *others]),
        description=html_to_text("\n".join(text_field(job, k) for k in ("description", "responsibilities", "qualifications"))),
        department=(unique(c.get("name") for c in job.get("categories") or [] if isinstance(c, dict)) or [None])[0],
        employment_type=text_or_none(job.get("employment_type")),
        posted_at=utc(job.get("posted_date")) or utc(job.get("create_date")),
        source_updated_at=utc(job.get("update_date")),
        apply_url=text_or_none(job.get("apply_url")),
    )
