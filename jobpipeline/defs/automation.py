"""Declarative automation: the sensor that evaluates the assets' automation conditions."""

from __future__ import annotations

import dagster as dg

# Declarative automation runs only while the daemon's automation sensor does. Declared here,
# RUNNING by default, so `enriched_jobs` follows every sync in any deployment without a click.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "default_automation_condition_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the assets' automation conditions: requests enriched_jobs after every sync "
    "(jobs, hn_jobs) once no sync is running.",
)


@dg.definitions
def automation() -> dg.Definitions:
    return dg.Definitions(sensors=[automation_sensor])
