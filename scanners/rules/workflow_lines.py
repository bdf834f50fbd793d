"""Reading GitHub Actions YAML from diff hunks, where only fragments of the file are visible.

A hunk may start in the middle of a ``run: |`` block, so the parser tracks the block from any
``run:`` / ``script:`` key it sees and, when the key is not visible, treats free-text lines (not
``key: value``) as shell — the only multi-line scalars in a workflow are scripts in practice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanners.diff import FileChange

_KEY_RE = re.compile(r"^(\s*)(-\s+)?([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?$")
_BLOCK_SCALAR_RE = re.compile(r"^[|>][-+0-9]*\s*(?:#.*)?$")
_SINK_KEYS = {"run", "script"}  # shell of a step; JavaScript of actions/github-script
PRIVILEGED_TRIGGERS = ("pull_request_target", "issue_comment", "workflow_run", "issues", "discussion", "discussion_comment", "pull_request_review", "pull_request_review_comment")
_TRIGGER_RE = re.compile(r"\b(" + "|".join(PRIVILEGED_TRIGGERS) + r")\b")


@dataclass(slots=True)
class WorkflowLine:
    kind: str  # "+" or " "
    number: int
    text: str
    in_sink: bool  # inside a run:/script: value (inline or block)
    sink_key_line: bool  # the line carries the run:/script: key itself
    step_index: int  # increments at every "- " list item that starts a step-like mapping


def new_side_lines(change: FileChange) -> list[WorkflowLine]:
    """The new-file side of every hunk, annotated with run-block membership and step grouping."""
    result: list[WorkflowLine] = []
    sink_indent: int | None = None
    state_known = False
    previous_number = -10
    step = 0
    for kind, number, text in change.lines:
        if kind == "-":
            continue
        if number != previous_number + 1:
            sink_indent = None  # a new hunk: block state unknown until a key is seen
            state_known = False
        previous_number = number
        stripped = text.strip()
        indent = len(text) - len(text.lstrip(" "))
        match = _KEY_RE.match(text)
        if stripped and sink_indent is not None and indent <= sink_indent:
            sink_indent = None
        if sink_indent is not None:
            result.append(WorkflowLine(kind, number, text, True, False, step))
            continue
        if match and not stripped.startswith("#"):
            key_indent = len(match.group(1)) + (len(match.group(2)) if match.group(2) else 0)
            if match.group(2):
                step += 1
            key = match.group(3)
            value = (match.group(4) or "").strip()
            state_known = True
            if key in _SINK_KEYS:
                if not value or _BLOCK_SCALAR_RE.match(value):
                    sink_indent = key_indent
                    result.append(WorkflowLine(kind, number, text, False, True, step))
                else:
                    result.append(WorkflowLine(kind, number, text, True, True, step))
                continue
            result.append(WorkflowLine(kind, number, text, False, False, step))
            continue
        if stripped.startswith("- ") and not match:
            step += 1
        # Free text outside any known key: a script continuation when the block start is not visible.
        in_sink = bool(stripped) and not state_known and not stripped.startswith("#")
        result.append(WorkflowLine(kind, number, text, in_sink, False, step))
    return result


def visible_triggers(change: FileChange) -> set[str]:
    """Privileged triggers named anywhere on the visible new side (the whole file for a new one)."""
    found: set[str] = set()
    in_on_block = False
    for kind, _, text in change.lines:
        if kind == "-":
            continue
        stripped = text.strip()
        if re.match(r"^on\s*:", text) or re.match(r"^['\"]?on['\"]?\s*:", text):
            in_on_block = True
            found.update(_TRIGGER_RE.findall(text))
            continue
        if in_on_block:
            if text and not text[0].isspace() and stripped:
                in_on_block = False
            else:
                for trigger in _TRIGGER_RE.findall(text):
                    if re.match(rf"^\s*-?\s*{trigger}\s*:?", text):
                        found.add(trigger)
    return found
