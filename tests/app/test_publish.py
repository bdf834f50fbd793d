from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.publish.check_run import (
    annotation_batches,
    completed_payloads,
    conclusion_for,
    summary_for,
    title_for,
)
from app.publish.comment import (
    STICKY_MARKER,
    findings_body,
    is_our_comment,
    parse_report_block,
    resolved_body,
)
from scanners.models import Confidence, ScanReport, Severity, SubScores, Threat, Tolerance, Verdict


def report(verdict: Verdict = Verdict.SUSPICIOUS, threats: list[Threat] | None = None, **extra) -> ScanReport:
    return ScanReport(
        name="o/r", version="7", score=42, verdict=verdict, confidence=Confidence.HIGH, tolerance=Tolerance.CONSERVATIVE,
        scanned_at=datetime(2026, 1, 1, tzinfo=UTC), sub_scores=SubScores(identity=50, behavior=40, content=90),
        threats=threats or [], tiers_completed=["tier1", "tier2"], tiers_skipped={"tier3": "not configured"}, scanner_version="0.1.0", **extra,
    )


def threat(i: int = 1, severity: Severity = Severity.HIGH, path: str | None = "a.py", kind: str = "obfuscation") -> Threat:
    return Threat(type=kind, severity=severity, detail=f"finding {i} -- with | pipe", rule="obfuscation/exec-decoded", path=path, line=i if path else None, evidence="eval(atob(x))")


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [(Verdict.DANGEROUS, "failure"), (Verdict.SUSPICIOUS, "action_required"), (Verdict.CAUTION, "neutral"), (Verdict.SAFE, "success")],
)
def test_conclusions(verdict: Verdict, expected: str) -> None:
    assert conclusion_for(report(verdict)) == expected


def test_suspicious_can_fail_by_config_and_scan_error_is_never_success() -> None:
    assert conclusion_for(report(Verdict.SUSPICIOUS), suspicious_fails=True) == "failure"
    errored = report(Verdict.CAUTION, [Threat(type="scan_error", severity=Severity.CRITICAL, detail="x", rule="scan/error")])
    assert conclusion_for(errored) == "neutral"


def test_annotations_batched_by_50_and_only_with_locations() -> None:
    threats = [threat(i) for i in range(1, 121)] + [threat(999, path=None, kind="pr_injection")]
    batches = annotation_batches(report(threats=threats))
    assert [len(b) for b in batches] == [50, 50, 20]
    first = batches[0][0]
    assert first["annotation_level"] == "failure" and first["start_line"] == 1 and len(first["title"]) <= 255
    payloads = completed_payloads(report(threats=threats))
    assert payloads[0]["conclusion"] == "action_required" and payloads[0]["actions"][0]["identifier"] == "rerun"
    assert all("conclusion" not in p for p in payloads[1:])
    assert len(payloads[0]["actions"][0]["label"]) <= 20 and len(payloads[0]["actions"][0]["description"]) <= 40


def test_summary_respects_limit_and_escapes_tables() -> None:
    many = [threat(i) for i in range(1, 3000)]
    summary = summary_for(report(threats=many))
    assert len(summary) <= 65_535 and "cut to GitHub's size limit" in summary
    assert "\\|" in summary and "tier3 skipped: not configured" in summary
    assert title_for(report(threats=[threat()])) == "Suspicious · score 42/100 · 1 finding"


def test_comment_block_round_trips_and_cannot_break_out() -> None:
    hostile = threat()
    hostile = hostile.model_copy(update={"detail": "--> <script>alert(1)</script> <!-- "})
    original = report(threats=[hostile])
    body = findings_body(original, "https://github.example/checks/1")
    assert body.startswith(STICKY_MARKER)
    block = body[body.index("<!-- watchpost:report v1") :]
    assert block.count("-->") == 1 and block.endswith("-->")
    assert parse_report_block(body) == original
    assert parse_report_block(resolved_body(report(Verdict.SAFE))).verdict is Verdict.SAFE


def test_secrets_never_in_comment() -> None:
    token = "ghp_" + "Rt5Yu7Io" * 4 + "Pq2W"
    leaky = threat().model_copy(update={"detail": f"found {token}"})
    body = findings_body(report(threats=[leaky]))
    assert token not in body
    assert parse_report_block(body) is not None  # still valid JSON after redaction


def test_our_comment_needs_marker_and_bot_login() -> None:
    assert is_our_comment({"body": STICKY_MARKER + " x", "user": {"login": "watchpost[bot]"}}, "watchpost[bot]")
    assert not is_our_comment({"body": STICKY_MARKER, "user": {"login": "mallory"}}, "watchpost[bot]")
    assert not is_our_comment({"body": "hello", "user": {"login": "watchpost[bot]"}}, "watchpost[bot]")
