"""Rippling ATS job boards: ``GET /platform/api/ats/v1/board/{board}/jobs`` on ``api.rippling.com``.

Two list shapes are in use: a bare JSON list of ``{uuid, name, department, url, workLocation}``, and
the newer paged ``{items, page, pageSize, totalItems, totalPages}`` whose items are ``{id, name,
department, url, locations: [{name, city, country, workplaceType}]}`` (pages fetched with
``?page=N``, zero-based, until ``totalPages``). Neither has a description: that is
``GET .../jobs/{id}`` per posting, whose ``description`` (``company`` and ``role``, HTML),
``employmentType`` and ``createdOn`` fill the posting. A posting listed once per location (the
paged shape does that) is one detail request. Details are fetched only when the list item changed.
"""

from __future__ import annotations

from urllib.parse import quote

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import (
    MAX_PAGES,
    SourceFormatError,
    load_json,
    obj,
    posting_id,
    require_path_segment,
    text_field,
    text_or_none,
    unique,
    utc,
    workplace,
)
from jobpipeline.lib.sources.details import item_hash
from jobpipeline.lib.text import html_to_text

NAME = "rippling"
DEFAULT_BASE_URL = "https://api.rippling.com"


def check_token(token: str) -> None:
    require_path_segment(token, "a Rippling board slug, e.g. 'portside',")


def jobs_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/platform/api/ats/v1/board/{quote(token, safe='')}/jobs"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    url = jobs_url(base_url, board.token)
    bodies = [await client.get(url)]
    first = load_json(bodies[0], board, expect=object)
    if isinstance(first, dict) and isinstance(first.get("totalPages"), int):
        page = first.get("page") if isinstance(first.get("page"), int) else 0
        for next_page in range(page + 1, min(first["totalPages"], page + MAX_PAGES)):
            bodies.append(await client.get(url, params={"page": next_page}))
            if not items(bodies[-1], board):
                break
    return bodies


def items(body: bytes, board: Board) -> list:
    data = load_json(body, board, expect=object)
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return data["items"]
    got = f"keys {sorted(map(str, data))[:8]}" if isinstance(data, dict) else type(data).__name__
    raise SourceFormatError(f"{board.key}: expected a list of jobs or {{items: [...]}}, got {got}")


def posting(job: dict, board: Board) -> Posting:
    job_id = posting_id(job.get("uuid") if job.get("uuid") is not None else job.get("id"), "uuid or id")
    places = [p for p in job.get("locations") or [] if isinstance(p, dict)]
    kinds = {workplace(p.get("workplaceType")) for p in places} - {None}
    workplace_type = kinds.pop() if len(kinds) == 1 else None
    department = obj(job, "department")
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=job_id,
        company=board.company,
        title=text_field(job, "name"),
        locations=unique([obj(job, "workLocation").get("label"), *(p.get("name") for p in places)]),
        remote=None if workplace_type is None else workplace_type == "remote",
        workplace_type=workplace_type,
        department=text_or_none(department.get("label")) or text_or_none(department.get("name")),
        apply_url=text_or_none(job.get("url")),
    )


def detail_stamp(job: dict) -> str:
    """The list item's own hash: the list has no update stamp."""
    return item_hash(job)


async def fetch_detail(client: Fetcher, board: Board, base_url: str, job: dict) -> bytes:
    job_id = posting_id(job.get("uuid") if job.get("uuid") is not None else job.get("id"), "uuid or id")
    return await client.get(f"{jobs_url(base_url, board.token)}/{quote(job_id, safe='')}")


def apply_detail(target: Posting, body: bytes, board: Board) -> None:
    """``description.role`` then ``description.company`` as the description; employment type, created date."""
    detail = load_json(body, board)
    description = obj(detail, "description")
    parts = [html_to_text(text_field(description, key)) for key in ("role", "company")]
    if not any(parts):
        raise SourceFormatError(f"{board.key}: detail of {target.source_job_id} has no description")
    target.description = "\n\n".join(p for p in parts if p)
    employment = obj(detail, "employmentType")
    # Rippling's own pairing: "label" is the code (SALARIED_FT), "id" the words ("Salaried, full-time").
    target.employment_type = target.employment_type or text_or_none(employment.get("id")) or text_or_none(employment.get("label"))
    target.posted_at = target.posted_at or utc(detail.get("createdOn"))
