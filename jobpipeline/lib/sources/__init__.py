"""Source adapters, one module per ATS, all with the shape described in ``sources/base.py``."""

from __future__ import annotations

from jobpipeline.lib.sources import ashby, greenhouse, lever, smartrecruiters, workday
from jobpipeline.lib.sources import bamboohr, rippling  # issue 13b: detail fetches
from jobpipeline.lib.sources import workable, recruitee, teamtailor, pinpoint, breezy, personio, icims  # noqa: I001  (13a)
from jobpipeline.lib.sources.base import ParsedBoard, PostingError, SourceAdapter, SourceFormatError, parse_board

ADAPTERS: dict[str, SourceAdapter] = {
    m.NAME: m
    for m in (
        greenhouse, lever, ashby, smartrecruiters, workday,
        workable, recruitee, teamtailor, pinpoint, breezy, personio, icims, bamboohr, rippling,
    )
}

DEFAULT_BASE_URLS: dict[str, str] = {name: adapter.DEFAULT_BASE_URL for name, adapter in ADAPTERS.items()}


__all__ = [
    "ADAPTERS",
    "DEFAULT_BASE_URLS",
    "ParsedBoard",
    "PostingError",
    "SourceAdapter",
    "SourceFormatError",
    "parse_board",
]
