from __future__ import annotations

import pytest

from scanners.diff import parse_file_patch, parse_unified_diff
from scanners.rules.registry import delete_file, edit_file, new_file
from tests.conftest import DIFFS, corpus_cases, requires_corpus


def test_new_file_lines_are_numbered_from_one() -> None:
    parsed = parse_unified_diff(new_file("a/b.py", "x = 1\ny = 2\n"))
    assert parsed.errors == []
    (change,) = parsed.files
    assert change.path == "a/b.py"
    assert change.status == "added"
    assert change.added == [(1, "x = 1"), (2, "y = 2")]


def test_edit_tracks_old_and_new_numbers() -> None:
    parsed = parse_unified_diff(edit_file("f.txt", "old\n", "new1\nnew2\n", context_before="ctx\n", start=40))
    (change,) = parsed.files
    assert change.removed == [(41, "old")]
    assert change.added == [(41, "new1"), (42, "new2")]
    assert [kind for kind, _, _ in change.lines] == [" ", "-", "+", "+"]


def test_removed_sql_comment_is_not_mistaken_for_a_header() -> None:
    diff = (
        "diff --git a/q.sql b/q.sql\nindex 1..2 100644\n--- a/q.sql\n+++ b/q.sql\n"
        "@@ -1,3 +1,2 @@\n select 1;\n--- a comment line\n+++ a plus line\n-gone\n"
    )
    parsed = parse_unified_diff(diff)
    assert len(parsed.files) == 1
    change = parsed.files[0]
    assert change.removed == [(2, "-- a comment line"), (3, "gone")]
    assert change.added == [(2, "++ a plus line")]


def test_deleted_renamed_binary_and_symlink() -> None:
    diff = (
        delete_file("gone.txt", "a\n")
        + "diff --git a/old name.py b/new name.py\nsimilarity index 90%\nrename from old name.py\nrename to new name.py\n"
        + "diff --git a/img.png b/img.png\nnew file mode 100644\nindex 0000000..1111111\nBinary files /dev/null and b/img.png differ\n"
        + "diff --git a/L b/L\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/L\n@@ -0,0 +1 @@\n+target\n\\ No newline at end of file\n"
    )
    parsed = parse_unified_diff(diff)
    assert parsed.errors == []
    gone, renamed, image, link = parsed.files
    assert gone.status == "removed" and gone.removed == [(1, "a")]
    assert renamed.status == "renamed" and renamed.path == "new name.py" and renamed.old_path == "old name.py"
    assert image.is_binary and image.status == "added"
    assert link.is_symlink and link.added == [(1, "target")]


def test_quoted_unicode_path_is_decoded() -> None:
    diff = 'diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"\nnew file mode 100644\n--- /dev/null\n+++ "b/caf\\303\\251.txt"\n@@ -0,0 +1 @@\n+x\n'
    (change,) = parse_unified_diff(diff).files
    assert change.path == "café.txt"


def test_truncated_hunk_is_reported_not_raised() -> None:
    diff = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n a\n-b\n+c\n"
    parsed = parse_unified_diff(diff)
    assert parsed.files[0].added == [(2, "c")]
    assert any("truncated" in error for error in parsed.errors)


def test_garbage_is_an_error_not_an_exception() -> None:
    parsed = parse_unified_diff("this is not a diff\nat all\n")
    assert parsed.files == []
    assert parsed.errors and "not a unified diff" in parsed.errors[0]


def test_malformed_hunk_header() -> None:
    parsed = parse_unified_diff("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -a,b +c @@\n+x\n")
    assert any("malformed hunk header" in error for error in parsed.errors)


def test_crlf_diff() -> None:
    parsed = parse_unified_diff(new_file("w.txt", "one\ntwo\n").replace("\n", "\r\n"))
    assert parsed.files[0].added == [(1, "one"), (2, "two")]


def test_rest_file_patch_without_headers() -> None:
    change, errors = parse_file_patch("src/a.py", "modified", "@@ -1,2 +1,2 @@\n keep\n-old\n+new")
    assert errors == []
    assert change.added == [(2, "new")] and change.removed == [(2, "old")]
    missing, _ = parse_file_patch("big.bin", "added", None)
    assert missing.patch_missing and missing.status == "added"


def test_offset_mapping() -> None:
    change = parse_unified_diff(new_file("a.txt", "aa\nbbb\nc\n")).files[0]
    text = change.added_text
    assert change.added_line_at(text.index("bbb") + 1) == (2, "bbb")
    assert change.added_line_at(len(text) - 1) == (3, "c")


@requires_corpus
@pytest.mark.parametrize("name", corpus_cases())
def test_every_corpus_patch_parses_cleanly(name: str) -> None:
    text = (DIFFS / f"{name}.patch").read_text(encoding="utf-8")
    parsed = parse_unified_diff(text)
    assert parsed.errors == []
    assert parsed.files
    # git's own count of files is the number of "diff --git" headers.
    assert len(parsed.files) == text.count("\ndiff --git ") + text.startswith("diff --git ")
