"""HTML → what a human sees versus what only a machine reads.

``parse_html`` walks the tokens of ``tokenizer.tokenize`` with an element stack and sorts every piece
of text into the visible text or a *hidden block*. Text is hidden when it is inside:

- an element hidden by CSS (inline ``style`` or a simple ``<style>`` rule, see ``css.py``):
  ``display:none``, ``visibility:hidden``, ``opacity`` ≤ 0.05, ``font-size`` ≤ 1px, off-screen
  positioning / ``text-indent``, a zero clip / ``clip-path``, ``transform: scale(0)``, a ≤1px box
  with ``overflow:hidden`` (the ``.sr-only`` pattern);
- an element whose text colour equals the background behind it (both declared — ``style``,
  a simple rule, or the legacy ``color`` / ``bgcolor`` attributes — on it or an ancestor), or
  transparent text. A colour with no declared background is not judged: the background may come
  from a stylesheet this module does not see;
- the ``hidden`` attribute, ``aria-hidden="true"``, ``<template>``, a ``<dialog>`` without ``open``;
- ``<noscript>``: decided hidden — a reader with JavaScript on (nearly every human) never sees it,
  while an agent that reads the HTML does;
- HTML comments, ``<meta>`` content, and ``alt`` / ``title`` / ``aria-label`` attributes.

Hidden is not an accusation: menus, cookie banners and screen-reader text are hidden too. The page
and e-mail analysers only act on hidden text that carries instructions.

Also collected for the phishing checks: title, links (href and visible text), forms (action,
method, password / card fields), images (alt, src), ``<base href>`` and meta refreshes.
Not modelled: JavaScript, external stylesheets, frames' documents, ``<input type=hidden>``
values (often tokens, never shown), SVG text styling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scanners.web import css
from scanners.web.tokenizer import Token, tokenize

MAX_HTML_CHARS = 1_000_000  # parsed; the rest is cut and the result marked incomplete
MAX_VISIBLE_CHARS = 400_000
MAX_HIDDEN_CHARS = 200_000
MAX_HIDDEN_BLOCKS = 2_000
MAX_LINKS = 2_000
MAX_FORMS = 100
MAX_IMAGES = 500
MAX_DEPTH = 256
MAX_ELEMENTS = 50_000  # start tags processed; a real page has a few thousand
MAX_RULES_PER_KEY = 50
MAX_LINK_TEXT = 300

VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "keygen", "frame", "basefont", "isindex",
})
BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul", "title", "option", "button", "label",
})
# Start tags that close an open <p> (a subset of the HTML5 list: the common block elements).
_CLOSES_P = BLOCK - {"br", "td", "th", "tr", "option", "button", "label", "title", "summary", "dd", "dt", "li"}
# An element that closes an open sibling of the same kind when it starts.
_SELF_SIBLING = {"p": {"p"}, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "tr": {"tr"}, "td": {"td", "th"},
                 "th": {"td", "th"}, "option": {"option"}}
_NOT_TEXT = frozenset({"script", "style"})
_META_SKIP = frozenset({
    "viewport", "robots", "googlebot", "theme-color", "generator", "format-detection", "referrer", "color-scheme",
    "msapplication-tilecolor", "apple-mobile-web-app-capable", "csrf-token", "csrf-param",
})
_TEXT_ATTRIBUTES = ("alt", "title", "aria-label")
_CARD_FIELD = re.compile(r"(?:card|cc)[-_ ]?(?:num|number|no)|\bcvv|\bcvc|\bcsc\b|security[-_ ]?code|expir", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


@dataclass(slots=True)
class HiddenBlock:
    reason: str  # e.g. "display:none", "comment", "meta", "same colour as background"
    text: str
    element: str  # the tag that hid it, or "comment" / "meta" / "attribute"


@dataclass(slots=True)
class Link:
    href: str
    text: str  # visible text of the link


@dataclass(slots=True)
class Form:
    action: str
    method: str
    has_password: bool = False
    has_card: bool = False
    hidden: bool = False  # the form itself is not shown


@dataclass(slots=True)
class Image:
    alt: str
    src: str


@dataclass(slots=True)
class ParsedHtml:
    visible_paragraphs: list[str] = field(default_factory=list)
    hidden: list[HiddenBlock] = field(default_factory=list)
    title: str = ""
    links: list[Link] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    meta_refresh: list[str] = field(default_factory=list)
    base_href: str = ""
    password_outside_form: bool = False
    complete: bool = True
    gaps: list[str] = field(default_factory=list)

    @property
    def visible_text(self) -> str:
        return "\n".join(self.visible_paragraphs)

    def gap(self, message: str) -> None:
        self.complete = False
        if message not in self.gaps:
            self.gaps.append(message)


@dataclass(slots=True)
class _Frame:
    tag: str
    reason: str | None  # why text here is hidden (None: visible)
    key: int | None  # hidden block the text goes to
    structural: bool  # hidden by display/visibility/…: descendants cannot undo it
    colour: tuple[int, int, int] | None
    background: tuple[int, int, int] | None
    link: int | None
    form: int | None


class _RuleIndex:
    def __init__(self, rules: list[css.Rule]) -> None:
        self.by_id: dict[str, list[css.Rule]] = {}
        self.by_class: dict[str, list[css.Rule]] = {}
        self.by_tag: dict[str, list[css.Rule]] = {}
        for rule in rules:
            if rule.ids:
                bucket = self.by_id.setdefault(rule.ids[0], [])
            elif rule.classes:
                bucket = self.by_class.setdefault(rule.classes[0], [])
            elif rule.tag:
                bucket = self.by_tag.setdefault(rule.tag, [])
            else:
                continue
            bucket.append(rule)
            if len(bucket) > MAX_RULES_PER_KEY:
                del bucket[0]  # later rules win ties, so the earliest ones are the ones to drop

    def matching(self, tag: str, element_id: str, classes: frozenset[str]) -> list[css.Rule]:
        candidates: list[css.Rule] = list(self.by_tag.get(tag, ()))
        if element_id:
            candidates.extend(self.by_id.get(element_id, ()))
        for name in sorted(classes)[:16]:
            candidates.extend(self.by_class.get(name, ()))
        return [rule for rule in candidates if rule.matches(tag, element_id, classes)]


class _Builder:
    def __init__(self, rules: _RuleIndex, result: ParsedHtml) -> None:
        self.rules = rules
        self.out = result
        self.stack: list[_Frame] = [_Frame("#root", None, None, False, None, None, None, None)]
        self.paragraph: list[str] = []
        self.hidden_text: dict[int, list[str]] = {}
        self.hidden_meta: dict[int, tuple[str, str]] = {}
        self.next_key = 0
        self.visible_chars = 0
        self.hidden_chars = 0
        self.title_parts: list[str] = []
        self.link_text: dict[int, list[str]] = {}

    # -- hidden blocks ------------------------------------------------------------------------
    def _new_block(self, reason: str, element: str) -> int | None:
        if len(self.hidden_meta) >= MAX_HIDDEN_BLOCKS:
            self.out.gap(f"more than {MAX_HIDDEN_BLOCKS} hidden blocks: the rest were not inspected")
            return None
        key = self.next_key
        self.next_key += 1
        self.hidden_meta[key] = (reason, element)
        self.hidden_text[key] = []
        return key

    def _add_hidden(self, key: int | None, text: str) -> None:
        if key is None or not text:
            return
        if self.hidden_chars + len(text) > MAX_HIDDEN_CHARS:
            self.out.gap(f"more than {MAX_HIDDEN_CHARS} characters of hidden text: the rest was not inspected")
            text = text[: max(0, MAX_HIDDEN_CHARS - self.hidden_chars)]
        self.hidden_chars += len(text)
        self.hidden_text[key].append(text)

    def standalone_hidden(self, reason: str, element: str, text: str) -> None:
        text = text.strip()
        if text:
            self._add_hidden(self._new_block(reason, element), text)

    # -- visible text -------------------------------------------------------------------------
    def _flush_paragraph(self) -> None:
        if not self.paragraph:
            return
        text = _WHITESPACE.sub(" ", "".join(self.paragraph)).strip()
        self.paragraph = []
        if not text:
            return
        if self.visible_chars + len(text) > MAX_VISIBLE_CHARS:
            self.out.gap(f"more than {MAX_VISIBLE_CHARS} characters of visible text: the rest was not inspected")
            text = text[: max(0, MAX_VISIBLE_CHARS - self.visible_chars)]
            if not text:
                return
        self.visible_chars += len(text)
        self.out.visible_paragraphs.append(text)

    def _block_boundary(self) -> None:
        self._flush_paragraph()
        top = self.stack[-1]
        if top.key is not None and self.hidden_text.get(top.key):
            self.hidden_text[top.key].append("\n")

    # -- elements -----------------------------------------------------------------------------
    def _style_of(self, token: Token) -> dict[str, str]:
        classes = frozenset(token.attrs.get("class", "").split()[:32])
        matched = self.rules.matching(token.data, token.attrs.get("id", ""), classes)
        return css.cascade(matched, token.attrs.get("style"))

    def _frame_for(self, token: Token, parent: _Frame) -> _Frame:
        tag, attrs = token.data, token.attrs
        style = self._style_of(token) if (attrs or self.rules.by_tag) else {}
        colour = css.parse_colour(style["color"]) if "color" in style else None
        if colour is None and tag == "font" and "color" in attrs:
            colour = css.parse_colour(attrs["color"].strip().lower())
        background = css.parse_colour(attrs["bgcolor"].strip().lower()) if "bgcolor" in attrs else None
        for prop in ("background-color", "background"):
            if prop in style:
                background = css.parse_colour(style[prop]) or background
        own_colour = colour if colour is not None else parent.colour
        own_background = background if background not in (None, css.TRANSPARENT) else parent.background
        link = parent.link
        form = parent.form
        if tag == "a" and "href" in attrs and len(self.out.links) < MAX_LINKS:
            self.out.links.append(Link(attrs["href"].strip(), ""))
            link = len(self.out.links) - 1
            self.link_text[link] = []
        elif tag == "a" and "href" in attrs:
            self.out.gap(f"more than {MAX_LINKS} links: the rest were not inspected")
        if tag == "form":
            if len(self.out.forms) < MAX_FORMS:
                self.out.forms.append(Form(attrs.get("action", "").strip(), attrs.get("method", "get").strip().lower()))
                form = len(self.out.forms) - 1
            else:
                self.out.gap(f"more than {MAX_FORMS} forms: the rest were not inspected")
        if parent.structural:
            if tag == "form" and form is not None:
                self.out.forms[form].hidden = True
            return _Frame(tag, parent.reason, parent.key, True, own_colour, own_background, link, form)
        reason = css.hiding_reason(style)
        if reason is None and "hidden" in attrs:
            reason = "hidden attribute"
        if reason is None and attrs.get("aria-hidden", "").strip().lower() == "true":
            reason = "aria-hidden"
        if reason is None and tag in ("template", "noscript"):
            reason = f"<{tag}>"
        if reason is None and tag == "dialog" and "open" not in attrs:
            reason = "closed <dialog>"
        if reason is not None:
            key = self._new_block(reason, tag)
            if form is not None and tag == "form":
                self.out.forms[form].hidden = True
            return _Frame(tag, reason, key, True, own_colour, own_background, link, form)
        colour_reason = None
        if own_colour == css.TRANSPARENT:
            colour_reason = "transparent text"
        elif own_colour is not None and own_background is not None and css.colours_match(own_colour, own_background):
            colour_reason = "same colour as background"
        if colour_reason is None:
            return _Frame(tag, None, None, False, own_colour, own_background, link, form)
        key = parent.key if parent.reason == colour_reason else self._new_block(colour_reason, tag)
        return _Frame(tag, colour_reason, key, False, own_colour, own_background, link, form)

    def start(self, token: Token) -> None:
        tag, attrs = token.data, token.attrs
        top = self.stack[-1]
        if tag == "body" and any(frame.tag == "head" for frame in self.stack):
            self.end("head")
        elif tag in _CLOSES_P and top.tag == "p":
            self.end("p")
        elif tag in _SELF_SIBLING and top.tag in _SELF_SIBLING[tag]:
            self.end(top.tag)
        parent = self.stack[-1]
        if tag in BLOCK:
            self._block_boundary()
        self._void_side_effects(tag, attrs, parent)
        for name in _TEXT_ATTRIBUTES:
            value = attrs.get(name, "").strip()
            if len(value) >= 12:  # short labels ("Close", "Menu", a logo name) cannot carry an instruction
                self.standalone_hidden(f"{name} attribute", "attribute", value)
        if tag in VOID or token.self_closing:
            return
        if len(self.stack) >= MAX_DEPTH:
            self.out.gap(f"elements nested deeper than {MAX_DEPTH}: deeper structure flattened")
            return
        frame = self._frame_for(token, parent)
        self.stack.append(frame)

    def _void_side_effects(self, tag: str, attrs: dict[str, str], parent: _Frame) -> None:
        if tag == "input":
            kind = attrs.get("type", "text").strip().lower()
            is_card = attrs.get("autocomplete", "").strip().lower().startswith("cc-") or bool(
                _CARD_FIELD.search(" ".join((attrs.get("name", ""), attrs.get("id", ""), attrs.get("placeholder", ""))))
            )
            if parent.form is not None:
                form = self.out.forms[parent.form]
                form.has_password = form.has_password or kind == "password"
                form.has_card = form.has_card or (is_card and kind not in ("hidden", "submit", "button"))
            elif kind == "password":
                self.out.password_outside_form = True
        elif tag == "img":
            if len(self.out.images) < MAX_IMAGES:
                self.out.images.append(Image(attrs.get("alt", "").strip(), attrs.get("src", "").strip()))
        elif tag == "meta":
            if attrs.get("http-equiv", "").strip().lower() == "refresh":
                self.out.meta_refresh.append(attrs.get("content", ""))
                return
            name = (attrs.get("name") or attrs.get("property") or "").strip().lower()
            if name and name not in _META_SKIP:
                self.standalone_hidden("meta", "meta", attrs.get("content", ""))
        elif tag == "base" and not self.out.base_href:
            self.out.base_href = attrs.get("href", "").strip()

    def end(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                if tag in BLOCK or any(frame.tag in BLOCK for frame in self.stack[index + 1 :]):
                    self._block_boundary()
                del self.stack[index:]
                if tag in BLOCK:
                    self._block_boundary()
                return

    def text(self, data: str) -> None:
        top = self.stack[-1]
        if top.tag in _NOT_TEXT:
            return
        if top.tag == "title" and top.reason is None:
            if sum(map(len, self.title_parts)) < 1000:
                self.title_parts.append(data)
            return
        if top.key is not None:
            self._add_hidden(top.key, data)
        elif top.reason is None:
            self.paragraph.append(data)
            if top.link is not None and sum(map(len, self.link_text[top.link])) < MAX_LINK_TEXT:
                self.link_text[top.link].append(data)

    def finish(self) -> None:
        self._flush_paragraph()
        out = self.out
        out.title = _WHITESPACE.sub(" ", "".join(self.title_parts)).strip()
        for index, parts in self.link_text.items():
            out.links[index].text = _WHITESPACE.sub(" ", "".join(parts)).strip()[:MAX_LINK_TEXT]
        for key, (reason, element) in self.hidden_meta.items():
            text = "\n".join(_WHITESPACE.sub(" ", line).strip() for line in "".join(self.hidden_text[key]).split("\n"))
            text = "\n".join(line for line in text.split("\n") if line)
            if text:
                out.hidden.append(HiddenBlock(reason, text, element))


def _style_sheets(tokens: list[Token]) -> tuple[list[css.Rule], bool]:
    sheets: list[str] = []
    in_style = False
    for token in tokens:
        if token.kind == "start" and token.data == "style":
            in_style = True
        elif token.kind == "end" and token.data == "style":
            in_style = False
        elif in_style and token.kind == "text":
            sheets.append(token.data)
    return css.parse_stylesheet("\n".join(sheets))


def parse_html(text: str) -> ParsedHtml:
    """Visible and hidden text plus the form / link facts of an HTML document. Never raises on
    malformed markup; limits that cut the analysis short set ``complete=False`` with a gap."""
    result = ParsedHtml()
    if len(text) > MAX_HTML_CHARS:
        result.gap(f"HTML longer than {MAX_HTML_CHARS} characters: only the start was parsed")
        text = text[:MAX_HTML_CHARS]
    tokens = list(tokenize(text))
    rules, css_complete = _style_sheets(tokens)
    if not css_complete:
        result.gap("style sheets beyond the CSS limits were not applied")
    builder = _Builder(_RuleIndex(rules), result)
    elements = 0
    for token in tokens:
        if token.kind == "text":
            builder.text(token.data)
        elif token.kind == "start":
            elements += 1
            if elements > MAX_ELEMENTS:
                result.gap(f"more than {MAX_ELEMENTS} elements: the rest of the document was not inspected")
                break
            builder.start(token)
        elif token.kind == "end":
            builder.end(token.data)
        elif token.kind == "comment":
            builder.standalone_hidden("HTML comment", "comment", token.data)
    builder.finish()
    return result
