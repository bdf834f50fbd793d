"""The action and the project's own workflows are clean under zizmor (its strictest persona),
offline: no GitHub API calls. zizmor comes with the [dev] extra."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]


def zizmor(*targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["zizmor", "--offline", "--persona", "pedantic", "--format", "plain", *targets],
                          capture_output=True, text=True, timeout=120, check=False)


def test_action_and_workflows_are_clean_under_zizmor() -> None:
    result = zizmor(str(ROOT / "action.yml"), str(ROOT / ".github" / "workflows"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_zizmor_does_catch_a_template_injection(tmp_path: Path) -> None:
    # The check above can fail: the same run on a classic injection reports it.
    workflow = tmp_path / ".github" / "workflows" / "bad.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: pull_request_target\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n", encoding="utf-8")
    result = zizmor(str(workflow.parent))
    assert result.returncode != 0 and "template-injection" in result.stdout + result.stderr
