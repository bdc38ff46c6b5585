"""One analytics run in its own process, for the overlapping-writers test (not a test module).

    STORE_URL=… ANALYTICS_DB=… START_AT=<epoch s> HOLD_S=2 DAGSTER_HOME=… python -m jobpipeline_tests.analytics.overlap_run

Waits until START_AT, runs ``analytics_job`` through the instance of DAGSTER_HOME, and holds the
DuckDB write connection HOLD_S longer than the build needs, so two such runs surely overlap.
Prints one JSON line: success, when the job was launched, when its step started (after any wait for
the pool), and when the write lock was held.
"""

from __future__ import annotations

import json
import os
import time

import dagster as dg

from jobpipeline.defs.analytics.assets import analytics
from jobpipeline.defs.analytics.jobs import analytics_job
from jobpipeline.defs.analytics.resources import AnalyticsDuckDBResource
from jobpipeline.defs.resources import StoreResource
from jobpipeline.lib.analytics import build


def main() -> None:
    held: dict[str, float] = {}
    original = build.build

    def slow_build(con, engine, names=None, timings=None, **options):
        held["opened"] = time.time()  # the connection is open (write lock taken) by now
        rows = original(con, engine, names, timings, **options)
        time.sleep(float(os.environ.get("HOLD_S", "2")))
        held["closing"] = time.time()
        return rows

    build.build = slow_build
    defs = dg.Definitions(
        assets=[analytics],
        jobs=[analytics_job],
        resources={
            "store": StoreResource(database_url=os.environ["STORE_URL"]),
            "duckdb": AnalyticsDuckDBResource(database=os.environ["ANALYTICS_DB"]),
        },
    )
    job = defs.resolve_job_def("analytics_job")
    with dg.DagsterInstance.get() as instance:
        time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
        launched = time.time()
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        errors = [e.message for e in result.all_events if e.is_failure]
        (step_start,) = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_START)
    print(json.dumps({"success": result.success, "launched": launched, "step_started": step_start.timestamp, **held, "errors": errors}))


if __name__ == "__main__":
    main()
