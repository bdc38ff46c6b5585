"""The deterministic extractor: regexes and dictionaries, no model (the default without vLLM).

Title and location are read first (they are short and say the most); the description's first line
is treated as a header too, because HN comments put "Company | Role | REMOTE | $150k" there.
"""

from __future__ import annotations

import re

from jobpipeline.lib.extract.prompt import cut_boilerplate
from jobpipeline.lib.extract.salary import find_salary
from jobpipeline.lib.extract.schema import MAX_REGIONS, MAX_SUMMARY_CHARS, JobFields
from jobpipeline.lib.extract.skills import find_skills

# --- remote / hybrid / on-site, in English, German, French, Spanish, Portuguese, Italian, Dutch, Polish, Nordic
_HYBRID = re.compile(
    r"\bhybrid|\bhybride?\b|h[íi]brid[oa]|\bibrid[oa]|hybrydow|\bhybridn|"
    r"\d\s*(?:-\s*\d\s*)?(?:days?|x)\s*(?:a|per|/)\s*week\s*(?:in|at)?\s*(?:the\s*)?(?:office|on-?site)|"
    r"\d\s*days?\s*(?:in|at)\s*(?:the\s*|our\s*)?(?:office|hq)|part(?:ly|ially)?[\s-]*remote|remote\s*\+\s*office|"
    r"onsite\s*\+\s*part\s*remote|flexible\s+(?:remote|work(?:ing)?\s+(?:model|arrangement))",
    re.I,
)
_REMOTE = re.compile(
    r"\bremote(?!\s+(?:machines?|desktops?|sensing|control|devices?|monitoring|servers?|access|patient|teleoperation|"
    r"procedure|execution|sites?|areas?|communities|locations? of))|\bwfh\b|work(?:ing)?\s+from\s+(?:home|anywhere)|"
    r"distributed\s+team|fully\s+distributed|anywhere\s+in\s+the\s+world|t[ée]l[ée]travail|teletrabajo|\bremoto\b|"
    r"\bremota\b|home[\s-]?office|mobiles?\s+arbeiten|ortsunabh[äa]ngig|da\s+remoto|trabalho\s+remoto|\bzdaln|"
    r"thuiswerk|op\s+afstand|etät[yö]|distansarbete|fjernarbejde",
    re.I,
)
_ONSITE = re.compile(
    r"\bon[\s-]?site\b|\bonsite\b|in[\s-]office|in[\s-]person|office[\s-]based|\bin\s+our\s+office|\bIRL\b|"
    r"5\s*days\s*(?:a|per|/)\s*week\s*in|not\s+(?:a\s+)?remote|no\s+remote|\bvor\s+ort\b|pr[ée]sentiel|sur\s+site|"
    r"presencial|in\s+sede|stacjonarn|op\s+kantoor|på\s+plats|kontorbaseret",
    re.I,
)
_NEGATED_REMOTE = re.compile(r"(?:not|no|non)[\s-]+(?:a\s+)?remote|remote\s+(?:is\s+)?not\s+(?:possible|available|an option)", re.I)

# --- seniority from the title
_SENIORITY_RULES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (level, re.compile(rx, re.I))
    for level, rx in (
        ("intern", r"\bintern(?:ship)?s?\b|\bpraktik|\bstagiaire|\bco-?op\b|\bwerkstudent|\bbecari|\bstage\b"),
        ("executive", r"\bchief\b|\bc[teofi]o\b|\bvp\b|vice[\s-]president|\bpresident\b|\bhead\s+of\b.*\b(?:global|worldwide)\b|\bSVP\b|\bEVP\b|\bgeneral\s+manager\b"),
        ("director", r"\bdirector\b|\bhead\s+of\b|\bdirect(?:eur|ora?)\b|\bleiter\b"),
        ("principal", r"\bprincipal\b|\bdistinguished\b|\bfellow\b"),
        ("staff", r"\bstaff\b(?!\s+(?:accountant|nurse|writer|assistant))"),
        ("manager", r"\b(?:engineering|eng|software|team|people|program\s+management|operations|support|delivery|"
                    r"development|dev|it|security|data|qa|quality|site|sales|marketing|finance|office|hr|recruiting|"
                    r"talent|customer\s+success|success)\s+manager\b|\bmanager,|\bmanager\s+(?:of|-|–)|"
                    r"\bsenior\s+manager\b|\bmanager\b(?!.*\b(?:product|project|program|account|community|partner|"
                    r"channel|content|brand|campaign|category|case|territory|relationship|implementation))"),
        ("lead", r"\blead\b|\btech\s+lead\b|\bteam\s+lead\b|\bleader\b|\blead[a-z]*\b(?=.*engineer)"),
        ("senior", r"\bsenior\b|\bsr\.?\b|\bsnr\b|\bs[eé]nior\b|\bIII\b|\blevel\s*3\b|\bL5\b|\bexperienced\b|\bfounding\b"),
        ("junior", r"\bjunior\b|\bjr\.?\b|\bentry[\s-]level\b|\bgraduate\b|\bnew\s+grad\b|\bI\b(?!\s*(?:I|V))|\bapprentice|\bassociate\s+(?:software|engineer|developer|data)|\btrainee\b|\bjunior\b"),
        ("mid", r"\bmid(?:[\s-]level)?\b|\bII\b|\bintermediate\b"),
    )
)

