"""The operational store as a Dagster resource (any SQLAlchemy URL; SQLite by default)."""

from __future__ import annotations

import functools

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from jobpipeline.lib.store import create_schema, get_engine


from jobpipeline import settings


@functools.lru_cache(maxsize=8)
def _engine(url: str) -> sa.Engine:
    engine = get_engine(url)
    create_schema(engine)
    return engine


class StoreResource(dg.ConfigurableResource):
    """Where ``jobs`` and ``enriched_jobs`` live; ``JOBPIPELINE_DATABASE_URL`` is the default URL."""

    database_url: str | None = Field(default=None, description="SQLAlchemy URL (default: JOBPIPELINE_DATABASE_URL or sqlite:///<home>/jobpipeline.db)")

    def engine(self) -> sa.Engine:
        """A shared engine with the schema created (once per process)."""
        return _engine(self.database_url or settings.database_url())  # keyed on the URL the env gives now
