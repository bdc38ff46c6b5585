"""BambooHR careers site: ``GET https://{company}.bamboohr.com/careers/list``, one request, no paging.

The list (``{"meta": {"totalCount": n}, "result": [...]}``) gives title, department, employment
status, city/state and ``locationType`` ("0" on-site, "1" remote, "2" hybrid) but no description:
that is ``GET /careers/{id}/detail`` per posting (``{"result": {"jobOpening": {...}}}``), whose
``description`` (HTML), ``compensation`` (a free-text string such as "£100,000", kept as
``salary_text`` as given), ``datePosted`` and full address fill the posting. Details are fetched only
when the list item changed (``sources/details.py``).

``DEFAULT_BASE_URL`` is a template with ``{host}`` (the company's subdomain); a plain base URL (the
replay server) gets the company as the first path segment instead: ``{base}/{company}/careers/list``.
"""

from __future__ import annotations

from urllib.parse import quote

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import (
    HYBRID,
    ONSITE,
    REMOTE,
    SourceFormatError,
    listed,
    load_json,
    obj,
    posting_id,
    text_field,
    text_or_none,
    unique,
    utc,
)
from jobpipeline.lib.sources.details import item_hash
from jobpipeline.lib.text import html_to_text

NAME = "bamboohr"
DEFAULT_BASE_URL = "https://{host}.bamboohr.com"

_LOCATION_TYPES = {"0": ONSITE, "1": REMOTE, "2": HYBRID}


def check_token(token: str) -> None:
    """A BambooHR company is a DNS label: letters, digits and hyphens."""
    if not token or not all(c.isascii() and (c.isalnum() or c == "-") for c in token) or token.startswith("-"):
        raise ValueError("a BambooHR company is its subdomain (letters, digits, '-'), e.g. 'holisticai'")


def careers_url(base_url: str, token: str) -> str:
    if "{host}" in base_url:
        return f"{base_url.replace('{host}', token).rstrip('/')}/careers"
    return f"{base_url.rstrip('/')}/{quote(token, safe='')}/careers"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    return [await client.get(f"{careers_url(base_url, board.token)}/list")]


def items(body: bytes, board: Board) -> list:
    return listed(load_json(body, board), "result", board)


def _place(location: dict) -> str:
    return ", ".join(unique([location.get("city"), location.get("state") or location.get("province"), location.get("country")]))


def posting(job: dict, board: Board) -> Posting:
    job_id = posting_id(job.get("id"))
    workplace_type = _LOCATION_TYPES.get(str(job.get("locationType")))
    remote = job.get("isRemote")
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=job_id,
        company=board.company,  # the API does not name the company
        title=text_field(job, "jobOpeningName"),
        locations=unique([_place(obj(job, "location")), _place(obj(job, "atsLocation"))])[:1],
        remote=remote if isinstance(remote, bool) else None if workplace_type is None else workplace_type == REMOTE,
        workplace_type=workplace_type,
        department=text_or_none(job.get("departmentLabel")),
        employment_type=text_or_none(job.get("employmentStatusLabel")),
        apply_url=f"https://{board.token}.bamboohr.com/careers/{quote(job_id, safe='')}",
    )


def detail_stamp(job: dict) -> str:
    """The list item's own hash: the list has no update stamp."""
    return item_hash(job)


async def fetch_detail(client: Fetcher, board: Board, base_url: str, job: dict) -> bytes:
    return await client.get(f"{careers_url(base_url, board.token)}/{quote(posting_id(job.get('id')), safe='')}/detail")


def apply_detail(target: Posting, body: bytes, board: Board) -> None:
    """``result.jobOpening``: description, compensation text, date posted, and the full address."""
    opening = obj(obj(load_json(body, board), "result"), "jobOpening")
    if not opening:
        raise SourceFormatError(f"{board.key}: detail of {target.source_job_id} has no result.jobOpening")
    target.description = html_to_text(text_field(opening, "description"))
    target.salary_text = text_or_none(opening.get("compensation")) or target.salary_text
    target.posted_at = target.posted_at or utc(opening.get("datePosted"))
    location = obj(opening, "location")
    address = ", ".join(unique([location.get("city"), location.get("state"), location.get("addressCountry")]))
    if address and not target.locations:
        target.locations = [address]
