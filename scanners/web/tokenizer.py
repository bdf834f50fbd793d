"""A small, tolerant HTML tokenizer whose cost is linear in the input.

Why not ``html.parser``: on CPython 3.11 the stdlib parser re-scans the rest of the document for
every unclosed start tag (40 KB of ``<a <a <a …`` took 27 s) and raises ``AssertionError`` on
input such as ``<![<![``. A page is attacker-controlled, so the tokenizer must bound its work
itself. This one only ever searches forward from a position that only grows, every search is a
``str.find`` or an anchored regex whose repeats are followed by a disjoint terminator, and it never
raises on any string.

What it models (enough to tell visible from hidden text, not a conforming HTML5 parser): start and
end tags with attributes (quoted, unquoted, bare), comments (``-->``, ``--!>`` and the empty forms),
doctype / processing instructions / CDATA as ignored markup, raw-text elements (``script``,
``style`` …) whose content is not markup, and RCDATA (``title``, ``textarea``) whose content is
text. Character references are decoded with ``html.unescape``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_ATTRIBUTES = 64  # further attributes of one tag are consumed but not kept
MAX_ATTRIBUTE_VALUE = 4096  # a kept value is cut to this many characters

RAW_TEXT = frozenset({"script", "style", "xmp", "iframe", "noembed", "noframes"})
RCDATA = frozenset({"title", "textarea"})

_TAG_NAME = re.compile(r"[A-Za-z][^\t\n\f\r />\x00]{0,63}")
_NAME_TAIL = re.compile(r"[^\t\n\f\r />\x00]*")  # the rest of an over-long tag name, dropped
# One attribute: optional separators, a name, and optionally "=" with the start of a value (a quote
# character, whose closing quote is then found with str.find, or a whole unquoted value). Each
# repeat is followed by a character class it excludes, so a match never backtracks.
_ATTRIBUTE = re.compile(
    r"[\t\n\f\r /]*(?:([^\t\n\f\r />][^\t\n\f\r />=]*)(?:[\t\n\f\r ]*=[\t\n\f\r ]*(['\"]|[^\t\n\f\r >'\"][^\t\n\f\r >]*)?)?)?"
)
_RAW_END = {name: re.compile(rf"</{name}(?=[\t\n\f\r />])", re.IGNORECASE) for name in RAW_TEXT | RCDATA}


def _unescape(text: str) -> str:
    return html.unescape(text) if "&" in text else text


@dataclass(slots=True)
class Token:
    kind: str  # "text", "start", "end", "comment"
    data: str = ""  # text (decoded), comment body, or the lower-cased tag name
    attrs: dict[str, str] = field(default_factory=dict)
    self_closing: bool = False


def _scan_attributes(text: str, pos: int) -> tuple[dict[str, str], bool, int, bool]:
    """Attributes from ``pos`` to the closing ``>``; returns them, whether the tag ended with
    ``/>``, the index after the tag, and whether the tag was closed at all (an unclosed one runs to
    the end of the input and is dropped, as browsers do)."""
    attrs: dict[str, str] = {}
    size = len(text)
    while True:
        match = _ATTRIBUTE.match(text, pos)
        pos = match.end()
        name, value = match.group(1), match.group(2)
        if name is None:
            if pos >= size:
                return attrs, False, size, False
            # Only ">" can stop the pattern before a name.
            return attrs, text[pos - 1] == "/", pos + 1, True
        if value in ("'", '"'):
            close = text.find(value, pos)
            if close < 0:
                return attrs, False, size, False  # unterminated quote: the tag runs to the end
            value = text[pos:close]
            pos = close + 1
        if len(attrs) < MAX_ATTRIBUTES:
            key = name[:256].lower()
            if key not in attrs:
                attrs[key] = _unescape((value or "")[:MAX_ATTRIBUTE_VALUE])


def _comment_end(text: str, start: int) -> tuple[int, int]:
    """(end of the comment body, index after the comment) for a comment body starting at ``start``."""
    if text.startswith(">", start):
        return start, start + 1  # <!-->
    if text.startswith("->", start):
        return start, start + 2  # <!--->
    candidates = [(found, found + length) for marker, length in (("-->", 3), ("--!>", 4)) if (found := text.find(marker, start)) >= 0]
    if not candidates:
        return len(text), len(text)
    return min(candidates)


def tokenize(text: str) -> Iterator[Token]:
    """Tokens of ``text`` in document order. Never raises; cost is linear in ``len(text)``."""
    pos = 0  # where the pending text run starts
    search = 0  # where to look for the next "<"
    size = len(text)
    while search < size:
        lt = text.find("<", search)
        if lt < 0:
            break
        nxt = text[lt + 1 : lt + 2]
        name_match = _TAG_NAME.match(text, lt + 1) if nxt.isascii() and nxt.isalpha() else None
        if not (name_match or nxt in ("!", "?", "/")):
            search = lt + 1  # a literal "<" stays part of the text run
            continue
        if lt > pos:
            yield Token("text", _unescape(text[pos:lt]))
        if text.startswith("<!--", lt):
            body_end, pos = _comment_end(text, lt + 4)
            yield Token("comment", text[lt + 4 : body_end])
        elif nxt in ("!", "?"):
            close = text.find(">", lt + 2)  # doctype, CDATA, processing instruction: ignored
            pos = size if close < 0 else close + 1
        elif nxt == "/":
            end_name = _TAG_NAME.match(text, lt + 2)
            close = text.find(">", lt + 2)
            pos = size if close < 0 else close + 1
            if end_name and close >= 0:
                yield Token("end", end_name.group().lower())
        else:
            assert name_match is not None
            name = name_match.group().lower()
            after_name = _NAME_TAIL.match(text, name_match.end()).end()
            attrs, self_closing, pos, closed = _scan_attributes(text, after_name)
            if not closed:
                return
            yield Token("start", name, attrs, self_closing)
            if name in _RAW_END and not self_closing:
                end_match = _RAW_END[name].search(text, pos)
                content_end = end_match.start() if end_match else size
                content = text[pos:content_end]
                if content:
                    yield Token("text", _unescape(content) if name in RCDATA else content)
                pos = content_end
        search = pos
    if pos < size:
        yield Token("text", _unescape(text[pos:]))
