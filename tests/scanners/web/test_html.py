"""Tokenizer, CSS subset and visible/hidden text split."""

from __future__ import annotations

import time

import pytest

from scanners.web import css
from scanners.web.html import MAX_ELEMENTS, MAX_HTML_CHARS, parse_html
from scanners.web.tokenizer import tokenize
from tests.scanners.web.helpers import fixture


def hidden_texts(html: str) -> dict[str, str]:
    return {block.text: block.reason for block in parse_html(html).hidden}


def test_tokenizer_handles_attributes_comments_and_raw_text() -> None:
    tokens = list(tokenize('<div class="a b" hidden data-x=\'1>2\'>x &amp; y</div><!-- c --><script>if (a<b) {}</script>'))
    assert tokens[0].kind == "start" and tokens[0].attrs == {"class": "a b", "hidden": "", "data-x": "1>2"}
    assert tokens[1].data == "x & y"
    assert [t.kind for t in tokens[2:]] == ["end", "comment", "start", "text", "end"]
    assert tokens[5].data == "if (a<b) {}"


def test_tokenizer_keeps_literal_less_than_signs_as_text() -> None:
    assert [(t.kind, t.data) for t in tokenize("a < b <3 <= c")] == [("text", "a < b <3 <= c")]


def test_tokenizer_drops_a_tag_left_open_at_the_end() -> None:
    assert [t.kind for t in tokenize('ok <a href="x')] == ["text"]


HOSTILE = [
    "<a " * 300_000, "<" * 900_000, "</" * 450_000, "<![" * 300_000, "<a b='>" * 120_000, "<a " + "=" * 900_000,
    "<!--" * 200_000, "<script>" * 100_000, "<div style='display:none'>" * 100_000,
    "<style>" + "/*" * 100_000 + "</style>",
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=[f"hostile-{index}" for index in range(len(HOSTILE))])
def test_hostile_markup_is_parsed_in_bounded_time(hostile: str) -> None:
    # The stdlib parser needs ~27 s for 40 KB of "<a <a …"; this input is 900 KB.
    start = time.perf_counter()
    parse_html(hostile)
    assert time.perf_counter() - start < 10


def test_oversized_document_is_marked_incomplete() -> None:
    parsed = parse_html("<p>" + "x" * (MAX_HTML_CHARS + 10))
    assert not parsed.complete and any("longer than" in gap for gap in parsed.gaps)


def test_element_flood_is_cut_and_marked_incomplete() -> None:
    parsed = parse_html("<i>x</i>" * (MAX_ELEMENTS + 5))
    assert not parsed.complete and any("elements" in gap for gap in parsed.gaps)


def test_benign_docs_page_split() -> None:
    parsed = parse_html(fixture("docs_page.html").decode())
    hidden = {block.text: block.reason for block in parsed.hidden}
    assert hidden["Skip to main content"] == "positioned off-screen"
    assert hidden["Open main menu"].startswith("clip")
    assert any(reason == "display:none" and "Installation" in text for text, reason in hidden.items())
    assert any(reason == "hidden attribute" and "cookies" in text for text, reason in hidden.items())
    assert "Copied to clipboard" in hidden  # visibility:hidden from a class rule
    visible = parsed.visible_text
    assert "A small, typed HTTP client for Python." in visible  # white on blue is visible
    assert "pip install widgetlib" in visible
    assert "Installation" in visible  # the sidebar is only hidden inside @media, which is not applied
    assert parsed.title == "Getting started — widgetlib 2.4 documentation"
    assert parsed.complete


def test_inline_styles_that_hide() -> None:
    html = (
        '<p style="display: none">a1 text</p><p style="visibility:hidden">a2 text</p><p style="opacity:0.0">a3 text</p>'
        '<p style="font-size:0px">a4 text</p><p style="font-size:1px">a5 text</p><p style="text-indent:-9999px">a6 text</p>'
        '<p style="clip-path: inset(100%)">a7 text</p><p style="color:transparent">a8 text</p>'
        '<p style="position:fixed; top:-5000px">a9 text</p><template><p>b1 text</p></template><noscript>b2 text</noscript>'
        '<p aria-hidden="true">b3 text</p><p style="transform: scale(0)">b4 text</p>'
        '<p style="font-size:14px; opacity:1">shown text</p>'
    )
    hidden = hidden_texts(html)
    for index in range(1, 10):
        assert f"a{index} text" in hidden
    for index in range(1, 5):
        assert f"b{index} text" in hidden
    assert "shown text" in parse_html(html).visible_text


