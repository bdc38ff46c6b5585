"""HTML → clean text for job descriptions (selectolax: a C parser, fast enough for bulk ingest)."""

from __future__ import annotations

import html
import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser  # selectolax 1.0 dropped the modest backend

_BLOCK_TAGS = ("p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "section")
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


def html_to_text(markup: str | None) -> str:
    """Readable plain text of an HTML fragment: blocks become lines, entities decoded, spaces collapsed.

    Accepts HTML that an API escaped once more (Greenhouse's ``content=true`` returns ``&lt;p&gt;``).
    """
    if not markup:
        return ""
    if "<" not in markup and "&lt;" in markup:
        markup = html.unescape(markup)
    if "<" not in markup:
        return _tidy(html.unescape(markup))
    tree = HTMLParser(markup)
    for node in tree.css("script, style"):
        node.decompose()
    for tag in _BLOCK_TAGS:
        for node in tree.css(tag):
            node.insert_before("\n")
            if tag == "li":
                node.insert_before("- ")
    root = tree.body or tree.root
    return _tidy(root.text(separator="", deep=True) if root else "")


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
