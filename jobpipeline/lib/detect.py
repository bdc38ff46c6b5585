"""Which ATS board a careers-page URL belongs to, read from the URL alone: ``detect_board(url) -> Board``.

Users know a company's careers page, not its ATS token. Every ATS we read serves its boards under a
URL that names the board (``jobs.lever.co/<company>``, ``<company>.recruitee.com``,
``<tenant>.wd1.myworkdayjobs.com/en-US/<site>``), so one table of URL patterns (``RULES``) maps a
careers page, a job page on it, or the board's API URL to ``(ats, board_token)``. No page is fetched:
a page on a company's own domain (``stripe.com/jobs``) cannot be mapped, and says so; fetching and
scraping arbitrary HTML is what this module exists to avoid. Whether the board exists is the ATS
API's to say (``jobpipeline boards add --check``).

The table does not import the adapters (an ATS can be detected before its adapter is written);
tokens are built in the form each adapter reads (Workday: ``tenant/site``, or ``tenant.wdN/site``
off the default ``wd5`` data centre; iCIMS/Jibe: the career site's host).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from jobpipeline.lib.http import HttpSettings
from jobpipeline.lib.postings import Board

WORKDAY_DEFAULT_DATA_CENTRE = "wd5"  # the Workday adapter's default: tokens leave it out

# Subdomains of an ATS's own site that are not a company's board (www.bamboohr.com is marketing).
NOT_A_BOARD = frozenset({"www", "app", "api", "apply", "help", "support", "status", "blog", "docs", "developers", "careers"})

_SEGMENT = r"[^/]+"
_LOCALE = r"[a-z]{2}(?:[-_][a-z]{2,4})?"  # en, en-US, de-DE, zh-Hans: a language prefix in the path


class UndetectableURLError(ValueError):
    """A URL that names no board of a known ATS; the message names the URL and, where known, why."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One URL pattern: ``host`` must match the whole (lower-cased) host, ``path`` the path's start.

    The board token is the ``token`` group of either match, or what ``build`` makes of both matches'
    groups; ``query`` names a query parameter that carries the token instead (Greenhouse's embed).
    """

    ats: str
    host: str
    path: str = ""
    query: str | None = None
    build: Callable[[dict[str, str]], str] | None = None

    def match(self, host: str, path: str, query: dict[str, list[str]]) -> str | None:
        host_match = re.fullmatch(self.host, host, re.VERBOSE)
        if not host_match:
            return None
        path_match = re.match(self.path, path, re.VERBOSE | re.IGNORECASE) if self.path else None
        if self.path and not path_match:
            return None
        groups = {k: v for m in (host_match, path_match) if m for k, v in m.groupdict().items() if v is not None}
        if self.query:
            values = query.get(self.query) or [""]
            groups["token"] = values[0]
        token = self.build(groups) if self.build else groups.get("token", "")
        return unquote(token).strip() or None


def _workday_token(groups: dict[str, str]) -> str:
    data_centre = groups["dc"].lower()
    tenant = groups["tenant"].lower()
    return f"{tenant}/{groups['site']}" if data_centre == WORKDAY_DEFAULT_DATA_CENTRE else f"{tenant}.{data_centre}/{groups['site']}"


_COMPANY_SUBDOMAIN = rf"(?P<token>(?!(?:{'|'.join(sorted(NOT_A_BOARD))})\.)[a-z0-9][a-z0-9-]*)"
_WORKDAY_SITE = rf"(?!{_LOCALE}(?:/|$))(?P<site>[A-Za-z0-9_.-]+)"  # a bare /en-US is a locale, not a site

# First match wins: API URLs before the careers pages on the same host.
RULES: tuple[Rule, ...] = (
    Rule("greenhouse", r"boards-api(?:\.eu)?\.greenhouse\.io", rf"/v1/boards/(?P<token>{_SEGMENT})"),
    Rule("greenhouse", r"(?:boards|job-boards)(?:\.eu)?\.greenhouse\.io", r"/embed/job_board", query="for"),
    Rule("greenhouse", r"(?:boards|job-boards)(?:\.eu)?\.greenhouse\.io", rf"/(?!embed/)(?P<token>{_SEGMENT})"),
    Rule("lever", r"api\.lever\.co", rf"/v0/postings/(?P<token>{_SEGMENT})"),
    Rule("lever", r"jobs\.lever\.co", rf"/(?P<token>{_SEGMENT})"),
    Rule("ashby", r"api\.ashbyhq\.com", rf"/posting-api/job-board/(?P<token>{_SEGMENT})"),
    Rule("ashby", r"jobs\.ashbyhq\.com", rf"/(?P<token>{_SEGMENT})"),
    Rule("workable", r"apply\.workable\.com", rf"/api/v\d+/(?:widget/)?accounts/(?P<token>{_SEGMENT})"),
    Rule("workable", r"apply\.workable\.com", rf"/(?!j/|j$|api/)(?P<token>{_SEGMENT})"),
    Rule("workable", rf"{_COMPANY_SUBDOMAIN}\.workable\.com"),  # the older <account>.workable.com pages
    Rule("recruitee", rf"{_COMPANY_SUBDOMAIN}\.recruitee\.com"),
    Rule("bamboohr", rf"{_COMPANY_SUBDOMAIN}\.bamboohr\.com"),
    Rule("teamtailor", rf"{_COMPANY_SUBDOMAIN}\.teamtailor\.com"),
    Rule("personio", rf"{_COMPANY_SUBDOMAIN}\.jobs\.personio\.(?:de|com)"),
    Rule("rippling", r"api\.rippling\.com", rf"/platform/api/ats/v\d+/board/(?P<token>{_SEGMENT})"),
    Rule("rippling", r"ats\.rippling\.com", rf"/(?:{_LOCALE}/(?=[^/]+/jobs))?(?P<token>{_SEGMENT})"),
    Rule("rippling", rf"{_COMPANY_SUBDOMAIN}\.rippling-ats\.com"),  # the older hosted boards
    Rule("pinpoint", rf"{_COMPANY_SUBDOMAIN}\.pinpointhq\.com"),
    Rule("breezy", rf"{_COMPANY_SUBDOMAIN}\.breezy\.hr"),
    Rule("smartrecruiters", r"api\.smartrecruiters\.com", rf"/v1/companies/(?P<token>{_SEGMENT})"),
    Rule("smartrecruiters", r"(?:jobs|careers)\.smartrecruiters\.com", rf"/(?P<token>{_SEGMENT})"),
    Rule(
        "workday",
        r"(?P<tenant>[a-z0-9_-]+)\.(?P<dc>wd\d+)\.myworkdayjobs\.com",
        r"""/wday/cxs/[^/]+/(?P<site>[A-Za-z0-9_.-]+)  # the CXS API URL itself""",
        build=_workday_token,
    ),
    Rule(
        "workday",
        r"(?P<tenant>[a-z0-9_-]+)\.(?P<dc>wd\d+)\.myworkdayjobs\.com",
        rf"""/(?:{_LOCALE}/)?  # optional language prefix: /en-US/External
             {_WORKDAY_SITE}""",
        build=_workday_token,
    ),
    Rule(
        "workday",
        r"(?P<dc>wd\d+)\.myworkdaysite\.com",
        rf"/(?:{_LOCALE}/)?recruiting/(?P<tenant>[A-Za-z0-9_-]+)/{_WORKDAY_SITE}",
        build=_workday_token,
    ),
    # iCIMS career sites on the Jibe platform: the board token is the career site's host.
    Rule("icims", r"(?P<token>[a-z0-9][a-z0-9-]*\.jibeapply\.com)"),
)

