from __future__ import annotations

import pytest

from scanners.models import Severity, Threat, Tolerance, Verdict
from scanners.scoring import overall_score, sub_scores, verdict_for


def threat(severity: str, kind: str = "supply_chain_mod", rule: str = "r") -> Threat:
    return Threat(type=kind, severity=Severity(severity), detail="d", rule=rule)


def test_clean_pr_from_trusted_author_is_safe() -> None:
    scores = sub_scores([], 90.0, [])
    assert overall_score(scores, []) >= 90
    assert verdict_for(overall_score(scores, []), Tolerance.CONSERVATIVE, []) is Verdict.SAFE


def test_tolerance_changes_verdict_not_score() -> None:
    threats = [threat("high")]
    score = overall_score(sub_scores(threats, 70.0, []), threats)
    verdicts = {t: verdict_for(score, t, threats) for t in Tolerance}
    assert verdicts[Tolerance.CONSERVATIVE].rank > verdicts[Tolerance.YOLO].rank
    assert verdicts[Tolerance.YOLO] is Verdict.SAFE


@pytest.mark.parametrize("tolerance", list(Tolerance))
def test_critical_keeps_at_least_suspicious(tolerance: Tolerance) -> None:
    threats = [threat("critical")]
    score = overall_score(sub_scores(threats, 100.0, []), threats)
    assert score <= 30
    assert verdict_for(score, tolerance, threats).rank >= Verdict.SUSPICIOUS.rank


@pytest.mark.parametrize("tolerance", list(Tolerance))
def test_incomplete_scan_is_never_safe(tolerance: Tolerance) -> None:
    assert verdict_for(100, tolerance, [], complete=False) is not Verdict.SAFE


def test_single_high_from_trusted_author_is_caution_not_dangerous() -> None:
    threats = [threat("high", "agent_config_tampering")]
    score = overall_score(sub_scores(threats, 95.0, []), threats)
    assert verdict_for(score, Tolerance.CONSERVATIVE, threats) is Verdict.CAUTION


def test_repeats_of_one_rule_decay() -> None:
    one = sub_scores([threat("medium", rule="x")], None, []).behavior
    many = sub_scores([threat("medium", rule="x") for _ in range(6)], None, []).behavior
    distinct = sub_scores([threat("medium", rule=f"x{i}") for i in range(6)], None, []).behavior
    assert one is not None and many is not None and distinct is not None
    assert one > many > distinct


def test_more_criticals_lower_the_cap() -> None:
    one = [threat("critical")]
    three = [threat("critical", rule=f"r{i}") for i in range(3)]
    assert overall_score(sub_scores(three, 90.0, []), three) < overall_score(sub_scores(one, 90.0, []), one)


def test_identity_missing_reweights() -> None:
    scores = sub_scores([], None, [])
    assert scores.identity is None
    assert overall_score(scores, []) == 100
