"""Workday candidate-experience (CXS) search: ``POST /wday/cxs/{tenant}/{site}/jobs``, paged by offset.

Board token format: ``{tenant}/{site}``, e.g. ``nvidia/NVIDIAExternalCareerSite``, served from
``https://{tenant}.wd5.myworkdayjobs.com``. Tenants on another data centre name it in the first
part: ``{tenant}.{dc}/{site}``, e.g. ``acme.wd1/External`` → ``https://acme.wd1.myworkdayjobs.com``.
``DEFAULT_BASE_URL`` is a template with ``{host}``; a plain base URL (the replay server) is used as is.

Workday reports ``total`` on the first page only (later pages say 0), so that one is used. The list
has no description, salary, or absolute posting date ("Posted 3 Days Ago" is relative to the
request); ``bulletFields[0]`` is the requisition id. The description is one
``GET /wday/cxs/{tenant}/{site}{externalPath}`` per posting (``jobPostingInfo.jobDescription``, with
``timeType`` as the employment type), fetched only when the list item changed (``sources/details.py``);
its stamp leaves out ``postedOn``, which changes every day by itself.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import (
    MAX_PAGES,
    PostingError,
    SourceFormatError,
    listed,
    load_json,
    obj,
    posting_id,
    text_field,
    text_or_none,
    unique,
    workplace,
)
from jobpipeline.lib.sources.details import item_hash
from jobpipeline.lib.text import html_to_text

NAME = "workday"
DEFAULT_BASE_URL = "https://{host}.myworkdayjobs.com"
DEFAULT_DATA_CENTRE = "wd5"
PAGE_SIZE = 20  # the CXS endpoint rejects larger pages

_TOKEN = re.compile(r"^(?P<tenant>[A-Za-z0-9_-]+)(?:\.(?P<dc>wd\d+))?/(?P<site>[A-Za-z0-9_.-]+)$")
_COUNT_ONLY = re.compile(r"^\d+ Locations?$")  # "3 Locations" is a count, not a place


def split_token(token: str) -> tuple[str, str, str]:
    """``(tenant, data_centre, site)`` of a board token; ``ValueError`` if it has the wrong shape."""
    match = _TOKEN.fullmatch(token)
    if not match or match["site"] in (".", ".."):
        raise ValueError("a Workday board token is 'tenant/site' or 'tenant.wdN/site', e.g. 'nvidia/NVIDIAExternalCareerSite'")
    return match["tenant"], match["dc"] or DEFAULT_DATA_CENTRE, match["site"]


def check_token(token: str) -> None:
    split_token(token)


def site_url(base_url: str, token: str) -> str:
    tenant, dc, site = split_token(token)
    base = base_url.replace("{host}", f"{tenant}.{dc}").rstrip("/")
    return f"{base}/wday/cxs/{quote(tenant)}/{quote(site)}"


def jobs_url(base_url: str, token: str) -> str:
    return f"{site_url(base_url, token)}/jobs"


def public_url(token: str, external_path: str) -> str:
    tenant, dc, site = split_token(token)
    return f"https://{tenant}.{dc}.myworkdayjobs.com/{site}{external_path}"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    url = jobs_url(base_url, board.token)
    bodies: list[bytes] = []
    total: int | None = None
    offset = 0
    for _ in range(MAX_PAGES):
        body = await client.post_json(url, {"appliedFacets": {}, "limit": PAGE_SIZE, "offset": offset, "searchText": ""})
        bodies.append(body)
        page = load_json(body, board)
        got = len(listed(page, "jobPostings", board))
        if total is None:
            total = page.get("total") if isinstance(page.get("total"), int) else 0
        offset += got
        if got == 0 or offset >= total:
            break
    return bodies


def items(body: bytes, board: Board) -> list:
    return listed(load_json(body, board), "jobPostings", board)


def item_id(job: dict) -> str:
    """The posting's id: its requisition id (first bullet field), else its path on the board."""
    fields = job.get("bulletFields") or []
    bullets = [b for b in fields if isinstance(b, str)] if isinstance(fields, list) else []
    path = text_or_none(job.get("externalPath")) or ""
    return posting_id(text_or_none(bullets[0] if bullets else None) or path or None, "bulletFields[0] or externalPath")


def posting(job: dict, board: Board) -> Posting:
    path = text_or_none(job.get("externalPath")) or ""
    locations_text = text_or_none(job.get("locationsText"))
    workplace_type = workplace(job.get("remoteType"))
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=item_id(job),
        company=board.company,  # the API does not name the company
        title=text_field(job, "title"),
        locations=[] if not locations_text or _COUNT_ONLY.match(locations_text) else unique([locations_text]),
        remote=None if workplace_type is None else workplace_type == "remote",
        workplace_type=workplace_type,
        apply_url=public_url(board.token, path) if path else None,
    )


def detail_stamp(job: dict) -> str:
    """The list item's hash without ``postedOn`` ("Posted 3 Days Ago" changes daily on its own)."""
    return item_hash(job, ignore=("postedOn",))


async def fetch_detail(client: Fetcher, board: Board, base_url: str, job: dict) -> bytes:
    path = text_or_none(job.get("externalPath"))
    if not path or not path.startswith("/job/") or "/../" in path or "?" in path:
        raise PostingError(f"externalPath: expected '/job/...', got {path!r}")
    return await client.get(f"{site_url(base_url, board.token)}{quote(path)}")


def apply_detail(target: Posting, body: bytes, board: Board) -> None:
    """``jobPostingInfo.jobDescription`` as the description; ``timeType`` ("Full time") as employment type."""
    info = obj(load_json(body, board), "jobPostingInfo")
    description = html_to_text(text_field(info, "jobDescription"))
    if not description:
        raise SourceFormatError(f"{board.key}: detail of {target.source_job_id} has no jobPostingInfo.jobDescription")
    target.description = description
    target.employment_type = target.employment_type or text_or_none(info.get("timeType"))
