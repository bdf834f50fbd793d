"""The action and the project's own workflows are clean under zizmor (its strictest persona),
offline: no GitHub API calls. zizmor comes with the [dev] extra."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]


def zizmor(*targets: str, persona: str = "pedantic") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["zizmor", "--offline", "--persona", persona, "--format", "plain", *targets],
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


def test_the_readme_workflows_are_clean_under_zizmor(tmp_path: Path) -> None:
    # What users copy: every workflow of the README's Action section, with the one placeholder the
    # README asks them to fill in (this action, pinned to a commit) filled in. zizmor's default
    # persona: the README keeps the examples short (no job names or concurrency groups).
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The GitHub Action"):readme.index("\n## ", readme.index("## The GitHub Action") + 1)]
    workflows = re.findall(r"```yaml\n(.*?)```", section, re.S)
    assert len(workflows) == 5
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for number, workflow in enumerate(workflows):
        assert "OWNER/watchpost@v1" in workflow
        (folder / f"readme-{number}.yml").write_text(workflow.replace("OWNER/watchpost@v1", "OWNER/watchpost@" + "0" * 40 + " # v1"), encoding="utf-8")
    result = zizmor(str(folder), persona="regular")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr
