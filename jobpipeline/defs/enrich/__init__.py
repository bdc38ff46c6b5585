"""LLM enrichment of jobs: the ``enriched_jobs`` asset and the ``llm`` resource."""
