"""What every extraction backend takes and gives back, and the rules backend (no model).

A backend turns postings into raw JSON answers; ``enrich.py`` validates them (``validate_generation``), retries the invalid
ones once and caches the rest, the same way for every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from jobpipeline.lib.extract.rules import extract_rules
from jobpipeline.lib.extract.schema import JobFields, parse_fields


@dataclass(slots=True, frozen=True)
class PostingText:
    """The text of one posting that a backend reads."""

    key: str  # content hash
    title: str
    location: str
    description: str


@dataclass(slots=True)
class Generation:
    """One raw answer: JSON text (to be validated), or an error when the request itself failed.

    ``transient`` marks a failure of the service, not of the posting (server down, timeout, 429,
    5xx, 401/403): the job is left pending and retried by the next run, never cached as failed."""

    text: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    transient: bool = False


class Backend(Protocol):
    name: str  # rules | vllm | openai | hybrid
    model: str  # the model id that keys the cache ("rules" for the rules extractor)

    def generate(self, postings: list[PostingText], retry: bool = False) -> list[Generation]:
        """Answers in the order of ``postings``; ``retry`` asks for a second, different attempt."""
        ...

    def close(self) -> None: ...


@dataclass
class RulesBackend:
    """The deterministic extractor behind the backend interface."""

    name: str = "rules"
    model: str = "rules"
    calls: int = field(default=0)

    def generate(self, postings: list[PostingText], retry: bool = False) -> list[Generation]:
        self.calls += len(postings)
        return [Generation(extract_rules(p.title, p.location, p.description).model_dump_json()) for p in postings]

    def close(self) -> None:
        pass


def validate_generation(gen: Generation) -> tuple[JobFields | None, str | None]:
    """The answer as fields, or why it is not valid (no answer, not JSON, outside the schema)."""
    if gen.text is None:
        return None, gen.error or "no answer"
    try:
        return parse_fields(gen.text), None
    except ValueError as exc:
        return None, f"{exc}" + (f" ({gen.error})" if gen.error else "")
