"""Secrets out of error texts, before they reach the store, the event log or a compute log.

An LLM server that answers 401 often repeats the request's ``Authorization`` header or the key
itself in its error body; that body becomes ``enrichment.error``, a log line and a metadata value.
``redact`` replaces the configured secrets (the API key) and any ``Authorization`` header value
with ``[REDACTED]``; the backends that hold a key call it on every error they create.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"
MIN_SECRET_CHARS = 4  # shorter "keys" are placeholders; replacing every "ab" would garble the text

# ``Authorization: Bearer xyz``, ``"authorization": "Basic xyz"``, ``Proxy-Authorization=xyz``: the
# header name, its separator and an optional scheme are kept; the credential is replaced.
_AUTH_HEADER = re.compile(
    r"""(?P<name>(?:proxy-)?authorization) (?P<sep>["']?\s*[:=]\s*["']?)
        (?P<scheme>(?:bearer|basic|token|digest|apikey)\s+)?+
        (?!\[REDACTED\])(?P<credential>[^\s"',;}\]]+)""",
    re.IGNORECASE | re.VERBOSE,
)
# A bearer credential anywhere else (``Bearer sk-…`` quoted in a message without the header name).
_BEARER = re.compile(r"(?P<scheme>\bbearer\s+)(?P<credential>[A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE)


def redact(text: str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """``text`` with every secret of ``secrets`` and every Authorization credential replaced."""
    if not text:
        return text
    text = _AUTH_HEADER.sub(lambda m: f"{m['name']}{m['sep']}{m['scheme'] or ''}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m['scheme']}{REDACTED}", text)
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
