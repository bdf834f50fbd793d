"""SARIF as GitHub code scanning takes it: every result on a file (file-less findings anchored with a
message), stable and distinct fingerprints, the most severe results kept when there are too many."""

from __future__ import annotations

from datetime import UTC, datetime

from scanners.models import Confidence, ScanReport, Severity, SubScores, Threat, Verdict
from scanners.sarif import DEFAULT_ANCHOR, MAX_RESULTS, to_sarif
from tests.sarif_schema import code_scanning_problems, sarif_errors


def report_with(threats: list[Threat]) -> ScanReport:
    return ScanReport(name="o/r", score=20, verdict=Verdict.DANGEROUS, confidence=Confidence.HIGH, scanned_at=datetime.now(UTC),
                      sub_scores=SubScores(), scanner_version="1", threats=threats)


BODY_INJECTION = Threat(type="pr_injection", severity=Severity.CRITICAL, detail="addresses the AI reviewer", rule="pr-injection/hidden-comment")
NEWCOMER = Threat(type="first_time_contributor", severity=Severity.LOW, detail="no earlier commits", rule="identity/first-time-contributor")
IN_FILE = Threat(type="obfuscation", severity=Severity.HIGH, detail="decoded and run", rule="obfuscation/base64-exec", path="src/a.py", line=3, evidence="exec(b64decode(x))")


def results(document: dict) -> list[dict]:
    return document["runs"][0]["results"]


def test_fileless_findings_are_anchored_where_the_caller_says_and_say_so() -> None:
    document = to_sarif(report_with([BODY_INJECTION, NEWCOMER, IN_FILE]), anchor_path=".github/workflows/watchpost.yml")
    assert sarif_errors(document) == [] and code_scanning_problems(document) == []
    body, newcomer, in_file = results(document)
    for result, subject in ((body, "description"), (newcomer, "author")):
        (location,) = result["locations"]
        assert location["physicalLocation"] == {"artifactLocation": {"uri": ".github/workflows/watchpost.yml"}, "region": {"startLine": 1}}
        assert "Not in a file" in location["message"]["text"] and subject in location["message"]["text"]
        assert result["properties"]["inFile"] is False
    assert in_file["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "src/a.py"}, "region": {"startLine": 3}}
    assert "message" not in in_file["locations"][0] and in_file["properties"]["inFile"] is True


def test_without_an_anchor_fileless_findings_go_to_the_watchpost_config_file() -> None:
    document = to_sarif(report_with([BODY_INJECTION]))
    assert results(document)[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == DEFAULT_ANCHOR
    assert code_scanning_problems(document) == []


def test_the_checker_catches_what_code_scanning_rejects() -> None:
    document = to_sarif(report_with([BODY_INJECTION, IN_FILE]))
    results(document)[0].pop("locations")
    results(document)[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "file:///runner/work/src/a.py"
    results(document)[1]["partialFingerprints"] = results(document)[0]["partialFingerprints"]
    problems = code_scanning_problems(document)
    assert any("no location" in p for p in problems) and any("repository-relative" in p for p in problems)
    assert any("repeats" in p for p in problems)


def test_fingerprints_ignore_line_moves_but_tell_repeats_apart() -> None:
    moved = IN_FILE.model_copy(update={"line": 40})
    first = results(to_sarif(report_with([IN_FILE])))[0]["partialFingerprints"]
    assert results(to_sarif(report_with([moved])))[0]["partialFingerprints"] == first
    twice = to_sarif(report_with([IN_FILE, moved]))
    fingerprints = [r["partialFingerprints"]["watchpostFinding/v1"] for r in results(twice)]
    assert fingerprints[0] == first["watchpostFinding/v1"] and fingerprints[1] == f"{fingerprints[0]}:2"
    assert code_scanning_problems(twice) == []


def test_too_many_results_keep_the_most_severe_and_count_the_rest() -> None:
    lows = [Threat(type="obfuscation", severity=Severity.LOW, detail=f"low {n}", rule="obfuscation/base64-exec", path="a.py", line=n + 1)
            for n in range(MAX_RESULTS)]
    document = to_sarif(report_with([*lows, BODY_INJECTION]))
    kept = results(document)
    assert len(kept) == MAX_RESULTS and kept[0]["ruleId"] == "pr-injection/hidden-comment"
    assert document["runs"][0]["properties"]["resultsOmitted"] == 1
    assert sarif_errors(document) == [] and code_scanning_problems(document) == []


def test_a_rule_carries_the_severity_of_its_results_in_this_run() -> None:
    # code scanning reads security-severity from the rule: a lowered rule must not show as high,
    # and a low LLM note must not borrow a critical one's severity unless both are there
    lowered = IN_FILE.model_copy(update={"severity": Severity.LOW})
    llm_low = Threat(type="llm_review", severity=Severity.LOW, detail="odd", rule="llm/review", tier="tier3")
    document = to_sarif(report_with([lowered, llm_low]))
    severities = {rule["id"]: rule["properties"]["security-severity"] for rule in document["runs"][0]["tool"]["driver"]["rules"]}
    assert severities == {"obfuscation/base64-exec": "3.0", "llm/review": "3.0"}
    llm_critical = llm_low.model_copy(update={"severity": Severity.CRITICAL})
    mixed = to_sarif(report_with([llm_low, llm_critical]))
    assert mixed["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == "9.5"
