"""GITHUB_WORKFLOW_REF becomes the workflow's repository-relative path, and only a path inside this
repository's .github/workflows is trusted as the SARIF anchor."""

from __future__ import annotations

import pytest

from action.context import workflow_file


@pytest.mark.parametrize(("ref", "expected"), [
    ("octo/app/.github/workflows/scan.yml@refs/heads/main", ".github/workflows/scan.yml"),
    ("Octo/App/.github/workflows/ci/scan.yaml@refs/pull/7/merge", ".github/workflows/ci/scan.yaml"),
    ("other/lib/.github/workflows/scan.yml@refs/heads/main", None),  # a reusable workflow of another repository
    ("octo/app/.github/workflows/../../src/a.py@refs/heads/main", None),
    ("octo/app/src/a.py@refs/heads/main", None),
    ("octo/app/.github/workflows/scan.yml", None),
    ("", None),
    (None, None),
])
def test_workflow_file(ref: str | None, expected: str | None) -> None:
    assert workflow_file(ref, "octo/app") == expected
