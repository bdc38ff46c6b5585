"""Lever postings API: ``GET /v0/postings/{company}?mode=json&skip=N&limit=M``, paged until a short page.

The description is Lever's three parts in page order: ``description`` (opening + body), the ``lists``
(each a heading and ``<li>`` items) and ``additional``. ``createdAt`` is epoch milliseconds.
Lever's EU instance lives at ``https://api.eu.lever.co``: set that as the base URL for EU boards.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import (
    MAX_PAGES,
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

NAME = "lever"
DEFAULT_BASE_URL = "https://api.lever.co"
PAGE_SIZE = 100

INTERVALS = {
    "per-hour-wage": "hour",
    "per-day-wage": "day",
    "per-week-salary": "week",
    "per-month-salary": "month",
    "per-year-salary": "year",
}


def check_token(token: str) -> None:
    require_path_segment(token, "a Lever company slug, e.g. 'palantir',")


def postings_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/v0/postings/{quote(token, safe='')}"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    url = postings_url(base_url, board.token)
    bodies: list[bytes] = []
    for page in range(MAX_PAGES):
        body = await client.get(url, params={"mode": "json", "skip": page * PAGE_SIZE, "limit": PAGE_SIZE})
        bodies.append(body)
        if len(load_json(body, board, expect=list)) < PAGE_SIZE:
            break
    return bodies


def items(body: bytes, board: Board) -> list:
    return load_json(body, board, expect=list)  # Lever's body is the list of postings itself


def posting(job: dict, board: Board) -> Posting:
    categories = obj(job, "categories")
    all_locations = categories.get("allLocations") or []
    workplace_type = workplace(job.get("workplaceType"))  # "unspecified" → None
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=posting_id(job.get("id")),
        company=board.company,  # the API does not name the company
        title=text_field(job, "text"),
        locations=unique([categories.get("location"), *(all_locations if isinstance(all_locations, list) else [])]),
        remote=None if workplace_type is None else workplace_type == "remote",
        workplace_type=workplace_type,
        description=html_to_text(_description_html(job)),
        department=text_or_none(categories.get("team")) or text_or_none(categories.get("department")),
        employment_type=text_or_none(categories.get("commitment")),
        posted_at=utc(job.get("createdAt")),
        source_updated_at=utc(job.get("updatedAt")),
        apply_url=text_or_none(job.get("applyUrl")) or text_or_none(job.get("hostedUrl")),
        **_salary(job),
    )


def _description_html(job: dict) -> str:
    parts = [text_field(job, "description")]
    blocks = job.get("lists") or []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict):
            parts.append(
                f"<h3>{html.escape(text_or_none(block.get('text')) or '')}</h3><ul>{text_or_none(block.get('content')) or ''}</ul>"
            )
    parts.append(text_field(job, "additional"))
    return "\n".join(p for p in parts if p)


def _salary(job: dict) -> dict:
    salary_range = obj(job, "salaryRange")
    text = text_or_none(job.get("salaryDescriptionPlain"))
    if not salary_range:
        return {"salary_text": text}
    low, high = salary_range.get("min"), salary_range.get("max")
    currency = text_or_none(salary_range.get("currency"))
    if text is None and isinstance(low, (int, float)) and isinstance(high, (int, float)):
        text = f"{currency or ''} {low:,.0f} – {high:,.0f}".strip()
    return {
        "salary_min": float(low) if isinstance(low, (int, float)) else None,
        "salary_max": float(high) if isinstance(high, (int, float)) else None,
        "salary_currency": currency,
        "salary_period": INTERVALS.get(text_or_none(salary_range.get("interval")) or ""),
        "salary_text": text,
    }
