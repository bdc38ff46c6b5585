"""The one sanitizer for every stored text field: HTML or plain text in, clean plain text out.

What comes from a job board is hostile until cleaned: markup (sometimes escaped once or twice, so
that it turns into live markup after one decode), script and style bodies, NUL and other control
characters, right-to-left overrides that make a title read differently from what it is. Every text
a source adapter stores goes through here (``sources.base.sanitize_posting`` applies it to each
posting), so the store, the search index and the UI never see any of that:

- markup never survives: parsed with selectolax (lexbor, a C HTML5 parser; nh3 was tried and
  returns HTML-escaped text without block structure, so it would still need this decode loop), with
  ``script``/``style``/``noscript``/``iframe``/``template``/``object`` content dropped; text that
  still holds markup after one decode (it arrived escaped) is parsed again, up to a fixpoint;
- control characters (C0/C1 but newline), bidi overrides/isolates and other invisible format
  characters are removed;
- whitespace is normalized: blocks become lines (descriptions), or one line (``clean_line``).
"""

from __future__ import annotations

import html
import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser  # selectolax 1.0 dropped the modest backend

_BLOCK_TAGS = ("p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "section")
_DROPPED_TAG_NAMES = ("script", "style", "noscript", "iframe", "template", "object", "embed", "svg", "math", "head", "title")
# A CSS query cost as much as the parse (lexbor's selector engine is set up for each document): the
# block tags are found by name, and the dropped ones queried only when one of their start tags is in
# the markup, or a frameset's: a body holds none otherwise, and only a frameset takes the body's
# place (the text is then the root's, the head included).
_DROPPED_SELECTOR = ", ".join(_DROPPED_TAG_NAMES)
_DROPPED_START = re.compile("<(?:" + "|".join((*_DROPPED_TAG_NAMES, "frameset")) + ")", re.I)
# Whitespace other than a plain space or newline (tab, no-break and typographic spaces, zero-width
# space), and runs of two or more: each becomes one space. Only run where one of them is present
# (``_ODD_SPACE`` or "  "): on long descriptions this pass was most of the sanitizer's time. Then
# at most one space is left on each side of a line break, and ``_tidy`` removes it.
_ODD_SPACE = re.compile("[\t\xa0\u1680\u200b\u2000-\u200a\u202f\u205f\u3000]")
_SPACES = re.compile("[ \t\xa0\u1680\u200b\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\xa0\u1680\u200b\u2000-\u200a\u202f\u205f\u3000]")
_SPACE_RUN = re.compile(" {2,}")
_BLANK_LINES = re.compile(r"\n{3,}")
# A tag, comment, doctype or processing instruction starting: what an HTML parser would eat.
_MARKUP = re.compile(r"<[A-Za-z!/?]")
_ENTITY = re.compile(r"&(#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);?")
# Whatever an HTML parser still leaves looking like a tag after the decode rounds: removed outright.
_LEFTOVER_TAG = re.compile(r"<[A-Za-z!/?][^<>]*(?:>|$)")
# Removed from every text: C0 and C1 controls but \n (tabs and form feeds became spaces before), DEL,
# the LRM/RLM/ALM marks, bidi embeddings, overrides and isolates, the word joiner and invisible
# operators, the BOM, interlinear annotation marks, and lone surrogates (which cannot be encoded).
# Joiners (U+200C/D) stay: they shape real Persian, Indic and emoji text.
_INVISIBLE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_MAX_ROUNDS = 4  # markup escaped more than this many times is not a real posting: the rest is cut


def html_to_text(markup: str | None) -> str:
    """Readable plain text of an HTML fragment: blocks become lines, entities decoded, markup gone.

    Accepts HTML that an API escaped once more (Greenhouse's ``content=true`` returns ``&lt;p&gt;``).
    """
    return clean_text(markup)


def clean_text(value: object) -> str:
    """Multi-line clean text (descriptions): markup stripped, controls removed, blank runs collapsed.

    A non-string becomes ``""``: the adapters decide which fields are required, not the sanitizer.
    """
    if not isinstance(value, str) or not value:
        return ""
    if _is_clean(value):
        return value
    text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    for _ in range(_MAX_ROUNDS):
        if _MARKUP.search(text):
            text = _parsed_text(text)
        elif "&" in text and _ENTITY.search(text):
            decoded = html.unescape(text)
            if decoded == text:
                break
            text = decoded
        else:
            break
    else:
        text = _LEFTOVER_TAG.sub("", text)
    if _MARKUP.search(text):  # a tag the parser kept as text (e.g. an unclosed "<script" at the end)
        text = _LEFTOVER_TAG.sub("", text)
    text = text.replace("\t", " ").replace("\x0b", " ").replace("\x0c", " ")
    if not text.replace("\n", " ").isprintable():  # most text is: no table pass then
        text = _INVISIBLE.sub("", text)
    return _tidy(text)


def clean_line(value: object) -> str:
    """One-line clean text (titles, company, locations, department): like ``clean_text``, on one line."""
    if isinstance(value, str) and _is_clean_line(value):
        return value
    return " ".join(clean_text(value).split())


def _is_clean_line(text: str) -> bool:
    """Already what ``clean_line`` returns (most titles and locations): printable excludes line breaks,
    tabs and every space but U+0020, so with no markup, no two spaces and no space at either end,
    neither ``clean_text`` nor the split and join would change it."""
    return "<" not in text and "&" not in text and "  " not in text and text.isprintable() and text == text.strip()


def clean_or_none(value: object) -> str | None:
    """``clean_line`` of a string, or None when nothing is left."""
    return clean_line(value) or None


def _parsed_text(markup: str) -> str:
    tree = HTMLParser(markup)
    if _DROPPED_START.search(markup):
        for node in tree.css(_DROPPED_SELECTOR):
            node.decompose()
    for tag in _BLOCK_TAGS:
        for node in tree.tags(tag):
            node.insert_before("\n")
            if tag == "li":
                node.insert_before("- ")
    root = tree.body or tree.root
    return root.text(separator="", deep=True) if root else ""


def _is_clean(text: str) -> bool:
    """Already what ``clean_text`` returns (most text, and all of its own output): a few C-speed scans
    instead of a parse and five regex passes. Non-printable covers controls, format characters and
    every space but U+0020."""
    return (
        "<" not in text
        and "&" not in text
        and text.replace("\n", " ").isprintable()
        and text == text.strip()
        and "  " not in text
        and " \n" not in text
        and "\n " not in text
        and "\n\n\n" not in text
    )


def _tidy(text: str) -> str:
    if ("\t" in text or not text.isascii()) and _ODD_SPACE.search(text):
        text = _SPACES.sub(" ", text)
    elif "  " in text:
        text = _SPACE_RUN.sub(" ", text)  # the same as _SPACES where only plain spaces are: a literal search
    if " \n" in text or "\n " in text:  # the one space (no two are adjacent now) on either side of a break
        text = text.replace(" \n", "\n").replace("\n ", "\n")
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
