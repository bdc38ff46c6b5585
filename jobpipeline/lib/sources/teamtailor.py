"""Teamtailor career site feed: ``GET https://{company}.teamtailor.com/jobs.json`` (JSON Feed 1.1).

Each feed item is a job: ``id``, ``title``, ``url``, ``content_html`` (the description) and
``date_published``, with the schema.org ``JobPosting`` under ``_jobposting`` for the places
(``jobLocation[].address``) and, where the company fills it in, ``employmentType``. An item without
an id (the recorded feed has one) is skipped and counted; the rest of the board is kept.
"""

from __future__ import annotations

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import REMOTE, listed, load_json, obj, posting_id, text_field, text_or_none, unique, utc
from jobpipeline.lib.sources.hosted import board_base_url, require_subdomain
from jobpipeline.lib.text import html_to_text

NAME = "teamtailor"
DEFAULT_BASE_URL = "https://{token}.teamtailor.com"


def check_token(token: str) -> None:
    require_subdomain(token, "a Teamtailor company (the part before .teamtailor.com), e.g. 'upcloud',")


def feed_url(base_url: str, token: str) -> str:
    return f"{board_base_url(base_url, token)}/jobs.json"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    return [await client.get(feed_url(base_url, board.token))]


def items(body: bytes, board: Board) -> list:
    return listed(load_json(body, board), "items", board)


def posting(item: dict, board: Board) -> Posting:
    job = obj(item, "_jobposting")
    places = job.get("jobLocation")
    places = [places] if isinstance(places, dict) else places if isinstance(places, list) else []
    addresses = [obj(place, "address") for place in places if isinstance(place, dict)]
    employment = job.get("employmentType")
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=posting_id(item.get("id")),
        company=text_or_none(obj(job, "hiringOrganization").get("name")) or board.company,
        title=text_field(item, "title"),
        locations=unique(", ".join(unique([a.get("addressLocality"), a.get("addressCountry")])) for a in addresses),
        remote=True if job.get("jobLocationType") == "TELECOMMUTE" else None,
        workplace_type=REMOTE if job.get("jobLocationType") == "TELECOMMUTE" else None,
        description=html_to_text(text_field(item, "content_html")),
        employment_type=", ".join(unique(employment if isinstance(employment, list) else [employment])) or None,
        posted_at=utc(item.get("date_published")) or utc(job.get("datePosted")),
        source_updated_at=utc(item.get("date_modified")),
        apply_url=text_or_none(item.get("url")),
    )
