"""In-memory extraction: prefixes, limits, hostile members, corrupt input."""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import zipfile

import pytest

from scanners.packages import archive
from scanners.packages.archive import extract_archive
from tests.scanners.packages.build import tgz, zipped


def kinds(result: archive.ExtractedArchive) -> set[str]:
    return {p.kind for p in result.problems}


def test_npm_tarball_strips_package_prefix() -> None:
    result = extract_archive(tgz({"package.json": "{}", "lib/index.js": "module.exports = 1\n"}))
    assert set(result.files) == {"package.json", "lib/index.js"}
    assert result.problems == [] and not result.truncated


def test_sdist_and_crate_prefix_stripped() -> None:
    result = extract_archive(tgz({"setup.py": "", "pkg/__init__.py": ""}, root="demo-1.0/"))
    assert set(result.files) == {"setup.py", "pkg/__init__.py"}


def test_mixed_roots_are_not_stripped() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in ("a/x.js", "b/y.js"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"1"))
    assert set(extract_archive(buffer.getvalue()).files) == {"a/x.js", "b/y.js"}


def test_wheel_zip_keeps_paths() -> None:
    result = extract_archive(zipped({"demo/__init__.py": "", "demo-1.0.dist-info/METADATA": "Name: demo\n"}))
    assert set(result.files) == {"demo/__init__.py", "demo-1.0.dist-info/METADATA"}
    assert result.format == "zip"


def test_path_traversal_and_absolute_paths_are_problems_not_files() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in ("package/ok.js", "package/../../etc/evil", "/abs/path"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
    result = extract_archive(buffer.getvalue())
    assert set(result.files) == {"ok.js"}
    assert {"path-traversal", "absolute-path"} <= kinds(result)


def test_symlinks_noted_not_followed() -> None:
    result = extract_archive(tgz({"index.js": "1"}, links={"creds": "../../../home/user/.npmrc", "alias.js": "index.js"}))
    assert set(result.files) == {"index.js"}
    symlinks = [p for p in result.problems if p.kind == "symlink"]
    assert len(symlinks) == 2
    assert any("outside the package" in p.detail for p in symlinks)
    assert not all("outside the package" in p.detail for p in symlinks)


def test_zip_symlink_and_traversal() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        link = zipfile.ZipInfo("pkg/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("../outside.py", "x")
        zf.writestr("pkg/ok.py", "y")
    result = extract_archive(buffer.getvalue())
    assert set(result.files) == {"pkg/ok.py"}
    assert {"symlink", "path-traversal"} <= kinds(result)


def test_zip_bomb_ratio_flagged() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (4 * 1024 * 1024))
    result = extract_archive(buffer.getvalue())
    assert "compression-bomb" in kinds(result)
    assert result.truncated and "zeros.bin" not in result.files


def test_per_file_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_FILE_BYTES", 100)
    result = extract_archive(tgz({"big.js": "x" * 500, "small.js": "y"}))
    assert set(result.files) == {"small.js"}
    assert result.oversized == {"big.js": 500}
    assert result.truncated


def test_total_budget_stops_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_TOTAL_UNCOMPRESSED", 1000)
    result = extract_archive(tgz({f"f{i}.js": "z" * 400 for i in range(5)}))
    assert len(result.files) == 2
    assert "total-size-limit" in kinds(result) and result.truncated


def test_file_count_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_FILES", 3)
    result = extract_archive(zipped({f"f{i}.py": "" for i in range(10)}))
    assert len(result.files) == 3 and "too-many-files" in kinds(result)


def test_duplicate_member_noted() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for content in (b'{"scripts":{}}', b'{"scripts":{"postinstall":"node x.js"}}'):
            info = tarfile.TarInfo("package/package.json")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    result = extract_archive(buffer.getvalue())
    assert "duplicate-entry" in kinds(result)
    assert b"postinstall" in result.files["package.json"]  # last copy wins, as in tar


@pytest.mark.parametrize("data", [b"", b"not an archive", b"\x1f\x8b" + b"\x00" * 50, b"PK\x03\x04garbage", gzip.compress(b"x" * 1000)])
def test_corrupt_input_never_raises(data: bytes) -> None:
    result = extract_archive(data)
    assert result.truncated
    assert kinds(result) & {"corrupt", "unsupported-format"}


def test_truncated_tarball_keeps_what_was_read() -> None:
    data = tgz({"a.js": "1" * 2000, "b.js": "2" * 2000})
    result = extract_archive(data[: len(data) // 2])
    assert result.truncated
    assert "corrupt" in kinds(result)


def test_oversized_archive_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", 10)
    result = extract_archive(tgz({"a.js": "1"}))
    assert result.files == {} and result.truncated
