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
_DROPPED_TAGS = "script, style, noscript, iframe, template, object, embed, svg, math, head, title"
_SPACES = re.compile(r"[ \t\u00a0\u200b\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
# A tag, comment, doctype or processing instruction starting: what an HTML parser would eat.
_MARKUP = re.compile(r"<[A-Za-z!/?]")
_ENTITY = re.compile(r"&(#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);?")
# Whatever an HTML parser still leaves looking like a tag after the decode rounds: removed outright.
_LEFTOVER_TAG = re.compile(r"<[A-Za-z!/?][^<>]*(?:>|$)")
# C0 and C1 controls but \n (tabs and form feeds became spaces before), DEL, the bidi embeddings,
# overrides and isolates, the LRM/RLM/ALM marks, word joiners, BOM, interlinear annotation marks
# and lone surrogates (which cannot be encoded anyway).
_INVISIBLE = re.compile(
    "["
    "\x00-\x09\x0b-\x1f\x7f-\x9f"  # C0 and C1 controls but \n, DEL
    "\u061c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"  # LRM/RLM/ALM, bidi overrides and isolates, word joiner
    "\ufeff\ufff9-\ufffb\ud800-\udfff"  # BOM, interlinear annotation marks, lone surrogates
    "]"
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
    return _tidy(_INVISIBLE.sub("", text.replace("\t", " ").replace("\x0b", " ").replace("\x0c", " ")))


def clean_line(value: object) -> str:
    """One-line clean text (titles, company, locations, department): like ``clean_text``, on one line."""
    return " ".join(clean_text(value).split())


def clean_or_none(value: object) -> str | None:
    """``clean_line`` of a string, or None when nothing is left."""
    return clean_line(value) or None


def _parsed_text(markup: str) -> str:
    tree = HTMLParser(markup)
    for node in tree.css(_DROPPED_TAGS):
        node.decompose()
    for tag in _BLOCK_TAGS:
        for node in tree.css(tag):
            node.insert_before("\n")
            if tag == "li":
                node.insert_before("- ")
    root = tree.body or tree.root
    return root.text(separator="", deep=True) if root else ""


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
