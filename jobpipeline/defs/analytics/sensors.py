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
over jobs without their fields. Thresholds: ``build_analytics_size_sensor``'s arguments, else
``JOBPIPELINE_ANALYTICS_MIN_ROWS`` / ``_MIN_BYTES`` read through ``jobpipeline.settings`` at each tick;
the interval is part of the sensor's definition (``definitions.py`` passes ``JOBPIPELINE_ANALYTICS_SENSOR_INTERVAL_S``
when the code location loads).
"""

import json
from collections.abc import Sequence
from dataclasses import asdict

import dagster as dg

from jobpipeline import settings
from jobpipeline.defs.analytics.jobs import analytics_job
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.analytics.facts import StoreFacts, growth, read_store_facts

DEFAULT_INTERVAL_S = settings.Settings.model_fields["analytics_sensor_interval_s"].default
BUILT_ASSET = "job_snapshot"  # its materialization carries the store facts the build read
SYNC_ASSETS = ("jobs", "hn_jobs")
ENRICH_ASSET = "enriched_jobs"


def _latest_record(instance: dg.DagsterInstance, key: str) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(dg.AssetKey(key), limit=1).records
    return records[0] if records else None


def _built_facts(record: dg.EventLogRecord) -> StoreFacts | None:
    """The store facts a build recorded in its ``job_snapshot`` metadata (None if it recorded none)."""
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}
    names = {"jobs": "store_jobs", "closed_jobs": "store_closed_jobs", "enrichments": "store_enrichments", "store_bytes": "store_bytes"}
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
    return (
        f"waiting for {enrich_asset}: {latest_sync.asset_key.to_user_string()} was synced by run "
        f"{latest_sync.run_id[:8]} and {enrich_asset} has not been materialized since"
    )


def build_analytics_size_sensor(
    min_rows: int | None = None,
    min_bytes: int | None = None,
    interval_s: int = DEFAULT_INTERVAL_S,
    name: str = "analytics_size_sensor",
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
    wait_for_enrichment: bool = True,
) -> dg.SensorDefinition:
    """A size sensor with these thresholds (0 turns one off; None: the settings at each tick) and tick interval."""

    @dg.sensor(
        name=name,
        job=analytics_job,
        minimum_interval_seconds=interval_s,
        default_status=default_status,
        description=f"Rebuilds the analytics once the store grew by {_threshold(min_rows, 'MIN_ROWS')} rows or "
        f"{_threshold(min_bytes, 'MIN_BYTES')} bytes since the last build (whoever built it), after enriched_jobs has "
        "caught up with the latest sync.",
    )
    def analytics_size_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult | dg.SkipReason:
        env = settings.current() if min_rows is None or min_bytes is None else None
        rows_needed = min_rows if min_rows is not None else env.analytics_min_rows
        bytes_needed = min_bytes if min_bytes is not None else env.analytics_min_bytes
        if wait_for_enrichment and (waiting := enrichment_behind(context.instance, SYNC_ASSETS, ENRICH_ASSET)):
            return dg.SkipReason(waiting)
        now = read_store_facts(store.engine())
        last, built_id, who = last_build(context.instance, context.cursor)
        grown = growth(last, now)
        if not grown.crosses(rows_needed, bytes_needed):
            parts = []
            if rows_needed > 0:
                parts.append(f"{grown.rows:,} of {rows_needed:,} rows ({rows_needed - grown.rows:,} to go)")
            if bytes_needed > 0:
                parts.append(f"{grown.bytes:,} of {bytes_needed:,} bytes ({bytes_needed - grown.bytes:,} to go)")
            return dg.SkipReason(
                f"store grew by {' and '.join(parts) or 'nothing (both thresholds off)'} since the analytics were last "
                f"{f'built ({who})' if last else 'built (never built yet)'}; now {now.jobs:,} jobs, {now.enrichments:,} enrichments"
            )
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=now.run_key(),
                    tags={
                        "jobpipeline/trigger": "store_growth",
                        "jobpipeline/growth_rows": str(grown.rows),
                        "jobpipeline/growth_bytes": str(grown.bytes),
                    },
                )
            ],
            cursor=_cursor(now, built_id),
        )

    return analytics_size_sensor


def _threshold(value: int | None, name: str) -> str:
    if value is not None:
        return f"{value:,}"
    default = settings.Settings.model_fields[f"analytics_{name.lower()}"].default
    return f"JOBPIPELINE_ANALYTICS_{name} (default {default:,})"


# Thresholds from the settings at each tick; the interval, a definition's, is the default here and
# JOBPIPELINE_ANALYTICS_SENSOR_INTERVAL_S in the project's definitions (read when they load).
analytics_size_sensor = build_analytics_size_sensor()


@dg.definitions
def size_sensor() -> dg.Definitions:
    """The size sensor, its interval read from the settings when the code location loads."""
    from jobpipeline import settings

    return dg.Definitions(sensors=[build_analytics_size_sensor(interval_s=settings.current().analytics_sensor_interval_s)])
