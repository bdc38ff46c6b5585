"""Recognisers for the pieces of a "Who is hiring?" headline: role, remote wording, pay segment, type.

Deliberately simple keyword rules (the enrich stage's extractor fills what they miss); each takes
one headline segment or the whole headline and never raises.
"""

from __future__ import annotations

import re

from jobpipeline.lib.sources.base import HYBRID, ONSITE, REMOTE


class _Keywords:
    """A case-insensitive regex of keywords (its letters written lowercase), fast on ASCII text.

    Under ``re.I``, Python's ``re`` enters every alternative of a word list at every position; a
    case-sensitive pattern skips an alternative on its first letter. So ASCII text (nearly every
    headline) is lowercased and searched with a case-sensitive copy of the pattern: the same
    matches at the same offsets, in half the time or less for the long lists (roles, flag words).
    Other text is searched with ``re.I``, whose Unicode case folding is not ``str.lower`` ("ſ"
    matches "s", "ı" matches "i").
    """

    __slots__ = ("_any", "_lowered")

    def __init__(self, pattern: str) -> None:
        if re.search(r"(?<!\\)[A-Z]", pattern):
            raise ValueError(f"an uppercase letter would not match lowercased text: {pattern!r}")
        self._any = re.compile(pattern, re.I)
        self._lowered = re.compile(pattern)

    def search(self, text: str) -> bool:
        if text.isascii():
            return self._lowered.search(text.lower()) is not None
        return self._any.search(text) is not None

    def subn(self, repl: str, text: str) -> tuple[str, int]:
        """``re.subn`` with ``re.I``, except that ASCII text comes back lowercased."""
        if text.isascii():
            return self._lowered.subn(repl, text.lower())
        return self._any.subn(repl, text)


_REMOTE_NEG = _Keywords(r"\b(?:no|not|non)[\s-]+remote\b|\bremote\s*[:?]?\s*(?:no\b|not\b)|\bno\s+(?:wfh|work from home)\b")
_REMOTE_POS = _Keywords(
    r"\bremote(?:ly)?\b|\bwfh\b|\bwork from home\b|\b(?:or|work from|from) anywhere\b|\bfully distributed\b"
    r"|\bdistributed (?:team|company)\b|\btelecommute\b"
)
_ONSITE = _Keywords(r"\bon[\s-]?site\b|\bin[\s-](?:office|person)\b")
_HYBRID = _Keywords(r"\bhybrid\b")


def remote_wording(text: str) -> tuple[bool | None, str | None]:
    """``(remote, workplace_type)`` from REMOTE / ONSITE / HYBRID wording in ``text``, the workplace
    in the adapters' vocabulary (``lib/sources/base.py`` ``WORKPLACE_VALUES``).

    Remote allowed at all ("Remote or Onsite", "Onsite, Remote OK") → True; only onsite wording or
    "no remote" → False; hybrid alone → None with workplace "hybrid"; nothing said → (None, None).
    """
    negated, said_no = _REMOTE_NEG.subn(" ", text)
    positive = _REMOTE_POS.search(negated)
    onsite, hybrid = _ONSITE.search(text), _HYBRID.search(text)
    if positive:
        return True, (HYBRID if hybrid else None if onsite else REMOTE)
    if onsite or said_no:
        return False, (HYBRID if hybrid else ONSITE)
    return None, (HYBRID if hybrid else None)


_EMPLOYMENT = (
    ("full-time", _Keywords(r"\bfull[\s-]?time(?:rs?)?\b|\bfulltime\b|\bft\b")),
    ("part-time", _Keywords(r"\bpart[\s-]?time(?:rs?)?\b")),
    ("contract", _Keywords(r"\bcontract(?:ors?|ing)?\b|\bfreelance(?:rs?)?\b")),
    ("internship", _Keywords(r"\bintern(?:s|ships?)?\b")),
)


def employment_types(text: str) -> str | None:
    """The employment types named in ``text`` ("full-time", "part-time", "contract", "internship"), comma-joined."""
    found = [name for name, pattern in _EMPLOYMENT if pattern.search(text)]
    return ", ".join(found) or None


_ROLE = _Keywords(
    r"\b(?:engineer|engineering|developer|dev|devs|programmer|coder|hacker|architect|scientist|researcher"
    r"|designer|design|manager|lead|head|director|vp|cto|ceo|cfo|coo|founder|founding|analyst|administrator"
    r"|admin|sre|swe|devops|dev ?ops|ops|operations|fellow|consultant|specialist|coordinator|marketer"
    r"|marketing|sales|recruiter|recruiting|support|writer|editor|qa|tester|sdet|technician|associate"
    r"|representative|executive|officer|accountant|counsel|product|frontend|front[\s-]end|backend"
    r"|back[\s-]end|full[\s-]?stack|ios|android|mobile|ml|ai|data|security|software|artist|animator"
    r"|strategist|advocate|evangelist|instructor|teacher|tutor|staff|positions?|roles?|openings?|jobs?"
    r"|hires?|generalist|expert|guru|ninja|rockstar|machine learning|deep learning)s?\b"
)


