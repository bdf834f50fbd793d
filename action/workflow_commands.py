"""Writing to the runner: outputs (``GITHUB_OUTPUT``, multi-line values in a heredoc whose
delimiter is random and absent from the value), and workflow commands (``::error`` …) escaped as
the runner decodes them, most severe first, within the per-step annotation limits."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path

from scanners.models import ScanReport, Severity, Threat

# GitHub shows at most this many annotations of each level per step; the rest are dropped.
ANNOTATIONS_PER_LEVEL = 10
LEVEL_FOR = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: str | int | None) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def annotation_commands(report: ScanReport, reserved: Iterable[str] = ()) -> list[str]:
    """One command per threat, most severe first; at most ``ANNOTATIONS_PER_LEVEL`` per level (the
    step summary and SARIF list them all), less the ``reserved`` commands printed before them."""
    counts: dict[str, int] = {}
    for line in reserved:
        level = line[2:].split(" ", 1)[0].split("::", 1)[0]
        counts[level] = counts.get(level, 0) + 1
    lines = []
    for threat in sorted(report.threats, key=lambda t: (-t.severity.rank, t.path or "~", t.line or 0)):
        level = LEVEL_FOR[threat.severity]
        if counts.get(level, 0) >= ANNOTATIONS_PER_LEVEL:
            continue
        counts[level] = counts.get(level, 0) + 1
        lines.append(command(level, _message(threat), title=f"Watchpost: {threat.type} ({threat.severity.value})",
                             file=threat.path, line=threat.line))
    return lines


def _message(threat: Threat) -> str:
    return f"{threat.detail} [{threat.rule}]"


def write_outputs(path: Path | None, values: dict[str, str]) -> None:
    if path is None:
        return
    with path.open("a", encoding="utf-8") as handle:
        for name, value in values.items():
            if "\n" in value or "\r" in value:
                delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
                while delimiter in value:
                    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
                handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                handle.write(f"{name}={value}\n")


def print_lines(lines: Iterable[str]) -> None:
    for line in lines:
        print(line, flush=True)
