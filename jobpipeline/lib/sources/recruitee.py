"""Recruitee careers-site API: ``GET https://{company}.recruitee.com/api/offers/`` (one request, no paging).

Each offer has its description and requirements (HTML), its locations, the ``remote`` / ``hybrid`` /
``on_site`` flags and a structured ``salary`` (``min``/``max`` as strings, ``period``, ``currency``),
all kept as given. Timestamps read ``2026-09-18 13:27:28 UTC``.
"""

from __future__ import annotations

from jobpipeline.lib.http import Fetcher
from jobpipeline.lib.postings import Board, Posting
from jobpipeline.lib.sources.base import (
    HYBRID,
    ONSITE,
    REMOTE,
    PostingError,
    listed,
    load_json,
    obj,
    posting_id,
    text_field,
    text_or_none,
    unique,
    utc,
)
from jobpipeline.lib.sources.hosted import board_base_url, require_subdomain
from jobpipeline.lib.text import html_to_text

NAME = "recruitee"
DEFAULT_BASE_URL = "https://{token}.recruitee.com"

PERIODS = {"hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}


def check_token(token: str) -> None:
    require_subdomain(token, "a Recruitee company (the part before .recruitee.com), e.g. 'channable',")


def offers_url(base_url: str, token: str) -> str:
    return f"{board_base_url(base_url, token)}/api/offers/"


async def fetch(client: Fetcher, board: Board, base_url: str) -> list[bytes]:
    return [await client.get(offers_url(base_url, board.token))]


def items(body: bytes, board: Board) -> list:
    return listed(load_json(body, board), "offers", board)


def posting(offer: dict, board: Board) -> Posting:
    places = offer.get("locations")
    locations = [
        ", ".join(unique([place.get("city") or place.get("name"), place.get("country")]))
        for place in (places if isinstance(places, list) else [])
        if isinstance(place, dict)
    ]
    return Posting(
        source=NAME,
        board=board.token,
        source_job_id=posting_id(offer.get("id")),
        company=text_or_none(offer.get("company_name")) or board.company,
        title=text_field(offer, "title"),
        locations=unique(locations) or unique([offer.get("location")]),
        remote=offer["remote"] if isinstance(offer.get("remote"), bool) else None,
        workplace_type=_workplace(offer),
        description=html_to_text(text_field(offer, "description") + "\n" + text_field(offer, "requirements")),
        department=text_or_none(offer.get("department")),
        employment_type=text_or_none(offer.get("employment_type_code")),
        posted_at=_utc(offer.get("published_at")) or _utc(offer.get("created_at")),
        source_updated_at=_utc(offer.get("updated_at")),
        apply_url=text_or_none(offer.get("careers_url")),
        **_salary(obj(offer, "salary")),
    )


def _workplace(offer: dict) -> str | None:
    """The one flag the offer sets (``remote``, ``hybrid``, ``on_site``); None when none or several are set."""
    flags = [name for name, key in ((REMOTE, "remote"), (HYBRID, "hybrid"), (ONSITE, "on_site")) if offer.get(key) is True]
    return flags[0] if len(flags) == 1 else None


def _utc(value: object):
    if isinstance(value, str) and value.endswith(" UTC"):
        value = value[: -len(" UTC")] + "+00:00"
    return utc(value)


def _salary(salary: dict) -> dict:
    low, high = _amount(salary, "min"), _amount(salary, "max")
    if low is None and high is None:
        return {}
    currency = text_or_none(salary.get("currency"))
    period = PERIODS.get(text_or_none(salary.get("period")) or "")
    numbers = " – ".join(f"{n:,.0f}" for n in (low, high) if n is not None)
    return {
        "salary_min": low,
        "salary_max": high,
        "salary_currency": currency,
        "salary_period": period,
        "salary_text": " ".join(part for part in (currency, numbers, period and f"per {period}") if part),
    }


def _amount(salary: dict, key: str) -> float | None:
    """Recruitee gives amounts as strings (``"3750"``); a value that is not a number is the posting's error."""
    value = salary.get(key)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PostingError(f"salary.{key}: expected a number, got {value!r}") from None
