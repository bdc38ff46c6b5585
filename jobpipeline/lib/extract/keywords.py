"""One pass over a posting that finds every keyword the rules extractor cares about.

An Aho-Corasick automaton holds the anchors of every field and the skills dictionary. The text
is first normalized at the bytes level (ASCII punctuation → space, same length), so each keyword
is looked up as " word " and only whole-word hits reach Python. The field rules then look at short
windows around hits instead of running regexes over 6 KB texts.

The automaton is ahocorasick_rs's (Rust; its contiguous NFA, which stays in cache better than its
DFA) over bytes: the walk over the text was the largest single cost of the rules extractor, and
it takes half the time of pyahocorasick's trie over a ``str``. The bytes hold ONE byte per
character, so the automaton's offsets are the text's
character offsets: the UTF-8 continuation bytes are deleted in the same ``translate`` that lowers
and normalizes, which leaves each non-ASCII character as its lead byte. ASCII keywords match
exactly as before (a lead byte is never ASCII); the few keywords with é, ñ, ’ … are checked
against the text on a hit, since "é" and "ñ" share a lead byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ahocorasick_rs

from jobpipeline.lib.extract.salary import CURRENCY_CODES
from jobpipeline.lib.extract.skills import skill_keywords

# Work mode: "remote?" is checked against what follows ("remote machines" is not a work mode);
# "hybrid?" needs an office word nearby ("2 days a week in the office").
WORK_MODE: dict[str, str] = {
    **dict.fromkeys(
        (
            "remote",
            "remotely",
            "remote-first",
            "remote-friendly",
            "wfh",
            "work from home",
            "working from home",
            "work from anywhere",
            "fully distributed",
            "distributed team",
            "anywhere in the world",
            "télétravail",
            "teletravail",
            "teletrabajo",
            "remoto",
            "remota",
            "home office",
            "homeoffice",
            "mobiles arbeiten",
            "mobile arbeit",
            "ortsunabhängig",
            "trabalho remoto",
            "zdalnie",
            "zdalna",
            "thuiswerken",
            "op afstand",
            "etätyö",
            "distansarbete",
            "fjernarbejde",
        ),
        "remote",
    ),
    **dict.fromkeys(
        (
            "hybrid",
            "hybride",
            "hybrides",
            "hybrider",
            "hybridem",
            "hybriden",
            "hybrid-remote",
            "híbrido",
            "híbrida",
            "hibrido",
            "hibrida",
            "ibrido",
            "ibrida",
            "hybrydowo",
            "hybrydowa",
            "partly remote",
            "partially remote",
            "part remote",
            "remote + office",
            "flexible working model",
        ),
        "hybrid",
    ),
    **dict.fromkeys(
        ("days a week", "days per week", "days week", "days in the office", "days in office", "days in our office", "x a week"), "hybrid?"
    ),
    **dict.fromkeys(
        (
            "on-site",
            "onsite",
            "on site",
            "in-office",
            "in office",
            "in-person",
            "in person",
            "office-based",
            "office based",
            "in our office",
            "irl",
            "vor ort",
            "présentiel",
            "presentiel",
            "sur site",
            "presencial",
            "in sede",
            "stacjonarnie",
            "stacjonarna",
            "op kantoor",
            "på plats",
            "kontorbaseret",
        ),
        "onsite",
    ),
    **dict.fromkeys(
        (
            "not remote",
            "no remote",
            "non-remote",
            "not a remote",
            "this is not a remote",
            "remote is not",
            "remote work is not",
            "not fully remote",
        ),
        "onsite!",
    ),
}
# Employment type: anchors marked header-only are too common in descriptions ("contract negotiation").
EMPLOYMENT: dict[str, tuple[str, bool]] = {
    **{
        w: ("internship", False)
        for w in (
            "intern",
            "interns",
            "internship",
            "internships",
            "praktikum",
            "pasantía",
            "pasantia",
            "co-op",
            "werkstudent",
            "stagiaire",
            "summer intern",
        )
    },
    **{w: ("part_time", False) for w in ("part-time", "part time", "parttime", "teilzeit", "temps partiel", "media jornada", "deeltijd")},
    **{
        w: ("contract", False)
        for w in (
            "contract role",
            "contract position",
            "contract basis",
            "contract-to-hire",
            "contract to hire",
            "freelance",
            "freelancer",
            "freiberuflich",
            "1099",
            "c2c",
            "corp-to-corp",
            "fixed-price contract",
            "contract engagement",
        )
    },
    **{w: ("contract", True) for w in ("contract", "contractor", "contractors")},
    **{w: ("temporary", False) for w in ("temporary", "fixed-term", "fixed term", "befristet", "seasonal", "maternity cover", "cdd")},
    **{w: ("temporary", True) for w in ("temp",)},
    **{
        w: ("full_time", False)
        for w in ("full-time", "full time", "fulltime", "vollzeit", "temps plein", "tiempo completo", "jornada completa", "cdi")
    },
    **{w: ("full_time", True) for w in ("permanent", "fte")},
}
# Fields whose anchors only mark where to look; prefix anchors may run on into a longer word.
POSITIONS: dict[str, tuple[str, ...]] = {
    "visa": (
        "visa",
        "visas",
        "sponsor",
        "sponsorship",
        "sponsoring",
        "citizen",
        "citizens",
        "citizenship",
        "clearance",
        "h-1b",
        "h1b",
        "blue card",
        "work permit",
        "right to work",
    ),
    "years": ("years", "year", "yrs", "yoe", "y/o/e", "jahre", "jahren", "ans", "años", "anni", "lat"),
    "pay": (
        "salary",
        "salaries",
        "compensation",
        "pay range",
        "base pay",
        "pay",
        "ote",
        "per hour",
        "hourly",
        "day rate",
        "lpa",
        "lakh",
        "lakhs",
        "k",
        *(c.lower() for c in CURRENCY_CODES),
        "chf",
    ),
    # role headings: the summary starts after the first one
    "role": (
        "about the role",
        "the role",
        "about this role",
        "what you'll do",
        "what you’ll do",
        "role overview",
        "the opportunity",
        "responsibilities",
        "about the position",
        "in this role",
    ),
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


def _normalize_bytes(low: str) -> bytes:
    """``normalize`` as one byte per character: each non-ASCII character is its UTF-8 lead byte."""
    if "\xa0" in low or "\u202f" in low:  # one character each way, so offsets stay put
        low = low.replace("\xa0", " ").replace("\u202f", " ")
    return b" " + low.encode("utf-8", "surrogatepass").translate(_NORMALIZE, _CONTINUATION_BYTES) + b" "


_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))  # deleted: a non-ASCII character keeps only its lead byte


_UPPER, _LOWER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz"
_LOWER_ASCII = bytes.maketrans(_UPPER, _LOWER)
_LOWER_NORMALIZE = bytes(_NORMALIZE[_LOWER_ASCII[b]] for b in range(256))
_ASCII_BYTES = bytes(range(128))


def lower_and_normalize(text: str) -> tuple[str, str]:
    """(``text`` lower-cased as ``str.lower()`` does, ``normalize`` of it), same offsets as ``text``."""
    lowered, _ = lower_and_normalize_bytes(text)
    low = lowered.full if lowered.full is not None else lowered.window(0, len(text))
    return low, normalize(low)


@dataclass(slots=True, frozen=True)
class Lowered:
    """A text lower-cased as ``str.lower()`` does, read in windows around the scan's hits.

    Decoding a whole lower-cased copy of a 6 KB posting cost more than every window the field
    rules read from it, so a copy is made only when ``str.lower()`` was needed anyway (a non-ASCII
    capital: É, Ü, İ); otherwise no character of the text but A-Z has a lower case, and a window
    of the text lower-cased is the same window of the copy."""

    text: str
    full: str | None = None  # the whole lower-cased text, when made

    def window(self, start: int, stop: int) -> str:
        """``low[start:stop]`` (``start`` ≥ 0) of the lower-cased text."""
        return self.full[start:stop] if self.full is not None else self.text[start:stop].lower()

    def __len__(self) -> int:
        return len(self.full if self.full is not None else self.text)


def lower_and_normalize_bytes(text: str) -> tuple[Lowered, bytes]:
    """(``text`` lower-cased as ``str.lower()`` does, ``normalize`` of it as one byte per character):
    what ``scan`` reads.

    ``str.lower()`` looks every character of a 6 KB posting up in the Unicode tables and cost as
    much as the keyword scan itself, so ASCII capitals are lowered by a byte table. That is exact
    only when no non-ASCII character has a lower case: the non-ASCII bytes are cut out (ASCII bytes
    never occur inside a multi-byte UTF-8 sequence) and those few characters are checked; a text
    with É or Ü in it takes ``str.lower()`` (which may change the length, rarely: "İ")."""
    raw = text.encode("utf-8", "surrogatepass")
    if not text.isascii():
        foreign = raw.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")  # its few non-ASCII characters
        if foreign.lower() != foreign:
            low = text.lower()
            return Lowered(text, low), _normalize_bytes(low)
        if "\xa0" in foreign or "\u202f" in foreign:  # one character each way, so offsets stay put
            raw = text.replace("\xa0", " ").replace("\u202f", " ").encode("utf-8", "surrogatepass")
    return Lowered(text), b" " + raw.translate(_LOWER_NORMALIZE, _CONTINUATION_BYTES) + b" "


def _key(word: str) -> str:
    return normalize(word.lower())


def _build() -> tuple[ahocorasick_rs.BytesAhoCorasick, list[tuple[str | None, tuple[tuple[str, object], ...]]]]:
    """The automaton over keys as ``_normalize_bytes`` writes them, and by key index: the key itself when
    it has non-ASCII characters (to check a hit against the text), and its payloads."""
    entries = keyword_entries()
    # "años" and "añós" would share one byte key; each keeps its own entry and is checked on a hit.
    patterns = [_normalize_bytes(key[1:-1]) for key in entries]
    # A DFA: ~25 % faster per scan than the contiguous NFA on real postings, for 2 ms more at import.
    automaton = ahocorasick_rs.BytesAhoCorasick(patterns, implementation=ahocorasick_rs.Implementation.DFA)
    return automaton, [(None if key.isascii() else key, tuple(payload)) for key, payload in entries.items()]


def keyword_entries() -> dict[str, list[tuple[str, object]]]:
    """Every keyword as ``normalize`` writes it (" remote first ") → what a hit on it means, per field."""
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
    return entries


_AUTOMATON, _PAYLOADS = _build()
_MAX_POSITIONS = 16


@dataclass(slots=True)
class Hits:
    """What one scan found: (position, value) pairs per field, in text order."""

    modes: list[tuple[int, str]] = field(default_factory=list)
    employment: list[tuple[int, tuple[str, bool]]] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    positions: dict[str, list[int]] = field(default_factory=dict)


def scan(text: str, lowered: Lowered | None = None, normalized: bytes | None = None) -> Hits:
    """All keyword hits in ``text`` (positions index ``text``); ``lowered``/``normalized`` if already made
    (``lower_and_normalize_bytes``)."""
    if lowered is None or normalized is None:
        lowered, normalized = lower_and_normalize_bytes(text)
    if lowered.full is not None and len(lowered.full) != len(text):
        text = lowered.full  # lower() changed the length (rare Unicode): positions follow the lowered text
    modes: list[tuple[int, str]] = []
    employment: list[tuple[int, tuple[str, bool]]] = []
    skills: list[str] = []
    positions: dict[str, list[int]] = {}
    for index, start, end in _AUTOMATON.find_matches_as_indexes(normalized, overlapping=True):
        # ``start``: the padded leading space, at the word's own index in the text (one byte per character)
        key, payloads = _PAYLOADS[index]
        if key is not None and normalize(lowered.window(start, end - 2)) != key:
            continue  # a non-ASCII keyword's bytes, but other letters with the same lead bytes
        for name, extra in payloads:
            if name == "skill":
                canon, cased, size = extra
                if cased is None or text[start : start + size] == cased:
                    skills.append(canon)
            elif name == "mode":
                modes.append((start, extra))
            elif name == "employment":
                employment.append((start, extra))
            else:
                bucket = positions.setdefault(name, [])
                if len(bucket) < _MAX_POSITIONS:
                    bucket.append(start)
    return Hits(modes, employment, skills, positions)