# --- employment type
_EMPLOYMENT_RULES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (kind, re.compile(rx, re.I))
    for kind, rx in (
        ("internship", r"\binternship\b|\bintern\b|\bpraktikum\b|\bstage\b|\bpasant[íi]a\b|\bco-?op\b|\bwerkstudent"),
        ("part_time", r"\bpart[\s-]?time\b|\bteilzeit\b|temps\s+partiel|media\s+jornada|\bdeeltijd"),
        ("contract", r"\bcontract(?:or)?\b|\bfreelanc|\bfreiberuf|\bconsultant\s+\(contract|\b1099\b|\bC2C\b|contract[\s-]to[\s-]hire|\bB2B\b"),
        ("temporary", r"\btemporary\b|\btemp\b|fixed[\s-]term|\bbefristet\b|\bseasonal\b|\bCDD\b|\bmaternity\s+cover"),
        ("full_time", r"\bfull[\s-]?time\b|\bvollzeit\b|temps\s+plein|tiempo\s+completo|jornada\s+completa|\bCDI\b|\bpermanent\b|\bfulltime\b|\bFTE\b"),
    )
)
_API_EMPLOYMENT = {
    "fulltime": "full_time", "full_time": "full_time", "full-time": "full_time", "full time": "full_time",
    "parttime": "part_time", "part_time": "part_time", "part-time": "part_time", "part time": "part_time",
    "contract": "contract", "contractor": "contract", "intern": "internship", "internship": "internship",
    "temporary": "temporary", "temp": "temporary",
}

# --- years of experience
_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
              "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20}
_YEARS = re.compile(
    r"(?:(?:at\s+least|minimum(?:\s+of)?|min\.?|over|more\s+than)\s+)?"
    r"(?P<n>\d{1,2}|" + "|".join(_NUM_WORDS) + r")\s*(?:\(\d{1,2}\)\s*)?(?:\+|\s*(?:-|–|to)\s*\d{1,2})?\s*\+?\s*"
    r"(?:years?|yrs?|y/?o/?e|jahre?n?|ans|años|anni|lat)\b(?P<tail>[^.\n]{0,60})",
    re.I,
)
_YEARS_CONTEXT = re.compile(r"experience|exp\b|building|working|in\s+(?:a|the|software|industry)|professional|y/?o/?e|erfahrung|expérience|experiencia|esperienza|doświadcz|background|hands-on|track record|of\s+\w+\s+(?:engineering|development|design)", re.I)
_YEARS_NOT = re.compile(r"\b(?:old|ago|history|since|founded|company|we've|we have been|warranty|vesting|vest|cliff|contract|term|runway)\b", re.I)

# --- visa
_VISA_NO = re.compile(
    r"(?:not|unable\s+to|cannot|can't|can\s+not|won't|will\s+not|do\s+not|does\s+not|don't|no)\s+(?:currently\s+|be\s+able\s+to\s+|able\s+to\s+|provide\s+|offer\s+|support\s+)*(?:visa\s+)?sponsor"
    r"|without\s+(?:the\s+need\s+for\s+)?(?:current\s+or\s+future\s+)?(?:visa\s+|employer\s+)?sponsorship|no\s+visa\s+sponsorship"
    r"|(?:u\.?s\.?|us)\s+citizen(?:ship)?\s+(?:is\s+)?required|must\s+be\s+(?:a\s+)?(?:u\.?s\.?|us)\s+citizen|security\s+clearance\s+required"
    r"|sponsorship\s+(?:is\s+)?not\s+(?:available|offered|provided|possible)|visa\s+sponsorship\s*:\s*no",
    re.I,
)
_VISA_YES = re.compile(
    r"visa\s+sponsorship(?!\s+(?:is\s+)?not)(?:\s+(?:is\s+)?(?:available|provided|offered|possible))?|we\s+(?:can\s+|will\s+|do\s+)?sponsor|"
    r"will\s+sponsor|(?:offer|provide)s?\s+(?:visa\s+)?sponsorship|sponsorship\s+(?:is\s+)?available|h-?1b\s+(?:sponsorship|transfers?)|"
    r"relocation\s+(?:and|&)\s+visa|visa\s+(?:support|assistance)|blue\s+card",
    re.I,
)