# Known hosts whose URLs cannot name a board, with what to give instead.
_HINTS: tuple[tuple[str, str, str], ...] = (
    (
        r"apply\.workable\.com",
        r"/j(?:/|$)",
        "a Workable job link (/j/<code>) does not name the account: give the careers page, apply.workable.com/<account>/",
    ),
    (
        r"(?:[a-z0-9-]+\.)?icims\.com",
        "",
        "an iCIMS classic portal: jobpipeline reads iCIMS career sites through "
        "their Jibe search API; give the career site's own URL (<company>.jibeapply.com), or add "
        "'icims,<career site host>,<company>' to the boards file",
    ),
    (
        r"[a-z0-9_-]+\.wd\d+\.myworkdayjobs\.com",
        "",
        "a Workday URL without a career site in its path: give the site's page, <tenant>.wdN.myworkdayjobs.com/[locale/]<site>",
    ),
)


def detect_board(url: str) -> Board:
    """The board ``url`` belongs to, as ``Board(ats, token, company)``; ``UndetectableURLError`` if none.

    ``url`` may omit its scheme (``quatt.recruitee.com``). The company name is derived from the token
    (see ``company_from_token``); a user who knows better edits the boards file.
    """
    text = url.strip()
    if not text:
        raise UndetectableURLError("empty URL")
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UndetectableURLError(f"{url}: not an http(s) URL")
    host = parts.hostname.lower().rstrip(".")
    path = parts.path or "/"
    query = parse_qs(parts.query)
    for rule in RULES:
        token = rule.match(host, path, query)
        if token:
            return Board(ats=rule.ats, token=token, company=company_from_token(rule.ats, token))
    for host_pattern, path_pattern, hint in _HINTS:
        if re.fullmatch(host_pattern, host) and (not path_pattern or re.match(path_pattern, path)):
            raise UndetectableURLError(f"{url}: {hint}")
    raise UndetectableURLError(
        f"{url}: not a careers-page URL of a known ATS ({', '.join(known_ats())}); "
        "a page on the company's own domain names no board: find the ATS link on it"
    )


