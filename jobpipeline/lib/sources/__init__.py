"""Source adapters, one module per ATS, all with the shape described in ``sources/base.py``."""

from __future__ import annotations

from jobpipeline.lib.sources import ashby, greenhouse, lever, smartrecruiters, workday
from jobpipeline.lib.sources.base import SourceAdapter, SourceFormatError

ADAPTERS: dict[str, SourceAdapter] = {m.NAME: m for m in (greenhouse, lever, ashby, smartrecruiters, workday)}

DEFAULT_BASE_URLS: dict[str, str] = {name: adapter.DEFAULT_BASE_URL for name, adapter in ADAPTERS.items()}


def adapter_for(ats: str) -> SourceAdapter:
    """The adapter registered for ``ats``, or ``KeyError`` listing the known ones."""
    try:
        return ADAPTERS[ats]
    except KeyError:
        raise KeyError(f"no source adapter for ATS {ats!r} (known: {', '.join(sorted(ADAPTERS))})") from None


__all__ = ["ADAPTERS", "DEFAULT_BASE_URLS", "SourceAdapter", "SourceFormatError", "adapter_for"]
