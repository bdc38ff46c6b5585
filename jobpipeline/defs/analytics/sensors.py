"""The size sensor: rebuild the analytics when the store has grown enough since the last build.

Each tick reads cheap facts of the store (``lib.analytics.facts``: job, closed-job and enrichment
counts, SQLite file bytes) and compares them with the facts kept in the cursor, those of the last
requested build. Below both thresholds it skips and says how far below; at or above either it
requests ``analytics_job`` with a run key naming the store state, so a repeated tick on the same
state launches nothing twice. Thresholds and interval: environment, or ``build_analytics_size_sensor``.
"""


import os

import dagster as dg

from jobpipeline.defs.analytics.jobs import analytics_job
from jobpipeline.defs.jobs.resources import StoreResource
from jobpipeline.lib.analytics.facts import StoreFacts, growth, read_store_facts

DEFAULT_MIN_ROWS = 500  # jobs added + closed + enrichments added
DEFAULT_MIN_BYTES = 64 * 1024 * 1024
DEFAULT_INTERVAL_S = 300


def build_analytics_size_sensor(
    min_rows: int = DEFAULT_MIN_ROWS,
    min_bytes: int = DEFAULT_MIN_BYTES,
    interval_s: int = DEFAULT_INTERVAL_S,
    name: str = "analytics_size_sensor",
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """A size sensor with these thresholds (0 turns one off) and tick interval."""

    @dg.sensor(
        name=name,
        job=analytics_job,
        minimum_interval_seconds=interval_s,
        default_status=default_status,
        description=f"Rebuilds the analytics once the store grew by {min_rows:,} rows or {min_bytes:,} bytes since the last build.",
    )
    def analytics_size_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult | dg.SkipReason:
        now = read_store_facts(store.engine())
        last = StoreFacts.from_cursor(context.cursor)
        grown = growth(last, now)
        if not grown.crosses(min_rows, min_bytes):
            parts = []
            if min_rows > 0:
                parts.append(f"{grown.rows:,} of {min_rows:,} rows ({min_rows - grown.rows:,} to go)")
            if min_bytes > 0:
                parts.append(f"{grown.bytes:,} of {min_bytes:,} bytes ({min_bytes - grown.bytes:,} to go)")
            return dg.SkipReason(
                f"store grew by {' and '.join(parts) or 'nothing (both thresholds off)'} since the analytics were last "
                f"{'built' if last else 'built (never built yet)'}; now {now.jobs:,} jobs, {now.enrichments:,} enrichments"
            )
        return dg.SensorResult(
            run_requests=[dg.RunRequest(
                run_key=now.run_key(),
                tags={"jobpipeline/trigger": "store_growth", "jobpipeline/growth_rows": str(grown.rows),
                      "jobpipeline/growth_bytes": str(grown.bytes)},
            )],
            cursor=now.to_cursor(),
        )

    return analytics_size_sensor


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError:
        raise ValueError(f"{name}={value!r} is not an integer") from None


analytics_size_sensor = build_analytics_size_sensor(
    min_rows=_env_int("JOBPIPELINE_ANALYTICS_MIN_ROWS", DEFAULT_MIN_ROWS),
    min_bytes=_env_int("JOBPIPELINE_ANALYTICS_MIN_BYTES", DEFAULT_MIN_BYTES),
    interval_s=_env_int("JOBPIPELINE_ANALYTICS_SENSOR_INTERVAL_S", DEFAULT_INTERVAL_S),
)
