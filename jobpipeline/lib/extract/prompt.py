"""What the LLM reads: one shared system prefix, then the posting with its boilerplate cut.

The system message is byte-identical for every job, so with prefix caching its KV blocks are
computed once per engine and reused by every request. Equal-opportunity statements, benefits
lists and company blurbs are dropped before tokenizing (they carry no field and cost prefill);
lines that state pay, place or sponsorship are kept wherever they stand. Descriptions longer than
the token budget are cut with the model's own tokenizer, not by characters.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

# Bump when the instructions, the schema or the cutting change: cached results of other versions
# are then re-enriched.
PROMPT_VERSION = "v2"  # v2: pay-context rules, plausibility, canonical skills (issue 14)

SYSTEM_PROMPT = """You extract structured fields from one job posting and answer with one JSON object.
Fields:
- seniority: intern, junior, mid, senior, staff, principal, lead, manager, director or executive (from the title first).
- employment_type: full_time, part_time, contract, internship or temporary.
- remote: remote, hybrid or onsite; remote_regions: where remote work is allowed (e.g. "US", "Europe"), at most 5.
- salary_min, salary_max: numbers exactly as the posting states them (150k = 150000); null when no pay is stated.
- salary_currency: ISO 4217 code such as USD, EUR, GBP; salary_period: hour, day, week, month or year.
- years_experience_min: the smallest number of years of experience asked for, or null.
- visa_sponsorship: true if offered, false if explicitly not offered, otherwise null.
- skills: technologies and tools named in the posting, canonical casing (Python, PostgreSQL, AWS), at most 25.
- summary: one plain sentence about the role, under 300 characters.
Use null when the posting does not say. Never invent pay."""

_EEO = re.compile(
    r"""equal\s+(?:employment\s+)?opportunit | without\s+regard\s+to | regardless\s+of\s+(?:race|age|gender)
      | reasonable\s+accommodation | \bE-?Verify\b | protected\s+veteran | sexual\s+orientation | gender\s+identity
      | national\s+origin | pay\s+transparency | (?:applicant|candidate)\s+privacy | privacy\s+(?:notice|policy)
      | recruit(?:ment|ing)\s+(?:fraud|scam) | unsolicited\s+(?:resumes|applications)
      | third[\s-]party\s+(?:recruiters|agencies) | fair\s+chance | arrest\s+(?:and|or)\s+conviction
      | background\s+check | we\s+celebrate\s+diversity | do\s+not\s+discriminate | affirmative\s+action
      | \bEEO\b | personal\s+data | GDPR""",
    re.I | re.VERBOSE,
)
_BOILERPLATE_HEADING = re.compile(
    r"""^(?:
        about\s+(?:us|the\s+company|the\s+team|[A-Z0-9][\w.&'’ -]{0,30}) | who\s+we\s+are
      | our\s+(?:mission|story|values|culture|company|investors)
      | (?:what\s+we\s+offer | benefits? | perks | perks\s*(?:&|and)\s*benefits | benefits\s*(?:&|and)\s*perks
         | why\s+(?:join|work) | life\s+at | our\s+benefits | total\s+rewards | equal\s+opportunity | eeo | diversity
         | accommodations? | privacy | how\s+we\s+(?:work|hire) | interview\s+process | the\s+hiring\s+process
         | what\s+happens\s+next | (?:additional|important)\s+information)
    )\b""",
    re.I | re.VERBOSE,
)
_ROLE_HEADING = re.compile(
    r"""^(?:
        about\s+(?:the|this)\s+(?:role|position|job|opportunity) | the\s+role | the\s+opportunity
      | role\s+(?:overview|summary) | what\s+you(?:'|’)?ll\s+(?:do|work\s+on|be\s+doing) | what\s+you\s+will\s+do
      | responsibilities | your\s+(?:role|responsibilities|impact) | (?:requirements|qualifications)
      | what\s+we(?:'|’)?re\s+looking\s+for | who\s+you\s+are | you\s+(?:have|might|will) | job\s+description
      | in\s+this\s+role | the\s+job | position\s+summary | overview\s+of\s+the\s+role | compensation | salary | pay
      | location
    )\b""",
    re.I | re.VERBOSE,
)
# Lines kept even inside a cut section: they state pay, place, sponsorship or experience.
_KEEP = re.compile(
    r"[$€£₹¥]|\b(?:USD|EUR|GBP|CHF|salary|compensation|pay\s+range|remote|hybrid|on-?site|in[\s-]office|visa|sponsor|"
    r"years\s+of|relocat)",
    re.I,
)
_URL = re.compile(r"https?://\S+")
_SPACES = re.compile(r"[ \t\u00a0]+")


def _is_heading(line: str) -> bool:
    return 0 < len(line) <= 60 and not line.endswith((".", ",", ";")) and not line.startswith(("-", "•", "*"))


def cut_boilerplate(description: str) -> str:
    """The description without EEO statements, benefits lists and company blurbs (pay lines survive)."""
    if not description:
        return ""
    lines = [_SPACES.sub(" ", _URL.sub("", raw)).strip() for raw in description.splitlines()]
    has_role_heading = any(_is_heading(line) and _ROLE_HEADING.match(line.rstrip(":")) for line in lines)
    # Text before the first role heading is the company blurb (kept when there is no such heading).
    skipping = has_role_heading
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        bare = line.rstrip(":").strip()
        if _is_heading(line):
            if _ROLE_HEADING.match(bare):
                skipping = False
            elif _BOILERPLATE_HEADING.match(bare):
                skipping = True
        if _EEO.search(line):
            continue
        if skipping and not _KEEP.search(line):
            continue
        out.append(line)
    return "\n".join(out)


class Tokenizer(Protocol):
    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]: ...

    def decode(self, ids: list[int], skip_special_tokens: bool = ...) -> str: ...


def truncate_tokens(text: str, tokenizer: Tokenizer, max_tokens: int) -> str:
    """``text`` cut to at most ``max_tokens`` tokens of ``tokenizer`` (unchanged when shorter)."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    if len(ids) <= max_tokens:
        return text
    return tokenizer.decode(ids[:max_tokens], skip_special_tokens=True)


def user_message(title: str, location: str, description: str) -> str:
    return f"Title: {title or ''}\nLocation: {location or ''}\nPosting:\n{description}"


def build_messages(
    title: str, location: str, description: str, tokenizer: Tokenizer | None = None, description_tokens: int = 1024
) -> list[dict[str, Any]]:
    """Chat messages for one posting: the shared system prefix, then the cut and truncated posting."""
    body = cut_boilerplate(description)
    if tokenizer is not None:
        body = truncate_tokens(body, tokenizer, description_tokens)
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_message(title, location, body)},
    ]
