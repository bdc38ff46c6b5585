"""One pass over a posting that finds every keyword the rules extractor cares about.

An Aho-Corasick automaton (pyahocorasick, C) holds the anchors of every field and the skills
dictionary. The text is first normalized at the bytes level (ASCII punctuation → space, same
length), so each keyword is looked up as " word " and only whole-word hits reach Python. The
field rules then look at short windows around hits instead of running regexes over 6 KB texts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ahocorasick

from jobpipeline.lib.extract.salary import CURRENCY_CODES
from jobpipeline.lib.extract.skills import skill_keywords


# Work mode: "remote?" is checked against what follows ("remote machines" is not a work mode);
# "hybrid?" needs an office word nearby ("2 days a week in the office").
WORK_MODE: dict[str, str] = {
    **dict.fromkeys(("remote", "remotely", "remote-first", "remote-friendly", "wfh", "work from home", "working from home",
                     "work from anywhere", "fully distributed", "distributed team", "anywhere in the world", "télétravail",
                     "teletravail", "teletrabajo", "remoto", "remota", "home office", "homeoffice", "mobiles arbeiten",
                     "mobile arbeit", "ortsunabhängig", "trabalho remoto", "zdalnie", "zdalna", "thuiswerken",
                     "op afstand", "etätyö", "distansarbete", "fjernarbejde"), "remote"),
    **dict.fromkeys(("hybrid", "hybride", "hybrides", "hybrider", "hybridem", "hybriden", "hybrid-remote", "híbrido", "híbrida", "hibrido", "hibrida", "ibrido", "ibrida", "hybrydowo",
                     "hybrydowa", "partly remote", "partially remote", "part remote", "remote + office", "flexible working model"),
                    "hybrid"),
    **dict.fromkeys(("days a week", "days per week", "days week", "days in the office", "days in office",
                     "days in our office", "x a week"), "hybrid?"),
    **dict.fromkeys(("on-site", "onsite", "on site", "in-office", "in office", "in-person", "in person", "office-based",
                     "office based", "in our office", "irl", "vor ort", "présentiel", "presentiel", "sur site", "presencial",
                     "in sede", "stacjonarnie", "stacjonarna", "op kantoor", "på plats", "kontorbaseret"), "onsite"),
    **dict.fromkeys(("not remote", "no remote", "non-remote", "not a remote", "this is not a remote",
                     "remote is not", "remote work is not", "not fully remote"), "onsite!"),
}
# Employment type: anchors marked header-only are too common in descriptions ("contract negotiation").
EMPLOYMENT: dict[str, tuple[str, bool]] = {
    **{w: ("internship", False) for w in ("intern", "interns", "internship", "internships", "praktikum", "pasantía",
                                          "pasantia", "co-op", "werkstudent", "stagiaire", "summer intern")},
    **{w: ("part_time", False) for w in ("part-time", "part time", "parttime", "teilzeit", "temps partiel",
                                         "media jornada", "deeltijd")},
    **{w: ("contract", False) for w in ("contract role", "contract position", "contract basis", "contract-to-hire",
                                        "contract to hire", "freelance", "freelancer", "freiberuflich", "1099",
                                        "c2c", "corp-to-corp", "fixed-price contract", "contract engagement")},
    **{w: ("contract", True) for w in ("contract", "contractor", "contractors")},
    **{w: ("temporary", False) for w in ("temporary", "fixed-term", "fixed term", "befristet", "seasonal",
                                         "maternity cover", "cdd")},
    **{w: ("temporary", True) for w in ("temp",)},
    **{w: ("full_time", False) for w in ("full-time", "full time", "fulltime", "vollzeit", "temps plein",
                                         "tiempo completo", "jornada completa", "cdi")},
    **{w: ("full_time", True) for w in ("permanent", "fte")},
}
# Fields whose anchors only mark where to look; prefix anchors may run on into a longer word.
POSITIONS: dict[str, tuple[str, ...]] = {
    "visa": ("visa", "visas", "sponsor", "sponsorship", "sponsoring", "citizen", "citizens", "citizenship",
             "clearance", "h-1b", "h1b", "blue card", "work permit", "right to work"),
    "years": ("years", "year", "yrs", "yoe", "y/o/e", "jahre", "jahren", "ans", "años", "anni", "lat"),
    "pay": ("salary", "salaries", "compensation", "pay range", "base pay", "pay", "ote", "per hour", "hourly",
            "day rate", "lpa", "lakh", "lakhs", "k", *(c.lower() for c in CURRENCY_CODES), "chf"),
    # role headings: the summary starts after the first one
    "role": ("about the role", "the role", "about this role", "what you'll do", "what you’ll do", "role overview",
             "the opportunity", "responsibilities", "about the position", "in this role"),
}


def _ascii_punct_table() -> bytes:
    punct = bytes(b for b in range(33, 128) if not chr(b).isalnum() and chr(b) not in "+#")
    return bytes.maketrans(punct + b"\t\n\r", b" " * (len(punct) + 3))


_NORMALIZE = _ascii_punct_table()


def normalize(low: str) -> str:
    """``low`` with ASCII punctuation (not + #) as spaces, padded by one space each side; same offsets + 1."""
    if "\xa0" in low or "\u202f" in low:  # one character each way, so offsets stay put
        low = low.replace("\xa0", " ").replace("\u202f", " ")
    return " " + low.encode("utf-8", "surrogatepass").translate(_NORMALIZE).decode("utf-8", "surrogatepass") + " "


_UPPER, _LOWER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz"
_LOWER_ASCII = bytes.maketrans(_UPPER, _LOWER)
_LOWER_NORMALIZE = bytes(_NORMALIZE[_LOWER_ASCII[b]] for b in range(256))


def lower_and_normalize(text: str) -> tuple[str, str]:
    """(``text`` lower-cased, ``normalize`` of it) from one UTF-8 encoding, same offsets as ``text``.

    Only ASCII capitals are lower-cased (by byte table): ``str.lower()`` looks every character of a
    6 KB posting up in the Unicode tables and cost as much as the keyword scan itself. Non-ASCII
    capitals (É, Ü) stay as written, which no keyword or pattern here depends on."""
    raw = text.encode("utf-8", "surrogatepass")
    low = raw.translate(_LOWER_ASCII).decode("utf-8", "surrogatepass")
    if "\xa0" in text or "\u202f" in text:  # one character each way, so offsets stay put
        raw = text.replace("\xa0", " ").replace("\u202f", " ").encode("utf-8", "surrogatepass")
    return low, " " + raw.translate(_LOWER_NORMALIZE).decode("utf-8", "surrogatepass") + " "


def _key(word: str) -> str:
    return normalize(word.lower())


def _build() -> ahocorasick.Automaton:
    entries: dict[str, list[tuple[str, object]]] = {}
    for word, mode in WORK_MODE.items():
        entries.setdefault(_key(word), []).append(("mode", mode))
    for word, (kind, header_only) in EMPLOYMENT.items():
        entries.setdefault(_key(word), []).append(("employment", (kind, header_only)))
    for name, words in POSITIONS.items():
        for word in words:
            entries.setdefault(_key(word), []).append((name, None))
    for alias, (canon, cased) in skill_keywords().items():
        entries.setdefault(_key(alias), []).append(("skill", (canon, cased, len(alias))))
    automaton = ahocorasick.Automaton()
    for key, payload in entries.items():
        automaton.add_word(key, (len(key), tuple(payload)))
    automaton.make_automaton()
    return automaton


_AUTOMATON = _build()
_MAX_POSITIONS = 16


@dataclass(slots=True)
class Hits:
    """What one scan found: (position, value) pairs per field, in text order."""

    modes: list[tuple[int, str]] = field(default_factory=list)
    employment: list[tuple[int, tuple[str, bool]]] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    positions: dict[str, list[int]] = field(default_factory=dict)


def scan(text: str, low: str | None = None, normalized: str | None = None) -> Hits:
    """All keyword hits in ``text`` (positions index ``text``); ``low``/``normalized`` if already made."""
    if low is None:
        low, normalized = lower_and_normalize(text)
    if len(low) != len(text):  # lower() changed the length (rare Unicode): positions follow the lowered text
        text = low
    hits = Hits()
    for end, (length, payload) in _AUTOMATON.iter(normalized if normalized is not None else normalize(low)):
        start = end - length + 1  # the padded leading space sits at the word's own index in ``low``
        for name, extra in payload:
            if name == "skill":
                canon, cased, size = extra
                if cased is None or text[start : start + size] == cased:
                    hits.skills.append(canon)
            elif name == "mode":
                hits.modes.append((start, extra))
            elif name == "employment":
                hits.employment.append((start, extra))
            else:
                bucket = hits.positions.setdefault(name, [])
                if len(bucket) < _MAX_POSITIONS:
                    bucket.append(start)
    return hits
