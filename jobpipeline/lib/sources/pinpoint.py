"""Pinpoint careers-site API: ``GET https://{company}.pinpointhq.com/postings.json`` → ``{"data": [...]}``.

One request, no paging. The description is the posting's HTML parts in page order, each under its
own heading (``description``, ``key_responsibilities``, ``skills_knowledge_expertise``,
``benefits``). Compensation (``compensation_minimum`` / ``_maximum`` / ``_currency`` /
``_frequency`` and the ``compensation`` line) is kept only where ``compensation_visible`` is true:
the API returns what the company chose not to publish as nulls or hides it behind that flag.
"""

from __future__ import annotations

import html

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import listed, load_json, obj, posting_id, text_field, text_or_none, unique, utc, workplace
from jobpipeline.lib.sources.hosted import board_base_url, require_subdomain
from jobpipeline.lib.text import html_to_text

NAME = "pinpoint"
DEFAULT_BASE_URL = "https://{token}.pinpointhq.com"

FREQUENCIES = {"hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}
_SECTIONS = ("description", "key_responsibilities", "skills_knowledge_expertise", "benefits")


def check_token(token: str) -> None:
    require_subdomain(token, "a Pinpoint company (the part before .pinpointhq.com), e.g. 'workwithus',")


def postings_url(base_url: str, token: str) -> str:
    return f"{board_base_url(base_url, token)}/postings.json"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    return [await client.get(postings_url(base_url, board.token))]


def items(body: bytes, board: Board) -> list:
    return listed(load_json(body, board), "data", board)


def posting(item: dict, board: Board) -> Posting:
    location = obj(item, "location")
    workplace_type = workplace(item.get("workplace_type"))
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=posting_id(item.get("id")),
        company=board.company,  # the API does not name the company
        title=text_field(item, "title"),
        locations=unique([location.get("name"), location.get("city")]),
        remote=None if workplace_type is None else workplace_type == "remote",
        workplace_type=workplace_type,
        description=html_to_text(_description_html(item)),
        department=text_or_none(obj(obj(item, "job"), "department").get("name")),
        employment_type=text_or_none(item.get("employment_type_text")) or text_or_none(item.get("employment_type")),
        source_updated_at=utc(item.get("updated_at")),
        apply_url=text_or_none(item.get("url")),
        **_compensation(item),
    )


def _description_html(item: dict) -> str:
    parts = []
    for key in _SECTIONS:
        body = text_field(item, key)
        heading = text_or_none(item.get(f"{key}_header"))
        if body:
            parts.append((f"<h3>{html.escape(heading)}</h3>" if heading else "") + f"<div>{body}</div>")
    return "\n".join(parts)


def _compensation(item: dict) -> dict:
    if item.get("compensation_visible") is not True:
        return {}
    low, high = item.get("compensation_minimum"), item.get("compensation_maximum")
    return {
        "salary_min": low,  # the sanitizer keeps finite numbers only
        "salary_max": high,
        "salary_currency": text_or_none(item.get("compensation_currency")),
        "salary_period": FREQUENCIES.get(text_or_none(item.get("compensation_frequency")) or ""),
        "salary_text": text_or_none(item.get("compensation")),
    }
