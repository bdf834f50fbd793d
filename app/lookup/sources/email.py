"""E-mail is submitted, not fetched: ``POST /email`` analyses the raw message at once (in an
executor) and stores the answer under its Message-ID for ``GET /email/{id}``."""

from __future__ import annotations

from datetime import datetime

from app.lookup.identifiers import Identifier, IdentifierError, Origin, parse_email
from scanners.artifacts import Edge, report_for_artifact
from scanners.models import ScanReport
from scanners.web import EmailSnapshot, analyze_email


def analyse_email_bytes(raw: bytes, received_at: datetime) -> tuple[Identifier, ScanReport, list[Edge]]:
    identity, findings = analyze_email(EmailSnapshot(raw=raw, received_at=received_at))
    try:
        identifier = parse_email(identity.message_id)
    except IdentifierError:
        # A Message-ID that is not plain printable ASCII cannot be a URL key: use the raw-bytes
        # digest the analyser derives for messages without one.
        import hashlib

        identifier = Identifier(Origin.EMAIL, "sha256:" + hashlib.sha256(raw).hexdigest()[:40], identity.message_id[:200])
    report = report_for_artifact(origin="email", name=identifier.key, version=None, findings=findings, scanned_at=received_at)
    return identifier, report, list(findings.edges)
