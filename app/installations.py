"""The installation store: which installations exist, which are suspended or deleted, and which
repositories they reach — kept from the ``installation`` and ``installation_repositories``
webhooks, reconciled with ``GET /installation/repositories`` when an installation is created or
unsuspended (the webhook lists only what fits in it).

Scans for a suspended or deleted installation are skipped: GitHub refuses its tokens anyway, and a
job queued before the suspension must not burn retries against a 403.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from app.tables import Installation, InstallationRepository, utcnow

log = logging.getLogger("watchpost.installations")

MAX_REPOSITORIES_IN_JOB = 5_000  # a job payload carries at most this many; reconciliation does the rest


def _when(value: Any) -> datetime | None:
    """Webhooks give installation times as epoch seconds or ISO 8601 strings."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        return None


def _repositories(items: Any) -> list[dict[str, Any]]:
    out = []
    for item in (items or [])[:MAX_REPOSITORIES_IN_JOB]:
        if isinstance(item, dict) and isinstance(item.get("full_name"), str):
            out.append({"full_name": item["full_name"], "id": item.get("id") if isinstance(item.get("id"), int) else None})
    return out


def installation_job_payload(event: str, data: dict[str, Any], delivery_id: str) -> dict[str, Any]:
    """What the worker needs from an installation event, extracted at intake (the raw payload is
    not kept in the job)."""
    installation = data.get("installation") or {}
    account = installation.get("account") or {}
    return {
        "delivery_id": delivery_id,
        "event": event,
        "action": data.get("action"),
        "installation_id": installation.get("id"),
        "account_login": account.get("login"),
        "account_type": account.get("type"),
        "repository_selection": installation.get("repository_selection") or data.get("repository_selection"),
        "suspended_at": installation.get("suspended_at"),
        "repositories": _repositories(data.get("repositories")),
        "repositories_added": _repositories(data.get("repositories_added")),
        "repositories_removed": _repositories(data.get("repositories_removed")),
    }


@dataclass(frozen=True, slots=True)
class InstallationState:
    known: bool
    suspended: bool = False
    deleted: bool = False

    @property
    def active(self) -> bool:
        return not (self.suspended or self.deleted)


def installation_state(engine: Engine, installation_id: int | None) -> InstallationState:
    """Unknown installations count as active: the App may have been installed before this
    instance started listening (or with ``WATCHPOST_GITHUB_TOKEN`` there are none)."""
    if not installation_id:
        return InstallationState(known=False)
    with Session(engine) as session:
        row = session.get(Installation, int(installation_id))
        if row is None:
            return InstallationState(known=False)
        return InstallationState(known=True, suspended=row.suspended_at is not None, deleted=row.deleted_at is not None)


def _upsert(session: Session, payload: dict[str, Any], now: datetime) -> Installation:
    installation_id = int(payload["installation_id"])
    row = session.get(Installation, installation_id)
    if row is None:
        row = Installation(id=installation_id, account_login=str(payload.get("account_login") or ""), created_at=now)
    if payload.get("account_login"):
        row.account_login = str(payload["account_login"])
    if payload.get("account_type"):
        row.account_type = str(payload["account_type"])
    if payload.get("repository_selection"):
        row.repository_selection = str(payload["repository_selection"])
    row.updated_at = now
    session.add(row)
    return row


def _add_repositories(session: Session, installation_id: int, repositories: list[dict[str, Any]], now: datetime) -> None:
    known = set(session.exec(select(InstallationRepository.full_name).where(InstallationRepository.installation_id == installation_id)).all())
    for repository in repositories:
        if repository["full_name"] not in known:
            known.add(repository["full_name"])
            session.add(InstallationRepository(installation_id=installation_id, full_name=repository["full_name"], repository_id=repository.get("id"), added_at=now))


def _remove_repositories(session: Session, installation_id: int, names: list[str]) -> None:
    if names:
        session.exec(delete(InstallationRepository).where(  # type: ignore[call-overload]
            InstallationRepository.installation_id == installation_id, InstallationRepository.full_name.in_(names),  # type: ignore[attr-defined]
        ))


def apply_installation_event(engine: Engine, payload: dict[str, Any]) -> str:
    """Apply one installation event to the store; returns what changed, for the log."""
    if not isinstance(payload.get("installation_id"), int):
        raise ValueError("installation event without an installation id")
    installation_id = int(payload["installation_id"])
    event, action = payload.get("event"), payload.get("action")
    now = utcnow()
    with Session(engine) as session:
        existing = session.get(Installation, installation_id)
        if existing is not None and existing.deleted_at is not None and (event, action) != ("installation", "created"):
            return "ignored: installation was deleted"  # ids are never reused; a late event changes nothing
        row = _upsert(session, payload, now)
        if event == "installation" and action == "created":
            row.deleted_at = None
            row.suspended_at = _when(payload.get("suspended_at"))
            _add_repositories(session, installation_id, payload.get("repositories") or [], now)
        elif event == "installation" and action == "deleted":
            row.deleted_at = now
            session.exec(delete(InstallationRepository).where(InstallationRepository.installation_id == installation_id))  # type: ignore[call-overload]
        elif event == "installation" and action == "suspend":
            row.suspended_at = _when(payload.get("suspended_at")) or now
        elif event == "installation" and action == "unsuspend":
            row.suspended_at = None
        elif event == "installation_repositories":
            _add_repositories(session, installation_id, payload.get("repositories_added") or [], now)
            _remove_repositories(session, installation_id, [r["full_name"] for r in payload.get("repositories_removed") or []])
        session.commit()
    return f"{event}.{action} applied"


def replace_repositories(engine: Engine, installation_id: int, repositories: list[dict[str, Any]]) -> None:
    """Make the stored list exactly what GitHub reports (reconciliation after created/unsuspend)."""
    now = utcnow()
    names = {r["full_name"] for r in repositories}
    with Session(engine) as session:
        current = set(session.exec(select(InstallationRepository.full_name).where(InstallationRepository.installation_id == installation_id)).all())
        _remove_repositories(session, installation_id, sorted(current - names))
        _add_repositories(session, installation_id, repositories, now)
        session.commit()


def installation_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(select(Installation)).all()
    return {
        "active": sum(1 for r in rows if r.deleted_at is None and r.suspended_at is None),
        "suspended": sum(1 for r in rows if r.deleted_at is None and r.suspended_at is not None),
        "deleted": sum(1 for r in rows if r.deleted_at is not None),
    }
