"""Ashby posting API: ``GET /posting-api/job-board/{board}?includeCompensation=true`` (no paging).

Richest of the ATS APIs: remote flag, secondary locations, and structured compensation. Salary comes
from ``compensation.summaryComponents`` (Ashby's own roll-up over tiers), else the first tier.
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

NAME = "ashby"
DEFAULT_BASE_URL = "https://api.ashbyhq.com"

EMPLOYMENT_TYPES = {
    "FullTime": "Full-time",
    "PartTime": "Part-time",
    "Intern": "Intern",
    "Contract": "Contract",
    "Temporary": "Temporary",
}
INTERVALS = {"1 HOUR": "hour", "1 DAY": "day", "1 WEEK": "week", "1 MONTH": "month", "1 YEAR": "year"}


def check_token(token: str) -> None:
    require_path_segment(token, "an Ashby job-board name, e.g. 'answersnow' or 'Forward Financing',", allow_spaces=True)


def board_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/posting-api/job-board/{quote(token, safe='')}"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    return [await client.get(board_url(base_url, board.token), params={"includeCompensation": "true"})]


def items(body: bytes, board: Board) -> list:
    return listed(load_json(body, board), "jobs", board)


def posting(job: dict, board: Board) -> Posting | None:
    if job.get("isListed") is False:
        return None
    secondary = [s.get("location") for s in job.get("secondaryLocations") or [] if isinstance(s, dict)]
    is_remote = job.get("isRemote")
    workplace_type = workplace(job.get("workplaceType"))
    description = text_field(job, "descriptionHtml")
    salary = _salary(obj(job, "compensation"))
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=posting_id(job.get("id")),
        company=board.company,  # the API does not name the company
        title=text_field(job, "title"),
        locations=unique([job.get("location"), *secondary]),
        remote=is_remote if isinstance(is_remote, bool) else (None if workplace_type is None else workplace_type == "remote"),
        workplace_type=workplace_type,
        description=html_to_text(description) if description.strip() else text_field(job, "descriptionPlain"),
        department=text_or_none(job.get("department")) or text_or_none(job.get("team")),
        employment_type=EMPLOYMENT_TYPES.get(text_or_none(job.get("employmentType")) or "", text_or_none(job.get("employmentType"))),
        posted_at=utc(job.get("publishedAt")),
        source_updated_at=utc(job.get("updatedAt")),
        apply_url=text_or_none(job.get("applyUrl")) or text_or_none(job.get("jobUrl")),
        **salary,
    )


def _salary(compensation: dict) -> dict:
    components = [c for c in compensation.get("summaryComponents") or [] if isinstance(c, dict)]
    if not any(c.get("compensationType") == "Salary" for c in components):
        tiers = [t for t in compensation.get("compensationTiers") or [] if isinstance(t, dict)]
        components = [c for t in tiers[:1] for c in t.get("components") or [] if isinstance(c, dict)]
    salary = next((c for c in components if c.get("compensationType") == "Salary"), None)
    text = text_or_none(compensation.get("compensationTierSummary")) or text_or_none(
        compensation.get("scrapeableCompensationSalarySummary")
    )
    if salary is None:
        return {"salary_text": text}
    return {
        "salary_min": _number(salary.get("minValue")),
        "salary_max": _number(salary.get("maxValue")),
        "salary_currency": text_or_none(salary.get("currencyCode")),
        "salary_period": INTERVALS.get(text_or_none(salary.get("interval")) or ""),
        "salary_text": text,
    }


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
