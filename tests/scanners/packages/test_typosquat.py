"""Name confusion with popular packages."""

from __future__ import annotations

import pytest

from scanners.packages.typosquat import canonical, find_typosquat, is_popular, osa_distance, popular_index


@pytest.mark.parametrize(("ecosystem", "name", "target", "technique"), [
    ("npm", "crossenv", "cross-env", "separator"),  # the 2017 crossenv credential stealer
    ("npm", "cross_env", "cross-env", "separator"),
    ("npm", "lodahs", "lodash", "transposition"),
    ("npm", "expresss", "express", "edit-distance"),
    ("npm", "l0dash", "lodash", "confusable"),
    ("npm", "cornmander", "commander", "confusable"),
    ("npm", "lоdash", "lodash", "homoglyph"),  # Cyrillic о
    ("npm", "lodash-js", "lodash", "affix"),
    ("npm", "@evil/lodash", "lodash", "scope"),
    ("npm", "@babl/core", "@babel/core", "edit-distance"),
    ("npm", "babelcore", "@babel/core", "separator"),
    ("pypi", "reqeusts", "requests", "transposition"),
    ("pypi", "python3-requests", "requests", "affix"),
    ("pypi", "pythondateutil", "python-dateutil", "separator"),
    ("pypi", "colourama", "colorama", "edit-distance"),
    ("pypi", "requets-oauthlb", "requests-oauthlib", "edit-distance"),
    ("crate", "rustdecimal", "rust_decimal", "separator"),
    ("crate", "serde_jsn", "serde_json", "edit-distance"),
])
def test_squats_found(ecosystem: str, name: str, target: str, technique: str) -> None:
    match = find_typosquat(ecosystem, name)  # type: ignore[arg-type]
    assert match is not None, name
    assert (match.target, match.technique) == (target, technique)


@pytest.mark.parametrize(("ecosystem", "name"), [
    ("npm", "cross-env"), ("npm", "lodash"), ("npm", "@babel/core"), ("npm", "@types/lodash"),
    ("npm", "@emotion/react"), ("npm", "@babel/cor"),  # same scope: only @babel can publish there
    ("npm", "react-dom"), ("npm", "bootstrap3"), ("npm", "glow"), ("npm", "my-internal-tool"),
    ("pypi", "Requests"), ("pypi", "python_dateutil"), ("pypi", "Python-DateUtil"), ("pypi", "requests-toolbelt"),
    ("pypi", "pyqt4"), ("pypi", "numpy"), ("pypi", "flask-babel"),
    ("crate", "serde-json"), ("crate", "Serde_Json"), ("crate", "tokio"),
    ("npm", ""), ("npm", "x" * 500),
])
def test_popular_and_unrelated_names_not_flagged(ecosystem: str, name: str) -> None:
    assert find_typosquat(ecosystem, name) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("ecosystem", "name", "target"), [
    # every shape of two edits from a long popular name: two substitutions, two insertions, one of each
    ("npm", "eslint-konfig-prettiar", "eslint-config-prettier"),
    ("npm", "eslint-config-prettierrr", "eslint-config-prettier"),
    ("npm", "eslint-config-pretttierx", "eslint-config-prettier"),
    ("pypi", "requezts-oauthlip", "requests-oauthlib"),
    ("pypi", "python-datteutill", "python-dateutil"),
    ("crate", "wasm_bindgem_futurez", "wasm-bindgen-futures"),
])
def test_two_edits_from_a_long_name_are_found(ecosystem: str, name: str, target: str) -> None:
    match = find_typosquat(ecosystem, name)  # type: ignore[arg-type]
    assert match is not None and match.target == target and match.distance == 2, (name, match)


def test_three_edits_are_not_a_squat() -> None:
    assert find_typosquat("npm", "eslint-konfig-prettiarx") is None


def test_short_names_need_a_transposition() -> None:
    assert find_typosquat("npm", "jset") is not None  # jest, swapped
    assert find_typosquat("npm", "jast") is None  # one substitution from a 4-letter name: too many legit neighbours
    assert find_typosquat("npm", "mz") is None


def test_most_popular_target_wins() -> None:
    match = find_typosquat("npm", "reacts")
    assert match is not None and match.target in {"react"}


def test_canonical_forms() -> None:
    assert canonical("pypi", "Foo.Bar_baz") == "foo-bar-baz"
    assert canonical("crate", "Serde-Json") == "serde_json"
    assert canonical("npm", "Lodash") == "lodash"
    assert is_popular("pypi", "Typing_Extensions")


def test_osa_distance() -> None:
    assert osa_distance("lodash", "lodahs", 2) == 1
    assert osa_distance("abc", "abc", 1) == 0
    assert osa_distance("kitten", "sitting", 5) == 3
    assert osa_distance("short", "muchlongername", 2) == 3


def test_lists_are_substantial_and_clean() -> None:
    for ecosystem in ("npm", "pypi", "crate"):
        index = popular_index(ecosystem)  # type: ignore[arg-type]
        assert len(index.names) >= 400
        assert all(name == name.strip() and " " not in name for name in index.names)
    # Known-malicious names must never be on the allow-list.
    assert not is_popular("npm", "flatmap-stream") and not is_popular("npm", "crossenv")


def test_homoglyph_then_typo() -> None:
    match = find_typosquat("npm", "lоdahs")  # Cyrillic о and a swapped pair
    assert match is not None and match.technique == "homoglyph" and match.target == "lodash"
    assert find_typosquat("npm", "ünrelated-näme") is None
