"""Tests of LLM enrichment: the rules extractor, the cache, and (tier vllm) real vLLM on the CPU."""