def company_from_token(ats: str, token: str) -> str:
    """A display name from the token: kept as the URL gives it where it has capitals or spaces
    (``ServiceNow``, ``Forward Financing``), else its words title-cased (``colony-networks`` ->
    ``Colony Networks``). Workday names the tenant, iCIMS the career site's first host label."""
    if ats == "workday":
        token = token.split("/", 1)[0].split(".", 1)[0]
    elif ats == "icims":
        token = token.split(".", 1)[0]
    words = [w for w in re.split(r"[-_\s]+", token) if w]
    if any(c.isupper() for c in token) or " " in token:
        return " ".join(words)
    return " ".join(w[:1].upper() + w[1:] for w in words)


async def missing_boards(
    boards: Iterable[Board], base_urls: Mapping[str, str] | None = None, settings: HttpSettings | None = None
) -> dict[str, str]:
    """Boards the ATS API does not serve, as ``{board.key: why}``; boards it serves are absent.

    Each board's listing is requested once through its adapter's ``fetch`` (list only: no detail
    requests) and its first body read with ``items``, so a 404, an HTML page instead of the API's
    JSON, or an unreachable host all count as missing, with the reason. ``base_urls`` overrides an
    ATS's live base URL (a replay server's ``base_urls`` in tests). Every board needs a registered
    adapter (``lib.sources.ADAPTERS``).
    """
    from jobpipeline.lib.http import HttpSession, HttpStatusError, TransportError, make_client
    from jobpipeline.lib.sources import ADAPTERS, DEFAULT_BASE_URLS
    from jobpipeline.lib.sources.base import SourceFormatError

    urls = {**DEFAULT_BASE_URLS, **(base_urls or {})}

    async def check(session: HttpSession, board: Board) -> str | None:
        adapter = ADAPTERS[board.ats]
        try:
            bodies = await adapter.fetch(session.fetcher(), board, urls[board.ats])
            adapter.items(bodies[0], board)
        except HttpStatusError as exc:
            return f"no such board ({exc})" if exc.status == 404 else str(exc)
        except SourceFormatError as exc:
            return f"not the API's answer: {exc}"
        except TransportError as exc:
            return f"no answer: {exc}"
        return None

    settings = settings or HttpSettings()
    async with make_client(settings) as client:
        session = HttpSession(client, settings)
        boards = list(boards)
        reasons = await asyncio.gather(*(check(session, board) for board in boards))
    return {board.key: reason for board, reason in zip(boards, reasons, strict=True) if reason is not None}


def known_ats() -> list[str]:
    """The ATS types the table detects, in table order."""
    return list(dict.fromkeys(rule.ats for rule in RULES))


__all__ = ["RULES", "Rule", "UndetectableURLError", "company_from_token", "detect_board", "known_ats", "missing_boards"]
