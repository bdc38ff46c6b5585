"""Greenhouse job-board API: ``GET /v1/boards/{token}/jobs?content=true`` (one request, no paging).

``content`` is HTML escaped once more (``&lt;p&gt;``); ``html_to_text`` handles that. Greenhouse has
no salary or remote field; companies' custom ``metadata`` sometimes carries "Employment Type" and
"Workplace Type", which we read when present.
"""

from __future__ import annotations

from urllib.parse import quote

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import (
    listed,
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
from jobpipeline.lib.text import html_to_text

NAME = "greenhouse"
DEFAULT_BASE_URL = "https://boards-api.greenhouse.io"

_EMPLOYMENT_KEYS = ("employment type", "time type")
_WORKPLACE_KEYS = ("workplace type", "location type", "remote status")


def check_token(token: str) -> None:
    require_path_segment(token, "a Greenhouse board token, e.g. 'stripe',")


def jobs_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/v1/boards/{quote(token, safe='')}/jobs"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    return [await client.get(jobs_url(base_url, board.token), params={"content": "true"})]


def items(body: bytes, board: Board) -> list:
    return listed(load_json(body, board), "jobs", board)


def posting(job: dict, board: Board) -> Posting:
    metadata = {str(m.get("name", "")).strip().lower(): m.get("value") for m in job.get("metadata") or [] if isinstance(m, dict)}
    workplace_type = next((workplace(metadata.get(k)) for k in _WORKPLACE_KEYS if workplace(metadata.get(k))), None)
    employment = next((text_or_none(metadata.get(k)) for k in _EMPLOYMENT_KEYS if text_or_none(metadata.get(k))), None)
    location = obj(job, "location").get("name")
    offices = [o.get("location") or o.get("name") for o in job.get("offices") or [] if isinstance(o, dict)]
    departments = [d.get("name") for d in job.get("departments") or [] if isinstance(d, dict)]
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=posting_id(job.get("id")),
        company=text_or_none(job.get("company_name")) or board.company,
        title=text_field(job, "title"),
        # The posting's own location line first; offices only when it has none (they repeat it).
        locations=unique([location]) or unique(offices),
        remote=None if workplace_type is None else workplace_type == "remote",
        workplace_type=workplace_type,
        description=html_to_text(text_field(job, "content")),
        department=(unique(departments) or [None])[0],
        employment_type=employment,
        posted_at=utc(job.get("first_published")),
        source_updated_at=utc(job.get("updated_at")),
        apply_url=text_or_none(job.get("absolute_url")),
    )
