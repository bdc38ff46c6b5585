"""Pay text → (min, max, currency, period): the salary part of the rules extractor.

Handles "$150,000 - $180,000", "$150k–180k", "€45.000 per year", "48.000 - 56.000 EUR", "£50k",
"$60/hr", "USD 120000-140000", "up to $210,000", "₹35,00,000", "CHF 140'000", "12 LPA", day and
month rates. Every money span in a text is a candidate; the one with pay words around it (salary,
compensation, base, rate, …) and no funding words (raised, Series B, revenue, …) wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SYMBOLS = {
    "US$": "USD",
    "USD$": "USD",
    "C$": "CAD",
    "CA$": "CAD",
    "CAD$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "S$": "SGD",
    "SG$": "SGD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "R$": "BRL",
    "MX$": "MXN",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "¥": "JPY",
    "₩": "KRW",
    "₪": "ILS",
    "zł": "PLN",
    "RS": "INR",
    "RS.": "INR",
    "FR.": "CHF",
    "SFR": "CHF",
}
CURRENCY_CODES = (
    "USD EUR GBP CHF CAD AUD NZD INR SGD HKD JPY CNY KRW SEK NOK DKK PLN CZK HUF RON BGN BRL MXN ARS "
    "CLP COP ZAR ILS AED SAR TRY UAH PHP IDR MYR THB VND NGN KES EGP PKR"
).split()

_CUR_PRE = (
    r"(?:US\$|USD\$|CAD\$|CA\$|C\$|AU\$|A\$|SG\$|S\$|NZ\$|HK\$|R\$|MX\$|\$|€|£|₹|¥|₩|₪|Rs\.?|SFr\.?|Fr\.|" + "|".join(CURRENCY_CODES) + r")"
)
_CUR_POST = r"(?:" + "|".join(CURRENCY_CODES) + r"|€|zł|\$|CHF)"
# 150,000 | 45.000 | 140'000 | 35,00,000 | 150 000 | 92.1 | 150000 | "55, 000" (a stray space)
_NUM = r"\d{1,3}(?:(?:[,.'’\u00a0\u202f ]|,\s(?=\d{3}(?!\d)))\d{2,3})*(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?"
_SUF = r"(?:\s?(?:[kK](?![a-zA-Z])|thousand|mil(?:lion)?|[mM](?![a-zA-Z])|lakhs?|lacs?|LPA|L(?![a-zA-Z])))"
_SEP = r"\s*(?:-|–|—|~|to|bis|à|a|and|until)\s*"


def _amount(p: str) -> str:
    return rf"(?P<{p}pre>{_CUR_PRE})?\s?(?P<{p}num>{_NUM})(?P<{p}suf>{_SUF})?"


# The lookahead changes no match (every one starts with a digit, a currency's first character, or
# one space before a digit); it lets the engine leave most positions after one character test
# instead of trying ~50 currency alternatives at each.
_MONEY = re.compile(
    rf"(?<![\w.,])(?=[\dA-Z$€£₹¥₩₪]|\s\d)(?:{_amount('a')})(?:{_SEP}(?:{_amount('b')}))?(?:\s?(?P<post>{_CUR_POST})(?![a-zA-Z]))?"
)
# Only spans that touch a currency, a k-suffix or a pay word are money; the cheap prefilter skips
# texts that cannot hold pay at all (most of a long description).
_SYMBOL_CHARS = "$€£₹¥₩₪"
_MAYBE_MONEY = re.compile(r"[$€£₹¥₩₪]|\b(?:" + "|".join(CURRENCY_CODES) + r"|CHF|LPA|lakh)\b|\d\s?[kK]\b")

_PERIODS = (
    ("hour", r"/\s?(?:hr|hour|h)\b|per\s+hour|an\s+hour|hourly|p/h|/std|pro\s+stunde|por\s+hora|de\s+l'heure|de\s+la\s+hora|/heure"),
    ("day", r"/\s?(?:day|d)\b|per\s+day|a\s+day|daily|day\s+rate|per\s+diem|pro\s+tag|par\s+jour|por\s+día|/jour|tagessatz|\bTJM\b"),
    ("week", r"/\s?(?:week|wk)\b|per\s+week|a\s+week|weekly"),
    ("month", r"/\s?(?:month|mo|mth)\b|per\s+month|a\s+month|monthly|pro\s+monat|par\s+mois|al\s+mes|mensual|/mois|/monat|\bp\.?m\.?\b"),
    (
        "year",
        r"/\s?(?:year|yr|y|annum|an|jahr|año)\b|per\s+(?:year|annum)|a\s+year|annual(?:ly)?|yearly|\bp\.?a\.?\b|par\s+an\b|pro\s+jahr|al\s+año|anual|\bLPA\b",
    ),
)
# Every context pattern below runs on lower-cased text without re.I: case-insensitive alternations
# defeat the regex engine's literal prefilters, and these run around every money span.
_PERIOD_AT = re.compile("|".join(f"(?P<{name}>{rx.lower()})" for name, rx in _PERIODS))
_WORD_STARTS = re.compile(r"/|\b\w")
_PERIOD_BEFORE = [
    ("hour", re.compile(r"hourly|per hour|hour(?:ly)? rate|stundensatz")),
    ("day", re.compile(r"day rate|daily rate|per day|tagessatz|\btjm\b")),
    ("month", re.compile(r"monthly|per month|mensual|monatlich|mensuel")),
    ("year", re.compile(r"annual|yearly|per year|base salary|salary range|\bote\b|jahres|annuel|anual")),
]
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    """Words that mark a context, looked up per word of a short lower-case text.

    Whole words, word prefixes ("reimburs" for reimbursed / reimbursement, and "earn" no longer
    matches inside "learn", nor "base" inside "database") and a few phrases. A set lookup per word
    replaces one case-insensitive alternation of ~60 words, which cost more than the rest of the
    salary reader together."""

    words: frozenset[str]
    prefixes: tuple[str, ...]
    phrases: tuple[str, ...] = ()
    # The phrases as one alternation of literals: one search, not a generator over ~15 ``in`` tests.
    _phrase: re.Pattern | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.phrases:
            object.__setattr__(self, "_phrase", re.compile("|".join(re.escape(p) for p in self.phrases)))

    def found_in(self, low: str) -> bool:
        for word in _WORD.findall(low):
            if word in self.words or word.startswith(self.prefixes):
                return True
        return self._phrase is not None and self._phrase.search(low) is not None


_PAY_CONTEXT = _Vocabulary(
    frozenset(("comp", "pay", "range", "rate", "ote", "tc", "ctc", "tjm", "base", "salary", "salaries")),
    (
        "salar",
        "compensation",
        "paid",
        "wage",
        "earn",
        "gehalt",
        "vergütung",
        "tagessatz",
        "stundensatz",
        "salaire",
        "rémunération",
        "sueldo",
        "salario",
        "retribución",
        "stipendio",
        "retribuzione",
        "wynagrodzenie",
    ),
    (
        "taux journalier",
        "day rate",
        "daily rate",
        "hourly rate",
        "per hour",
        "per year",
        "per annum",
        "per month",
        "per day",
        "/hr",
        "/year",
        "/yr",
    ),
)
# Money that is not pay: funding, revenue, deal sizes, perks, allowances, budgets, benefits.
_NOT_PAY_CONTEXT = _Vocabulary(
    frozenset(("arr", "gmv", "seed", "gym", "close", "closes", "closed", "deal", "deals", "sold", "fund", "powers", "hra", "hsa", "fsa")),
    (
        "raised",
        "raising",
        "funding",
        "funded",
        "valuation",
        "valued",
        "revenue",
        "market",
        "investor",
        "backed",
        "grant",
        "worth",
        "budget",
        "stipend",
        "allowance",
        "reimburs",
        "gift",
        "credit",
        "bonus",
        "commission",
        "signing",
        "relocation",
        "401",
        "customers",
        "spent",
        "deploying",
        "subsid",
        "housing",
        "tuition",
        "subscription",
        "membership",
        "closing",
        "sell",
        "profit",
        "capital",
        "facilit",
        "fertility",
        "insurance",
        "medical",
        "dental",
        "vision",
        "premium",
        "waiv",
    ),
    ("under management", "in sales", "equity of", "run rate", "run-rate", "sign-on", *(f"series {c} " for c in "abcdef")),
)


def _not_pay_before(clause_low: str) -> bool:
    return _NOT_PAY_CONTEXT.found_in(clause_low + " ") or clause_low.rstrip().endswith("over")


_NOT_PAY_AFTER = re.compile(
    r"""^\+?\s*(?:
        [mb]n?\b | bn | billion | trillion | million(?!\ (?:inr|idr|krw|jpy))       # funding, revenue sizes
      | in\ (?:funding|revenue|sales|arr) | (?:seed|series) | valuation | arr | acv | mrr
      | deals?\b | sales\b | quotas? | toward | pipeline | contracts?\b | /\s?mo\b(?=.*clos)
      | \+?\ ?(?:customers|users|employees|companies)
      | (?:learning|education|home.?office|wellness|equipment)
      | stipend | budget | allowance | bonus | commission
      | (?:referral|hiring|sign(?:ing|-on))\s+bonus                                  # "$5,000 referral bonus"
      | (?:(?:annual|yearly|monthly|weekly|daily)\s+)?(?:limit|cap)\s+(?:on|for)       # "$300 monthly limit on expenses"
      | (?:annual|yearly|monthly)?\ ?(?:learning|education|wellness|stipend|budget|allowance|bonus|credit)
      | (?:annual|yearly|monthly|recurring)\s+(?:contracts?|deals?|revenue|recurring|contract\s+value)
      | (?:(?:per|a|/)\s?(?:month|mo|year|yr|week|day|employee|person)\s+)?                # "$500 per month credit"
        (?:credit|stipend|allowance|budget|subsidy|reimbursement|relocation|sign-?on|signing|bonus|commission)
      | (?:(?:per|a|/)\s?(?:month|mo|year|yr|week|day)\s+)?(?:for|towards?)\s+             # "$1000 for conferences"
        (?:further\s+|continuing\s+|your\s+|personal\s+|professional\s+)*
        (?:education|learning|training|conferences?|books|courses|development|equipment|
           home|wellness|gym|travel|meals|lunch|coworking|hardware|setup)
    )""",
    re.VERBOSE,
)
# "<role>s get/earn …": the pay of the people named, which is this job's only if the title names them too.
_OTHER_ROLE = re.compile(r"\b((?:[a-z]+\s+)?[a-z]{3,}?)s\s+(?:get|earn|make|receive|are\s+paid)\b")
_OTHER_ROLE_VERB = re.compile(r"s\s+(?:get|earn|make|receive|are\s+paid)\b")  # cheap test: no verb, no match
_UP_TO = re.compile(r"(?:up\s+to|max(?:imum)?\.?|bis\s+zu|jusqu'à|hasta)\s*$")
_FROM = re.compile(r"(?:from|starting\s+at|min(?:imum)?\.?|ab|à\s+partir\s+de|desde|at\s+least)\s*$")
_DIGIT = re.compile(r"\d")
_CLAUSE_BREAK = re.compile(r"[.;!?\n|•]\s")
_PAY_SHAPED = re.compile(r"\d[,.'’ ]\d{2,3}(?!\d)")
_K_SUFFIX = re.compile(r"[kK]|thousand|lakh|lac|LPA|L")
_INR_SUFFIX = re.compile(r"lakh|lac|lpa", re.I)

# Plausible pay per period, in US dollars: an annual salary of $150 or an hourly rate of $50,000 is
# impossible whoever states it (the text or the ATS API). Bounds are wide on purpose: they catch
# typos, perks and placeholders, not low or high pay.
_PLAUSIBLE_USD = {"hour": (2, 1_500), "day": (15, 10_000), "week": (80, 40_000), "month": (250, 150_000), "year": (3_000, 5_000_000)}
# Units of each currency per US dollar, rounded: only to scale the bounds above (a factor of 2 is harmless).
_PER_USD = {
    "USD": 1,
    "EUR": 0.9,
    "GBP": 0.8,
    "CHF": 0.9,
    "CAD": 1.35,
    "AUD": 1.5,
    "NZD": 1.6,
    "INR": 83,
    "SGD": 1.35,
    "HKD": 7.8,
    "JPY": 150,
    "CNY": 7.2,
    "KRW": 1350,
    "SEK": 10.5,
    "NOK": 10.5,
    "DKK": 6.9,
    "PLN": 4,
    "CZK": 23,
    "HUF": 360,
    "RON": 4.6,
    "BGN": 1.8,
    "BRL": 5,
    "MXN": 17,
    "ARS": 900,
    "CLP": 900,
    "COP": 4000,
    "ZAR": 18,
    "ILS": 3.7,
    "AED": 3.7,
    "SAR": 3.75,
    "TRY": 32,
    "UAH": 40,
    "PHP": 56,
    "IDR": 15500,
    "MYR": 4.7,
    "THB": 35,
    "VND": 24000,
    "NGN": 1500,
    "KES": 130,
    "EGP": 48,
    "PKR": 280,
}
_LARGE_UNIT_CURRENCIES = {c for c, rate in _PER_USD.items() if rate >= 30}


def plausible(low: float | None, high: float | None, currency: str | None, period: str | None) -> bool:
    """Whether a pay range can be real for its period and currency (unknown currency: judged as USD).

    The same rule for extracted and API values, so an ATS placeholder ("$150" a year for an intern,
    "$1 – $500,000") never reaches the analytics as a salary."""
    if period not in _PLAUSIBLE_USD or (low is None and high is None):
        return False
    rate = _PER_USD.get(currency or "USD", 1)
    floor, ceiling = (bound * rate for bound in _PLAUSIBLE_USD[period])
    values = [v for v in (low, high) if v is not None]
    if any(not floor <= v <= ceiling for v in values):
        return False
    return not (low is not None and high is not None and (low > high or (low > 0 and high / low > 10)))


@dataclass(slots=True, frozen=True)
class Salary:
    min: float | None
    max: float | None
    currency: str | None
    period: str | None
    text: str


def parse_number(num: str, suffix: str | None) -> float | None:
    """'150,000' → 150000, '45.000' → 45000, '92.1' + 'K' → 92100, "140'000" → 140000, '35,00,000' → 3500000."""
    s = num.replace("\u00a0", " ").replace("\u202f", " ").replace("’", "'").strip()
    s = s.replace("'", "").replace(" ", "")
    if "," in s and "." in s:
        decimal = "." if s.rfind(".") > s.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        s = s.replace(thousands, "").replace(decimal, ".")
    elif "," in s or "." in s:
        sep = "," if "," in s else "."
        parts = s.split(sep)
        if len(parts) == 2 and len(parts[1]) in (1, 2):
            s = parts[0] + "." + parts[1]  # decimal: "92.1", "23,50"
        else:
            s = "".join(parts)  # thousands (incl. Indian 35,00,000)
    try:
        value = float(s)
    except ValueError:
        return None
    suf = (suffix or "").strip().lower()
    if suf in ("k", "thousand"):
        value *= 1_000
    elif suf in ("m", "mil", "million"):
        value *= 1_000_000
    elif suf in ("lakh", "lakhs", "lac", "lacs", "lpa", "l"):
        value *= 100_000
    return value


def _currency(token: str | None) -> str | None:
    if not token:
        return None
    t = token.strip()
    return _SYMBOLS.get(t.upper()) or _SYMBOLS.get(t) or (t.upper() if t.upper() in CURRENCY_CODES else None)


def _period(before: str, after: str, suffixes: str) -> str | None:
    if "lpa" in suffixes.lower():
        return "year"
    head = after[:32]
    # A period word starts within 18 characters of the amount, at a word start or a "/": try the
    # one combined pattern only there (a search tried every alternative at every position).
    for start in _WORD_STARTS.finditer(head, 0, 19):
        m = _PERIOD_AT.match(head, start.start())
        if m:
            return m.lastgroup
    for name, rx in _PERIOD_BEFORE:
        if rx.search(before[-40:]):
            return name
    return None


def _guess_period(value: float, currency: str | None) -> str:
    if currency in _LARGE_UNIT_CURRENCIES:
        return "year" if value >= 100_000 else "month"
    if value < 300:
        return "hour"
    if value < 2_000:
        return "day"
    if value < 15_000:
        return "month"
    return "year"


def find_salary(text: str, anchors: list[int] | None = None, location: str = "", title: str = "") -> Salary | None:
    """The most salary-like money span in ``text``, or None.

    ``anchors`` (positions of currency codes or pay words found by the caller's keyword scan) limit
    the regex to windows around them and around currency symbols; None scans the whole text.
    ``location`` picks the row of a pay table by country ("UK: 65.500 - 85.500 GBP") and gives the
    currency of a bare "150k-200k"; ``title`` tells this job's pay from another role's ("founding
    engineers get $250k" in an intern posting).
    """
    if not text:
        return None
    if anchors is None:
        if not _MAYBE_MONEY.search(text):
            return None
        spans = [(0, len(text))]
    else:
        points = sorted({*anchors, *_symbol_positions(text)})
        if not points:
            return None
        spans = _merge_windows(points, len(text))
    found: list[tuple[float, int, Salary, str | None]] = []
    seen: set[int] = set()
    for lo, hi in spans:
        if not _DIGIT.search(text, lo, hi):
            continue  # "competitive salary", "USD-denominated": a pay word with no amount near it
        for m in _MONEY.finditer(text, lo, hi):
            if m.start() in seen:
                continue
            seen.add(m.start())
            cand = _candidate(text, m, title)
            if cand is None:
                continue
            salary, score = cand
            found.append((score, -m.start(), salary, _row_label(text, m.start())))
    if not found:
        return None
    rows = {label for *_, label in found if label}
    if len(rows) >= 2:
        # A pay table by place: the job's own row, or nothing (never another country's pay).
        places = _places(location)
        found = [f for f in found if f[3] and _places(f[3]) & places]
        if len({f[3] for f in found}) != 1:
            return None  # no row, or several rows, for where this job is
    best = max(found, key=lambda f: (f[0], f[1]))[2]
    if best.currency is None:
        currency = location_currency(location)
        if currency is None:
            return None  # "110K to 160K" with no currency and no place that implies one
        best = Salary(best.min, best.max, currency, best.period, best.text)
    return best


_ROW_LABEL = re.compile(r"(?:^|[:\n•])\s*[-*•]?\s*([A-Z][^\n:$€£\d]{1,40}?)\s*:\s*$")


def _row_label(text: str, start: int) -> str | None:
    """The place label a table row gives its amount ("- UK: 75.000 GBP" → "UK"), if any."""
    line = text[max(0, start - 50) : start]
    if not line.rstrip().endswith(":"):
        return None  # the pattern ends in ":" and white space; its lazy label is slow to rule out
    m = _ROW_LABEL.search(line)
    return m.group(1).strip() if m else None


# Places a row label or a job location can name, as country keys; cities map to their country.
_PLACE_KEYS: dict[str, str] = {
    **dict.fromkeys(
        (
            "us",
            "usa",
            "u.s.",
            "united states",
            "america",
            "nyc",
            "new york",
            "san francisco",
            "sf",
            "bay area",
            "seattle",
            "boston",
            "austin",
            "chicago",
            "los angeles",
            "la",
            "denver",
            "miami",
            "atlanta",
            "mountain view",
            "san jose",
            "san mateo",
            "palo alto",
            "redwood city",
            "washington",
            "dc",
        ),
        "US",
    ),
    **dict.fromkeys(("uk", "united kingdom", "england", "london", "manchester", "edinburgh", "scotland", "gb"), "GB"),
    **dict.fromkeys(("canada", "toronto", "vancouver", "montreal", "ontario"), "CA"),
    **dict.fromkeys(("germany", "deutschland", "berlin", "munich", "münchen", "hamburg"), "DE"),
    **dict.fromkeys(("france", "paris"), "FR"),
    **dict.fromkeys(("spain", "madrid", "barcelona"), "ES"),
    **dict.fromkeys(("netherlands", "amsterdam", "the netherlands"), "NL"),
    **dict.fromkeys(("ireland", "dublin"), "IE"),
    **dict.fromkeys(("italy", "milan", "rome"), "IT"),
    **dict.fromkeys(("portugal", "lisbon", "porto"), "PT"),
    **dict.fromkeys(("poland", "warsaw", "krakow", "kraków"), "PL"),
    **dict.fromkeys(("india", "bangalore", "bengaluru"), "IN"),
    **dict.fromkeys(("mexico", "cdmx", "mexico city"), "MX"),
    **dict.fromkeys(("brazil", "são paulo", "rio de janeiro"), "BR"),
    **dict.fromkeys(("switzerland", "zurich", "zürich", "geneva"), "CH"),
    **dict.fromkeys(("singapore",), "SG"),
    **dict.fromkeys(("australia", "sydney", "melbourne"), "AU"),
}
_COUNTRY_CURRENCY = {
    "US": "USD",
    "GB": "GBP",
    "CA": "CAD",
    "DE": "EUR",
    "FR": "EUR",
    "ES": "EUR",
    "NL": "EUR",
    "IE": "EUR",
    "IT": "EUR",
    "PT": "EUR",
    "PL": "PLN",
    "IN": "INR",
    "MX": "MXN",
    "BR": "BRL",
    "CH": "CHF",
    "SG": "SGD",
    "AU": "AUD",
}
_PLACE_NAMES = re.compile(r"(?<![a-z])(" + "|".join(re.escape(n) for n in sorted(_PLACE_KEYS, key=len, reverse=True)) + r")(?![a-z])")
_US_STATE = re.compile(r",\s*(?:CA|NY|WA|MA|TX|IL|CO|FL|GA|OR|NJ|PA|VA|NC|DC|UT|AZ|MN|MI|OH)\b")


def _places(text: str) -> set[str]:
    """Country keys a place text names: "New York, NY" → {"US"}, "Europe - Anywhere" → set()."""
    if not text:
        return set()
    low = text.lower()
    keys = {_PLACE_KEYS[m.group(1)] for m in _PLACE_NAMES.finditer(low)}
    if _US_STATE.search(text):
        keys.add("US")
    return keys


def location_currency(location: str) -> str | None:
    """The currency a job location implies, when it names exactly one known country."""
    places = _places(location)
    return _COUNTRY_CURRENCY.get(next(iter(places))) if len(places) == 1 else None


def _symbol_positions(text: str, limit: int = 24) -> list[int]:
    # str.find per symbol (memchr speed) beats one character-class regex over a long description.
    found: list[int] = []
    for symbol in _SYMBOL_CHARS:
        at = text.find(symbol)
        while at >= 0 and len(found) < limit:
            found.append(at)
            at = text.find(symbol, at + 1)
    return found


def _merge_windows(points: list[int], size: int, before: int = 40, after: int = 60) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for p in points:
        lo, hi = max(0, p - before), min(size, p + after)
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
        else:
            spans.append((lo, hi))
    return spans


def _candidate(text: str, m: re.Match, title: str = "") -> tuple[Salary, float] | None:
    g = m.groupdict()
    post = _currency(g["post"])
    # A bare "$" is any dollar (or peso): a code after the amount says which ("$120-$132k AUD").
    if post and (g["apre"] or g["bpre"] or "").strip() == "$":
        cur = post
    else:
        cur = _currency(g["apre"]) or _currency(g["bpre"]) or post
    suffixes = (g["asuf"] or "") + (g["bsuf"] or "")
    if not cur and _INR_SUFFIX.search(suffixes):
        cur = "INR"
    has_k = bool(_K_SUFFIX.search(suffixes))
    is_range = g["bnum"] is not None
    if not cur and not has_k:
        return None
    if g["anum"] in ("401", "403"):  # 401(k)/403(b) plans, not pay
        return None
    if text.startswith("%", m.end()) or (g["asuf"] or "").strip() in ("m", "M", "mil", "million") and cur not in _LARGE_UNIT_CURRENCIES:
        return None  # a share, or millions (funding, revenue) in a currency whose pay is not counted in millions
    before = text[max(0, m.start() - 60) : m.start()].lower()
    after = text[m.end() : m.end() + 40].lower()
    clause = _CLAUSE_BREAK.split(before)[-1][-30:]  # funding words count only in the same clause
    if _NOT_PAY_AFTER.search(after) or _not_pay_before(clause):
        return None
    other = _OTHER_ROLE.search(clause) if _OTHER_ROLE_VERB.search(clause) else None
    if other and other.group(1).lower() not in title.lower():
        return None  # "founding engineers get $250k" in an intern posting: another role's pay
    if not cur and not (_PAY_CONTEXT.found_in(clause) or _PAY_CONTEXT.found_in(after[:25])):
        return None  # a bare "100 k" (units, views, users) is pay only next to a pay word
    low = parse_number(g["anum"], g["asuf"])
    high = parse_number(g["bnum"], g["bsuf"]) if is_range else None
    if low is None:
        return None
    if high is not None:
        # "€80-100k", "$150-$175k": a suffix written once applies to both ends.
        if not g["asuf"] and g["bsuf"] and low < 1_000 <= high and low * 1_000 <= high * 10:
            low = parse_number(g["anum"], g["bsuf"])
        if high < low:
            return None
    period = _period(before, after, suffixes)
    ref = high if high is not None else low
    guessed = period is None
    if guessed:
        period = _guess_period(ref, cur)
    if not plausible(low, high, cur, period):
        return None
    tail = before[-24:]
    up_to, from_ = bool(_UP_TO.search(tail)), bool(_FROM.search(tail))
    if high is None and up_to:
        low, high = None, low
    elif high is None and not from_ and not text[m.end() : m.end() + 1] == "+":
        high = low
    score = 0.0
    if _PAY_CONTEXT.found_in(before) or _PAY_CONTEXT.found_in(after[:25]):
        score += 3
    if is_range:
        score += 2
    if not guessed:
        score += 1.5
    if cur:
        score += 1
    if has_k:
        score += 0.5
    if cur and (has_k or _PAY_SHAPED.search(g["anum"])):
        score += 1  # "$85K", "£58K", "CHF 140'000": a pay-shaped amount
    if up_to or from_:
        score += 1
    if m.start() == 0:
        score += 1  # the whole field is the amount (an API's pay text, a header cell)
    if "|" in before[-4:] or before.rstrip().endswith(("(", ":")):
        score += 1  # HN header fields and "Salary: …" lines
    if score < 3:
        return None  # a lone amount with no pay word, period or range: a price, a deal size, a perk
    return Salary(low, high, cur, period, m.group(0).strip()), score
