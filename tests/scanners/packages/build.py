"""Archives and snapshots built in memory for the package tests (no network, no registry hosts)."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanners.packages.archive import extract_archive
from scanners.packages.snapshot import (
    PackageSnapshot,
    snapshot_from_crates,
    snapshot_from_npm,
    snapshot_from_pypi,
)

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 3, 26, 12, 0, tzinfo=UTC)


def fixture(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def tgz(files: dict[str, bytes | str], root: str = "package/", *, links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(root + path)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
        for path, target in (links or {}).items():
            info = tarfile.TarInfo(root + path)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


def zipped(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def npm_doc(name: str, versions: dict[str, dict[str, Any]], *, created: str = "2019-01-01T00:00:00.000Z",
            times: dict[str, str] | None = None, latest: str | None = None) -> dict[str, Any]:
    """A packument in npm's shape; every version gets a time (one year apart by default)."""
    documents = {}
    stamps = {"created": created, "modified": "2025-01-01T00:00:00.000Z"}
    for index, (number, extra) in enumerate(versions.items()):
        documents[number] = {
            "name": name, "version": number, "description": f"{name} library",
            "repository": {"type": "git", "url": f"git+https://github.com/example/{name}.git"},
            "maintainers": [{"name": "owner", "email": "owner@example.test"}],
            "_npmUser": {"name": "owner", "email": "owner@example.test"},
            "dist": {"tarball": f"https://registry.example.test/{name}/-/{name}-{number}.tgz", "unpackedSize": 1000},
            **extra,
        }
        stamps[number] = (times or {}).get(number, f"{2019 + index}-02-01T00:00:00.000Z")
    return {"name": name, "dist-tags": {"latest": latest or list(versions)[-1]}, "versions": documents, "time": stamps,
            "maintainers": [{"name": "owner", "email": "owner@example.test"}], "description": f"{name} library"}


def npm_snapshot(name: str, files: dict[str, bytes | str] | None, *, scripts: dict[str, str] | None = None,
                 manifest_extra: dict[str, Any] | None = None, version_extra: dict[str, Any] | None = None,
                 previous_scripts: dict[str, str] | None = None, now: datetime = NOW) -> PackageSnapshot:
    """Two-version package whose latest tarball holds ``files`` plus a package.json with ``scripts``;
    1.0.0 had ``previous_scripts`` (by default the same scripts: hooks are usually old news)."""
    manifest = {"name": name, "version": "1.1.0", "scripts": scripts or {}, **(manifest_extra or {})}
    extra = {"scripts": scripts or {}, **(version_extra or {})}
    doc = npm_doc(name, {"1.0.0": {"scripts": (scripts or {}) if previous_scripts is None else previous_scripts}, "1.1.0": extra})
    artifact = None
    if files is not None:
        artifact = extract_archive(tgz({"package.json": json.dumps(manifest), **files}))
    return snapshot_from_npm(doc, None, artifact, now)


def pypi_doc(name: str, version: str = "1.0.0", *, created: str = "2020-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "info": {"name": name, "version": version, "summary": f"{name} tools", "license": "MIT",
                 "project_urls": {"Source": f"https://github.com/example/{name}"}},
        "releases": {
            "0.9.0": [{"filename": f"{name}-0.9.0.tar.gz", "packagetype": "sdist", "size": 10, "upload_time_iso_8601": created,
                       "url": f"https://files.example.test/{name}-0.9.0.tar.gz", "yanked": False}],
            version: [{"filename": f"{name}-{version}.tar.gz", "packagetype": "sdist", "size": 10,
                       "upload_time_iso_8601": "2024-01-01T00:00:00Z", "url": f"https://files.example.test/{name}-{version}.tar.gz",
                       "yanked": False}],
        },
    }


def sdist_snapshot(name: str, files: dict[str, bytes | str], version: str = "1.0.0") -> PackageSnapshot:
    pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    artifact = extract_archive(tgz({"PKG-INFO": pkg_info, **files}, root=f"{name}-{version}/"))
    return snapshot_from_pypi(pypi_doc(name, version), version, artifact, NOW, artifact_kind="sdist")


def wheel_snapshot(name: str, files: dict[str, bytes | str], version: str = "1.0.0", *, tag: str = "py3-none-any",
                   purelib: bool = True) -> PackageSnapshot:
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    wheel = f"Wheel-Version: 1.0\nGenerator: bdist_wheel\nRoot-Is-Purelib: {'true' if purelib else 'false'}\nTag: {tag}\n"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    artifact = extract_archive(zipped({f"{dist_info}/METADATA": metadata, f"{dist_info}/WHEEL": wheel, **files}))
    return snapshot_from_pypi(pypi_doc(name, version), version, artifact, NOW, artifact_kind="wheel")


def crate_snapshot(name: str, files: dict[str, bytes | str], version: str = "0.3.0") -> PackageSnapshot:
    cargo = f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n'
    artifact = extract_archive(tgz({"Cargo.toml": cargo, **files}, root=f"{name}-{version}/"))
    doc = {
        "crate": {"id": name, "name": name, "created_at": "2020-01-01T00:00:00+00:00", "repository": f"https://github.com/example/{name}",
                  "max_version": version, "newest_version": version},
        "versions": [
            {"num": version, "created_at": "2024-01-01T00:00:00+00:00", "yanked": False, "license": "MIT",
             "dl_path": f"/api/v1/crates/{name}/{version}/download", "published_by": {"login": "owner"}},
            {"num": "0.1.0", "created_at": "2020-01-01T00:00:00+00:00", "yanked": False, "license": "MIT",
             "dl_path": f"/api/v1/crates/{name}/0.1.0/download", "published_by": {"login": "owner"}},
        ],
    }
    return snapshot_from_crates(doc, version, artifact, NOW)


def rules_of(findings: Any) -> set[str]:
    return {t.rule for t in findings.threats}
