"""Size and sensitivity signals: they move the ``behavior`` and ``content`` sub-scores and explain
why, but never invent a threat — a big PR or a workflow edit is a reason to look, not a finding.
"""

from __future__ import annotations

import re

from scanners.models import Signal
from scanners.rules.engine import FileContext
from scanners.workspace import PRSnapshot

_GENERIC_TITLE = re.compile(r"^\s*(?:update|fix|fixes|changes?|patch|wip|test|tests|misc|stuff|minor|edit|edits|updates?\s+\S+\.\w+|.{0,7})\s*$", re.IGNORECASE)
_HARMLESS_CLAIM = re.compile(r"\b(?:typo|docs?|documentation|readme|formatting|format|whitespace|lint|comment|spelling|grammar)\b", re.IGNORECASE)


def _sensitive(context: FileContext) -> str | None:
    info = context.info
    if info.is_ci_definition:
        return "CI definition"
    if info.is_agent_config:
        return "agent configuration"
    if info.is_security_config or info.is_codeowners or info.is_dependency_bot_config:
        return "security configuration"
    if info.is_build_hook:
        return "build/install hook"
    return None


def collect_signals(snapshot: PRSnapshot, contexts: list[FileContext]) -> list[Signal]:
    signals: list[Signal] = []
    added = sum(len(c.change.added) for c in contexts)
    removed = sum(len(c.change.removed) for c in contexts)
    if added + removed > 5000:
        signals.append(Signal(sub_score="behavior", name="huge_change", effect=-10, detail=f"{added} lines added, {removed} removed: too large to review closely"))
    elif added + removed > 1000:
        signals.append(Signal(sub_score="behavior", name="large_change", effect=-5, detail=f"{added} lines added, {removed} removed"))
    if len(contexts) > 100:
        signals.append(Signal(sub_score="behavior", name="many_files", effect=-5, detail=f"{len(contexts)} files changed"))

    sensitive = [(c.path, kind) for c in contexts if (kind := _sensitive(c))]
    if sensitive:
        effect = -min(20.0, 4.0 * len(sensitive))
        kinds = sorted({kind for _, kind in sensitive})
        signals.append(Signal(sub_score="behavior", name="sensitive_files", effect=effect, detail=f"{len(sensitive)} sensitive file(s) changed ({', '.join(kinds)})"))

    opaque = [c for c in contexts if c.change.is_binary or c.change.patch_missing]
    if opaque:
        signals.append(Signal(sub_score="content", name="unreviewable_files", effect=-min(10.0, 3.0 * len(opaque)), detail=f"{len(opaque)} file(s) without a reviewable text diff"))

    if not snapshot.diff_only:
        title = (snapshot.title or "").strip()
        body = (snapshot.body or "").strip()
        if not body:
            signals.append(Signal(sub_score="content", name="empty_description", effect=-5, detail="the PR has no description"))
        if not title or _GENERIC_TITLE.match(title):
            signals.append(Signal(sub_score="content", name="low_effort_title", effect=-5, detail=f"uninformative title {title!r}"))
        code_files = [c for c in contexts if not c.info.is_doc]
        if title and _HARMLESS_CLAIM.search(title) and sensitive and code_files:
            signals.append(Signal(sub_score="behavior", name="title_mismatch", effect=-10, detail="the title describes a harmless change but sensitive files changed"))
    return signals
