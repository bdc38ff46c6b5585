"""The deterministic extractor: regexes and dictionaries, no model (the default without vLLM).

Title and location are read first (they are short and say the most); the description's first line
is treated as a header too, because HN comments put "Company | Role | REMOTE | $150k" there.
A long description is read once by the keyword scan of ``keywords.py`` (Aho-Corasick), which finds
the anchors of every field and the skills; regexes then run only on short windows around anchors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from jobpipeline.lib.extract.keywords import POSITIONS, Hits, Lowered, lower_and_normalize_bytes, scan
from jobpipeline.lib.extract.salary import find_salary
from jobpipeline.lib.extract.schema import MAX_REGIONS, MAX_SKILLS, MAX_SUMMARY_CHARS, JobFields


def _on_lower(pattern: str) -> re.Pattern:
    """``pattern`` for text that is already lower-case: the matches of re.I without its cost (re.I
    turns off the regex engine's literal prefilters, and these patterns run on every posting)."""
    if re.search(r"\\[SWDBAZ]", pattern):
        raise ValueError(f"upper-case escape in {pattern[:40]!r}: lower-casing would change it")
    return re.compile(pattern.lower().replace("(?p<", "(?P<").replace("(?p=", "(?P="))


_NOT_WORK_MODE_AFTER = re.compile(
    r"""\s*(?:machines? | desktops? | sensing | control | devices? | monitoring | servers? | access | patient
         | teleoperation | procedures? | execution | sites? | areas? | communities | locations?\ of | code
         | work\ is\ not | is\ not)""",
    re.VERBOSE,
)
_SPACES = re.compile(r"\s*")
_OFFICE_NEAR = re.compile(r"office|on-?site|in[ -]person|\bhq\b|in the studio")

# --- seniority from the title
# Each rule's alternatives share one leading word boundary, written once: at a position inside a
# word the engine then fails on one test instead of one per alternative, and after it each
# alternative starts with a literal the engine checks before trying it (the titles are short, but
# every posting has one, and these ten searches were a tenth of the rules extractor's time).
_SENIORITY_RULES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (level, _on_lower(rx))
    for level, rx in (
        ("intern", r"\b(?:intern(?:ship)?s?\b|praktik|stagiaire|co-?op\b|werkstudent|becari)"),
        (
            "executive",
            r"\b(?:chief\b|c[teofimrp]o\b|vp\b|president\b|head\s+of\b.*\b(?:global|worldwide)\b|SVP\b|EVP\b|general\s+manager\b)"
            r"|vice[\s-]president",
        ),
        ("director", r"\b(?:director\b|head\s+of\b|direct(?:eur|ora?)\b|leiter\b)"),
        ("principal", r"\b(?:principal|distinguished|fellow)\b"),
        ("staff", r"(?<!technical )\bstaff\b(?!\s+(?:accountant|nurse|writer|assistant))"),
        (
            "manager",
            r"\b(?:(?:engineering|eng|software|team|people|program\s+management|operations|support|delivery|"
            r"development|dev|it|security|data|qa|quality|site|sales|finance|office|hr|recruiting|"
            r"talent)\s+manager\b|manager,|manager\s+(?:of|-|–)|"
            r"senior\s+manager\b|manager\b(?!.*\b(?:product|project|program|account|community|partner|"
            r"channel|content|brand|campaign|category|case|territory|relationship|implementation)))",
        ),
        ("lead", r"\b(?:lead\b|tech\s+lead\b|team\s+lead\b|leader\b|lead[a-z]*\b(?=.*engineer))"),
        ("senior", r"\b(?:senior\b|sr\.?\b|snr\b|s[eé]nior\b|III\b|level\s*3\b|L5\b|experienced\b|founding\b)"),
        (
            "junior",
            r"\b(?:junior\b|jr\.?\b|entry[\s-]level\b|graduate\b|new\s+grad\b|I\b(?!\s*(?:I|V))|apprentice|associate\s+(?:software|engineer|developer|data)|trainee\b)",
        ),
        ("mid", r"\b(?:mid(?:[\s-]level)?\b|II\b|intermediate\b)"),
    )
)

# Any level at all: half of real titles name none ("Software Engineer" → mid), and one search of the
# union rules that out where the ten searches in priority order each had to fail.
_ANY_LEVEL = re.compile("|".join(f"(?:{rx.pattern})" for _, rx in _SENIORITY_RULES))

