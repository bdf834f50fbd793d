from __future__ import annotations

import gzip
import io
import os
import tarfile

from scanners.repos import read_tarball, snapshot_from_tarball
from scanners.repos import tarball as tarball_module
from tests.scanners.repos.helpers import NOW, SHA, make_tarball


def test_strips_top_level_directory_and_reads_commit() -> None:
    result = read_tarball(make_tarball({"README.md": "hi\n", "src/app.py": "x = 1\n"}))
    assert result.complete
    assert result.files == {"README.md": b"hi\n", "src/app.py": b"x = 1\n"}
    assert result.top_level == "octo-demo-0123456"
    assert result.commit == SHA


def test_plain_uncompressed_tar_is_read() -> None:
    result = read_tarball(make_tarball({"a.txt": "1"}, gzip=False))
    assert result.complete and result.files == {"a.txt": b"1"}


def test_binaries_are_listed_not_kept() -> None:
    result = read_tarball(make_tarball({"logo.png": b"\x89PNG\r\n\x1a\n\x00\x00", "ok.txt": "text"}))
    assert "logo.png" not in result.files and result.binaries == ["logo.png"]
    assert result.files["ok.txt"] == b"text"


def test_symlinks_are_recorded_never_followed() -> None:
    result = read_tarball(make_tarball({"a.txt": "1"}, symlinks={"CLAUDE.md": "../../.ssh/id_rsa"}))
    assert result.symlinks == {"CLAUDE.md": "../../.ssh/id_rsa"}
    assert "CLAUDE.md" not in result.files


def test_traversal_and_absolute_member_names_are_dropped_and_noted() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in ("top/ok.txt", "top/../../etc/evil", "/abs/path", "other-top/x.txt"):
            info = tarfile.TarInfo(name)
            info.size = 1
            archive.addfile(info, io.BytesIO(b"x"))
    result = read_tarball(buffer.getvalue())
    assert list(result.files) == ["ok.txt"]
    assert set(result.unsafe_paths) == {"top/../../etc/evil", "/abs/path", "other-top/x.txt"}
    assert any("unsafe paths" in gap for gap in result.gaps())


def test_truncated_archive_keeps_what_was_read() -> None:
    files = {f"src/f{i}.py": os.urandom(1500).hex() for i in range(120)}
    data = make_tarball(files)
    result = read_tarball(data[: len(data) // 2])
    assert not result.complete
    assert 0 < len(result.files) < 120
    assert result.errors


def test_garbage_and_empty_input_never_raise() -> None:
    for data in (b"", b"not a tarball at all" * 20, gzip.compress(b"plain text, not tar" * 100), b"\x1f\x8b\x08garbage"):
        result = read_tarball(data)
        assert not result.complete
        assert result.errors


def test_per_file_limit_lists_oversized(monkeypatch) -> None:
    monkeypatch.setattr(tarball_module, "MAX_FILE_BYTES", 100)
    result = read_tarball(make_tarball({"big.json": "x" * 500, "small.txt": "ok"}))
    assert result.oversized == ["big.json"] and result.oversized_count == 1
    assert result.complete  # a skipped big file is noted, the archive itself was read
    assert "small.txt" in result.files


def test_vendored_files_beyond_the_allowance_are_counted(monkeypatch) -> None:
    monkeypatch.setattr(tarball_module, "MAX_VENDORED_FILES", 2)
    files = {f"node_modules/p{i}/index.js": "x" for i in range(5)}
    files["src/index.js"] = "y"
    result = read_tarball(make_tarball(files))
    assert result.vendored_skipped == 3
    assert "src/index.js" in result.files


def test_total_budget_marks_snapshot_truncated(monkeypatch) -> None:
    monkeypatch.setattr(tarball_module, "MAX_TOTAL_BYTES", 10)
    snap = snapshot_from_tarball(full_name="o/r", tarball=make_tarball({"a.txt": "123456", "b.txt": "123456"}), analysed_at=NOW)
    assert snap.archive.budget_skipped == 1
    assert snap.files_truncated


def test_decompression_cap_stops_reading(monkeypatch) -> None:
    monkeypatch.setattr(tarball_module, "MAX_UNCOMPRESSED_BYTES", 64 * 1024)
    result = read_tarball(make_tarball({"zeros.txt": "0" * (512 * 1024)}))
    assert not result.complete
    assert any("inflates beyond" in error for error in result.errors)


def test_snapshot_without_tarball_or_with_bad_metadata() -> None:
    snap = snapshot_from_tarball(full_name="o/r", tarball=None, analysed_at=NOW, metadata={"stargazers_count": "many", "archived": True})
    assert snap.files == {} and snap.files_truncated
    assert snap.metadata is not None and snap.metadata.archived is True and snap.metadata.stargazers_count is None
    assert any("stargazers_count" in gap for gap in snap.evidence_gaps)
    assert snap.sha is None
