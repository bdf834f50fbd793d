"""Just enough CSS to decide whether an element's text is hidden from a human reader.

Handled: inline ``style`` attributes, and top-level rules of ``<style>`` blocks whose selectors are
compound simple selectors — ``tag``, ``.class``, ``#id`` and combinations such as ``div.note`` or
``.a.b`` — applied with a simplified cascade (specificity, then source order, ``!important``
last, inline style above rules).

Not handled, by design (each would need a real CSS engine, and guessing wrongly in the hiding
direction would turn ordinary visible text into "hidden" text): external stylesheets, rules inside
``@media`` / ``@supports`` / any at-rule, selectors with combinators (``.a .b``, ``a > b``),
attribute selectors, pseudo-classes and pseudo-elements, ``:not()``, inheritance of ``visibility``
being undone by a descendant, CSS variables, ``calc()``, and JavaScript that changes styles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CSS_CHARS = 200_000  # of all <style> blocks together
MAX_RULES = 2_000
MAX_DECLARATIONS = 64  # per block or style attribute

_SIMPLE_SELECTOR = re.compile(r"(?P<tag>[a-zA-Z][a-zA-Z0-9-]{0,31})?(?P<rest>(?:[.#][A-Za-z_-][A-Za-z0-9_-]{0,63}){0,8})")
_PART = re.compile(r"[.#][A-Za-z_-][A-Za-z0-9_-]{0,63}")
_NUMBER_UNIT = re.compile(r"(-?(?:\d{1,6}(?:\.\d{0,6})?|\.\d{1,6}))\s*(px|pt|em|rem|%|vw|vh|cm|mm|in|ex|ch)?$")

HIDING_PROPERTIES = frozenset({
    "display", "visibility", "opacity", "font-size", "text-indent", "position", "left", "top", "right", "bottom",
    "clip", "clip-path", "color", "background", "background-color", "width", "height", "max-height", "max-width",
    "overflow", "transform", "line-height",
})


@dataclass(frozen=True, slots=True)
class Rule:
    tag: str | None
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    specificity: tuple[int, int, int]
    order: int
    declarations: tuple[tuple[str, str, bool], ...]  # (property, value, important)

    def matches(self, tag: str, element_id: str, classes: frozenset[str]) -> bool:
        if self.tag and self.tag != tag:
            return False
        if self.ids and (len(self.ids) > 1 or self.ids[0] != element_id):
            return False
        return all(name in classes for name in self.classes)


def parse_declarations(text: str) -> list[tuple[str, str, bool]]:
    """``prop: value; …`` → [(property, value, important)], lower-cased, hiding properties only."""
    result: list[tuple[str, str, bool]] = []
    for chunk in text.split(";", MAX_DECLARATIONS)[:MAX_DECLARATIONS]:
        prop, sep, value = chunk.partition(":")
        if not sep:
            continue
        prop = prop.strip().lower()
        if prop not in HIDING_PROPERTIES:
            continue
        value = " ".join(value.lower().split())
        important = value.endswith("!important")
        if important:
            value = value[: -len("!important")].strip()
        result.append((prop, value, important))
    return result


def _selector(text: str) -> tuple[str | None, tuple[str, ...], tuple[str, ...]] | None:
    text = text.strip()
    match = _SIMPLE_SELECTOR.fullmatch(text)
    if not text or not match:
        return None  # combinators, attributes, pseudo-classes …: not handled
    parts = _PART.findall(match.group("rest") or "")
    ids = tuple(p[1:] for p in parts if p[0] == "#")
    classes = tuple(p[1:] for p in parts if p[0] == ".")
    tag = match.group("tag")
    return (tag.lower() if tag else None), ids, classes


def strip_comments(css: str) -> str:
    """CSS without /* … */ comments (an unclosed one runs to the end). A find loop, not a lazy
    regex, so many unclosed openers cannot make it quadratic."""
    parts: list[str] = []
    pos = 0
    while True:
        start = css.find("/*", pos)
        if start < 0:
            parts.append(css[pos:])
            return " ".join(parts)
        parts.append(css[pos:start])
        end = css.find("*/", start + 2)
        if end < 0:
            return " ".join(parts)
        pos = end + 2


def _top_level_blocks(css: str) -> list[tuple[str, str]]:
    """(prelude, body) of each top-level block; at-rule blocks are skipped whole. Linear: one
    forward walk over the braces."""
    blocks: list[tuple[str, str]] = []
    depth = 0
    prelude_start = 0
    body_start = 0
    prelude = ""
    for match in re.finditer(r"[{};]", css):
        char = match.group()
        if char == "{":
            if depth == 0:
                prelude = css[prelude_start : match.start()]
                body_start = match.end()
            depth += 1
        elif char == "}":
            if depth == 0:
                prelude_start = match.end()
                continue
            depth -= 1
            if depth == 0:
                if not prelude.lstrip().startswith("@"):
                    blocks.append((prelude, css[body_start : match.start()]))
                prelude_start = match.end()
        elif depth == 0:
            prelude_start = match.end()  # end of a statement at-rule such as @import …;
        if len(blocks) >= MAX_RULES:
            break
    return blocks


def parse_stylesheet(css: str, start_order: int = 0) -> tuple[list[Rule], bool]:
    """Rules with simple selectors from a stylesheet; the flag is False when a limit cut it short."""
    complete = len(css) <= MAX_CSS_CHARS
    css = strip_comments(css[:MAX_CSS_CHARS])
    rules: list[Rule] = []
    order = start_order
    blocks = _top_level_blocks(css)
    if len(blocks) >= MAX_RULES:
        complete = False
    for prelude, body in blocks:
        declarations = tuple(parse_declarations(body))
        if not declarations:
            continue
        for selector_text in prelude.split(",")[:32]:
            parsed = _selector(selector_text)
            if parsed is None:
                continue
            tag, ids, classes = parsed
            order += 1
            rules.append(Rule(tag, ids, classes, (len(ids), len(classes), 1 if tag else 0), order, declarations))
    return rules, complete


def cascade(rules: list[Rule], inline: str | None) -> dict[str, str]:
    """The hiding-relevant declared values of one element (matching rules already selected).
    Order: !important last, then inline style over rules, then specificity, then source order."""
    ordered: list[tuple[tuple[int, int, int, int, int, int], str, str]] = []
    for rule in rules:
        for prop, value, important in rule.declarations:
            ordered.append(((int(important), 0, *rule.specificity, rule.order), prop, value))
    if inline:
        for prop, value, important in parse_declarations(inline):
            ordered.append(((int(important), 1, 0, 0, 0, 0), prop, value))
    ordered.sort(key=lambda item: item[0])
    return {prop: value for _, prop, value in ordered}


def length_px(value: str) -> float | None:
    """A CSS length in (approximate) pixels; None for keywords, calc() and the like."""
    match = _NUMBER_UNIT.match(value.strip())
    if not match:
        return None
    number = float(match.group(1))
    unit = match.group(2) or "px"
    factor = {"px": 1.0, "pt": 4 / 3, "em": 16.0, "rem": 16.0, "ex": 8.0, "ch": 8.0, "cm": 37.8, "mm": 3.78, "in": 96.0}
    if unit in factor:
        return number * factor[unit]
    return None if number else 0.0  # "0%" / "0vw" are zero; other percentages depend on layout


_NAMED = {
    "white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255),
    "yellow": (255, 255, 0), "gray": (128, 128, 128), "grey": (128, 128, 128), "silver": (192, 192, 192),
    "whitesmoke": (245, 245, 245), "snow": (255, 250, 250), "ivory": (255, 255, 240), "ghostwhite": (248, 248, 255),
    "navy": (0, 0, 128), "orange": (255, 165, 0), "purple": (128, 0, 128), "lightgray": (211, 211, 211),
    "lightgrey": (211, 211, 211), "darkgray": (169, 169, 169), "darkgrey": (169, 169, 169),
}
_HEX_COLOUR = re.compile(r"#([0-9a-f]{3,8})\b")
_RGB = re.compile(r"rgba?\(\s*(\d{1,3})[\s,]+(\d{1,3})[\s,]+(\d{1,3})(?:\s*[,/]\s*([\d.]{1,8})(%?))?\s*\)")

TRANSPARENT = (-1, -1, -1)  # a colour that shows nothing


def parse_colour(value: str) -> tuple[int, int, int] | None:
    """The first colour in a value (``background`` shorthands included); ``TRANSPARENT`` for a
    fully transparent one; None when there is no colour we understand."""
    value = value.strip()
    if value.startswith("transparent"):
        return TRANSPARENT
    match = _HEX_COLOUR.search(value)
    if match:
        digits = match.group(1)
        if len(digits) in (3, 4):
            if len(digits) == 4 and digits[3] == "0":
                return TRANSPARENT
            return (int(digits[0] * 2, 16), int(digits[1] * 2, 16), int(digits[2] * 2, 16))
        if len(digits) in (6, 8):
            if len(digits) == 8 and digits[6:] == "00":
                return TRANSPARENT
            return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
        return None
    match = _RGB.search(value)
    if match:
        alpha = match.group(4)
        if alpha is not None:
            try:
                if float(alpha) == 0:
                    return TRANSPARENT
            except ValueError:
                return None
        return (min(255, int(match.group(1))), min(255, int(match.group(2))), min(255, int(match.group(3))))
    first = value.split(" ", 1)[0]
    return _NAMED.get(first)


def colours_match(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    """Close enough that text is unreadable on that background (e.g. #fff on #fefefe)."""
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 12


def _clipped_away(clip: str) -> bool:
    """``clip: rect(t, r, b, l)`` that leaves at most a pixel visible."""
    if not clip.startswith("rect(") or not clip.endswith(")"):
        return False
    edges = [length_px(part) for part in clip[5:-1].replace(",", " ").split()]
    if len(edges) != 4 or any(edge is None for edge in edges):
        return False
    top, right, bottom, left = (edge or 0.0 for edge in edges)
    return abs(bottom - top) <= 1 or abs(right - left) <= 1


def hiding_reason(style: dict[str, str]) -> str | None:
    """Why an element with these declared values hides its content, or None. Colour contrast is
    judged by the caller, which knows the inherited colour and the background behind it."""
    if not style:
        return None
    display = style.get("display", "")
    if display.startswith("none"):
        return "display:none"
    if style.get("visibility", "").split(" ", 1)[0] in ("hidden", "collapse"):
        return "visibility:hidden"
    opacity = style.get("opacity")
    if opacity is not None:
        try:
            number = float(opacity.rstrip("%")) / (100 if opacity.endswith("%") else 1)
            if number <= 0.05:
                return "opacity:0"
        except ValueError:
            pass
    size = length_px(style.get("font-size", "x"))
    if size is not None and size <= 1:
        return "font-size:0"
    indent = length_px(style.get("text-indent", "x"))
    if indent is not None and indent <= -999:
        return "text-indent off-screen"
    if style.get("position", "").split(" ", 1)[0] in ("absolute", "fixed"):
        for side in ("left", "top", "right"):
            offset = length_px(style.get(side, "x"))
            if offset is not None and offset <= -999:
                return "positioned off-screen"
    if _clipped_away(style.get("clip", "")):
        return "clip:rect(0,0,0,0)"
    clip_path = style.get("clip-path", "").replace(" ", "")
    if clip_path in ("inset(50%)", "inset(100%)", "circle(0)", "circle(0px)", "polygon(0000)") or clip_path.startswith("inset(100%"):
        return "clip-path"
    transform = style.get("transform", "").replace(" ", "")
    if transform in ("scale(0)", "scale(0,0)", "scalex(0)", "scaley(0)"):
        return "transform:scale(0)"
    overflow_hidden = style.get("overflow", "").startswith(("hidden", "clip"))
    if overflow_hidden:
        for prop in ("width", "height", "max-height", "max-width"):
            extent = length_px(style.get(prop, "x"))
            if extent is not None and extent <= 1:
                return "zero-size box"
    return None