# Open applications have no level: "General Application", "Future Role at …", "Create Your Own"
_NOT_A_ROLE = _on_lower(
    r"general\s+(?:application|inquiry)|open\s+application|future\s+role|create\s+your\s+own|"
    r"didn'?t\s+find|talent\s+(?:pool|community)|spontaneous|initiativbewerbung"
)

# "Product Manager", "Account Manager": individual contributors
_IC_MANAGER = re.compile(
    r"""\b(?:product | project | program | account | community | partner | channel | content | brand | campaign
         | category | case | territory | relationship | implementation | customer\s+success | success | marketing
         | social\s+media | digital\s+marketing)\s+manager\b""",
    re.VERBOSE,
)
_MANAGER_OF_MANAGERS = re.compile(r"\b(?:group|senior\s+manager|head|director|lead)\b")
_NOT_EXECUTIVE = re.compile(r"\baccount\s+executive\b|\bexecutive\s+(?:assistant|chef)\b")
_ASSISTANT_TO = re.compile(r"\bto\s+(?:the\s+)?\S.*$")
_EXECUTIVE_WORD = re.compile(r"\bexecutive\b")

# --- employment type: keyword table in keywords.EMPLOYMENT; most specific kind wins
_EMPLOYMENT_PRIORITY = ("internship", "part_time", "contract", "temporary", "full_time")
_API_EMPLOYMENT = {  # keys without spaces, hyphens and underscores
    "fulltime": "full_time",
    "parttime": "part_time",
    "contract": "contract",
    "contractor": "contract",
    "intern": "internship",
    "internship": "internship",
    "temporary": "temporary",
    "temp": "temporary",
}

# --- years of experience
_NUM_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
}
_YEARS = _on_lower(
    r"(?:(?:at\s+least|minimum(?:\s+of)?|min\.?|over|more\s+than)\s+)?"
    r"(?P<n>\d{1,2}|" + "|".join(_NUM_WORDS) + r")\s*(?:\(\d{1,2}\)\s*)?(?:\+|\s*(?:-|–|to)\s*\d{1,2})?\s*\+?\s*"
    r"(?:years?|yrs?|y/?o/?e|jahre?n?|ans|años|anni|lat)\b(?P<tail>[^.\n]{0,60})",
)
_NUMBER_BEFORE = re.compile(r"\d|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty")
_YEARS_CONTEXT = _on_lower(
    r"experience|exp\b|building|working|in\s+(?:a|the|software|industry)|professional|y/?o/?e|erfahrung|expérience|experiencia|esperienza|doświadcz|background|hands-on|track record|of\s+\w+\s+(?:engineering|development|design)"
)
_YEARS_NOT = _on_lower(r"\b(?:old|ago|history|since|founded|company|we've|we have been|warranty|vesting|vest|cliff|contract|term|runway)\b")

# --- visa
_VISA_NO = _on_lower(
    r"(?:not|unable\s+to|cannot|can't|can\s+not|won't|will\s+not|do\s+not|does\s+not|don't|no)\s+(?:currently\s+|be\s+able\s+to\s+|able\s+to\s+|provide\s+|offer\s+|support\s+)*(?:visa\s+)?sponsor"
    r"|without\s+(?:the\s+need\s+for\s+)?(?:current\s+or\s+future\s+)?(?:visa\s+|employer\s+)?sponsorship|no\s+visa\s+sponsorship"
    r"|(?:u\.?s\.?|us)\s+citizen(?:ship)?\s+(?:is\s+)?required|must\s+be\s+(?:a\s+)?(?:u\.?s\.?|us)\s+citizen|security\s+clearance\s+required"
    r"|sponsorship\s+(?:is\s+)?not\s+(?:available|offered|provided|possible)|visa\s+sponsorship\s*:\s*no",
)
_VISA_YES = _on_lower(
    r"visa\s+sponsorship(?!\s+(?:is\s+)?not)(?:\s+(?:is\s+)?(?:available|provided|offered|possible))?|we\s+(?:can\s+|will\s+|do\s+)?sponsor|"
    r"will\s+sponsor|(?:offer|provide)s?\s+(?:visa\s+)?sponsorship|sponsorship\s+(?:is\s+)?available|h-?1b\s+(?:sponsorship|transfers?)|"
    r"relocation\s+(?:and|&)\s+visa|visa\s+(?:support|assistance)|blue\s+card",
)

