"""jobpipeline: job-board scrapes → deduplicated jobs → LLM enrichment → DuckDB analytics, on Dagster."""

__version__ = "0.1.0"
