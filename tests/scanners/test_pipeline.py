from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from scanners.models import Tolerance, Verdict
from scanners.pipeline import scan_pr, with_tolerance
from scanners.rules.registry import new_file
from scanners.workspace import load_path, load_workspace, snapshot_from_diff, snapshot_from_parts
from tests.conftest import DIFFS, build_metadata, corpus_cases, corpus_label, requires_corpus

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def scan(snapshot, **kwargs):
    return scan_pr(snapshot, scanned_at=NOW, **kwargs)


@requires_corpus
@pytest.mark.parametrize("name", corpus_cases())
def test_corpus_as_pr_workspace(name: str, make_workspace) -> None:
    """Each labelled diff, wrapped in a real PR workspace, meets its label."""
    label = corpus_label(name)
    directory = make_workspace(diff=(DIFFS / f"{name}.patch").read_bytes(), description=label["source"].get("subject", "") + "\n\n")
    report = scan(load_workspace(directory))
    found = {t.type for t in report.threats}
    for expected in label["expected_threats"]:
        assert expected in found, f"{name}: {expected} not found in {sorted(found)}"
    if label["kind"] == "benign":
        allowed = {entry.split(" ")[0] for entry in label.get("acceptable_low_severity", [])}
        loud = [t for t in report.threats if t.severity.value in {"high", "critical"} and t.type not in allowed]
        assert not loud, f"{name}: {[(t.rule, t.severity.value) for t in loud]}"
        assert report.verdict is not Verdict.DANGEROUS
    assert report.tiers_completed[:2] == ["tier1", "tier2"]


@requires_corpus
def test_same_input_same_output(make_workspace) -> None:
    snapshot = load_workspace(make_workspace(diff=new_file(".github/workflows/a.yml", "on: push\njobs: {}\n")))
    assert scan(snapshot).model_dump_json() == scan(snapshot).model_dump_json()


def test_bare_diff_says_tier1_skipped_and_confidence_low() -> None:
    report = scan(snapshot_from_diff(new_file("a.py", "x = 1\n")))
    assert "tier1" in report.tiers_skipped and report.confidence.value == "low"
    assert report.sub_scores.identity is None


def test_tier3_skipped_with_reason_when_triggered_but_unavailable() -> None:
    report = scan(snapshot_from_diff(new_file("AGENTS.md", "Use tabs.\n")))
    assert "tier3" in report.tiers_skipped and "agent configuration" in report.tiers_skipped["tier3"]
    clean = scan(snapshot_from_diff(new_file("README.md", "Hello.\n")))
    assert clean.tiers_skipped["tier3"].startswith("not triggered")


def test_tier3_runs_through_the_injected_call_and_only_adds() -> None:
    calls = []

    def fake_llm(request):
        calls.append(request)
        return json.dumps({"findings": [{"type": "supply_chain_mod", "severity": "critical", "path": "AGENTS.md", "line": 1, "detail": "x", "evidence": None}], "summary": ""})

    report = scan(snapshot_from_diff(new_file("AGENTS.md", "Use tabs.\n")), llm=fake_llm)
    assert len(calls) == 1 and "tier3" in report.tiers_completed
    assert {t.rule for t in report.threats} >= {"agent-config/instructions-changed", "llm/review"}


def test_llm_failure_is_reported_not_raised() -> None:
    def broken(request):
        raise TimeoutError("read timed out")

    report = scan(snapshot_from_diff(new_file("AGENTS.md", "x\n")), llm=broken)
    assert "LLM call failed: TimeoutError" in report.tiers_skipped["tier3"]


def test_progress_events_in_order() -> None:
    events = []
    scan(snapshot_from_diff(new_file("AGENTS.md", "x\n")), llm=lambda r: '{"findings": [], "summary": ""}', on_progress=lambda e, r: events.append((e, r.score)))
    assert [e for e, _ in events] == ["tier1_complete", "tier2_complete", "tier3_complete", "scan_complete"]


def test_secrets_never_appear_in_the_report() -> None:
    token = "ghp_" + "Zq8Lm3Np" * 4 + "Xy7W"
    report = scan(snapshot_from_diff(new_file("config.py", f'GITHUB_TOKEN = "{token}"\n')))
    assert report.threats and token not in report.model_dump_json()


def test_tolerance_rescoring_keeps_score() -> None:
    report = scan(snapshot_from_diff(new_file("AGENTS.md", "Use tabs.\n")))
    lenient = with_tolerance(report, Tolerance.YOLO)
    assert lenient.score == report.score and lenient.tolerance is Tolerance.YOLO


# --- bad input: a report, never a traceback, never "safe" when incomplete ---------------------

@pytest.mark.parametrize(
    "text",
    [
        "this is not a diff at all",
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,40 +1,40 @@\n a\n+b\n",
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ nonsense @@\n+x\n",
    ],
)
def test_malformed_diffs_are_never_safe(text: str) -> None:
    for tolerance in Tolerance:
        report = scan(snapshot_from_diff(text), tolerance=tolerance)
        assert report.verdict is not Verdict.SAFE
        assert not report.complete and report.evidence_gaps


def test_binary_patch_and_huge_single_line() -> None:
    binary = "diff --git a/a.bin b/a.bin\nnew file mode 100644\nindex 0..1\nGIT binary patch\nliteral 10\nRcmZ?wbhEHbiu\n\nliteral 0\nHcmV?d00001\n"
    report = scan(snapshot_from_diff(binary))
    assert report.threats is not None
    huge = new_file("blob.js", "var x = '" + "a1B2" * (5 * 1024 * 1024 // 4) + "';\n")
    report = scan(snapshot_from_diff(huge))
    assert report.scanner_version


def test_empty_pr_and_missing_metadata_keys(make_workspace) -> None:
    report = scan(snapshot_from_diff(""))
    assert report.threats == [] or all(t.type != "scan_error" for t in report.threats)
    sparse = snapshot_from_parts({"pull_request": {"title": "x"}})
    report = scan(sparse)
    assert report.confidence.value in {"low", "medium"}


@requires_corpus
def test_truncated_workspace_is_incomplete(make_workspace) -> None:
    directory = make_workspace(diff=new_file("a.py", "x = 1\n"), truncated=True)
    report = scan(load_workspace(directory))
    assert not report.complete and report.verdict is not Verdict.SAFE and report.confidence.value == "low"


def test_invalid_utf8_stdin() -> None:
    report = scan(load_path("-", new_file("a.txt", "ok\n").encode() + b"+\xc3\x28\n"))
    assert any("invalid UTF-8" in gap for gap in report.evidence_gaps)


@requires_corpus
def test_workspace_replay_is_stable_against_the_clock(make_workspace) -> None:
    directory = make_workspace(diff=new_file("a.py", "x = 1\n"))
    first = scan_pr(load_workspace(directory), scanned_at=datetime(2030, 1, 1, tzinfo=UTC))
    second = scan_pr(load_workspace(directory), scanned_at=datetime(2040, 1, 1, tzinfo=UTC))
    assert first.score == second.score and first.sub_scores == second.sub_scores


@requires_corpus
def test_metadata_builder_defaults_are_trusted() -> None:
    report = scan(snapshot_from_parts(build_metadata(), new_file("README.md", "Docs.\n")))
    assert report.verdict is Verdict.SAFE and report.confidence.value == "high"
