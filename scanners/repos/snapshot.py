"""``RepoSnapshot``: everything the repo, MCP-server and skill analysers look at.

Built by ``app/`` from two GitHub answers — ``GET /repos/{o}/{r}`` (metadata) and the tarball of
one ref — with ``snapshot_from_tarball``, which is pure: bytes and a dict in, a model out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scanners.repos.tarball import ArchiveNotes, normalise_subpath, read_tarball


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RepoOwner(_Lenient):
    login: str | None = None
    type: str | None = None  # "User" | "Organization"


class RepoLicense(_Lenient):
    key: str | None = None
    spdx_id: str | None = None
    name: str | None = None


class ParentRepo(_Lenient):
    full_name: str | None = None
    stargazers_count: int | None = None


class RepoMetadata(_Lenient):
    """The fields of GitHub's repository object the analysers use (any others are ignored)."""

    full_name: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    pushed_at: datetime | None = None
    archived: bool | None = None
    disabled: bool | None = None
    fork: bool | None = None
    stargazers_count: int | None = None
    forks_count: int | None = None
    open_issues_count: int | None = None
    license: RepoLicense | None = None
    default_branch: str | None = None
    owner: RepoOwner | None = None
    topics: list[str] = Field(default_factory=list)
    parent: ParentRepo | None = None  # present on forks

    @classmethod
    def from_api(cls, raw: Any, gaps: list[str]) -> RepoMetadata | None:
        """Validate GitHub's JSON leniently: a field of the wrong type is dropped and noted."""
        if raw is None:
            gaps.append("repository metadata: missing")
            return None
        if not isinstance(raw, dict):
            gaps.append("repository metadata: not an object")
            return None
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
            gaps.append("repository metadata: unreadable fields " + ", ".join(sorted(bad)))
            try:
                return cls.model_validate({k: v for k, v in raw.items() if k not in bad})
            except ValidationError:
                return cls()


class RepoSnapshot(BaseModel):
    """One repository at one commit. ``files`` maps repository paths to bytes (top-level archive
    directory stripped); ``subpath`` scopes a skill analysis to one folder."""

    full_name: str
    ref: str | None = None
    sha: str | None = None
    metadata: RepoMetadata | None = None
    files: dict[str, bytes] = Field(default_factory=dict)
    files_truncated: bool = False
    archive: ArchiveNotes = Field(default_factory=ArchiveNotes)
    analysed_at: datetime
    subpath: str | None = None
    evidence_gaps: list[str] = Field(default_factory=list)

    @property
    def owner_login(self) -> str | None:
        if self.metadata and self.metadata.owner and self.metadata.owner.login:
            return self.metadata.owner.login
        return self.full_name.split("/", 1)[0] if "/" in self.full_name else None

    @property
    def scope(self) -> str:
        """The normalised ``subpath`` (``""`` is the repository root)."""
        return normalise_subpath(self.subpath)


def snapshot_from_tarball(
    *,
    full_name: str,
    tarball: bytes | None,
    analysed_at: datetime,
    metadata: Any = None,
    ref: str | None = None,
    sha: str | None = None,
    subpath: str | None = None,
) -> RepoSnapshot:
    """Build a snapshot from the raw tarball bytes and the raw metadata JSON (pure, never raises
    on bad input: what could not be read becomes ``evidence_gaps`` / ``files_truncated``)."""
    gaps: list[str] = []
    meta = RepoMetadata.from_api(metadata, gaps)
    if tarball is None:
        gaps.append("repository content: tarball missing")
        notes = ArchiveNotes(complete=False)
        files: dict[str, bytes] = {}
    else:
        read = read_tarball(tarball)
        files = read.files
        notes = ArchiveNotes.model_validate(read.model_dump(exclude={"files", "total_bytes"}))
    return RepoSnapshot(
        full_name=full_name, ref=ref, sha=sha or notes.commit, metadata=meta, files=files,
        files_truncated=not notes.complete or notes.budget_skipped > 0, archive=notes,
        analysed_at=analysed_at, subpath=subpath, evidence_gaps=gaps,
    )


__all__ = ["RepoMetadata", "RepoSnapshot", "snapshot_from_tarball"]