def test_colour_hiding_needs_both_colours() -> None:
    html = (
        '<div style="color:#fff;background-color:#fefefe">white on white</div>'
        '<div style="background:#ffffff"><span style="color:white">inherited background</span></div>'
        '<table bgcolor="#000000"><tr><td><font color="#010101">legacy black on black</font></td></tr></table>'
        '<div style="color:#ffffff">white text on an unknown background</div>'
        '<div style="color:#fff;background:#fff"><b style="color:#000">dark child</b></div>'
    )
    hidden = hidden_texts(html)
    assert hidden.get("white on white") == "same colour as background"
    assert "inherited background" in hidden
    assert "legacy black on black" in hidden
    visible = parse_html(html).visible_text
    assert "white text on an unknown background" in visible
    assert "dark child" in visible


def test_simple_selectors_and_cascade() -> None:
    html = (
        "<style>.gone{display:none} #x{display:none} span{visibility:hidden} .a .b{display:none}"
        "div.shown{display:block} .later{display:none} .later{display:block}</style>"
        '<p class="gone">by class</p><p id="x">by id</p><span>by tag</span>'
        '<p class="b">descendant rule ignored</p><p class="later">later rule wins</p>'
        '<p class="gone" style="display:block">inline wins</p>'
    )
    hidden = hidden_texts(html)
    assert {"by class", "by id", "by tag"} <= set(hidden)
    visible = parse_html(html).visible_text
    assert "descendant rule ignored" in visible and "later rule wins" in visible and "inline wins" in visible


def test_comments_meta_and_attributes_are_hidden_blocks() -> None:
    html = (
        '<head><meta name="description" content="About this shop"><meta name="viewport" content="width=device-width">'
        '</head><!-- build 42 --><img alt="A diagram of the build pipeline" src="d.png"><button title="Close">x</button>'
    )
    hidden = hidden_texts(html)
    assert hidden["About this shop"] == "meta"
    assert hidden["build 42"] == "HTML comment"
    assert hidden["A diagram of the build pipeline"] == "alt attribute"
    assert "width=device-width" not in hidden
    assert "Close" not in hidden  # too short to carry an instruction


def test_broken_nesting_does_not_hide_later_text() -> None:
    html = '<p style="display:none">hidden para<div>after a block start</div><ul><li>one<li>two</ul></span></em>tail'
    parsed = parse_html(html)
    assert "hidden para" in {block.text for block in parsed.hidden}
    assert "after a block start" in parsed.visible_text  # a <div> closes the open <p>
    assert "tail" in parsed.visible_text


def test_forms_links_images_and_refresh() -> None:
    html = (
        '<base href="https://cdn.example.test/"><meta http-equiv="refresh" content="0; url=https://other.example.test/">'
        '<form action="/login" method="POST"><input type="password" name="pw"><input name="cardnumber"></form>'
        '<form action="/search"><input name="q"></form><a href="/next">Next <b>page</b></a><img src="l.png" alt="Logo">'
        '<input type="password" name="loose">'
    )
    parsed = parse_html(html)
    assert parsed.base_href == "https://cdn.example.test/"
    assert parsed.meta_refresh == ["0; url=https://other.example.test/"]
    assert parsed.forms[0].has_password and parsed.forms[0].has_card and parsed.forms[0].method == "post"
    assert not parsed.forms[1].has_password
    assert parsed.links[0].href == "/next" and parsed.links[0].text == "Next page"
    assert parsed.images[0].alt == "Logo"
    assert parsed.password_outside_form


def test_css_helpers() -> None:
    assert css.parse_colour("rgba(0, 0, 0, 0)") == css.TRANSPARENT
    assert css.parse_colour("#FFF".lower()) == (255, 255, 255)
    assert css.parse_colour("url(x.png) #000 no-repeat") == (0, 0, 0)
    assert css.parse_colour("var(--bg)") is None
    assert css.length_px("0.5pt") is not None and css.length_px("0.5pt") < 1
    assert css.length_px("50%") is None
    assert css.hiding_reason({"clip": "rect(1px, 1px, 1px, 1px)", "position": "absolute"}) == "clip:rect(0,0,0,0)"
    assert css.hiding_reason({"clip": "rect(0px, 200px, 40px, 0px)"}) is None
    assert css.hiding_reason({"text-indent": "-2em"}) is None
    assert css.hiding_reason({"position": "relative", "left": "-9999px"}) is None
