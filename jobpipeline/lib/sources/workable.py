"""Workable widget API: ``GET /api/v1/widget/accounts/{account}?details=true`` (one request, no paging).

With ``details=true`` every job carries its ``description`` (HTML). A job open in several places is
listed once per location, under the same ``shortcode``: each item becomes its own posting with its
own location, and deduplication merges them into one job with every location. The API gives the
employment type and a ``telecommuting`` flag (remote or not), no salary.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import listed, load_json, posting_id, text_field, text_or_none, unique, utc
from jobpipeline.lib.text import html_to_text

NAME = "workable"
DEFAULT_BASE_URL = "https://apply.workable.com"

_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def check_token(token: str) -> None:
    if not _ACCOUNT.fullmatch(token or ""):
        raise ValueError(f"a Workable account is letters, digits, '-' and '_', e.g. 'vortexa', got {token!r}")


def jobs_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/widget/accounts/{quote(token, safe='')}"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    return [await client.get(jobs_url(base_url, board.token), params={"details": "true"})]


def items(body: bytes, board: Board) -> list:
    return listed(load_json(body, board), "jobs", board)


def posting(job: dict, board: Board) -> Posting:
    places = job.get("locations")
    locations = [
        ", ".join(unique([place.get("city"), place.get("region"), place.get("country")]))
        for place in (places if isinstance(places, list) else [])
        if isinstance(place, dict) and not place.get("hidden")
    ]
    telecommuting = job.get("telecommuting")
    remote = telecommuting if isinstance(telecommuting, bool) else None
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=posting_id(job.get("shortcode"), "shortcode"),
        company=board.company,  # the account's name is on the body, not on each job
        title=text_field(job, "title"),
        locations=unique(locations) or unique([", ".join(unique([job.get("city"), job.get("state"), job.get("country")]))]),
        remote=remote,
        workplace_type="remote" if remote else None,  # not telecommuting may still be hybrid
        description=html_to_text("\n".join(text_field(job, key) for key in ("description", "requirements", "benefits"))),
        department=text_or_none(job.get("department")),
        employment_type=text_or_none(job.get("employment_type")),
        posted_at=utc(job.get("published_on")) or utc(job.get("created_at")),
        apply_url=text_or_none(job.get("url")) or text_or_none(job.get("shortlink")),
    )
