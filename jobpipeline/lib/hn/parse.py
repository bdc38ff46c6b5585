"""One top-level "Who is hiring?" comment → one ``Posting`` (source ``hn``, board = the month).

Every live comment becomes a posting, parsed or not: the description is always the full clean text.
The headline (first line of the first paragraph) is read in one of two layouts:

- **pipe**: ``Company | Role | Location | REMOTE/ONSITE | Salary | URL`` in any order after the
  company; each segment is classified (URL, salary, remote/type flags, role, else location).
- **free-form** (no ``|`` in the headline): the 2011-style ``Location - Role @ Company``, slashes,
  or prose; segments split on spaced dashes, colons, ``@`` and ``/``; a piece shaped like a place
  is a location, the first other short one the company; "X is hiring" / "At X, we" name it too,
  and a headline that is only a place ("San Francisco, CA") takes the company from line two.

Title: every role named, in order, joined with " / " — including the roles of further pipe lines of
the same company ("MAARK | Senior Frontend Engineer | …<p>MAARK | Wordpress Developer | …"); empty
when no role could be recognised. Company is empty when unknown. ``remote`` is read from the
headline only (the body mentions "remote" in too many other senses). ``apply_url`` is the first URL
of the comment (HN links are shown cut with "…", so the href is used).

Pay: the headline's pay segment is kept as ``salary_text``, and ``salary_min``/``max``/``currency``/
``period`` stay empty. Those fields mean "the source's API stated this pay" (they win over
extraction, labelled ``salary_source="api"``); HN states pay only in prose, so the enrich stage reads
it with the one salary extractor (``lib/extract/salary.py``) from the whole comment, headline
included, and labels it "extracted".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from jobpipeline.lib.hn import fields
from jobpipeline.lib.hn.comments import HNComment
from jobpipeline.lib.postings import Posting
from jobpipeline.lib.text import html_to_text

SOURCE = "hn"
Layout = Literal["pipe", "free-form"]

# HN emits links in exactly this shape: <a href="https:&#x2F;&#x2F;…" rel="nofollow">https:&#x2F;&#x2F;…...</a>
_ANCHOR = re.compile(r"<a\s[^>]*?href=\"([^\"]*)\"[^>]*>.*?</a>", re.I | re.S)
_URL = re.compile(r"https?://[^\s<>\"'\]\[|]+|(?<![\w@./])www\.[^\s<>\"'\]\[|]+", re.I)
_FREE_SPLIT = re.compile(r"\s+[-–—]+\s+|:\s+|\s+@\s+|\s*/\s+|\s+/\s*")
# "Groupon is hiring …", "Tutorspree (YC W11) is looking …", "Etsy, the global marketplace …, is hiring …"
_IS_HIRING = re.compile(
    r"^(?!(?i:we|i|our|they|you|he|she|it|this|my)\b)(?:the\s+)?([A-Z0-9][\w.&'’ -]{0,40}?)"
    r"(?:\s*\([^)]{0,60}\))?(?:,.{0,120}?,)?\s+(?:is|are)\s+(?:hiring|looking|seeking|searching|growing)\b"
)
_AT_X_WE = re.compile(r"^At\s+([A-Z0-9][\w.&'’ -]{0,40}?),\s+we\b")
_BARE_DOMAIN = re.compile(r"^[A-Za-z0-9][\w-]*(?:\.[\w-]+)*\.(?:com|net|org|io|co|me|ly|ai|edu)$", re.I)
_DASH = re.compile(r"\s+[-–—]+\s+")
_LABEL = re.compile(r"^(location|company|position|role|title|description)\s*:\s*", re.I)
_PLACE_SPLIT = re.compile(r",?\s+(?:or|and)\s+|\s*;\s*|\s+/\s+|\s+\+\s+|\s+&\s+|\s*\|\s*", re.I)


@dataclass(slots=True)
class ParsedComment:
    posting: Posting
    layout: Layout


def comment_text(markup: str, *, literal_newlines: bool = False) -> str:
    """Clean text of HN comment HTML, links shown as their full (unescaped) URL.

    ``literal_newlines``: the Algolia items of old threads (2011) carry newlines as a backslash and
    an ``n`` (30 of 219 comments, code blocks included); Firebase text does not, and there a
    backslash-n is real text (the 2020-02 company "\\newline").
    """
    if literal_newlines:
        markup = markup.replace("\\n", "\n")
    return html_to_text(_ANCHOR.sub(r"\1", markup))  # the href, still escaped: decoded once below


def _url_start(text: str) -> int:
    """Where ``_URL`` can first match: at the first "http" or "www." in any case; -1 when there is none.

    Under ``re.I`` the search tries both alternatives at every position; ``str.find`` on the
    lowercased text skips to the first candidate. Where lowercasing changes the length ("İ" → "i̇")
    the offsets would not agree: 0 then, the whole text is searched.
    """
    lowered = text.lower()
    if len(lowered) != len(text):
        return 0
    http, www = lowered.find("http"), lowered.find("www.")
    return min(http, www) if http >= 0 and www >= 0 else max(http, www)


def first_url(text: str) -> str | None:
    if (start := _url_start(text)) < 0 or not (match := _URL.search(text, start)):
        return None
    url = match[0].rstrip(".,;:!?)'\"")
    return url if url.lower().startswith("http") else "http://" + url


@dataclass(slots=True)
class _Headline:
    """What a headline gave, before it becomes a ``Posting``."""

    company: str = ""
    roles: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    salary_text: str | None = None


_WHITESPACE = re.compile(r"\s+")


def _clean(segment: str) -> str:
    if "  " in segment or not segment.isprintable():  # of the \s characters only " " is printable
        segment = _WHITESPACE.sub(" ", segment)
    return segment.strip(" \t,;:-–—*#")


_URL_IN_PARENS = re.compile(r"\(\s*(?:https?://|www\.)[^)]*\)?", re.I)


def _without_urls(segment: str) -> str:
    if _url_start(segment) < 0:  # both patterns start at an "http" or "www."
        return segment
    return _URL.sub(" ", _URL_IN_PARENS.sub(" ", segment))


def _company(segment: str) -> str:
    """The company name: URLs and labels dropped, and whatever follows a spaced dash
    ("Amazon Web Services - Lambda", "MongoDB -- NYC/Palo Alto")."""
    name = _DASH.split(_LABEL.sub("", _without_urls(segment)).strip())[0]
    return _clean(name)


_PARENS = re.compile(r"\([^()]*\)")


def _places(segment: str) -> list[str]:
    """Places of one segment, never split inside parentheses: "Paris or Nantes; Bonn (DE, AT)" → 3 places."""
    asides = _PARENS.findall(segment)
    masked = _PARENS.sub("\0", segment)
    pieces = []
    for piece in _PLACE_SPLIT.split(masked):
        while "\0" in piece:
            piece = piece.replace("\0", asides.pop(0), 1)
        pieces.append(_clean(piece))
    return [p for p in pieces if p and not fields.is_flags_only(p)]


def _classify_into(head: _Headline, segments: list[str], *, free_form: bool) -> None:
    leftovers: list[str] = []
    for raw in segments:
        segment = _clean(_LABEL.sub("", _without_urls(raw).strip()))
        if not segment or fields.is_url_or_email(segment):
            if free_form and not head.company and _BARE_DOMAIN.match(raw.strip()):
                head.company = raw.strip()  # "Palo Alto, CA - SurveyMonkey.com"
            continue
        if free_form and segment.startswith("(") and segment.endswith(")"):
            continue  # an aside, not a field
        if fields.looks_like_salary(segment):
            head.salary_text = head.salary_text or segment
        elif fields.is_flags_only(segment):
            continue
        elif fields.looks_like_role(segment):
            head.roles.append(segment)
        elif len(segment.split()) <= (8 if free_form else 5) or fields.looks_like_place(segment):
            leftovers.append(segment)  # longer pieces that name no place are sentences
    # Pipe: the company came first, anything else is a place. Free-form: a piece shaped like a
    # place is one; the first other piece is the company.
    for segment in leftovers:
        if not free_form or fields.looks_like_place(segment):
            head.locations.extend(_places(segment))
        elif not head.company and len(segment.split()) <= 5 and not re.search(r"[!?]", segment):
            head.company = _company(segment)  # longer, or exclaiming/asking: a sentence, not a name


def _parse_pipe(headline: str, lines: list[str]) -> _Headline:
    segments = headline.split("|")
    company = _company(segments[0])
    head = _Headline(company="" if fields.is_flags_only(company) else company)
    _classify_into(head, segments[1:], free_form=False)
    # Further pipe lines of the same company add their roles ("MAARK | Wordpress Developer | …").
    for line in lines[1:]:
        more = line.split("|")
        if len(more) > 2 and head.company and _company(more[0]).lower() == head.company.lower():
            extra = _Headline()
            _classify_into(extra, more[1:], free_form=False)
            head.roles.extend(r for r in extra.roles if r not in head.roles)
    return head


def _parse_free_form(headline: str) -> _Headline:
    head = _Headline()
    if match := (_IS_HIRING.match(headline) or _AT_X_WE.match(headline)):
        head.company = _company(match[1])
        return head  # prose: the rest is a sentence, not fields
    if len(headline) > 160 or (len(headline) > 60 and not _FREE_SPLIT.search(headline)):
        return head  # prose: leave the fields to the extractor
    if (label := _LABEL.match(headline)) and label[1].lower() in ("location", "company"):
        rest = headline[label.end() :]  # "Location: New Orleans" says what it is
        if label[1].lower() == "location":
            head.locations = _places(rest)
        else:
            head.company = _company(rest)
        return head
    _classify_into(head, _FREE_SPLIT.split(_LABEL.sub("", headline)), free_form=True)
    return head


def parse_comment(comment: HNComment, month: str) -> ParsedComment:
    """A live comment → its posting and the layout its headline used. Never drops a comment."""
    text = comment_text(comment.text or "", literal_newlines=comment.api == "algolia")
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    headline = lines[0] if lines else ""
    layout: Layout = "pipe" if headline.count("|") >= 1 else "free-form"
    head = _parse_pipe(headline, lines) if layout == "pipe" else _parse_free_form(headline)
    if layout == "free-form" and not head.company and len(lines) > 1:
        # "San Francisco, CA" then "Greplin - We're a YC W10 company…": the name opens line two.
        head.company = _parse_free_form(lines[1]).company
    remote, workplace = fields.remote_wording(headline)
    posting = Posting(
        source=SOURCE,
        board=month,
        source_job_id=str(comment.id),
        company=head.company,
        title=" / ".join(dict.fromkeys(head.roles)),
        locations=list(dict.fromkeys(head.locations)),
        remote=remote,
        workplace_type=workplace,
        description=text,
        employment_type=fields.employment_types(headline),
        posted_at=comment.time,
        salary_text=head.salary_text,  # as written: the amount is read by the enrich stage's extractor
        apply_url=first_url(text),
    )
    return ParsedComment(posting=posting, layout=layout)
