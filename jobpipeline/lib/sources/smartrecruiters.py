"""SmartRecruiters postings API: ``GET /v1/companies/{company}/postings?offset=N&limit=M``.

Pages until ``offset`` reaches ``totalFound`` (or a page comes back empty). The list endpoint has no
description (that needs one ``/postings/{id}`` call per posting), so descriptions stay empty here.
"""

from __future__ import annotations

from urllib.parse import quote

from jobpipeline.lib.boards import Board
from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Posting
from jobpipeline.lib.sources.base import (
    MAX_PAGES,
    listed,
    load_json,
    obj,
    posting_id,
    require_path_segment,
    text_field,
    text_or_none,
    unique,
    utc,
)

NAME = "smartrecruiters"
DEFAULT_BASE_URL = "https://api.smartrecruiters.com"
PAGE_SIZE = 100  # the API's maximum
PUBLIC_JOBS_URL = "https://jobs.smartrecruiters.com"


def check_token(token: str) -> None:
    require_path_segment(token, "a SmartRecruiters company identifier, e.g. 'WesternDigital',")


def postings_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/v1/companies/{quote(token, safe='')}/postings"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    url = postings_url(base_url, board.token)
    bodies: list[bytes] = []
    offset = 0
    for _ in range(MAX_PAGES):
        body = await client.get(url, params={"offset": offset, "limit": PAGE_SIZE})
        bodies.append(body)
        page = load_json(body, board)
        got = len(listed(page, "content", board))
        offset += got
        total = page.get("totalFound")
        if got == 0 or not isinstance(total, int) or offset >= total:
            break
    return bodies


def items(body: bytes, board: Board) -> list:
    return listed(load_json(body, board), "content", board)


def posting(job: dict, board: Board) -> Posting:
    job_id = posting_id(job.get("id"))
    location = obj(job, "location")
    company = obj(job, "company")
    remote, hybrid = location.get("remote"), location.get("hybrid")
    workplace_type = None
    if isinstance(remote, bool) and isinstance(hybrid, bool):  # the API states both flags explicitly
        workplace_type = "remote" if remote else "hybrid" if hybrid else "onsite"
    place = text_or_none(location.get("fullLocation")) or ", ".join(
        unique([location.get("city"), location.get("region"), (text_or_none(location.get("country")) or "").upper()])
    )
    identifier = text_or_none(company.get("identifier")) or board.token
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=job_id,
        company=text_or_none(company.get("name")) or board.company,
        title=text_field(job, "name"),
        locations=unique([place]),
        remote=remote if isinstance(remote, bool) else None,
        workplace_type=workplace_type,
        department=text_or_none(obj(job, "department").get("label")) or text_or_none(obj(job, "function").get("label")),
        employment_type=text_or_none(obj(job, "typeOfEmployment").get("label")),
        posted_at=utc(job.get("releasedDate")),
        # The API's ``ref`` is its own JSON URL; candidates apply on the public jobs site.
        apply_url=f"{PUBLIC_JOBS_URL}/{quote(identifier, safe='')}/{quote(job_id, safe='')}",
    )
