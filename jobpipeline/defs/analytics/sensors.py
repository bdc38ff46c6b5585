"""The size sensor: rebuild the analytics when the store has grown enough since the last build.

Each tick reads cheap facts of the store (``lib.analytics.facts``: job, closed-job and enrichment
counts, SQLite file bytes) and compares them with those of the last build, *whoever built it*:
the ``store_*`` metadata of the latest ``job_snapshot`` materialization in the instance (a
``jobpipeline run``, a UI launch or this sensor's own run), or, while a build it requested has not
landed yet, the facts kept in its cursor. Below both thresholds it skips and says how far below; at
or above either it requests ``analytics_job`` with a run key naming the store state, so a repeated
tick on the same state launches nothing twice.

Analytics come after enrichment: while a sync (``jobs``, ``hn_jobs``) has landed that
``enriched_jobs`` has not caught up with yet, it skips and says so, so the tables are not rebuilt
over jobs without their fields. Thresholds and interval: environment, or ``build_analytics_size_sensor``.
"""


import json
import os
from collections.abc import Sequence
from dataclasses import asdict

import dagster as dg

from jobpipeline.defs.analytics.jobs import analytics_job
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.analytics.facts import StoreFacts, growth, read_store_facts

DEFAULT_MIN_ROWS = 500  # jobs added + closed + enrichments added
DEFAULT_MIN_BYTES = 64 * 1024 * 1024
DEFAULT_INTERVAL_S = 300
BUILT_ASSET = "job_snapshot"  # its materialization carries the store facts the build read
SYNC_ASSETS = ("jobs", "hn_jobs")
ENRICH_ASSET = "enriched_jobs"


def _latest_record(instance: dg.DagsterInstance, key: str) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(dg.AssetKey(key), limit=1).records
    return records[0] if records else None


def _built_facts(record: dg.EventLogRecord) -> StoreFacts | None:
    """The store facts a build recorded in its ``job_snapshot`` metadata (None if it recorded none)."""
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}
    names = {"jobs": "store_jobs", "closed_jobs": "store_closed_jobs", "enrichments": "store_enrichments",
             "store_bytes": "store_bytes"}
    if not all(name in metadata for name in names.values()):
        return None
    return StoreFacts(**{field: int(metadata[name].value) for field, name in names.items()})


def _cursor(facts: StoreFacts, built_id: int) -> str:
    """The facts of the build this sensor requested, and the newest build it had seen then."""
    return json.dumps({**asdict(facts), "built_storage_id": built_id}, sort_keys=True)


def _cursor_built_id(cursor: str | None) -> int:
    try:
        return int(json.loads(cursor or "{}").get("built_storage_id", 0))
    except (ValueError, TypeError, AttributeError):
        return 0


def last_build(instance: dg.DagsterInstance, cursor: str | None) -> tuple[StoreFacts | None, int, str]:
    """(facts, storage id, who) of the last build: a build newer than the one the cursor knows wins."""
    record = _latest_record(instance, BUILT_ASSET)
    built = _built_facts(record) if record is not None else None
    if record is not None and built is not None and record.storage_id > _cursor_built_id(cursor):
        return built, record.storage_id, f"built by run {record.run_id[:8]}"
    return StoreFacts.from_cursor(cursor), _cursor_built_id(cursor), "requested by this sensor"


def enrichment_behind(instance: dg.DagsterInstance, sync_assets: Sequence[str], enrich_asset: str) -> str | None:
    """Why the analytics should wait for enrichment (None when enrichment is caught up)."""
    synced = [r for r in (_latest_record(instance, key) for key in sync_assets) if r is not None]
    if not synced:
        return None
    latest_sync = max(synced, key=lambda r: r.storage_id)
    enriched = _latest_record(instance, enrich_asset)
    if enriched is not None and enriched.storage_id > latest_sync.storage_id:
        return None
    return (f"waiting for {enrich_asset}: {latest_sync.asset_key.to_user_string()} was synced by run "
            f"{latest_sync.run_id[:8]} and {enrich_asset} has not been materialized since")


def build_analytics_size_sensor(
    min_rows: int = DEFAULT_MIN_ROWS,
    min_bytes: int = DEFAULT_MIN_BYTES,
    interval_s: int = DEFAULT_INTERVAL_S,
    name: str = "analytics_size_sensor",
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
    wait_for_enrichment: bool = True,
) -> dg.SensorDefinition:
    """A size sensor with these thresholds (0 turns one off) and tick interval."""

    @dg.sensor(
        name=name,
        job=analytics_job,
        minimum_interval_seconds=interval_s,
        default_status=default_status,
        description=f"Rebuilds the analytics once the store grew by {min_rows:,} rows or {min_bytes:,} bytes since "
        "the last build (whoever built it), after enriched_jobs has caught up with the latest sync.",
    )
    def analytics_size_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult | dg.SkipReason:
        if wait_for_enrichment and (waiting := enrichment_behind(context.instance, SYNC_ASSETS, ENRICH_ASSET)):
            return dg.SkipReason(waiting)
        now = read_store_facts(store.engine())
        last, built_id, who = last_build(context.instance, context.cursor)
        grown = growth(last, now)
        if not grown.crosses(min_rows, min_bytes):
            parts = []
            if min_rows > 0:
                parts.append(f"{grown.rows:,} of {min_rows:,} rows ({min_rows - grown.rows:,} to go)")
            if min_bytes > 0:
                parts.append(f"{grown.bytes:,} of {min_bytes:,} bytes ({min_bytes - grown.bytes:,} to go)")
            return dg.SkipReason(
                f"store grew by {' and '.join(parts) or 'nothing (both thresholds off)'} since the analytics were last "
                f"{f'built ({who})' if last else 'built (never built yet)'}; now {now.jobs:,} jobs, {now.enrichments:,} enrichments"
            )
        return dg.SensorResult(
            run_requests=[dg.RunRequest(
                run_key=now.run_key(),
                tags={"jobpipeline/trigger": "store_growth", "jobpipeline/growth_rows": str(grown.rows),
                      "jobpipeline/growth_bytes": str(grown.bytes)},
            )],
            cursor=_cursor(now, built_id),
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
