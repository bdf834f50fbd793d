"""Every rule's own examples run as tests; docs/rules.md must match the registry."""

from __future__ import annotations

import pytest

from scanners.rules import REGISTRY
from scanners.rules_doc import render_rules_markdown
from scanners.tier2 import threats_for
from tests.conftest import REPO_ROOT

RULE_IDS = sorted(REGISTRY)


def test_registry_covers_every_pr_threat_family() -> None:
    types = {rule.threat_type.value for rule in REGISTRY.values()}
    assert {
        "agent_config_tampering", "security_sabotage", "supply_chain_mod", "credential_exposure",
        "obfuscation", "code_comment_injection", "pr_injection",
    } <= types


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_positive_example_fires(rule_id: str) -> None:
    rule = REGISTRY[rule_id]
    fired = [t for t in threats_for(rule.positive.diff, rule.positive.title, rule.positive.body) if t.rule == rule_id]
    assert fired, f"{rule_id} did not fire on its positive example"
    assert all(t.type == rule.threat_type.value for t in fired)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_negative_example_does_not_fire(rule_id: str) -> None:
    rule = REGISTRY[rule_id]
    fired = [t for t in threats_for(rule.negative.diff, rule.negative.title, rule.negative.body) if t.rule == rule_id]
    assert not fired, f"{rule_id} fired on its negative example: {fired[0].detail}"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_is_documented(rule_id: str) -> None:
    rule = REGISTRY[rule_id]
    assert rule.title and len(rule.rationale) > 40
    assert rule.positive != rule.negative


def test_rules_markdown_is_current() -> None:
    committed = (REPO_ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render_rules_markdown(), "docs/rules.md is stale: run `watchpost rules --markdown > docs/rules.md`"
