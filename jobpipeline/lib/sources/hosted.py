"""Boards that live on their own host (``{company}.recruitee.com``): the URL of a board, live or replayed.

Recruitee, Teamtailor, Pinpoint, Breezy HR, Personio and iCIMS career sites name the board in the
host, not in the path. Their ``DEFAULT_BASE_URL`` is a template with ``{token}`` in the host
(``https://{token}.recruitee.com``). A base URL without ``{token}`` is one server answering for
every board (the replay server): the token becomes the first path segment there, and the rest of
the path is the API's own (``http://127.0.0.1:PORT/recruitee/{token}/api/offers/``).
"""

from __future__ import annotations

import re
from urllib.parse import quote

_DNS_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def board_base_url(base_url: str, token: str) -> str:
    """The board's own base URL: ``{token}`` filled into the host, else the token appended as a path segment."""
    if "{token}" in base_url:
        return base_url.replace("{token}", token).rstrip("/")
    return f"{base_url.rstrip('/')}/{quote(token, safe='')}"


def require_subdomain(token: str, what: str) -> None:
    """``ValueError`` unless ``token`` is one DNS label (letters, digits, inner hyphens, at most 63)."""
    if not _DNS_LABEL.fullmatch(token or ""):
        raise ValueError(f"{what} is one host name label (letters, digits and inner '-'), got {token!r}")


def require_host(token: str, what: str) -> None:
    """``ValueError`` unless ``token`` is a host name of two or more DNS labels (``careers.garmin.com``)."""
    labels = (token or "").split(".")
    if len(labels) < 2 or len(token) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{what} is a host name such as 'careers.example.com', got {token!r}")
