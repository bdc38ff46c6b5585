"""The enrichment fields: one pydantic model whose JSON schema both validates and drives the LLM.

Every number and string is bounded (min/max, maxLength, maxItems, pattern) so that constrained
decoding always reaches the closing brace, even with a tiny model that would otherwise ramble.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

Seniority = Literal["intern", "junior", "mid", "senior", "staff", "principal", "lead", "manager", "director", "executive"]
EmploymentType = Literal["full_time", "part_time", "contract", "internship", "temporary"]
RemoteMode = Literal["remote", "hybrid", "onsite"]
SalaryPeriod = Literal["hour", "day", "week", "month", "year"]

MAX_SKILLS = 25
MAX_REGIONS = 5
MAX_SUMMARY_CHARS = 300
MAX_SALARY = 100_000_000  # yearly pay in INR/JPY/KRW reaches tens of millions

Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Region = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class JobFields(BaseModel):
    """Structured fields of one posting. Field order is the order the LLM writes them in."""

    model_config = ConfigDict(extra="forbid")

    seniority: Seniority | None = None
    employment_type: EmploymentType | None = None
    remote: RemoteMode | None = None
    remote_regions: list[Region] = Field(default_factory=list, max_length=MAX_REGIONS)
    salary_min: float | None = Field(default=None, ge=0, le=MAX_SALARY)
    salary_max: float | None = Field(default=None, ge=0, le=MAX_SALARY)
    # ISO 4217 code; a pattern alone (no maxLength) because xgrammar cannot combine the two.
    salary_currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    salary_period: SalaryPeriod | None = None
    years_experience_min: int | None = Field(default=None, ge=0, le=40)
    visa_sponsorship: bool | None = None
    skills: list[Skill] = Field(default_factory=list, max_length=MAX_SKILLS)
    summary: str = Field(default="", max_length=MAX_SUMMARY_CHARS)


FIELD_NAMES: tuple[str, ...] = tuple(JobFields.model_fields)


@lru_cache(maxsize=1)
def llm_json_schema() -> dict[str, Any]:
    """The JSON schema handed to constrained decoding: every property required, so output is complete."""
    schema = JobFields.model_json_schema()
    schema["required"] = list(FIELD_NAMES)
    schema.pop("title", None)
    for prop in schema["properties"].values():
        prop.pop("default", None)
        prop.pop("title", None)
    return schema


def parse_fields(text: str) -> JobFields:
    """Validates one LLM answer; raises ``ValueError`` with the reason when it is not a valid object."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at char {exc.pos}): {text[:120]!r}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    try:
        fields = JobFields.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"invalid field {where}: {first['msg']} ({exc.error_count()} errors)") from exc
    if fields.salary_min is not None and fields.salary_max is not None and fields.salary_min > fields.salary_max:
        raise ValueError(f"salary_min {fields.salary_min} > salary_max {fields.salary_max}")
    from jobpipeline.lib.extract.skills import normalize_skills  # skills imports nothing of the schema

    # One canonical name per skill, whoever wrote it ("k8s", "K8s" → Kubernetes); small models repeat themselves.
    skills = normalize_skills(fields.skills)
    return fields if skills == fields.skills else fields.model_copy(update={"skills": skills})
