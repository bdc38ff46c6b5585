"""Pay text → (min, max, currency, period): the salary part of the rules extractor.

Handles "$150,000 - $180,000", "$150k–180k", "€45.000 per year", "48.000 - 56.000 EUR", "£50k",
"$60/hr", "USD 120000-140000", "up to $210,000", "₹35,00,000", "CHF 140'000", "12 LPA", day and
month rates. Every money span in a text is a candidate; the one with pay words around it (salary,
compensation, base, rate, …) and no funding words (raised, Series B, revenue, …) wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SYMBOLS = {
    "US$": "USD", "USD$": "USD", "C$": "CAD", "CA$": "CAD", "CAD$": "CAD", "A$": "AUD", "AU$": "AUD",
    "S$": "SGD", "SG$": "SGD", "NZ$": "NZD", "HK$": "HKD", "R$": "BRL", "MX$": "MXN",
    "$": "USD", "€": "EUR", "£": "GBP", "₹": "INR", "¥": "JPY", "₩": "KRW", "₪": "ILS", "zł": "PLN",
    "RS": "INR", "RS.": "INR", "FR.": "CHF", "SFR": "CHF",
}
CURRENCY_CODES = (
    "USD EUR GBP CHF CAD AUD NZD INR SGD HKD JPY CNY KRW SEK NOK DKK PLN CZK HUF RON BGN BRL MXN ARS "
    "CLP COP ZAR ILS AED SAR TRY UAH PHP IDR MYR THB VND NGN KES EGP PKR"
).split()

_CUR_PRE = (
    r"(?:US\$|USD\$|CAD\$|CA\$|C\$|AU\$|A\$|SG\$|S\$|NZ\$|HK\$|R\$|MX\$|\$|€|£|₹|¥|₩|₪|Rs\.?|SFr\.?|Fr\.|"
    + "|".join(CURRENCY_CODES)
    + r")"
)
_CUR_POST = r"(?:" + "|".join(CURRENCY_CODES) + r"|€|zł|\$|CHF)"
# 150,000 | 45.000 | 140'000 | 35,00,000 | 150 000 | 92.1 | 150000
_NUM = r"\d{1,3}(?:[,.'’\u00a0\u202f ]\d{2,3})*(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?"
_SUF = r"(?:\s?(?:[kK](?![a-zA-Z])|thousand|mil(?:lion)?|[mM](?![a-zA-Z])|lakhs?|lacs?|LPA|L(?![a-zA-Z])))"
_SEP = r"\s*(?:-|–|—|~|to|bis|à|a|and|until)\s*"


def _amount(p: str) -> str:
    return rf"(?P<{p}pre>{_CUR_PRE})?\s?(?P<{p}num>{_NUM})(?P<{p}suf>{_SUF})?"


_MONEY = re.compile(
    rf"(?<![\w.,])(?:{_amount('a')})(?:{_SEP}(?:{_amount('b')}))?(?:\s?(?P<post>{_CUR_POST})(?![a-zA-Z]))?"
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
    ("year", r"/\s?(?:year|yr|y|annum|an|jahr|año)\b|per\s+(?:year|annum)|a\s+year|annual(?:ly)?|yearly|\bp\.?a\.?\b|par\s+an\b|pro\s+jahr|al\s+año|anual|\bLPA\b"),
)
_PERIOD_RES = [(name, re.compile(rx, re.I)) for name, rx in _PERIODS]
_PERIOD_BEFORE = [
    ("hour", re.compile(r"hourly|per hour|hour(?:ly)? rate|stundensatz", re.I)),
    ("day", re.compile(r"day rate|daily rate|per day|tagessatz|\bTJM\b", re.I)),
    ("month", re.compile(r"monthly|per month|mensual|monatlich|mensuel", re.I)),
    ("year", re.compile(r"annual|yearly|per year|base salary|salary range|OTE|jahres|annuel|anual", re.I)),
]
_PAY_WORDS = re.compile(
    r"salary|salaries|compensation|\bcomp\b|\bpay\b|paid|base|\brange\b|\brate\b|\bOTE\b|\bTC\b|wage|earn|"
    r"gehalt|vergütung|tagessatz|stundensatz|taux\s+journalier|\bTJM\b|day\s+rate|daily\s+rate|hourly\s+rate|\bCTC\b|salaire|rémunération|sueldo|salario|retribución|stipendio|retribuzione|wynagrodzenie|"
    r"per\s+(?:hour|year|annum|month|day)|/hr|/year|/yr",
    re.I,
)
_NOT_PAY_BEFORE = re.compile(
    r"raised|raising|funding|funded|series\s+[a-f]\b|valuation|valued|revenue|\bARR\b|market|investors?|backed|"
    r"grant|under management|worth|\bGMV\b|budget|stipend|allowance|reimburse|gift|credit|bonus|commission|"
    r"sign(?:ing|-on)|relocation|401|\bseed\b|customers|in sales|spent|deploying|equity of|over\s*$",
    re.I,
)
_NOT_PAY_AFTER = re.compile(
    r"^\+?\s*(?:[mb]n?\b|bn|billion|trillion|million(?! (?:inr|idr|krw|jpy))|in (?:funding|revenue|sales|arr)|"
    r"(?:seed|series)|valuation|ARR|ACV|MRR|deals?\b|sales\b|quotas?|toward|pipeline|contracts?\b|/\s?mo\b(?=.*clos)|\+? ?(?:customers|users|employees|companies)|"
    r"(?:learning|education|home.?office|wellness|equipment)|stipend|budget|allowance|bonus|commission|"
    r"(?:annual|yearly|monthly)? ?(?:learning|education|wellness|stipend|budget|allowance|bonus|credit))",
    re.I,
)
_UP_TO = re.compile(r"(?:up\s+to|max(?:imum)?\.?|bis\s+zu|jusqu'à|hasta)\s*$", re.I)
_FROM = re.compile(r"(?:from|starting\s+at|min(?:imum)?\.?|ab|à\s+partir\s+de|desde|at\s+least)\s*$", re.I)

# Plausible ranges per period; anything outside is not a salary (a stipend, a funding round, a year).
_PLAUSIBLE = {"hour": (5, 2_000), "day": (40, 10_000), "week": (200, 40_000), "month": (300, 2_000_000), "year": (8_000, 100_000_000)}
_LARGE_UNIT_CURRENCIES = {"INR", "JPY", "KRW", "IDR", "VND", "CLP", "COP", "HUF", "PKR", "NGN", "KES", "ARS", "PHP", "THB", "UAH", "EGP"}


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
    best: tuple[int, str] | None = None
    for name, rx in _PERIOD_RES:
        m = rx.search(head)
        if m and m.start() <= 18 and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    if best:
        return best[1]
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


def find_salary(text: str, anchors: list[int] | None = None) -> Salary | None:
    """The most salary-like money span in ``text``, or None.

    ``anchors`` (positions of currency codes or pay words found by the caller's keyword scan) limit
    the regex to windows around them and around currency symbols; None scans the whole text.
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
    best: tuple[float, int, Salary] | None = None
    seen: set[int] = set()
    for lo, hi in spans:
        for m in _MONEY.finditer(text, lo, hi):
            if m.start() in seen:
                continue
            seen.add(m.start())
            cand = _candidate(text, m)
            if cand is None:
                continue
            salary, score = cand
            if best is None or (score, -m.start()) > (best[0], best[1]):
                best = (score, -m.start(), salary)
    return best[2] if best else None


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


def _candidate(text: str, m: re.Match) -> tuple[Salary, float] | None:
    g = m.groupdict()
    cur = _currency(g["apre"]) or _currency(g["bpre"]) or _currency(g["post"])
    suffixes = (g["asuf"] or "") + (g["bsuf"] or "")
    if not cur and re.search(r"lakh|lac|LPA", suffixes, re.I):
        cur = "INR"
    has_k = bool(re.search(r"[kK]|thousand|lakh|lac|LPA|L", suffixes))
    is_range = g["bnum"] is not None
    if not cur and not has_k:
        return None
    before = text[max(0, m.start() - 60) : m.start()]
    after = text[m.end() : m.end() + 40]
    clause = re.split(r"[.;!?\n|•]\s", before)[-1][-30:]  # funding words count only in the same clause
    if _NOT_PAY_AFTER.search(after) or _NOT_PAY_BEFORE.search(clause):
        return None
    if after[:1] == "%" or (g["asuf"] or "").strip() in ("m", "M", "mil", "million") and cur not in _LARGE_UNIT_CURRENCIES:
        return None
    low = parse_number(g["anum"], g["asuf"])
    high = parse_number(g["bnum"], g["bsuf"]) if is_range else None
    if low is None or re.fullmatch(r"40[13]", g["anum"]):  # 401(k)/403(b) plans, not pay
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
    lo_ok, hi_ok = _PLAUSIBLE[period]
    if cur in _LARGE_UNIT_CURRENCIES:
        hi_ok *= 100
    if not (lo_ok <= low <= hi_ok) or (high is not None and not (lo_ok <= high <= hi_ok)):
        return None
    if high is None and _UP_TO.search(before):
        low, high = None, low
    elif high is None and not _FROM.search(before) and not text[m.end() : m.end() + 1] == "+":
        high = low
    score = 0.0
    if _PAY_WORDS.search(before) or _PAY_WORDS.search(after[:25]):
        score += 3
    if is_range:
        score += 2
    if not guessed:
        score += 1.5
    if cur:
        score += 1
    if has_k:
        score += 0.5
    if cur and (has_k or re.search(r"\d[,.'’ ]\d{2,3}(?!\d)", g["anum"])):
        score += 1  # "$85K", "£58K", "CHF 140'000": a pay-shaped amount
    if _UP_TO.search(before) or _FROM.search(before):
        score += 1
    if m.start() == 0:
        score += 1  # the whole field is the amount (an API's pay text, a header cell)
    if "|" in before[-4:] or before.rstrip().endswith(("(", ":")):
        score += 1  # HN header fields and "Salary: …" lines
    if score < 3:
        return None  # a lone amount with no pay word, period or range: a price, a deal size, a perk
    return Salary(low, high, cur, period, m.group(0).strip()), score
