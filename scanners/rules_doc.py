"""Generate docs/rules.md from the rule registry (a test fails when the file is stale).

Regenerate with: ``watchpost rules --markdown > docs/rules.md``.
"""

from __future__ import annotations

from scanners.analysis.secrets import redact_text
from scanners.rules import REGISTRY
from scanners.rules.registry import Example, Rule

HEADER = """# Tier-2 rules

Generated from the rule registry by `watchpost rules --markdown > docs/rules.md`; do not edit by
hand (a test fails when this file is stale). Every rule's positive and negative example below runs
as a test: the positive must fire the rule, the negative must not.

Severity is the rule's default; a detector may raise or lower it for a specific finding (for
example a download from a raw-content host is critical, from a vendor's installer high).

"""


def _example_block(example: Example) -> str:
    parts = []
    if example.title:
        parts.append(f"PR title: `{example.title}`")
    if example.body:
        body = "".join(ch if ch.isprintable() or ch in "\n\t" else f"<U+{ord(ch):04X}>" for ch in redact_text(example.body))
        parts.append("PR body:\n\n```text\n" + body.replace("```", "ʼʼʼ") + "\n```")
    if example.diff:
        # Credential examples are built at import time from fake parts; the page shows them
        # redacted like every other output, so no token-shaped string is committed.
        shown = "".join(ch if ch.isprintable() or ch in "\n\t" else f"<U+{ord(ch):04X}>" for ch in redact_text(example.diff))
        parts.append("```diff\n" + shown.rstrip("\n") + "\n```")
    return "\n\n".join(parts)


def _render_rule(rule: Rule) -> str:
    return (
        f"### `{rule.id}`\n\n"
        f"**{rule.title}** — type `{rule.threat_type.value}`, default severity **{rule.severity.value}**\n\n"
        f"{rule.rationale}\n\n"
        f"Fires on:\n\n{_example_block(rule.positive)}\n\n"
        f"Does not fire on:\n\n{_example_block(rule.negative)}\n"
    )


def render_rules_markdown() -> str:
    by_type: dict[str, list[Rule]] = {}
    for rule in sorted(REGISTRY.values(), key=lambda r: r.id):
        by_type.setdefault(rule.threat_type.value, []).append(rule)
    sections = [HEADER, "| rule | type | severity | title |\n|---|---|---|---|\n"]
    for threat_type in sorted(by_type):
        for rule in by_type[threat_type]:
            sections.append(f"| `{rule.id}` | {threat_type} | {rule.severity.value} | {rule.title} |\n")
    sections.append("\n")
    for threat_type in sorted(by_type):
        sections.append(f"## {threat_type}\n\n")
        sections.extend(_render_rule(rule) + "\n" for rule in by_type[threat_type])
    return "".join(sections).rstrip("\n") + "\n"
