"""A repository's own policy (from ``.github/watchpost.yml`` on the base branch), applied purely.

What a maintainer may decide: files left out of the scan, authors and bots they trust, rules they
disable or re-grade, and whether the LLM tier runs. What they cannot: hide a scan error, or make an
incomplete scan count as complete.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from pydantic import BaseModel, Field

from scanners.models import Severity, Threat, ThreatType
from scanners.workspace import PRSnapshot

TRUSTED_IDENTITY_BONUS = 40.0


class ScanPolicy(BaseModel):
    ignore_paths: list[str] = Field(default_factory=list)
    trusted_authors: set[str] = Field(default_factory=set)  # lower-case logins
    trusted_bots: set[str] = Field(default_factory=set)
    disabled_rules: set[str] = Field(default_factory=set)
    severity_overrides: dict[str, Severity] = Field(default_factory=dict)
    llm_review: bool = True

    def ignores(self, path: str) -> bool:
        return any(fnmatchcase(path, pattern) for pattern in self.ignore_paths)

    def trusts(self, login: str | None) -> bool:
        if not login:
            return False
        lowered = login.lower()
        return lowered in self.trusted_authors or lowered in self.trusted_bots


def drop_ignored_files(snapshot: PRSnapshot, policy: ScanPolicy) -> int:
    """Remove ignored files from the snapshot; returns how many were dropped."""
    if not policy.ignore_paths:
        return 0
    kept = [change for change in snapshot.files if not policy.ignores(change.path)]
    dropped = len(snapshot.files) - len(kept)
    snapshot.files = kept
    return dropped


def apply_rule_policy(threats: list[Threat], policy: ScanPolicy) -> list[Threat]:
    result = []
    for threat in threats:
        if threat.type == ThreatType.SCAN_ERROR.value:
            result.append(threat)  # never configurable away
            continue
        if threat.rule in policy.disabled_rules:
            continue
        override = policy.severity_overrides.get(threat.rule)
        if override is not None and override is not threat.severity:
            threat = threat.model_copy(update={"severity": override, "detail": f"{threat.detail} (severity set by repository config)"})
        result.append(threat)
    return result