# --- remote regions: "Remote (US)", "REMOTE - EMEA", "Remote in Europe", "Remote (United States | Canada)"
_REGION_AFTER_REMOTE = re.compile(r"remote\s*(?:\(([^)]{2,80})\)|[-–—:,]\s*([A-Za-z][A-Za-z .&/]{1,40})|\s+(?:in|within|across)\s+(?:the\s+)?([A-Z][A-Za-z .&/]{1,40}))", re.I)
_REGION_NAMES = {
    "us": "US", "usa": "US", "u.s.": "US", "u.s": "US", "united states": "US", "us only": "US", "america": "US",
    "canada": "Canada", "can": "Canada", "north america": "North America", "na": "North America",
    "europe": "Europe", "eu": "Europe", "european union": "Europe", "emea": "EMEA", "uk": "UK", "united kingdom": "UK",
    "latam": "LATAM", "latin america": "LATAM", "south america": "LATAM", "apac": "APAC", "asia": "APAC",
    "india": "India", "germany": "Germany", "spain": "Spain", "france": "France", "netherlands": "Netherlands",
    "brazil": "Brazil", "mexico": "Mexico", "australia": "Australia", "anywhere": "Worldwide", "worldwide": "Worldwide",
    "global": "Worldwide", "americas": "Americas", "poland": "Poland", "portugal": "Portugal", "ireland": "Ireland",
}
_SPLIT_REGIONS = re.compile(r"\s*(?:,|/|\||&|\bor\b|\band\b|;|\+)\s*", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def extract_rules(title: str, location: str = "", description: str = "") -> JobFields:
    """All fields from title, location and description text."""
    title = title or ""
    location = location or ""
    description = description or ""
    first_line, _, _ = description.partition("\n")
    header = f"{title}\n{location}\n{first_line[:300]}"
    body = cut_boilerplate(description)
    salary = find_salary(header) or find_salary(body) or find_salary(description)
    return JobFields(
        seniority=seniority_from_title(title),
        employment_type=employment_type(header, body),
        remote=remote_mode(header, body),
        remote_regions=remote_regions(f"{location}\n{first_line[:300]}\n{body[:3000]}"),
        salary_min=salary.min if salary else None,
        salary_max=salary.max if salary else None,
        salary_currency=salary.currency if salary else None,
        salary_period=salary.period if salary and (salary.min or salary.max) else None,
        years_experience_min=years_experience_min(body),
        visa_sponsorship=visa_sponsorship(f"{first_line}\n{body}"),
        skills=find_skills(f"{title}\n{body}"),
        summary=summary(title, body),
    )


def seniority_from_title(title: str) -> str | None:
    """The level a title states; plain titles of individual contributors count as mid."""
    if not title.strip():
        return None
    t = title.replace("Sr.", "Senior ").replace("Jr.", "Junior ")
    if re.search(r"\baccount\s+executive\b|\bexecutive\s+(?:assistant|chef)\b", t, re.I):
        t = re.sub(r"\bexecutive\b", "", t, flags=re.I)
    for level, rx in _SENIORITY_RULES:
        if rx.search(t):
            return level
    return "mid"


def remote_mode(header: str, body: str = "") -> str | None:
    """remote | hybrid | onsite from the header first, then the description."""
    for text in (header, body[:6000]):
        if not text:
            continue
        hybrid, onsite = _HYBRID.search(text), _ONSITE.search(text)
        remote = _REMOTE.search(text)
        if hybrid:
            return "hybrid"
        if _NEGATED_REMOTE.search(text):
            return "onsite"
        if remote and onsite:
            # "NYC or REMOTE", "Remote-friendly (US)" → remote; "Onsite in SF; remote interviews" → onsite.
            return "remote" if remote.start() < onsite.start() or text is header else "onsite"
        if remote:
            return "remote"
        if onsite:
            return "onsite"
    return None


def employment_type(header: str, body: str = "") -> str | None:
    for text in (header, body[:4000]):
        for kind, rx in _EMPLOYMENT_RULES:
            if rx.search(text):
                return kind
    return None


def employment_type_from_api(value: str | None) -> str | None:
    """Maps an ATS's own value (Ashby FullTime, Lever 'Full-time', …) onto the schema's enum."""
    if not value:
        return None
    return _API_EMPLOYMENT.get(value.strip().lower().replace(" ", "").replace("-", "")) or _API_EMPLOYMENT.get(value.strip().lower())


def years_experience_min(text: str) -> int | None:
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
    if _VISA_NO.search(text):
        return False
    if _VISA_YES.search(text):
        return True
    return None


def remote_regions(text: str) -> list[str]:
    regions: dict[str, None] = {}
    for m in _REGION_AFTER_REMOTE.finditer(text):
        chunk = next(g for g in m.groups() if g)
        for part in _SPLIT_REGIONS.split(chunk):
            name = _REGION_NAMES.get(part.strip(" .").lower())
            if name:
                regions[name] = None
        if len(regions) >= MAX_REGIONS:
            break
    return list(regions)[:MAX_REGIONS]


def summary(title: str, body: str) -> str:
    """First sentence of the role text (after boilerplate is cut), at most 300 characters."""
    for line in body.splitlines():
        line = line.strip(" -•*\t")
        if len(line) >= 40 and not line.endswith(":"):
            sentence = _SENTENCE.split(line, maxsplit=1)[0]
            return sentence[: MAX_SUMMARY_CHARS - 1].rstrip() + ("…" if len(sentence) >= MAX_SUMMARY_CHARS else "")
    return title[:MAX_SUMMARY_CHARS]
