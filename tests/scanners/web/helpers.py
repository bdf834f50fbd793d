"""Snapshot builders shared by the web scanner tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from scanners.artifacts import ArtifactFindings
from scanners.web import RULES, PageSnapshot

DATA = Path(__file__).parent / "data"
FETCHED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def page(
    body: str | bytes,
    url: str = "https://site.example.test/page",
    *,
    content_type: str = "text/html; charset=utf-8",
    requested: str | None = None,
    chain: list[str] | None = None,
    tls: bool | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    body_truncated: bool = False,
) -> PageSnapshot:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return PageSnapshot(
        url=url, requested_url=requested or url, redirect_chain=chain or [], status=status, content_type=content_type,
        headers=headers or {}, body=data, body_truncated=body_truncated,
        tls=url.startswith("https://") if tls is None else tls, fetched_at=FETCHED,
    )


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def rules_of(findings: ArtifactFindings) -> dict[str, str]:
    """rule id → highest severity; also asserts every emitted rule is registered."""
    result: dict[str, str] = {}
    for found in findings.threats:
        assert found.rule in RULES, f"unregistered rule {found.rule}"
        assert found.evidence is None or len(found.evidence) <= 160
        current = result.get(found.rule)
        order = ["low", "medium", "high", "critical"]
        if current is None or order.index(found.severity.value) > order.index(current):
            result[found.rule] = found.severity.value
    return result
