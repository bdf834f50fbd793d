"""Signals from registry metadata: age, maintainers, rhythm, status, placeholders, edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scanners.models import Severity
from scanners.packages import analyze_package
from scanners.packages.metadata import github_repo, metadata_findings
from scanners.packages.snapshot import snapshot_from_crates, snapshot_from_npm, snapshot_from_pypi
from tests.scanners.packages.build import NOW, fixture, npm_doc, rules_of


def threats_by_rule(snapshot):  # type: ignore[no-untyped-def]
    threats, _, _ = metadata_findings(snapshot)
    return {t.rule: t for t in threats}


def test_event_stream_maintainer_handover() -> None:
    # Analysed the day 3.3.6 came out: the previous release added right9ctrl, this one drops the author.
    snap = snapshot_from_npm(fixture("npm-event-stream.json"), None, None, datetime(2018, 9, 10, tzinfo=UTC))
    found = threats_by_rule(snap)
    assert found["pkg/maintainer-change"].severity is Severity.HIGH
    assert "joined recently" in found["pkg/maintainer-change"].detail
    assert found["pkg/young-version"].severity is Severity.LOW
    # 3.3.5 itself: right9ctrl joins and publishes for the first time after two dormant years.
    earlier = snapshot_from_npm(fixture("npm-event-stream.json"), "3.3.5", None, datetime(2018, 9, 10, tzinfo=UTC))
    found = threats_by_rule(earlier)
    assert {"pkg/maintainer-change", "pkg/new-publisher", "pkg/dormant-then-release"} <= set(found)
    assert found["pkg/maintainer-change"].severity is Severity.MEDIUM  # the author is still there


def test_complete_takeover_is_high() -> None:
    doc = npm_doc("tool", {"1.0.0": {}, "1.0.1": {"maintainers": [{"name": "stranger"}], "_npmUser": {"name": "stranger"}}})
    found = threats_by_rule(snapshot_from_npm(doc, None, None, NOW))
    assert found["pkg/maintainer-change"].severity is Severity.HIGH
    assert "pkg/new-publisher" in found


def test_same_maintainers_no_change() -> None:
    doc = npm_doc("tool", {"1.0.0": {}, "1.0.1": {}})
    found = threats_by_rule(snapshot_from_npm(doc, None, None, NOW))
    assert "pkg/maintainer-change" not in found and "pkg/new-publisher" not in found


def test_young_package_thresholds() -> None:
    fresh = npm_doc("fresh", {"1.0.0": {}}, created="2026-03-24T00:00:00.000Z", times={"1.0.0": "2026-03-24T00:00:00.000Z"})
    assert threats_by_rule(snapshot_from_npm(fresh, None, None, NOW))["pkg/young-package"].severity is Severity.MEDIUM
    month = npm_doc("month", {"1.0.0": {}}, created="2026-03-06T00:00:00.000Z", times={"1.0.0": "2026-03-06T00:00:00.000Z"})
    assert threats_by_rule(snapshot_from_npm(month, None, None, NOW))["pkg/young-package"].severity is Severity.LOW
    old = npm_doc("old", {"1.0.0": {}, "1.1.0": {}})
    assert "pkg/young-package" not in threats_by_rule(snapshot_from_npm(old, None, None, NOW))


def test_release_burst_counts_stable_versions_only() -> None:
    base = datetime(2026, 3, 20, tzinfo=UTC)
    versions = {f"1.0.{i}": {} for i in range(10)}
    times = {f"1.0.{i}": (base + timedelta(minutes=20 * i)).isoformat() for i in range(10)}
    burst = npm_doc("burst", versions, times=times)
    assert "pkg/release-burst" in threats_by_rule(snapshot_from_npm(burst, None, None, NOW))
    canaries = {f"2.0.0-canary.{i}": {} for i in range(10)}
    canary_times = {f"2.0.0-canary.{i}": (base + timedelta(minutes=20 * i)).isoformat() for i in range(10)}
    train = npm_doc("train", canaries, times=canary_times)
    assert "pkg/release-burst" not in threats_by_rule(snapshot_from_npm(train, None, None, NOW))


def test_dormancy_only_matters_while_fresh() -> None:
    doc = npm_doc("sleepy", {"1.0.0": {}, "1.0.1": {}}, times={"1.0.0": "2019-01-01T00:00:00Z", "1.0.1": "2026-03-20T00:00:00Z"})
    assert "pkg/dormant-then-release" in threats_by_rule(snapshot_from_npm(doc, None, None, NOW))
    later = NOW + timedelta(days=200)
    assert "pkg/dormant-then-release" not in threats_by_rule(snapshot_from_npm(doc, None, None, later))


def test_deprecated_and_yanked() -> None:
    doc = npm_doc("legacy", {"1.0.0": {}, "1.0.1": {"deprecated": "use new-legacy instead"}})
    assert threats_by_rule(snapshot_from_npm(doc, None, None, NOW))["pkg/deprecated"].severity is Severity.LOW
    crate = snapshot_from_crates(fixture("crates-serde-json.json"), "0.1.0", None, NOW)
    assert "pkg/yanked-version" in threats_by_rule(crate)


def test_npm_security_placeholder_is_critical() -> None:
    snap = snapshot_from_npm(fixture("npm-security-holder.json"), None, None, NOW)
    found = threats_by_rule(snap)
    assert found["pkg/malware-placeholder"].severity is Severity.CRITICAL
    assert found["pkg/malware-placeholder"].type == "malware_placeholder"


def test_npm_security_suffix_alone_is_not_placeholder() -> None:
    doc = npm_doc("widget", {"1.0.0": {}, "2.0.0-security": {}})
    assert "pkg/malware-placeholder" not in threats_by_rule(snapshot_from_npm(doc, None, None, NOW))


def test_pypi_removed_files_and_malware_yank() -> None:
    removed = snapshot_from_pypi(fixture("pypi-removed.json"), None, None, NOW)
    assert threats_by_rule(removed)["pkg/malware-placeholder"].severity is Severity.CRITICAL
    ctx = snapshot_from_pypi(fixture("pypi-yanked-malware.json"), "0.2.6", None, NOW)
    found = threats_by_rule(ctx)
    assert "pkg/malware-placeholder" in found and "pkg/yanked-version" not in found


def test_plain_yank_is_not_malware() -> None:
    doc = fixture("pypi-yanked-malware.json")
    for entry in doc["releases"]["0.2.6"]:
        entry["yanked_reason"] = "broken wheel, use 0.2.7"
    found = threats_by_rule(snapshot_from_pypi(doc, "0.2.6", None, NOW))
    assert "pkg/malware-placeholder" not in found and found["pkg/yanked-version"].severity is Severity.MEDIUM


def test_edges_and_repository() -> None:
    snap = snapshot_from_npm(fixture("npm-event-stream.json"), None, None, NOW)
    _, _, edges = metadata_findings(snap)
    targets = {(e.target, e.relation) for e in edges}
    assert ("maintainer:npm/right9ctrl", "maintained_by") in targets
    assert ("repo:dominictarr/event-stream", "source_repository") in targets
    assert all(e.source == "npm:event-stream" for e in edges)
    assert not any("@" in e.target for e in edges)  # e-mail addresses never leave the parser


def test_no_repository_is_a_signal_not_a_threat() -> None:
    doc = npm_doc("anon", {"1.0.0": {}, "1.0.1": {}})
    for version in doc["versions"].values():
        version.pop("repository")
    threats, signals, _ = metadata_findings(snapshot_from_npm(doc, None, None, NOW))
    assert "pkg/no-repository" not in {t.rule for t in threats}
    assert "pkg/no-repository" in {s.name for s in signals}


def test_github_repo_forms() -> None:
    assert github_repo("git+https://github.com/owner/name.git") == "owner/name"
    assert github_repo("git@github.com:owner/name.git") == "owner/name"
    assert github_repo("github:owner/name") == "owner/name"
    assert github_repo("owner/name") == "owner/name"
    assert github_repo("https://github.com/owner/name/tree/main#readme") is None or github_repo(
        "https://github.com/owner/name#readme") == "owner/name"
    assert github_repo("https://gitlab.com/owner/name") is None
    assert github_repo(None) is None


def test_metadata_only_analysis_is_level_one() -> None:
    snap = snapshot_from_npm(fixture("npm-event-stream.json"), None, None, NOW)
    findings = analyze_package(snap)
    assert findings.evidence_level == 1.0
    assert "artifact not inspected (metadata only)" in findings.evidence_gaps
    assert "pkg/maintainer-change" in rules_of(findings)
