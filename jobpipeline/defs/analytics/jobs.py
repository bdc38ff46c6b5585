"""Jobs that materialize the analytics: alone (the size sensor's), or after enrichment (``jobpipeline run``'s)."""

from __future__ import annotations

import dagster as dg

from jobpipeline.defs.analytics.assets import GROUP

ANALYTICS = dg.AssetSelection.groups(GROUP)

analytics_job = dg.define_asset_job(
    "analytics_job",
    selection=ANALYTICS,
    description="Rebuild every analytics table in DuckDB from the store (and run their checks).",
)

# `enriched_jobs` (group `enrich`) plus the analytics: the analytics' direct upstream minus the store
# spine. Selecting it by its dependency, not by its key, keeps this job loadable in a Definitions
# that has no `enriched_jobs` yet (a missing key in AssetSelection.assets() fails to resolve).
downstream_job = dg.define_asset_job(
    "downstream_job",
    selection=ANALYTICS.upstream(depth=1) - dg.AssetSelection.groups("scrape", "jobs", "history"),
    description="After a scrape: enrich new jobs with the LLM, then rebuild the analytics.",
)