# --- remote regions: "Remote (US)", "REMOTE - EMEA", "Remote in Europe", "Remote (United States | Canada)"
# Both run on the lower-cased text: with re.I the engine loses its literal prefilter for "remote".
_REGION_AFTER_REMOTE = re.compile(
    r"remote\s*(?:\(([^)]{2,80})\)|[-–—:,]\s*([a-z][a-z .&/]{1,40})|\s+(?:in|within|across)\s+(?:the\s+)?([a-z][a-z .&/]{1,40}))"
)
_REGION_NAMES = {
    "us": "US",
    "usa": "US",
    "u.s.": "US",
    "u.s": "US",
    "united states": "US",
    "us only": "US",
    "america": "US",
    "canada": "Canada",
    "can": "Canada",
    "north america": "North America",
    "na": "North America",
    "europe": "Europe",
    "eu": "Europe",
    "european union": "Europe",
    "emea": "EMEA",
    "uk": "UK",
    "united kingdom": "UK",
    "latam": "LATAM",
    "latin america": "LATAM",
    "south america": "LATAM",
    "apac": "APAC",
    "asia": "APAC",
    "india": "India",
    "germany": "Germany",
    "spain": "Spain",
    "france": "France",
    "netherlands": "Netherlands",
    "brazil": "Brazil",
    "mexico": "Mexico",
    "australia": "Australia",
    "anywhere": "Worldwide",
    "worldwide": "Worldwide",
    "global": "Worldwide",
    "americas": "Americas",
    "poland": "Poland",
    "portugal": "Portugal",
    "ireland": "Ireland",
}
_NAMES_RX = "|".join(sorted((re.escape(n) for n in _REGION_NAMES), key=len, reverse=True))
_REGION_NEXT_TO_REMOTE = re.compile(  # on lower-case text: re.I would defeat the literal prefilter
    rf"\bremote[\s,:\-–—]{{0,8}}(?:only\s{{1,3}})?(?:in\s{{1,3}})?(?:the\s{{1,3}})?({_NAMES_RX})\b"
    rf"|\b({_NAMES_RX})[\s,\-–—]{{0,8}}(?:based\s{{1,3}})?remote\b"
)
# Every match holds a "remote" and reaches at most this far before / after its start (the bounds
# above make that so), plus one character for the closing word boundary.
_NAME_MAX = max(map(len, _REGION_NAMES))
_NEXT_BEFORE = _NAME_MAX + 8 + len("based") + 3 + 1
_NEXT_AFTER = len("remote") + 8 + len("only") + 3 + len("in") + 3 + len("the") + 3 + _NAME_MAX + 1


def _regions_next_to_remote(low: str) -> Iterator[re.Match]:
    """``_REGION_NEXT_TO_REMOTE.finditer(low)``, run only on the windows around each "remote": the
    second branch starts with no literal, so the engine tried it at every position of the text."""
    spans: list[tuple[int, int]] = []
    at = low.find("remote")
    while at >= 0:
        lo, hi = max(0, at - _NEXT_BEFORE), at + _NEXT_AFTER
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], hi)
        else:
            spans.append((lo, hi))
        at = low.find("remote", at + 1)
    for lo, hi in spans:
        yield from _REGION_NEXT_TO_REMOTE.finditer(low, lo, hi)


