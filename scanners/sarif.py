"""Render a ScanReport as SARIF 2.1.0 for GitHub code scanning (``upload-sarif``).

A renderer only: it never re-derives a verdict. Fingerprints hash the rule, path and evidence
rather than the line number, so a finding keeps its identity when unrelated lines move.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from scanners import SCANNER_VERSION
from scanners.models import ScanReport, Severity, Threat
from scanners.rules.registry import REGISTRY

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/watchpost/watchpost"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
# GitHub's code scanning sorts alerts by this CVSS-like number.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}

# Rules emitted outside the tier-2 registry (identity tier, LLM tier, scan failures).
EXTRA_RULES: dict[str, tuple[str, str]] = {
    "identity/first-time-contributor": ("First-time contributor", "The author has no earlier commits in this repository."),
    "identity/bot-impersonation": ("Account imitates a bot", "A regular user account is named like a well-known app bot."),
    "identity/burst-activity": ("Burst of PRs to many repositories", "The author opened PRs to many unrelated repositories within a day."),
    "llm/review": ("LLM review finding", "A finding of the optional LLM review tier; it can add or raise, never remove."),
    "scan/error": ("Scan could not complete", "Part of the analysis failed; the result cannot be called safe."),
}


def _fingerprint(threat: Threat) -> str:
    material = "\x1f".join([threat.rule, threat.path or "", " ".join((threat.evidence or threat.detail).split())])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _rule_descriptor(rule_id: str, severity: Severity) -> dict[str, Any]:
    rule = REGISTRY.get(rule_id)
    if rule is not None:
        name, description, help_text = rule.title, rule.rationale, rule.rationale
        tags = ["security", rule.threat_type.value]
    else:
        name, description = EXTRA_RULES.get(rule_id, (rule_id, rule_id))
        help_text = description
        tags = ["security"]
    return {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.replace("/", "-").split("-")),
        "shortDescription": {"text": name},
        "fullDescription": {"text": description},
        "help": {"text": help_text, "markdown": f"**{name}**\n\n{help_text}"},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {"tags": tags, "security-severity": SECURITY_SEVERITY[severity], "precision": "high"},
    }


def to_sarif(report: ScanReport) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for threat in report.threats:
        if threat.rule not in rule_index:
            registered = REGISTRY.get(threat.rule)
            rule_index[threat.rule] = len(rules)
            rules.append(_rule_descriptor(threat.rule, registered.severity if registered else threat.severity))
        result: dict[str, Any] = {
            "ruleId": threat.rule,
            "ruleIndex": rule_index[threat.rule],
            "level": LEVEL[threat.severity],
            "message": {"text": threat.detail + (f" — {threat.evidence}" if threat.evidence else "")},
            "partialFingerprints": {"watchpostFinding/v1": _fingerprint(threat)},
            "properties": {"severity": threat.severity.value, "threatType": threat.type, "tier": threat.tier.value, "security-severity": SECURITY_SEVERITY[threat.severity]},
        }
        if threat.path:
            # A SARIF uri is a URI reference: a path with spaces or non-ASCII letters is percent-encoded.
            location: dict[str, Any] = {"artifactLocation": {"uri": quote(threat.path, safe="/-._~")}}
            if threat.line:
                location["region"] = {"startLine": threat.line}
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "Watchpost", "version": SCANNER_VERSION, "semanticVersion": SCANNER_VERSION, "informationUri": INFORMATION_URI, "rules": rules}},
                "invocations": [{"executionSuccessful": report.complete}],
                "results": results,
                "properties": {
                    "verdict": report.verdict.value,
                    "score": report.score,
                    "confidence": report.confidence.value,
                    "tolerance": report.tolerance.value,
                    "subject": f"{report.origin}:{report.name}" + (f"#{report.version}" if report.version else ""),
                },
            }
        ],
    }
