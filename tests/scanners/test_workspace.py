from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanners.rules.registry import new_file
from scanners.workspace import WorkspaceError, load_path, load_workspace, snapshot_from_parts
from tests.conftest import build_metadata, requires_corpus, rest_body

pytestmark = requires_corpus


def test_directory_workspace_reads_all_parts(make_workspace) -> None:
    directory = make_workspace(diff=new_file("a.py", "x = 1\n"), description="My title\n\nMy body\nline 2")
    snapshot = load_workspace(directory)
    assert snapshot.title == "My title"
    assert snapshot.body == "My body\nline 2"
    assert snapshot.repository == "octocat/Hello-World"
    assert snapshot.number == 1347
    assert snapshot.author is not None and snapshot.author.login == "octocat"
    assert snapshot.author_repo_commits == 12
    assert [f.path for f in snapshot.files] == ["a.py"]
    assert snapshot.evidence_gaps == []


def test_description_falls_back_to_pull_request_fields(make_workspace) -> None:
    snapshot = load_workspace(make_workspace(diff=""))
    assert snapshot.title == "Amazing new feature"
    assert snapshot.body == "Please pull these awesome changes in!"


def test_diff_rebuilt_from_files_when_no_patch() -> None:
    files = [
        {"filename": "src/x.py", "status": "modified", "patch": "@@ -1 +1 @@\n-a\n+b"},
        {"filename": "big.dat", "status": "added"},
    ]
    snapshot = snapshot_from_parts(build_metadata(files=files))
    assert [f.path for f in snapshot.files] == ["src/x.py", "big.dat"]
    assert snapshot.files[0].added == [(1, "b")]
    assert snapshot.files[1].patch_missing


def test_missing_optional_keys_are_gaps_not_errors() -> None:
    metadata = {"pull_request": rest_body("pulls_get.json")}
    snapshot = snapshot_from_parts(metadata)
    keys = {gap.split(":")[0] for gap in snapshot.evidence_gaps}
    assert {"author", "author_orgs", "reviews", "author_repo_commits", "author_events", "files"} <= keys
    assert snapshot.author is not None and snapshot.author.login == "octocat"  # from pull_request.user


def test_wrongly_typed_fields_are_dropped_and_noted() -> None:
    metadata = build_metadata(pr_created_at="not a date", author_repo_commits="many", author_orgs={"oops": 1})
    snapshot = snapshot_from_parts(metadata)
    assert snapshot.created_at is None
    assert snapshot.author_repo_commits is None
    assert any("created_at" in gap for gap in snapshot.evidence_gaps)
    assert any(gap.startswith("author_orgs") for gap in snapshot.evidence_gaps)


def test_pull_request_is_required(tmp_path: Path) -> None:
    (tmp_path / "metadata.json").write_text(json.dumps({"author": {}}), encoding="utf-8")
    with pytest.raises(WorkspaceError, match="pull_request"):
        load_workspace(tmp_path)


def test_invalid_json_and_missing_metadata(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"no metadata\.json"):
        load_workspace(tmp_path)
    (tmp_path / "metadata.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="not valid JSON"):
        load_workspace(tmp_path)


def test_invalid_utf8_is_replaced_and_noted(make_workspace) -> None:
    directory = make_workspace(diff=new_file("a.txt", "ok\n").encode() + b"+\xff\xfe bad bytes\n")
    snapshot = load_workspace(directory)
    assert any("invalid UTF-8" in gap for gap in snapshot.evidence_gaps)


def test_bare_diff_file_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "change.patch"
    path.write_text(new_file("a.py", "x\n"), encoding="utf-8")
    from_file = load_path(str(path))
    from_stdin = load_path("-", path.read_bytes())
    for snapshot in (from_file, from_stdin):
        assert snapshot.diff_only
        assert [f.path for f in snapshot.files] == ["a.py"]
    with pytest.raises(WorkspaceError, match="no such file"):
        load_path(str(tmp_path / "absent"))
