"""The analytics tables in DuckDB, built from the store (``jobs`` and ``enriched_jobs``).

One multi-asset: every table is its own asset in the UI (with lineage, row counts, a preview, and
checks), but a run builds them in one step, so it reads the store once, takes one DuckDB write lock,
and claims the ``duckdb`` pool once. A subset builds only the selected tables, plus any upstream
table the database does not have yet.
"""

import base64
import time

import dagster as dg
from pydantic import Field

from jobpipeline.defs.analytics.checks import ANALYTICS_CHECK_SPECS, evaluate_analytics_checks
from jobpipeline.defs.analytics.resources import DUCKDB_POOL, AnalyticsDuckDBResource
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.analytics import build, report
from jobpipeline.lib.analytics.facts import read_store_facts

GROUP = "analytics"
# Store assets each store-reading table depends on, by key: `enriched_jobs` lives in the enrich domain.
STORE_DEPS = {"jobs": ("jobs", "hn_jobs", "enriched_jobs"), "board_scrape": ("jobs", "hn_jobs")}
CHART_TABLE = "skill_demand_weekly"


def analytics_specs() -> list[dg.AssetSpec]:
    """One spec per analytics table (a function: Dagster's defs loader would take specs at module
    scope for assets of their own)."""
    return [
        dg.AssetSpec(
            key=table.name,
            deps=[*table.deps, *(dep for need in table.store for dep in STORE_DEPS[need])],
            description=table.description,
            group_name=GROUP,
            kinds={"duckdb"},
            skippable=True,
        )
        for table in build.TABLES
    ]


def table_metadata(con, name: str, rows: int, seconds: float) -> dict[str, object]:
    metadata: dict[str, object] = {
        "dagster/row_count": rows,
        "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(c, t) for c, t in report.columns(con, name)]),
        "preview": dg.MetadataValue.md(report.preview_markdown(con, name)),
        "build_seconds": round(seconds, 3),
    }
    if name == CHART_TABLE:
        try:
            png = report.skill_demand_chart_png(con)
        except ImportError as exc:  # the chart is a nicety: never fail a rebuild over it
            png = None
            metadata["skill_demand_chart"] = dg.MetadataValue.md(f"_no chart: {exc}_")
        if png is not None:
            encoded = base64.b64encode(png).decode()
            metadata["skill_demand_chart"] = dg.MetadataValue.md(f"![skill demand over time](data:image/png;base64,{encoded})")
    return metadata


class AnalyticsConfig(dg.Config):
    full_rebuild: bool = Field(
        default=False,
        description="Rebuild job_snapshot from every job in the store, instead of updating it from the store's change feed.",
    )


@dg.multi_asset(
    name="analytics",
    specs=analytics_specs(),
    check_specs=ANALYTICS_CHECK_SPECS,
    can_subset=True,
    pool=DUCKDB_POOL,
)
def analytics(context: dg.AssetExecutionContext, config: AnalyticsConfig, store: StoreResource, duckdb: AnalyticsDuckDBResource):
    """Build the selected analytics tables from the store (``job_snapshot`` updated from the store's
    change feed where it can be), then run their checks."""
    selected = {key.to_user_string() for key in context.selected_asset_keys}
    engine = store.engine()
    facts = read_store_facts(engine)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    notes: dict[str, str] = {}
    with duckdb.get_connection() as con:
        rows = build.build(con, engine, selected, timings, incremental=not config.full_rebuild, notes=notes)
        context.log.info(
            f"built {len(rows)} tables in {time.perf_counter() - started:.2f} s into {duckdb.path()}: "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items())
            + "".join(f"; {name} {how}" for name, how in notes.items())
        )
        for name in rows:
            if name not in selected:
                continue  # an upstream table the database lacked: built, but not part of this run
            metadata = table_metadata(con, name, rows[name], timings[name])
            if name == "job_snapshot":
                metadata.update(
                    {
                        "store_jobs": facts.jobs,
                        "store_closed_jobs": facts.closed_jobs,
                        "store_enrichments": facts.enrichments,
                        "store_bytes": facts.store_bytes,
                        "read_store_seconds": round(timings.get("read_store", 0.0), 3),
                        "read_changes_seconds": round(timings.get("read_changes", 0.0), 3),
                        "build_mode": notes.get("job_snapshot", ""),
                    }
                )
            yield dg.MaterializeResult(asset_key=name, metadata=metadata)
        yield from evaluate_analytics_checks(con, set(context.selected_asset_check_keys))
