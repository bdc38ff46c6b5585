"""Personio job feed: ``GET https://{company}.jobs.personio.de/xml`` → XML, ``<workzag-jobs><position>…``.

One request, no paging. Each ``<position>`` has ``id``, ``name`` (the title), ``office`` (and
``additionalOffices``), ``department``, ``employmentType`` and ``schedule``, ``createdAt``, the
description as ``jobDescriptions/jobDescription`` (a ``name`` heading and an HTML ``value`` each), and,
where the company publishes it, ``salaryInformation`` (``min``, ``max``, ``currencyCode``, ``type``).

The XML is parsed with ``defusedxml``: a feed that declares a DTD or entities is refused as a whole
(``SourceFormatError``), so no entity expansion can blow up memory. ``items`` turns each position
into a plain dict, so the shared per-posting isolation applies as for the JSON APIs.
"""

from __future__ import annotations

import html
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import SourceFormatError, posting_id, text_field, text_or_none, unique, utc
from jobpipeline.lib.sources.hosted import board_base_url, require_subdomain
from jobpipeline.lib.text import html_to_text

NAME = "personio"
DEFAULT_BASE_URL = "https://{token}.jobs.personio.de"

SALARY_TYPES = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month", "yearly": "year"}
_LISTS = {"jobDescriptions": "jobDescription", "additionalOffices": "office"}  # repeated children


def check_token(token: str) -> None:
    require_subdomain(token, "a Personio company (the part before .jobs.personio.de), e.g. 'acme',")


def feed_url(base_url: str, token: str) -> str:
    return f"{board_base_url(base_url, token)}/xml"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    return [await client.get(feed_url(base_url, board.token))]


def items(body: bytes, board: Board) -> list:
    """Each ``<position>`` as a dict of its children's text (lists and ``salaryInformation`` nested)."""
    try:
        root = fromstring(body)
    except DefusedXmlException as exc:
        raise SourceFormatError(f"{board.key}: XML with a DTD or entities refused ({type(exc).__name__})") from None
    except ParseError as exc:
        head = body.lstrip()[:60].decode("utf-8", "replace").replace("\n", " ")
        raise SourceFormatError(f"{board.key}: invalid or truncated XML ({len(body)} bytes, {head!r}): {exc}") from None
    if root.tag != "workzag-jobs":
        raise SourceFormatError(f"{board.key}: expected a <workzag-jobs> feed, got <{root.tag}>")
    return [_as_dict(position) for position in root.findall("position")]


def posting(item: dict, board: Board) -> Posting:
    position_id = posting_id(text_or_none(item.get("id")), "id")
    offices = item.get("additionalOffices")
    employment = unique([item.get("employmentType"), item.get("schedule")])
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=position_id,
        company=board.company,  # ``subcompany`` names a legal entity, which varies within one company
        title=text_field(item, "name"),
        locations=unique([item.get("office"), *(offices if isinstance(offices, list) else [])]),
        description=html_to_text(_description_html(item)),
        department=text_or_none(item.get("department")),
        employment_type=", ".join(employment) or None,
        posted_at=utc(item.get("createdAt")),
        apply_url=job_url(board.token, position_id),
        **_salary(salary if isinstance(salary := item.get("salaryInformation"), dict) else {}),
    )


def job_url(token: str, position_id: str) -> str:
    """The public page of one position on the live site (the feed has no URL of its own)."""
    return f"{DEFAULT_BASE_URL.replace('{token}', token)}/job/{position_id}"


def _description_html(item: dict) -> str:
    parts = []
    sections = item.get("jobDescriptions")
    for section in sections if isinstance(sections, list) else []:
        if isinstance(section, dict) and (value := text_or_none(section.get("value"))):
            heading = text_or_none(section.get("name"))
            # The value is bare inline HTML: a <div> keeps it off the heading's line.
            parts.append((f"<h3>{html.escape(heading)}</h3>" if heading else "") + f"<div>{value}</div>")
    return "\n".join(parts)


def _salary(info: dict) -> dict:
    low, high = _amount(info.get("min")), _amount(info.get("max"))
    if low is None and high is None:
        return {}
    currency = text_or_none(info.get("currencyCode"))
    period = SALARY_TYPES.get(text_or_none(info.get("type")) or "")
    numbers = " – ".join(f"{n:,.0f}" for n in (low, high) if n is not None)
    return {
        "salary_min": low,
        "salary_max": high,
        "salary_currency": currency,
        "salary_period": period,
        "salary_text": " ".join(p for p in (currency, numbers if high is not None else f"from {numbers}", period and f"per {period}") if p),
    }


def _amount(value: object) -> float | None:
    try:
        return float(value) if isinstance(value, str) and value.strip() else None
    except ValueError:
        return None  # a salary the feed cannot state as a number loses the number, not the posting


def _as_dict(element: Element) -> dict:
    result: dict = {}
    for child in element:
        if child.tag in _LISTS:
            result[child.tag] = [
                _as_dict(entry) if len(entry) else (entry.text or "").strip() for entry in child.findall(_LISTS[child.tag])
            ]
        elif len(child):
            result[child.tag] = _as_dict(child)
        else:
            result[child.tag] = (child.text or "").strip()
    return result
