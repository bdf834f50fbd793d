"""``watchpost lookup`` as a user runs it: a real process against the fake GitHub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.app.lookup.test_lookup_api import seeded
from tests.conftest import requires_corpus
from tests.fake_github import serve_fake_github

pytestmark = requires_corpus


def _run(tmp_path: Path, api_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHPOST_")}
    env.update({"WATCHPOST_DATA_DIR": str(tmp_path), "WATCHPOST_GITHUB_API_URL": api_url, "WATCHPOST_GITHUB_TOKEN": "ghp_cli"})
    return subprocess.run([sys.executable, "-m", "app.cli", "lookup", *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_lookup_json_table_fail_on_and_errors(tmp_path: Path) -> None:
    with serve_fake_github(seeded()) as api_url:
        as_json = _run(tmp_path, api_url, "contributor/octocat", "--json")
        table = _run(tmp_path, api_url, f"commit/acme/widgets@{'a' * 40}", "--fail-on", "dangerous")
        lenient = _run(tmp_path, api_url, "contributor/fresh-dev", "--json", "--tolerance", "yolo")
        missing = _run(tmp_path, api_url, "contributor/nobody-here")
        invalid = _run(tmp_path, api_url, "npm/Not Valid")
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and report["origin"] == "contributor" and report["verdict"] == "safe" and report["pending_deep_scan"] is False
    assert table.returncode == 1 and "DANGEROUS" in table.stdout and "supply_chain_mod" in table.stdout
    assert json.loads(lenient.stdout)["tolerance"] == "yolo"
    assert missing.returncode == 2 and "not found" in missing.stderr
    assert invalid.returncode == 2 and "npm packages" in invalid.stderr
