"""The entry points: analyze_package / provisional_package_findings, grading through the shared
report path, the rule registry, limits and hostile input."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from scanners.artifacts import report_for_artifact
from scanners.models import Severity, Verdict
from scanners.packages import RULES, analyze_package, content, provisional_package_findings
from scanners.packages.archive import extract_archive
from scanners.packages.snapshot import (
    PackageSnapshot,
    snapshot_from_crates,
    snapshot_from_npm,
    snapshot_from_pypi,
)
from tests.scanners.packages import test_content_npm as npm_cases
from tests.scanners.packages.build import NOW, fixture, npm_snapshot, rules_of, sdist_snapshot, tgz


def report(findings, snapshot: PackageSnapshot | None = None, **kwargs):  # type: ignore[no-untyped-def]
    name = snapshot.name if snapshot else "x"
    return report_for_artifact(origin="package", name=name, version=snapshot.version if snapshot else None,
                               findings=findings, scanned_at=NOW, **kwargs)


def test_security_placeholder_is_dangerous() -> None:
    snap = snapshot_from_npm(fixture("npm-security-holder.json"), None, None, NOW)
    findings = analyze_package(snap)
    assert report(findings, snap).verdict is Verdict.DANGEROUS
    assert "pkg/typosquat-separator" in rules_of(findings)  # crossenv ~ cross-env as well


def test_ua_parser_incident_is_dangerous() -> None:
    snap = npm_cases.ua_parser_snapshot()
    assert report(analyze_package(snap), snap).verdict is Verdict.DANGEROUS


def test_clean_popular_package_is_safe() -> None:
    snap = npm_snapshot("left-padding", {"index.js": "module.exports = (s, n) => String(s).padStart(n);\n",
                                         "README.md": "# left-padding\n"})
    findings = analyze_package(snap)
    assert findings.threats == [] and findings.complete and findings.evidence_level == 3.0
    assert report(findings, snap).verdict is Verdict.SAFE


def test_requests_metadata_only_is_not_flagged() -> None:
    snap = snapshot_from_pypi(fixture("pypi-requests.json"), None, None, NOW)
    findings = analyze_package(snap)
    assert findings.threats == []
    assert {e.target for e in findings.edges} == {"repo:psf/requests"}


def test_young_typosquat_is_raised() -> None:
    snap = snapshot_from_crates(fixture("crates-rustdecimal.json"), None, None, datetime(2022, 3, 27, tzinfo=UTC))
    findings = analyze_package(snap)
    squat = next(t for t in findings.threats if t.type == "typosquat")
    assert squat.rule == "pkg/typosquat-separator" and squat.severity is Severity.HIGH
    assert "pkg/young-package" in rules_of(findings)


def test_provisional_answer() -> None:
    squat = provisional_package_findings("npm", "crossenv")
    assert squat.evidence_level == 0.0
    assert [t.rule for t in squat.threats] == ["pkg/typosquat-separator"]
    assert report(squat, pending_deep_scan=True).verdict is not Verdict.SAFE
    clean = provisional_package_findings("npm", "lodash")
    assert clean.threats == []
    # Nothing but a name inspected: never "safe".
    assert report(clean, pending_deep_scan=True).verdict is not Verdict.SAFE
    assert provisional_package_findings("pypi", "\x00" * 10000).threats == []


def test_every_emitted_rule_is_registered() -> None:
    snapshots = [
        npm_cases.ua_parser_snapshot(),
        snapshot_from_npm(fixture("npm-security-holder.json"), None, None, NOW),
        snapshot_from_npm(fixture("npm-event-stream.json"), None, None, datetime(2018, 9, 10, tzinfo=UTC)),
        npm_snapshot("flatmap-strem", {"index.min.js": npm_cases.flatmap_payload(), "x.js": npm_cases.OBFUSCATED,
                                       "bin/tool": npm_cases.ELF, "s.js": npm_cases.STEALER},
                     scripts={"postinstall": "node s.js"}, manifest_extra={"version": "2.0.0"}),
    ]
    seen = set()
    for snap in snapshots:
        for item in analyze_package(snap).threats:
            assert item.rule in RULES, item.rule
            assert item.evidence is None or len(item.evidence) <= 160
            seen.add(item.rule)
    assert len(seen) >= 10
    assert all(rule.startswith("pkg/") and text.endswith(".") for rule, text in RULES.items())


def test_secrets_in_evidence_are_redacted() -> None:
    token = "npm_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    code = npm_cases.STEALER.replace("const npmrc", f"const fallback = '{token}';\nconst npmrc")
    snap = npm_snapshot("helper", {"setup.js": code}, scripts={"postinstall": "node setup.js"})
    rendered = report(analyze_package(snap), snap).model_dump_json()
    assert token not in rendered


def test_text_budget_makes_result_incomplete(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content, "MAX_TOTAL_TEXT_BYTES", 1000)
    snap = npm_snapshot("bulky", {f"lib/f{i}.js": "var x = 1;\n" * 50 for i in range(10)})
    findings = analyze_package(snap)
    assert not findings.complete
    assert any("budget" in gap for gap in findings.evidence_gaps)
    assert report(findings, snap).verdict is not Verdict.SAFE


def test_truncated_artifact_is_incomplete() -> None:
    data = tgz({"package.json": json.dumps({"name": "cut", "version": "1.1.0"}), "index.js": "x" * 5000})
    artifact = extract_archive(data[: len(data) // 2])
    snap = npm_snapshot("cut", None).model_copy(update={"artifact": artifact.files, "artifact_truncated": True,
                                                        "artifact_problems": artifact.problems})
    findings = analyze_package(snap)
    assert not findings.complete and findings.evidence_gaps


def test_hostile_bytes_never_raise() -> None:
    rng = random.Random(7)
    files = {
        "package.json": bytes(rng.randrange(256) for _ in range(3000)),
        "index.js": b"\xff\xfe" + bytes(rng.randrange(256) for _ in range(5000)),
        "setup.py": b"import os\n" + b"\x80" * 100,
        "build.rs": "fn main() { \u202e }".encode(),
        "a.pth": b"import \xff\xfe",
        "Cargo.toml": b"[package\nname=",
        "x.dist-info/METADATA": b"\x00\x01",
    }
    for ecosystem in ("npm", "pypi", "crate"):
        snap = PackageSnapshot(ecosystem=ecosystem, name="fuzz", version="1.0.0", artifact=files, analysed_at=NOW,
                               artifact_kind="sdist" if ecosystem == "pypi" else None)
        findings = analyze_package(snap)
        assert isinstance(findings.threats, list)


def test_unsupported_version_is_incomplete() -> None:
    snap = snapshot_from_npm(fixture("npm-event-stream.json"), "0.0.0", None, NOW)
    findings = analyze_package(snap)
    assert not findings.complete and any("does not exist" in gap for gap in findings.evidence_gaps)


def test_sdist_evidence_level_with_history() -> None:
    findings = analyze_package(sdist_snapshot("plainpkg", {"setup.py": "from setuptools import setup\nsetup(name='plainpkg')\n"}))
    assert findings.evidence_level == 3.0 and findings.threats == []


def test_hostile_file_exhausts_pattern_budget_and_is_incomplete() -> None:
    hostile = ("curl -o a " * 100000)[:1_000_000]
    snap = npm_snapshot("noisy", {"index.js": hostile}, scripts={"postinstall": "node index.js"})
    findings = analyze_package(snap)
    assert not findings.complete
    assert any("budget" in gap for gap in findings.evidence_gaps)
