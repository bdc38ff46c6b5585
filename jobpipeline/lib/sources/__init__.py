"""Source adapters, one module per ATS, all with the shape described in ``sources/base.py``."""

from __future__ import annotations

from jobpipeline.lib.sources import (  # issue 13b: detail fetches  # noqa: I001  (13a)
    ashby,
    bamboohr,
    breezy,
    greenhouse,
    icims,
    lever,
    personio,
    pinpoint,
    recruitee,
    rippling,
    smartrecruiters,
    teamtailor,
    workable,
    workday,
)
from jobpipeline.lib.sources.base import ParsedBoard, PostingError, SourceAdapter, SourceFormatError, parse_board

ADAPTERS: dict[str, SourceAdapter] = {
    m.NAME: m
    for m in (
        greenhouse,
        lever,
        ashby,
        smartrecruiters,
        workday,
        workable,
        recruitee,
        teamtailor,
        pinpoint,
        breezy,
        personio,
        icims,
        bamboohr,
        rippling,
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
