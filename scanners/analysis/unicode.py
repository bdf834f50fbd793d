"""Hidden Unicode: characters that change what a human sees versus what a machine (or an agent)
reads — Unicode tag characters (invisible ASCII), bidirectional controls (Trojan Source),
zero-width characters and variation-selector smuggling.

Legitimate uses are kept apart: a byte-order mark at offset 0, a zero-width joiner inside an emoji
sequence, ZWNJ/ZWJ between letters of scripts that need them (Persian, Indic), and ordinary
emoji variation selectors (U+FE0F).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TAG_RANGE = (0xE0000, 0xE007F)
_BIDI = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x061C}
_BIDI_MARKS = {0x200E, 0x200F}  # LRM/RLM: common in right-to-left prose, only odd inside code
_ZERO_WIDTH = {0x200B, 0x200C, 0x200D, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF, 0x180E, 0x115F, 0x1160, 0x3164, 0xFFA0}

_HIDDEN_RE = re.compile(
    "[\U000e0000-\U000e007f\u202a-\u202e\u2066-\u2069\u061c\u200b-\u200f\u2060-\u2064\ufeff\u180e"
    "\u115f\u1160\u3164\uffa0\U000e0100-\U000e01ef]+"
)


def _is_emoji_neighbour(ch: str) -> bool:
    code = ord(ch)
    return code >= 0x1F000 or 0x2600 <= code <= 0x27BF or code in (0xFE0F, 0x20E3) or 0x1F3FB <= code <= 0x1F3FF


def _is_complex_script_letter(ch: str) -> bool:
    code = ord(ch)
    # Arabic, Persian, Hebrew, Syriac, Indic scripts, Sinhala, Thai, Myanmar, Khmer… need ZWJ/ZWNJ.
    return 0x0590 <= code <= 0x0FFF or 0x1000 <= code <= 0x109F or 0x1780 <= code <= 0x17FF or 0xA8E0 <= code <= 0xA8FF


@dataclass(slots=True)
class HiddenRun:
    start: int
    end: int
    kind: str  # "tag", "bidi", "zero_width", "bidi_mark", "variation_selector"
    count: int
    decoded: str = ""  # for tag characters: the ASCII they smuggle


@dataclass(slots=True)
class HiddenText:
    runs: list[HiddenRun] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[HiddenRun]:
        return [run for run in self.runs if run.kind in kinds]

    @property
    def decoded_tags(self) -> str:
        return "".join(run.decoded for run in self.runs if run.kind == "tag")

    def __bool__(self) -> bool:
        return bool(self.runs)


def _classify_char(code: int) -> str:
    if TAG_RANGE[0] <= code <= TAG_RANGE[1]:
        return "tag"
    if code in _BIDI:
        return "bidi"
    if code in _BIDI_MARKS:
        return "bidi_mark"
    if 0xE0100 <= code <= 0xE01EF:
        return "variation_selector"
    return "zero_width"


def find_hidden(text: str) -> HiddenText:
    """Every run of invisible or direction-changing characters, minus the legitimate uses."""
    result = HiddenText()
    if text.isascii():
        return result
    for match in _HIDDEN_RE.finditer(text):
        start, end = match.span()
        segment = match.group()
        # Split a mixed run into runs of one kind.
        position = start
        while position < end:
            kind = _classify_char(ord(text[position]))
            run_end = position + 1
            while run_end < end and _classify_char(ord(text[run_end])) == kind:
                run_end += 1
            chars = text[position:run_end]
            if _legitimate(text, position, run_end, kind, chars):
                position = run_end
                continue
            decoded = ""
            if kind == "tag":
                decoded = "".join(
                    chr(ord(c) - TAG_RANGE[0]) if 0x20 <= ord(c) - TAG_RANGE[0] < 0x7F else ("\n" if ord(c) == 0xE000A else "")
                    for c in chars
                )
            result.runs.append(HiddenRun(position, run_end, kind, run_end - position, decoded))
            position = run_end
        del segment
    return result


def _legitimate(text: str, start: int, end: int, kind: str, chars: str) -> bool:
    if kind == "zero_width":
        if chars == "\ufeff" and (start == 0 or text[start - 1] == "\n"):
            return True  # byte-order mark at the start of a file or line-joined file
        if set(chars) <= {"\u200d", "\u200c"}:
            before = text[start - 1] if start > 0 else ""
            after = text[end] if end < len(text) else ""
            if before and after and (_is_emoji_neighbour(before) or _is_emoji_neighbour(after)):
                return True
            if before and after and (_is_complex_script_letter(before) or _is_complex_script_letter(after)):
                return True
    if kind == "bidi_mark":
        before = text[start - 1] if start > 0 else ""
        after = text[end] if end < len(text) else ""
        return bool(before and _is_complex_script_letter(before)) or bool(after and _is_complex_script_letter(after))
    return False


def describe(hidden: HiddenText) -> str:
    counts: dict[str, int] = {}
    for run in hidden.runs:
        counts[run.kind] = counts.get(run.kind, 0) + run.count
    names = {
        "tag": "Unicode tag characters",
        "bidi": "bidirectional control characters",
        "bidi_mark": "direction marks",
        "zero_width": "zero-width characters",
        "variation_selector": "variation-selector characters",
    }
    return ", ".join(f"{count} {names[kind]}" for kind, count in sorted(counts.items()))


def strip_hidden(text: str) -> str:
    return _HIDDEN_RE.sub("", text)


def visible_escape(text: str, limit: int = 160) -> str:
    """Show a snippet with hidden characters as <U+XXXX> so a reviewer can see them."""
    out = []
    for ch in text[: limit * 2]:
        code = ord(ch)
        if _HIDDEN_RE.match(ch) or (code < 0x20 and ch not in "\t"):
            out.append(f"<U+{code:04X}>")
        else:
            out.append(ch)
    rendered = "".join(out)
    return rendered if len(rendered) <= limit else rendered[: limit - 1] + "…"
