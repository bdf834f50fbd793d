from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.repo_config import ConfigError, parse_repo_config
from scanners.models import Severity, Tolerance
from scanners.pipeline import scan_pr
from scanners.rules.registry import new_file
from scanners.workspace import snapshot_from_diff, snapshot_from_parts
from tests.conftest import build_metadata, requires_corpus

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_full_config_parses() -> None:
    config = parse_repo_config(
        "tolerance: lenient\nfail-on: suspicious\ncomment: always\nignore-paths: ['vendor/*', 'docs/**']\n"
        "trusted-authors: [Alice]\ntrusted-bots: ['renovate[bot]']\nllm-review: false\n"
        "rules:\n  disable: [agent-config/instructions-changed]\n  severity: {supply-chain/action-mutable-ref: low}\n"
    )
    assert config.tolerance is Tolerance.LENIENT and config.fail_on == "suspicious" and config.comment == "always"
    assert config.policy.trusted_authors == {"alice"} and config.policy.trusted_bots == {"renovate[bot]"}
    assert config.policy.severity_overrides == {"supply-chain/action-mutable-ref": Severity.LOW}
    assert not config.policy.llm_review


def test_empty_file_is_defaults() -> None:
    assert parse_repo_config("").tolerance is Tolerance.CONSERVATIVE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tolerance: reckless\n", "tolerance: 'reckless' is not one of"),
        ("comment: sometimes\nfail-on: maybe\n", "comment:"),
        ("unknown-key: 1\n", "Additional properties are not allowed"),
        ("rules:\n  disable: [no-such/rule]\n", "unknown rule id 'no-such/rule'"),
        ("rules:\n  severity: {supply-chain/action-mutable-ref: extreme}\n", "rules.severity.supply-chain/action-mutable-ref"),
        ("tolerance: [unclosed\n", "not valid YAML at line"),
        ("- a list\n", "(top level)"),
        ("trusted-bots: [dependabot]\n", "trusted-bots.0"),
    ],
)
def test_invalid_configs_say_exactly_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_repo_config(text)
    assert any(expected in error for error in caught.value.errors), caught.value.errors


def test_every_problem_is_listed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_repo_config("tolerance: x\ncomment: y\n")
    assert len(caught.value.errors) == 2


def test_policy_ignore_disable_and_regrade() -> None:
    diff = new_file("vendor/lib.js", "eval(atob('Y29uc29sZS5sb2coMSk='))\n") + new_file("AGENTS.md", "Use tabs.\n") + new_file(
        ".github/workflows/c.yml", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: someone/tool@main\n")
    baseline = scan_pr(snapshot_from_diff(diff), scanned_at=NOW)
    assert {"agent-config/instructions-changed", "supply-chain/action-mutable-ref"} <= {t.rule for t in baseline.threats}
    config = parse_repo_config("ignore-paths: ['vendor/*']\nrules:\n  disable: [agent-config/instructions-changed]\n  severity: {supply-chain/action-mutable-ref: low}\n")
    report = scan_pr(snapshot_from_diff(diff), scanned_at=NOW, policy=config.policy)
    rules = {t.rule: t for t in report.threats}
    assert "agent-config/instructions-changed" not in rules
    assert rules["supply-chain/action-mutable-ref"].severity is Severity.LOW
    assert not any(t.path == "vendor/lib.js" for t in report.threats)
    assert any("ignore-paths" in gap for gap in report.evidence_gaps)
    assert report.score > baseline.score


def test_scan_errors_cannot_be_configured_away() -> None:
    config = parse_repo_config("rules:\n  disable: [scan/error]\n")
    report = scan_pr(snapshot_from_diff("not a diff"), scanned_at=NOW, policy=config.policy)
    assert any(t.type == "scan_error" for t in report.threats)


@requires_corpus
def test_trusted_author_raises_identity_and_drops_newcomer_note() -> None:
    metadata = build_metadata(author_repo_commits=0, author_orgs=[], pr_author_association="NONE")
    plain = scan_pr(snapshot_from_parts(metadata, new_file("a.py", "x = 1\n")), scanned_at=NOW)
    trusted = scan_pr(snapshot_from_parts(metadata, new_file("a.py", "x = 1\n")), scanned_at=NOW, policy=parse_repo_config("trusted-authors: [octocat]\n").policy)
    assert any(t.type == "first_time_contributor" for t in plain.threats)
    assert not any(t.type == "first_time_contributor" for t in trusted.threats)
    assert trusted.sub_scores.identity > plain.sub_scores.identity


def test_llm_review_off_is_a_stated_skip() -> None:
    calls = []
    report = scan_pr(snapshot_from_diff(new_file("AGENTS.md", "x\n")), scanned_at=NOW, llm=lambda r: calls.append(r) or "{}",
                     policy=parse_repo_config("llm-review: false\n").policy)
    assert calls == [] and "llm-review: false" in report.tiers_skipped["tier3"]


def test_schema_and_manifest_ship_as_package_data() -> None:
    # A non-editable install (the Action installs the action's checkout with pip) has no docs/ or
    # repository root: both files must come from the package, and be the documented ones.
    import tomllib
    from pathlib import Path

    from app import repo_config, setup_flow

    root = Path(__file__).resolve().parents[2]
    assert repo_config.SCHEMA_PATH.parent == root / "app" / "data"
    assert repo_config.SCHEMA_PATH.read_bytes() == (root / "docs" / "config.schema.json").read_bytes()
    assert setup_flow.MANIFEST_PATH.read_bytes() == (root / "app-manifest.json").read_bytes()
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["app"]
    assert "data/*.json" in package_data