def looks_like_role(segment: str) -> bool:
    return _ROLE.search(segment)


# Words that say nothing about role or place: a segment made only of these is "flags".
_FLAG_WORDS = _Keywords(
    r"\b(?:remote(?:ly)?|on[\s-]?site|in[\s-]office|hybrid|wfh|full[\s-]?time|fulltime|part[\s-]?time|ft|pt"
    r"|contract(?:ors?|ing)?|freelance(?:rs?)?|intern(?:s|ships?)?|visas?|h-?1-?bs?|sponsor(?:ship|ed)?"
    r"|relocation|work|permits?|ok|okay|friendly|only|first|preferred|possible|available|assistance|support"
    r"|welcome|options?|and|or|also|with|no|yes|days?|cdi|cdd|permanent|employees?|employment|positions?"
    r"|time|flexible|allowed|fully|distributed|provided|offered|required|candidates?|will|relocat\w*|considered|equity|rsus?|base|benefits|stock)\b"
)
_TWO_LETTERS = re.compile("[A-Za-z][^A-Za-z]*[A-Za-z]")


def is_flags_only(segment: str) -> bool:
    """True when ``segment`` holds nothing but remote/type/visa wording ("ONSITE, VISA, FULL-TIME")."""
    return not _TWO_LETTERS.search(_FLAG_WORDS.subn(" ", segment)[0])


# Where a free-form headline does not say which piece is the place: a "City, ST" / "City, Country"
# shape or one of the hubs that recur in the threads. Only used to tell a place from a company name.
_PLACE_SHAPE = re.compile(r",\s*(?!(?:inc|ltd|llc|gmbh|corp|co|s\.?a|b\.?v|ag|plc)\b)[A-Z][A-Za-z.]+", re.I)
_PLACE_CODES = re.compile(r"\b(?:USA?|U\.S\.A?\.?|UK|U\.K\.|EU|EMEA|APAC|NYC|SF|LA|DC)\b")  # case matters: "us"
_PLACE_NAMES = re.compile(
    r"\b(?:europe|canada|germany|france|spain|italy|netherlands|sweden|norway|denmark|finland|poland"
    r"|portugal|ireland|switzerland|austria|israel|india|china|japan|singapore|australia|brazil|mexico"
    r"|argentina|new york|san francisco|bay area|silicon valley|palo alto|mountain view|san jose|oakland"
    r"|berkeley|los angeles|seattle|portland|boston|cambridge|chicago|austin|denver|boulder|atlanta|miami"
    r"|washington|philadelphia|pittsburgh|toronto|vancouver|montreal|waterloo|london|edinburgh|manchester"
    r"|dublin|berlin|munich|hamburg|paris|amsterdam|stockholm|copenhagen|oslo|helsinki|zurich|geneva"
    r"|vienna|prague|warsaw|krakow|lisbon|madrid|barcelona|tel aviv|bangalore|bengaluru|tokyo|sydney"
    r"|melbourne|auckland|hong kong|shanghai|beijing)\b",
    re.I,
)


def looks_like_place(segment: str) -> bool:
    return bool(_PLACE_SHAPE.search(segment) or _PLACE_CODES.search(segment) or _PLACE_NAMES.search(segment))


_URL_ONLY = re.compile(
    r"^\(?\s*(?:https?://\S+|www\.\S+|[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:/\S*)?"  # a URL or a bare domain
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)\s*\)?$",  # or an email address
    re.I,
)


def is_url_or_email(segment: str) -> bool:
    return bool(_URL_ONLY.match(segment.strip()))


# Only to find which headline segment states the pay, so that it is taken for neither a place nor a
# role. Reading the amount is the main salary extractor's work (lib/extract/salary.py, run by the
# enrich stage on the whole comment): HN has no structured pay, so a posting carries none.
_CUR = r"(?:[$€£¥₹]|usd|eur|gbp|cad|aud|chf|sek|nok|dkk|pln|inr|jpy)"
_SALARY_HINT = _Keywords(rf"{_CUR}\s?\d|\d\s?k?\s?{_CUR}\b|\b\d+(?:\.\d+)?\s?k\b|\bsalary\b")
_DIGIT = re.compile(r"\d")


def looks_like_salary(segment: str) -> bool:
    """True when ``segment`` speaks of pay ("$130-150k + equity", "100-135k (DOE)", "competitive salary")."""
    # Every alternative but "salary" needs a digit: most segments (roles, places) have neither.
    # casefold, not lower: under re.I "ſ" is an "s".
    if not _DIGIT.search(segment) and "salary" not in segment.casefold():
        return False
    return _SALARY_HINT.search(segment)
