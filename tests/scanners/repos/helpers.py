"""Tarballs shaped like GitHub's: one ``owner-repo-sha/`` directory and a pax comment header."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime
from typing import Any

from scanners.repos.snapshot import RepoSnapshot, snapshot_from_tarball

SHA = "0123456789abcdef0123456789abcdef01234567"
NOW = datetime(2026, 3, 26, 12, 0, tzinfo=UTC)


def make_tarball(files: dict[str, str | bytes], *, top: str = "octo-demo-0123456", symlinks: dict[str, str] | None = None,
                 gzip: bool = True) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gzip else "w", format=tarfile.PAX_FORMAT,
                      pax_headers={"comment": SHA}) as archive:
        root = tarfile.TarInfo(top)
        root.type = tarfile.DIRTYPE
        archive.addfile(root)
        for path, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for path, target in (symlinks or {}).items():
            info = tarfile.TarInfo(f"{top}/{path}")
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


def metadata(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "full_name": "octo/demo", "description": "demo", "created_at": "2020-01-01T00:00:00Z",
        "pushed_at": "2026-03-01T00:00:00Z", "archived": False, "fork": False, "stargazers_count": 120,
        "forks_count": 8, "open_issues_count": 3, "license": {"key": "mit", "spdx_id": "MIT"},
        "default_branch": "main", "owner": {"login": "octo", "type": "User"}, "topics": ["demo"],
    }
    base.update(overrides)
    return base


def snapshot(files: dict[str, str | bytes], *, meta: dict[str, Any] | None = None, subpath: str | None = None,
             symlinks: dict[str, str] | None = None, full_name: str = "octo/demo") -> RepoSnapshot:
    return snapshot_from_tarball(
        full_name=full_name, tarball=make_tarball(files, symlinks=symlinks), analysed_at=NOW,
        metadata=meta if meta is not None else metadata(), ref="main", subpath=subpath,
    )
