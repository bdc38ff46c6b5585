#!/bin/sh
# Per-pool limits live in the instance's storage, not in dagster.yaml (1.13 has only
# `pools: default_limit`), so they are set once per instance. Idempotent; needs DAGSTER_HOME.
#   DAGSTER_HOME=... sh docker/pools.sh
set -eu
# One slot per source: the run queue already allows one run per source (tag limit on
# dagster/partition/source), so this only caps scrapes across sources.
dagster instance concurrency set scrape "${JOBPIPELINE_SCRAPE_POOL_LIMIT:-5}"
# DuckDB takes one writing process per file (also the default_limit; explicit against drift).
dagster instance concurrency set duckdb 1
# One enrichment at a time (the automation sensor's and a launched run would send the same jobs
# to the model twice).
dagster instance concurrency set enrich 1
