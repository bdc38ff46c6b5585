"""The analytics DuckDB file as a Dagster resource (dagster-duckdb's, with the path from settings)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from jobpipeline import settings

# Every DuckDB writer runs in this pool; dagster.yaml's `pools: default_limit: 1` makes it one at a
# time across runs, because DuckDB allows one writing process per file.
DUCKDB_POOL = "duckdb"


class AnalyticsDuckDBResource(DuckDBResource):
    """``DuckDBResource`` whose ``database`` defaults to ``settings.analytics_path()`` at run time.

    Opening retries with backoff (DuckDBResource's own, about 100 s in all) while another process
    holds the file, e.g. a ``jobpipeline query`` reading it.
    """

    database: str = Field(
        default="",
        description="DuckDB file (default: JOBPIPELINE_ANALYTICS_DB, else <JOBPIPELINE_HOME>/analytics.duckdb)",
    )

    def path(self) -> Path:
        return Path(self.database) if self.database else settings.analytics_path()

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with DuckDBResource(database=str(path), connection_config=self.connection_config).get_connection() as conn:
            yield conn
