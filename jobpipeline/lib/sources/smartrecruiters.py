"""SmartRecruiters postings API: ``GET /v1/companies/{company}/postings?offset=N&limit=M``.

Pages until ``offset`` reaches ``totalFound`` (or a page comes back empty). The list endpoint has no
description: that is one ``GET /v1/companies/{company}/postings/{id}`` per posting, whose
``jobAd.sections`` (company description, job description, qualifications, additional information,
each ``{title, text}`` with HTML text) become the description (``sources/details.py`` fetches it only
when the list item changed). Salary is not a field of the API; companies that publish it put it in
a custom field (Wise: "Job Ad Salary Range" = "68000 - 87500 GBP Annual"), read as given.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import (
    HYBRID,
    MAX_PAGES,
    ONSITE,
    REMOTE,
    SourceFormatError,
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
from jobpipeline.lib.sources.details import item_hash
from jobpipeline.lib.text import html_to_text

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


_SALARY = re.compile(r"^\s*(?P<min>\d[\d.,]*)\s*-\s*(?P<max>\d[\d.,]*)\s*(?P<currency>[A-Z]{3})?\s*(?P<period>[A-Za-z]+)?\s*$")
_PERIODS = {"annual": "year", "yearly": "year", "monthly": "month", "weekly": "week", "daily": "day", "hourly": "hour"}


def salary(job: dict) -> dict:
    """Salary from a custom field whose label names a salary ("Job Ad Salary Range"), as the company gave it."""
    fields = job.get("customField")
    labels = [
        f.get("valueLabel")
        for f in (fields if isinstance(fields, list) else [])
        if isinstance(f, dict) and "salary" in str(f.get("fieldLabel", "")).lower()
    ]
    label = labels[0] if labels else None
    text = text_or_none(label)
    match = _SALARY.match(text) if text else None
    if not match:
        return {}  # " -   ": the field is there but empty
    low, high = (float(match[k].replace(",", "")) for k in ("min", "max"))
    return {
        "salary_min": low,
        "salary_max": high,
        "salary_currency": match["currency"],
        "salary_period": _PERIODS.get((match["period"] or "").lower()),
        "salary_text": text,
    }


def posting(job: dict, board: Board) -> Posting:
    job_id = posting_id(job.get("id"))
    location = obj(job, "location")
    company = obj(job, "company")
    remote, hybrid = location.get("remote"), location.get("hybrid")
    workplace_type = None
    if isinstance(remote, bool) and isinstance(hybrid, bool):  # the API states both flags explicitly
        workplace_type = REMOTE if remote else HYBRID if hybrid else ONSITE
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
        **salary(job),
    )


def detail_stamp(job: dict) -> str:
    """The list item's own hash: the list has no update stamp, and every field of it is absolute."""
    return item_hash(job)


async def fetch_detail(client: Fetcher, board: Board, base_url: str, job: dict) -> bytes:
    return await client.get(f"{postings_url(base_url, board.token)}/{quote(posting_id(job.get('id')), safe='')}")


def apply_detail(target: Posting, body: bytes, board: Board) -> None:
    """The detail's ``jobAd.sections`` as the description, each section under its own title."""
    sections = obj(obj(load_json(body, board), "jobAd"), "sections")
    parts = []
    for section in sections.values():
        if isinstance(section, dict) and (text := html_to_text(text_field(section, "text"))):
            title = text_or_none(section.get("title"))
            parts.append(f"{title}\n{text}" if title else text)
    if not parts:
        raise SourceFormatError(f"{board.key}: detail of {target.source_job_id} has no jobAd.sections text")
    target.description = "\n\n".join(parts)
