"""The OpenAI-compatible backend: async httpx against any ``/v1/chat/completions`` server.

JSON-schema response format, bounded concurrency (a semaphore), retries with exponential backoff
on connection errors, 429 and 5xx. What is still failing after the retries, and 401/403 at once, is
a *transient* failure (``Generation.transient``): the service's fault, not the posting's, so the job
stays pending instead of being cached as failed. Once one posting gave up that way, the postings
not yet sent in this call give up at once: a server that is down is not asked a thousand times.
Works against ``vllm serve`` (start it with ``--structured-outputs-config '{"backend":"xgrammar","disable_any_whitespace":true}'`` for compact
answers), or any hosted OpenAI-compatible API.

Every error text it creates (and the answer text, which a validation error may quote) is redacted of
the configured API key and of Authorization headers (``lib/redact.py``) before anyone records it.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import httpx

from jobpipeline.lib.extract.backends import Generation, PostingText
from jobpipeline.lib.extract.prompt import build_messages
from jobpipeline.lib.extract.schema import llm_json_schema
from jobpipeline.lib.redact import redact

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_AUTH_STATUS = {401, 403}  # a wrong or expired key: the operator's to fix, not the posting's


@dataclass
class OpenAIConfig:
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key: str = ""
    model: str = "Qwen/Qwen3-4B-Instruct-2507-FP8"
    max_tokens: int = 512
    concurrency: int = 16
    retries: int = 3
    timeout_s: float = 120.0
    # Tokenizer for truncation (a local folder or hub id); None: truncate at 4 characters per token.
    tokenizer: str | None = None
    max_description_tokens: int = 6000


class OpenAIBackend:
    name = "openai"

    def __init__(self, config: OpenAIConfig | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config or OpenAIConfig()
        self.model = self.config.model
        self.calls = 0
        self._transport = transport
        self._tokenizer: Any = None
        self._unavailable: str | None = None  # set when a posting gave up on a transient failure
        if self.config.tokenizer:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.config.tokenizer)

    def _messages(self, posting: PostingText) -> list[dict[str, Any]]:
        description = posting.description
        if self._tokenizer is None:
            description = description[: self.config.max_description_tokens * 4]
        return build_messages(posting.title, posting.location, description, self._tokenizer, self.config.max_description_tokens)

    def _payload(self, posting: PostingText, retry: bool) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "messages": self._messages(posting),
            "temperature": 0.7 if retry else 0.0,
            "max_tokens": self.config.max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "job_fields", "schema": llm_json_schema(), "strict": True},
            },
        }

    async def _one(self, client: httpx.AsyncClient, gate: asyncio.Semaphore, posting: PostingText, retry: bool) -> Generation:
        generation = await self._attempts(client, gate, posting, retry)
        secrets = [self.config.api_key]
        generation.error = redact(generation.error, secrets)
        generation.text = redact(generation.text, secrets)
        return generation

    def _excerpt(self, response: httpx.Response, chars: int) -> str:
        """The start of an error body, redacted before it is cut (a cut key would escape redaction)."""
        return (redact(response.text, [self.config.api_key]) or "")[:chars]

    async def _attempts(self, client: httpx.AsyncClient, gate: asyncio.Semaphore, posting: PostingText, retry: bool) -> Generation:
        payload = self._payload(posting, retry)
        last_error = "no attempt"
        for attempt in range(self.config.retries + 1):
            if attempt:
                await asyncio.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random()))
            async with gate:
                if self._unavailable is not None:
                    return Generation(None, error=f"not sent, server unavailable: {self._unavailable}", transient=True)
                try:
                    response = await client.post("/chat/completions", json=payload)
                except httpx.TransportError as exc:  # connect error, timeout, dropped connection
                    last_error = f"{type(exc).__name__}: {exc}"
                    continue
            if response.status_code in _AUTH_STATUS:
                self._unavailable = f"HTTP {response.status_code}: {self._excerpt(response, 200)}"
                return Generation(None, error=self._unavailable, transient=True)
            if response.status_code in _RETRY_STATUS or response.status_code >= 500:
                last_error = f"HTTP {response.status_code}: {self._excerpt(response, 200)}"
                continue
            if response.status_code != 200:
                return Generation(None, error=f"HTTP {response.status_code}: {self._excerpt(response, 300)}")
            try:
                body = response.json()
            except ValueError:
                return Generation(None, error=f"HTTP 200 with a body that is not JSON: {self._excerpt(response, 200)}")
            usage = body.get("usage") or {}
            choice = (body.get("choices") or [{}])[0]
            finish = choice.get("finish_reason")
            return Generation(
                text=(choice.get("message") or {}).get("content"),
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                error=None if finish in (None, "stop") else f"generation ended by {finish}",
            )
        self._unavailable = self._unavailable or last_error
        return Generation(None, error=f"gave up after {self.config.retries + 1} attempts: {last_error}", transient=True)

    async def agenerate(self, postings: list[PostingText], retry: bool = False) -> list[Generation]:
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        gate = asyncio.Semaphore(self.config.concurrency)
        self._unavailable = None  # each call asks the server afresh
        limits = httpx.Limits(max_connections=self.config.concurrency, max_keepalive_connections=self.config.concurrency)
        async with httpx.AsyncClient(
            base_url=self.config.base_url.rstrip("/"),
            headers=headers,
            timeout=self.config.timeout_s,
            limits=limits,
            transport=self._transport,
        ) as client:
            return await asyncio.gather(*(self._one(client, gate, p, retry) for p in postings))

    def generate(self, postings: list[PostingText], retry: bool = False) -> list[Generation]:
        if not postings:
            return []
        self.calls += len(postings)
        return asyncio.run(self.agenerate(postings, retry))

    def close(self) -> None:
        pass
