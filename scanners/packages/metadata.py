"""Signals from registry metadata alone: age, who publishes, release rhythm, deprecation and
yanking, the registry's own malware placeholder, and the graph edges (maintainers, repository).

Times are compared with ``snapshot.analysed_at`` only: no clock is read here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from scanners.artifacts import Edge
from scanners.models import Severity, Signal, Threat
from scanners.packages import rules as R
from scanners.packages.snapshot import PackageSnapshot, VersionInfo

YOUNG_PACKAGE_DAYS = 7
NEW_PACKAGE_DAYS = 30
YOUNG_VERSION_DAYS = 7
DORMANCY_DAYS = 540  # ~18 months without a release before the analysed one counts as dormancy
ESTABLISHED_DAYS = 90  # maintainers of releases older than this count as the package's established team
RECENT_RELEASE_DAYS = 30  # a dormant package's new release matters while it is this fresh
BURST_WINDOW = timedelta(hours=24)
BURST_COUNT = 8  # releases within the window (monorepo release trains publish 2-5)

_MALWARE_WORDS = re.compile(r"\b(?:malware|malicious|compromised|backdoor|stealer|credential theft|typo-?squat)", re.IGNORECASE)
_PRERELEASE_RE = re.compile(r"-|(?:a|b|rc|dev|alpha|beta|pre|canary|nightly)\d*$", re.IGNORECASE)
_GITHUB_RE = re.compile(
    r"^(?:git\+)?(?:(?:https?|git|ssh)://)?(?:[\w.-]+@)?(?:www\.)?github\.com[/:]([A-Za-z0-9-]{1,39})/([A-Za-z0-9._-]{1,100}?)(?:\.git)?/?(?:[#?].*)?$"
)
_SHORTHAND_RE = re.compile(r"^(?:github:)?([A-Za-z0-9-]{1,39})/([A-Za-z0-9._-]{1,100})$")


def node_id(snapshot: PackageSnapshot) -> str:
    return f"{snapshot.ecosystem}:{snapshot.name}"


def github_repo(url: str | None) -> str | None:
    """``owner/name`` of a GitHub repository URL in any of the forms manifests use."""
    if not url:
        return None
    url = url.strip()
    match = _GITHUB_RE.match(url) or (_SHORTHAND_RE.match(url) if "://" not in url and "@" not in url else None)
    if match is None:
        return None
    owner, name = match.group(1), match.group(2)
    name = name.removesuffix(".git")
    return f"{owner}/{name}" if name and name not in (".", "..") else None


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def is_security_placeholder(snapshot: PackageSnapshot) -> bool:
    meta = snapshot.metadata
    if snapshot.ecosystem == "npm":
        description = (meta.description or "").lower()
        repo = (meta.repository_url or "").lower()
        return (snapshot.version or "").endswith("-security") and (
            "security holding package" in description or "security-holder" in repo)
    return False


def _placeholder_threats(snapshot: PackageSnapshot) -> list[Threat]:
    meta = snapshot.metadata
    if is_security_placeholder(snapshot):
        return [R.package_threat(
            R.MALWARE_PLACEHOLDER, Severity.CRITICAL,
            f"npm replaced `{snapshot.name}` with its security holding package: the code published under this name was "
            "removed as malicious",
            evidence=f"{snapshot.version}: {meta.description or ''}",
        )]
    if snapshot.ecosystem in ("pypi", "crate"):
        reason = meta.yanked_reason or ""
        if meta.yanked and _MALWARE_WORDS.search(reason):
            return [R.package_threat(
                R.MALWARE_PLACEHOLDER, Severity.CRITICAL,
                f"This release of `{snapshot.name}` was yanked as malicious", evidence=reason)]
        if snapshot.ecosystem == "pypi" and meta.versions and all(v.file_count == 0 for v in meta.versions):
            return [R.package_threat(
                R.MALWARE_PLACEHOLDER, Severity.CRITICAL,
                f"Every file of every `{snapshot.name}` release was removed: what PyPI's administrators do to malware",
                evidence=f"{len(meta.versions)} release(s), 0 files")]
    return []


def _age_threats(snapshot: PackageSnapshot) -> list[Threat]:
    meta = snapshot.metadata
    now = snapshot.analysed_at
    out: list[Threat] = []
    if meta.created_at is not None:
        age = _days(now - meta.created_at)
        if age < YOUNG_PACKAGE_DAYS:
            out.append(R.package_threat(R.YOUNG_PACKAGE, Severity.MEDIUM,
                                        f"`{snapshot.name}` was first published {max(age, 0):.1f} days ago",
                                        evidence=f"created {meta.created_at.isoformat()}"))
        elif age < NEW_PACKAGE_DAYS:
            out.append(R.package_threat(R.YOUNG_PACKAGE, Severity.LOW,
                                        f"`{snapshot.name}` was first published {age:.0f} days ago",
                                        evidence=f"created {meta.created_at.isoformat()}"))
        # A young release of an established package is the window in which hijacks are live.
        if age >= NEW_PACKAGE_DAYS and meta.published_at is not None:
            version_age = _days(now - meta.published_at)
            if version_age < YOUNG_VERSION_DAYS:
                out.append(R.package_threat(R.YOUNG_VERSION, Severity.LOW,
                                            f"Version {snapshot.version} was published {max(version_age, 0):.1f} days ago",
                                            evidence=f"published {meta.published_at.isoformat()}"))
    return out


def _established_maintainers(snapshot: PackageSnapshot) -> set[str]:
    """Accounts that maintained a release published well before the analysed one."""
    meta = snapshot.metadata
    if meta.published_at is None:
        return set()
    horizon = meta.published_at - timedelta(days=ESTABLISHED_DAYS)
    out: set[str] = set()
    for info in meta.versions:
        if info.published_at is not None and info.published_at < horizon:
            out.update(info.maintainers or ())
    return out


def _maintainer_threats(snapshot: PackageSnapshot) -> list[Threat]:
    meta = snapshot.metadata
    out: list[Threat] = []
    current = meta.version_maintainers
    previous = meta.previous_maintainers
    if current and previous is not None and set(current) != set(previous):
        added = sorted(set(current) - set(previous))
        removed = sorted(set(previous) - set(current))
        established = _established_maintainers(snapshot)
        # Nobody with a history on the package can publish any more: a hand-over or takeover.
        handover = bool(established) and not (set(current) & established)
        if handover or added:
            severity = Severity.HIGH if handover else Severity.MEDIUM
            detail = (f"Version {snapshot.version} is maintained only by accounts that joined recently "
                      f"({', '.join(current[:5])}); earlier maintainers are gone"
                      if handover else f"Maintainers added since {meta.previous_version}: {', '.join(added[:5])}")
            out.append(R.package_threat(R.MAINTAINER_CHANGE, severity, detail,
                                        evidence=f"added {', '.join(added[:5]) or 'none'}; removed {', '.join(removed[:5]) or 'none'}"))
    publisher = meta.publisher
    if (publisher and meta.previous_publishers and publisher not in meta.previous_publishers
            and publisher not in (previous or [])):
        out.append(R.package_threat(
            R.NEW_PUBLISHER, Severity.MEDIUM if not out else Severity.LOW,
            f"Version {snapshot.version} was published by `{publisher}`, who never published `{snapshot.name}` before",
            evidence=f"earlier publishers: {', '.join(meta.previous_publishers[-5:])}"))
    return out


def _dated(versions: list[VersionInfo]) -> list[VersionInfo]:
    return [v for v in versions if v.published_at is not None]


def _rhythm_threats(snapshot: PackageSnapshot) -> list[Threat]:
    meta = snapshot.metadata
    out: list[Threat] = []
    dated = _dated(meta.versions)
    current = next((v for v in dated if v.version == snapshot.version), None)
    if current is None or current.published_at is None:
        return out
    stamp = current.published_at
    window = [v for v in dated if v.published_at is not None and stamp - BURST_WINDOW <= v.published_at <= stamp + BURST_WINDOW]
    stable = [v for v in window if not _PRERELEASE_RE.search(v.version)]
    if len(stable) >= BURST_COUNT:
        out.append(R.package_threat(R.RELEASE_BURST, Severity.LOW,
                                    f"{len(stable)} releases within a day around {snapshot.version}",
                                    evidence=", ".join(v.version for v in stable[:8])))
    earlier = [v for v in dated if v.published_at is not None and v.published_at < stamp]
    if earlier:
        last = max(v.published_at for v in earlier if v.published_at is not None)
        gap = _days(stamp - last)
        fresh = _days(snapshot.analysed_at - stamp) < RECENT_RELEASE_DAYS
        if gap >= DORMANCY_DAYS and fresh:
            out.append(R.package_threat(R.DORMANT_RELEASE, Severity.MEDIUM,
                                        f"Version {snapshot.version} follows {gap / 365:.1f} years without a release",
                                        evidence=f"previous release {last.date().isoformat()}, this one {stamp.date().isoformat()}"))
    return out


def _status_threats(snapshot: PackageSnapshot) -> list[Threat]:
    meta = snapshot.metadata
    out: list[Threat] = []
    if meta.unpublished:
        out.append(R.package_threat(R.UNPUBLISHED, Severity.MEDIUM, f"`{snapshot.name}` was unpublished from the registry"))
    if meta.deprecated:
        out.append(R.package_threat(R.DEPRECATED, Severity.LOW, f"`{snapshot.name}` {snapshot.version} is deprecated",
                                    evidence=meta.deprecated))
    if meta.yanked and not any(t.rule == R.MALWARE_PLACEHOLDER for t in _placeholder_threats(snapshot)):
        out.append(R.package_threat(R.YANKED, Severity.MEDIUM, f"Version {snapshot.version} was yanked by its maintainers",
                                    evidence=meta.yanked_reason))
    return out


def metadata_findings(snapshot: PackageSnapshot) -> tuple[list[Threat], list[Signal], list[Edge]]:
    meta = snapshot.metadata
    threats = [*_placeholder_threats(snapshot), *_status_threats(snapshot)]
    if not threats or threats[0].rule != R.MALWARE_PLACEHOLDER:
        threats += [*_age_threats(snapshot), *_maintainer_threats(snapshot), *_rhythm_threats(snapshot)]
    signals: list[Signal] = []
    edges: list[Edge] = []
    source = node_id(snapshot)
    maintainers = meta.version_maintainers if meta.version_maintainers is not None else meta.maintainers
    for login in sorted(set(maintainers or []))[:50]:
        edges.append(Edge(source=source, target=f"maintainer:{snapshot.ecosystem}/{login}", relation="maintained_by"))
    if meta.publisher:
        edges.append(Edge(source=source, target=f"maintainer:{snapshot.ecosystem}/{meta.publisher}", relation="published_by"))
    repo = github_repo(meta.repository_url)
    if repo is not None:
        edges.append(Edge(source=source, target=f"repo:{repo}", relation="source_repository"))
    if meta.repository_url is None and not is_security_placeholder(snapshot):
        signals.append(Signal(sub_score="identity", name=R.NO_REPOSITORY, effect=-5.0,
                              detail="No source repository is linked from the registry metadata"))
    if len(meta.versions) >= 10 and meta.created_at is not None and _days(snapshot.analysed_at - meta.created_at) > 365:
        signals.append(Signal(sub_score="identity", name=R.TRACK_RECORD, effect=3.0,
                              detail=f"{len(meta.versions)} releases over {(_days(snapshot.analysed_at - meta.created_at) / 365):.1f} years"))
    return threats, signals, edges


def has_history(snapshot: PackageSnapshot) -> bool:
    return len(_dated(snapshot.metadata.versions)) >= 2


def is_young(snapshot: PackageSnapshot, now: datetime | None = None) -> bool:
    created = snapshot.metadata.created_at
    return created is not None and _days((now or snapshot.analysed_at) - created) < NEW_PACKAGE_DAYS
