"""The rule registry of the web analysers: documented, and every rule exercised by a test."""

from __future__ import annotations

from pathlib import Path

from scanners.web import RULES


def test_rule_ids_and_rationales() -> None:
    for rule_id, rationale in RULES.items():
        prefix, _, name = rule_id.partition("/")
        assert prefix in ("web", "email") and name and name == name.lower()
        assert rationale.endswith(".") and 40 <= len(rationale) <= 400


def test_every_rule_has_a_test_that_names_it() -> None:
    sources = "".join(path.read_text(encoding="utf-8") for path in Path(__file__).parent.glob("test_*.py") if path.name != "test_rules.py")
    missing = [rule_id for rule_id in RULES if f'"{rule_id}"' not in sources]
    assert missing == []
