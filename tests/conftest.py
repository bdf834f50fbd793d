"""Shared fixtures: the read-only corpus beside the checkout, and PR workspaces built from it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
DIFFS = CORPUS / "diffs"
REST = CORPUS / "rest"


def corpus_available() -> bool:
    return DIFFS.is_dir() and REST.is_dir()


requires_corpus = pytest.mark.skipif(not corpus_available(), reason="../shared/corpus not present beside the checkout")


def rest_body(name: str) -> Any:
    return json.loads((REST / name).read_text(encoding="utf-8"))


def corpus_cases() -> list[str]:
    if not DIFFS.is_dir():
        return []
    return sorted(path.stem for path in DIFFS.glob("*.patch"))


def corpus_label(name: str) -> dict[str, Any]:
    return json.loads((DIFFS / f"{name}.json").read_text(encoding="utf-8"))


def build_metadata(**overrides: Any) -> dict[str, Any]:
    """A metadata.json from GitHub's own REST example bodies, with chosen fields overridden."""
    pull_request = copy.deepcopy(rest_body("pulls_get.json"))
    metadata: dict[str, Any] = {
        "pull_request": pull_request,
        "reviews": rest_body("pulls_list_reviews.json"),
        "author": rest_body("users_get_by_username.json"),
        "author_orgs": rest_body("orgs_list_for_user.json"),
        "author_repo_commits": 12,
        "author_events": rest_body("activity_list_public_events_for_user.json"),
    }
    for key, value in overrides.items():
        if key.startswith("pr_"):
            pull_request[key[3:]] = value
        elif value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value
    return metadata


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[..., Path]:
    """Write a PR workspace directory: metadata.json (+ diff.patch, pr-description.txt)."""
    counter = {"n": 0}

    def make(diff: str | bytes | None = None, description: str | None = None, **overrides: Any) -> Path:
        counter["n"] += 1
        directory = tmp_path / f"ws{counter['n']}"
        directory.mkdir()
        metadata = overrides.pop("metadata", None) or build_metadata(**overrides)
        (directory / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
        if diff is not None:
            data = diff.encode("utf-8") if isinstance(diff, str) else diff
            (directory / "diff.patch").write_bytes(data)
        if description is not None:
            (directory / "pr-description.txt").write_text(description, encoding="utf-8")
        return directory

    return make