_SPLIT_REGIONS = re.compile(r"\s*(?:,|/|\||&|\bor\b|\band\b|;|\+)\s*", re.I)
# A sentence ends at the white space after ".", "!" or "?". Both patterns start with a character
# class, which the regex engine finds by a fast scan; a leading look-behind or alternation
# ("\r\n|[…]") made it try the whole pattern at every position of a 4,000-character line.
_SENTENCE_END = re.compile(r"[.!?]\s")
# The line boundaries of str.splitlines() ("\r\n" is one: see ``_line_end``)
_LINE_BREAK = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def extract_rules(title: str, location: str = "", description: str = "") -> JobFields:
    """All fields from title, location and description text."""
    title = title or ""
    location = location or ""
    description = description or ""
    cut = description.find("\n")
    first_line = description[: cut if 0 <= cut < 300 else 300]
    header = f"{title}\n{location}\n{first_line}"
    head_low, head_normalized = lower_and_normalize_bytes(header)
    head_hits = scan(header, head_low, head_normalized)
    low, normalized = lower_and_normalize_bytes(description)
    hits = scan(description, low, normalized)
    salary = find_salary(header, head_hits.positions.get("pay", []), location or header, title) or find_salary(
        description, hits.positions.get("pay", []), location or header, title
    )
    remote = _work_mode(head_hits, head_low, header=True) or _work_mode(hits, low, header=False)
    return JobFields(
        seniority=seniority_from_title(title),
        employment_type=_employment(head_hits, header=True) or _employment(hits, header=False),
        remote=remote,
        remote_regions=remote_regions(header, description, [p for p, m in hits.modes if m == "remote"])
        if remote in ("remote", "hybrid")
        else [],
        salary_min=salary.min if salary else None,
        salary_max=salary.max if salary else None,
        salary_currency=salary.currency if salary else None,
        salary_period=salary.period if salary and (salary.min or salary.max) else None,
        years_experience_min=_years(low, hits.positions.get("years", [])),
        visa_sponsorship=_visa(head_low, head_hits.positions.get("visa", []))
        if head_hits.positions.get("visa")
        else _visa(low, hits.positions.get("visa", [])),
        skills=list(dict.fromkeys(head_hits.skills + hits.skills))[:MAX_SKILLS],
        summary=summary(title, description, role_starts=hits.positions.get("role", [])),
    )


def _work_mode(hits: Hits, low: Lowered, header: bool) -> str | None:
    modes: list[str] = []
    for pos, mode in hits.modes:
        if mode == "remote" and low.window(pos, pos + 6) == "remote" and _not_work_mode_after(low, pos + 6):
            continue
        if mode == "hybrid?":
            if not _OFFICE_NEAR.search(low.window(max(0, pos - 30), pos + 40)):
                continue
            # "5 days a week in the office" is on-site; fewer days is hybrid.
            mode = "onsite" if re.search(r"(?:\b5|five|\bfull)\s*$", low.window(max(0, pos - 8), pos)) else "hybrid"
        modes.append(mode)
    if not modes:
        return None
    if "hybrid" in modes:
        return "hybrid"
    if "onsite!" in modes:
        return "onsite"
    if "remote" in modes and "onsite" in modes:
        # "NYC or REMOTE" in a header allows remote; in a description the first mention sets the tone.
        return "remote" if header or modes.index("remote") < modes.index("onsite") else "onsite"
    return modes[0]


def _employment(hits: Hits, header: bool) -> str | None:
    kinds = {kind for _, (kind, header_only) in hits.employment if header or not header_only}
    return next((k for k in _EMPLOYMENT_PRIORITY if k in kinds), None)


def _not_work_mode_after(low: Lowered, pos: int) -> bool:
    """``_NOT_WORK_MODE_AFTER.match(low, pos)``, reading white space and then ≤ 13 characters (its longest word)."""
    if low.full is not None:
        return _NOT_WORK_MODE_AFTER.match(low.full, pos) is not None
    spaces_end = _SPACES.match(low.text, pos).end()  # lower-casing leaves white space as it is
    return _NOT_WORK_MODE_AFTER.match(low.window(pos, spaces_end + 16)) is not None


def _years(low: Lowered, positions: list[int]) -> int | None:
    for pos in positions:
        if not _NUMBER_BEFORE.search(low.window(max(0, pos - 24), pos)):
            continue  # "years" with no number just before it ("for years", "this year") states no requirement
        window = low.window(max(0, pos - 40), pos + 70)
        found = _years_in_lower(window)
        if found is not None:
            return found
    return None


def _visa(low: Lowered, positions: list[int]) -> bool | None:
    if not positions:
        return None
    return _visa_in_lower("\n".join(low.window(max(0, p - 90), p + 60) for p in positions))


