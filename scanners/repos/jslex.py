"""A small JavaScript / TypeScript tokenizer: just enough structure to read MCP tool definitions
(string literals, identifiers, punctuation, matched brackets) without a JS parser dependency.

Linear in the input: one pass to tokenize, one stack pass to match brackets. Comments are
skipped; regular-expression literals are recognised by the usual "after an operator" rule;
template literals keep their text with ``${…}`` parts replaced by ``{…}`` and are flagged dynamic.
Unbalanced input never raises: unmatched brackets simply have no partner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_SOURCE_CHARS = 512 * 1024
MAX_TOKENS = 200_000
MAX_TEMPLATE_DEPTH = 16
_PUNCT_BEFORE_REGEX = set("(,=:[!&|?{};+-*%<>~^")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


@dataclass(slots=True)
class Token:
    kind: str  # "str", "tmpl", "id", "num", "punct"
    value: str
    start: int
    end: int
    dynamic: bool = False  # a template literal with ${…}


@dataclass(slots=True)
class Tokens:
    source: str
    items: list[Token] = field(default_factory=list)
    partner: dict[int, int] = field(default_factory=dict)  # bracket index -> matching bracket index
    truncated: bool = False

    def line_of(self, offset: int) -> int:
        return self.source.count("\n", 0, offset) + 1


def _escape(source: str, i: int) -> tuple[str, int]:
    """Decode the escape sequence at ``source[i]`` (a backslash): (text, index after it)."""
    nxt = source[i + 1]
    try:
        if nxt == "u" and source[i + 2 : i + 3] == "{":
            close = source.find("}", i + 3, i + 12)
            if close != -1:
                return chr(int(source[i + 3 : close], 16)), close + 1
        elif nxt == "u":
            return chr(int(source[i + 2 : i + 6], 16)), i + 6
        elif nxt == "x":
            return chr(int(source[i + 2 : i + 4], 16)), i + 4
    except (ValueError, OverflowError):
        pass
    if nxt == "\n":
        return "", i + 2  # line continuation
    return _ESCAPES.get(nxt, nxt), i + 2


def _read_string(source: str, start: int, quote: str) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "\\" and i + 1 < n:
            text, i = _escape(source, i)
            out.append(text)
            continue
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\n" and quote != "`":
            return "".join(out), i  # unterminated: stop at the line end
        out.append(ch)
        i += 1
    return "".join(out), n


def _read_template(source: str, start: int, depth: int = 0) -> tuple[str, int, bool]:
    """Template literal text with each ${…} replaced by {…}; nested braces and strings counted.
    Templates nested deeper than ``MAX_TEMPLATE_DEPTH`` are skipped to their next backtick."""
    if depth > MAX_TEMPLATE_DEPTH:
        end = source.find("`", start + 1)
        return "", (len(source) if end == -1 else end + 1), True
    out: list[str] = []
    i = start + 1
    n = len(source)
    dynamic = False
    while i < n:
        ch = source[i]
        if ch == "\\" and i + 1 < n:
            text, i = _escape(source, i)
            out.append(text)
            continue
        if ch == "`":
            return "".join(out), i + 1, dynamic
        if ch == "$" and source[i + 1 : i + 2] == "{":
            dynamic = True
            braces = 1
            i += 2
            while i < n and braces:
                c = source[i]
                if c in "\"'":
                    _, i = _read_string(source, i, c)
                    continue
                if c == "`":
                    _, i, _ = _read_template(source, i, depth + 1)
                    continue
                braces += 1 if c == "{" else -1 if c == "}" else 0
                i += 1
            out.append("{…}")
            continue
        out.append(ch)
        i += 1
    return "".join(out), n, dynamic


def tokenize(source: str) -> Tokens:
    result = Tokens(source=source)
    if len(source) > MAX_SOURCE_CHARS:
        source = source[:MAX_SOURCE_CHARS]
        result.source = source
        result.truncated = True
    items = result.items
    i = 0
    n = len(source)
    while i < n:
        if len(items) >= MAX_TOKENS:
            result.truncated = True
            break
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "/" and source[i + 1 : i + 2] == "/":
            end = source.find("\n", i)
            i = n if end == -1 else end
            continue
        if ch == "/" and source[i + 1 : i + 2] == "*":
            end = source.find("*/", i + 2)
            i = n if end == -1 else end + 2
            continue
        if ch in "\"'":
            value, end = _read_string(source, i, ch)
            items.append(Token("str", value, i, end))
            i = end
            continue
        if ch == "`":
            value, end, dynamic = _read_template(source, i)
            items.append(Token("tmpl", value, i, end, dynamic))
            i = end
            continue
        if ch == "/":
            previous = items[-1] if items else None
            if previous is None or (previous.kind == "punct" and previous.value in _PUNCT_BEFORE_REGEX) or (
                previous.kind == "id" and previous.value in {"return", "typeof", "case", "in", "of"}
            ):
                j = i + 1
                in_class = False
                while j < n and source[j] != "\n":
                    c = source[j]
                    if c == "\\":
                        j += 2
                        continue
                    if c == "[":
                        in_class = True
                    elif c == "]":
                        in_class = False
                    elif c == "/" and not in_class:
                        break
                    j += 1
                j += 1
                while j < n and (source[j].isalnum()):
                    j += 1
                i = j
                continue
        if ch.isalpha() or ch in "_$":
            j = i + 1
            while j < n and (source[j].isalnum() or source[j] in "_$"):
                j += 1
            items.append(Token("id", source[i:j], i, j))
            i = j
            continue
        if ch.isdigit():
            j = i + 1
            while j < n and (source[j].isalnum() or source[j] in "._"):
                j += 1
            items.append(Token("num", source[i:j], i, j))
            i = j
            continue
        if source.startswith("=>", i) or source.startswith("...", i):
            width = 2 if source.startswith("=>", i) else 3
            items.append(Token("punct", source[i : i + width], i, i + width))
            i += width
            continue
        items.append(Token("punct", ch, i, i + 1))
        i += 1
    stack: list[int] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for index, token in enumerate(items):
        if token.kind != "punct":
            continue
        if token.value in "([{":
            stack.append(index)
        elif token.value in pairs:
            # Pop to the nearest matching opener; stray closers are ignored.
            for depth in range(len(stack) - 1, max(-1, len(stack) - 8), -1):
                if items[stack[depth]].value == pairs[token.value]:
                    opener = stack[depth]
                    del stack[depth:]
                    result.partner[opener] = index
                    result.partner[index] = opener
                    break
    return result


def split_top_level(tokens: Tokens, open_index: int) -> list[tuple[int, int]]:
    """Comma-separated segments (token index ranges, end exclusive) inside a bracket pair."""
    close = tokens.partner.get(open_index)
    if close is None:
        return []
    segments: list[tuple[int, int]] = []
    start = open_index + 1
    i = start
    while i < close:
        token = tokens.items[i]
        if token.kind == "punct" and token.value in "([{" and i in tokens.partner:
            i = tokens.partner[i] + 1
            continue
        if token.kind == "punct" and token.value == ",":
            if i > start:
                segments.append((start, i))
            start = i + 1
        i += 1
    if close > start:
        segments.append((start, close))
    return segments


def object_properties(tokens: Tokens, open_index: int) -> dict[str, tuple[int, int]]:
    """``key: value`` pairs of an object literal: key -> token range of the value."""
    props: dict[str, tuple[int, int]] = {}
    items = tokens.items
    for start, end in split_top_level(tokens, open_index):
        if end - start >= 3 and items[start].kind in {"id", "str"} and items[start + 1].value == ":":
            props.setdefault(items[start].value, (start + 2, end))
        elif end - start >= 3 and items[start].kind == "punct" and items[start].value == "[":
            continue  # computed key
    return props


def string_value(tokens: Tokens, start: int, end: int, constants: dict[str, str] | None = None) -> tuple[str | None, bool]:
    """The string a value range evaluates to when it is literals joined by ``+`` (or a known
    constant); (None, False) otherwise. The flag says whether dynamic parts were replaced."""
    parts: list[str] = []
    dynamic = False
    expect_value = True
    items = tokens.items
    i = start
    while i < end:
        token = items[i]
        if expect_value:
            if token.kind in {"str", "tmpl"}:
                parts.append(token.value)
                dynamic = dynamic or token.dynamic
            elif token.kind == "id" and constants and token.value in constants:
                parts.append(constants[token.value])
            else:
                return (None, False) if not parts else ("".join(parts), True)
            expect_value = False
        elif token.kind == "punct" and token.value == "+":
            expect_value = True
        elif token.kind == "punct" and token.value == ".":
            # "…".trim() / .replace(…) / .join: keep the literal text, mark it approximate.
            return "".join(parts), True
        else:
            return ("".join(parts), True) if parts else (None, False)
        i += 1
    return ("".join(parts), dynamic) if parts else (None, False)


def string_constants(tokens: Tokens) -> dict[str, str]:
    """``const NAME = "…"`` (also let/var) whose value is a plain literal or concatenation."""
    constants: dict[str, str] = {}
    items = tokens.items
    for i in range(len(items) - 3):
        token = items[i]
        if token.kind == "id" and token.value in {"const", "let", "var"} and items[i + 1].kind == "id" and items[i + 2].value == "=":
            end = i + 3
            while end < len(items) and end - i < 200 and items[end].value not in {";", "const", "let", "var", "function", "export"}:
                end += 1
            value, _ = string_value(tokens, i + 3, end, constants)
            if value is not None and len(constants) < 5000:
                constants[items[i + 1].value] = value
    return constants


__all__ = ["MAX_SOURCE_CHARS", "MAX_TOKENS", "Token", "Tokens", "object_properties", "split_top_level", "string_constants",
           "string_value", "tokenize"]