def seniority_from_title(title: str) -> str | None:
    """The level a title states; plain titles of individual contributors count as mid."""
    low = title.lower()
    if not title.strip() or _NOT_A_ROLE.search(low):
        return None
    t = low.replace("sr.", "senior ").replace("jr.", "junior ")
    if "assistant" in t:  # "Executive Assistant to the CEO" is not an executive
        t = _ASSISTANT_TO.sub("", t)
    if "executive" in t and _NOT_EXECUTIVE.search(t):
        t = _EXECUTIVE_WORD.sub("", t)
    # "Product Manager", "Account Manager": individual contributors, unless the title says more.
    if "manager" in t and _IC_MANAGER.search(t) and not _MANAGER_OF_MANAGERS.search(t):
        t = _IC_MANAGER.sub(" ", t)
    if not _ANY_LEVEL.search(t):
        return "mid"
    for level, rx in _SENIORITY_RULES:
        if rx.search(t):
            return level
    return "mid"


def employment_type_from_api(value: str | None) -> str | None:
    """Maps an ATS's own value (Ashby FullTime, Lever 'Full-time', …) onto the schema's enum."""
    if not value:
        return None
    return _API_EMPLOYMENT.get(re.sub(r"[\s_-]", "", value.lower()))


def years_experience_min(text: str) -> int | None:
    return _years_in_lower(text.lower())


def _years_in_lower(text: str) -> int | None:
    """``years_experience_min`` of text that is already lower-case (windows of the scanned text)."""
    for m in _YEARS.finditer(text):
        tail = m.group("tail")
        if not _YEARS_CONTEXT.search(tail) and not _YEARS_CONTEXT.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        if _YEARS_NOT.search(tail[:25]):
            continue
        raw = m.group("n").lower()
        n = _NUM_WORDS.get(raw) if raw in _NUM_WORDS else int(raw)
        if n is not None and 0 <= n <= 40:
            return n
    return None


def visa_sponsorship(text: str) -> bool | None:
    return _visa_in_lower(text.lower())


def _visa_in_lower(text: str) -> bool | None:
    if _VISA_NO.search(text):
        return False
    if _VISA_YES.search(text):
        return True
    return None


def remote_regions(header: str, description: str = "", remote_positions: list[int] | None = None) -> list[str]:
    """Where remote work is allowed: "Remote (US)", "REMOTE - EMEA", "Remote in Europe", "US Remote"."""
    text = (header + "\n" + "\n".join(description[p : p + 80] for p in (remote_positions or [])[:6])).lower()
    regions: dict[str, None] = {}
    if "remote" not in text:
        return []
    for m in _REGION_AFTER_REMOTE.finditer(text):
        chunk = next(g for g in m.groups() if g)
        for part in _SPLIT_REGIONS.split(chunk):
            name = _REGION_NAMES.get(part.strip(" .").lower())
            if name:
                regions[name] = None
    if not regions:
        for m in _regions_next_to_remote(text):
            name = _REGION_NAMES.get((m.group(1) or m.group(2)).lower())
            if name:
                regions[name] = None
    return list(regions)[:MAX_REGIONS]


ROLE_STARTS = POSITIONS["role"]  # the role headings the keyword scan finds; looked up here when no scan ran


def summary(title: str, description: str, low: str | None = None, role_starts: list[int] | None = None) -> str:
    """First sentence of the role text (the company blurb before a role heading skipped), ≤ 300 chars.

    ``role_starts``: where the keyword scan found a role heading (saves ten searches of the text)."""
    if role_starts is None:
        low = (low if low is not None else description.lower())[:8000]
        role_starts = [i for i in (low.find(h) for h in ROLE_STARTS) if i >= 0]
    found = [i for i in role_starts if i < 8000]
    start = description.find("\n", min(found)) + 1 if found else 0
    # Line by line with find: the first line that reads as a sentence is usually near the start,
    # and splitting 4,000 characters into lines cost more than the search for it.
    end = min(len(description), start + 4000)
    while start < end:
        cut = _LINE_BREAK.search(description, start, end)
        stop = cut.start() if cut else end
        line = description[start:stop].strip(" -•*\t")
        start = (stop + 2 if description.startswith("\r\n", stop) else stop + 1) if cut else end
        if len(line) >= 40 and not line.endswith(":"):
            sentence_end = _SENTENCE_END.search(line)  # the first sentence; the rest of the line is not read
            sentence = line[: sentence_end.start() + 1] if sentence_end else line
            return sentence[: MAX_SUMMARY_CHARS - 1].rstrip() + ("…" if len(sentence) >= MAX_SUMMARY_CHARS else "")
    return title[:MAX_SUMMARY_CHARS]
