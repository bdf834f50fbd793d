"""Tool poisoning: what an MCP tool's description and parameters tell the model to do.

A tool description is read by the model, rarely by the user. It should say what the tool does;
it should not address the model in pseudo-system markup, hide text, point at private keys and
agent configurations, ask for file contents in a side parameter, change how *another* tool must
be used, or ask for silence. Each check is a rule; the published examples combine several, and
every part alone is already worth reporting.
"""

from __future__ import annotations

import re

from scanners.artifacts import ArtifactThreat, threat
from scanners.models import Severity, Threat
from scanners.repos.instructions import (
    SECRET_PATH,
    WEAK_SECRET,
    TextFinding,
    analyse_instructions,
    snippet_at,
)
from scanners.repos.tools import McpTool

T = ArtifactThreat.TOOL_POISONING
# A description longer than this is worth a signal (the published examples pad with prose).
LONG_DESCRIPTION_CHARS = 4000
MAX_SENTENCES = 400
MAX_SENTENCE_CHARS = 2000
MAX_IDENTS_PER_SENTENCE = 40

_HANDOFF_VERB = re.compile(r"\b(?:pass|provide|put|include|insert|fill|send|attach|add|append|set)\b", re.IGNORECASE)
_CONTENT_SOURCE = re.compile(
    r"\b(?:contents? of|file contents?|its contents?|the contents?|conversation|chat history|previous messages|system prompt|"
    r"every (?:other )?tool|all (?:other )?tools)\b",
    re.IGNORECASE,
)
_MUST = re.compile(r"\b(?:must|always|never|should always|needs? to|has to|make sure|ensure|required to)\b", re.IGNORECASE)
_PREFER = re.compile(r"\b(?:instead of|rather than|prefer)\b", re.IGNORECASE)
_TOOL_IDENT = re.compile(r"\b([A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)+)\b")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def _texts(tool: McpTool) -> list[tuple[str, str]]:
    texts = [("description", tool.description)]
    for param in tool.params:
        texts.append((f"parameter `{param.name}`", param.name + ("\n" + param.description if param.description else "")))
    return [(where, text) for where, text in texts if text]


def _smuggling(tool: McpTool) -> tuple[str, str] | None:
    """(param, snippet) when the description asks for file contents or secrets in a parameter."""
    description = tool.description
    for param in tool.params:
        if len(param.name) < 3:
            continue
        for match in re.finditer(rf"(?<![\w]){re.escape(param.name)}(?![\w])", description):
            window = description[max(0, match.start() - 200) : match.end() + 100]
            if not _HANDOFF_VERB.search(window):
                continue
            if SECRET_PATH.search(window) or (_CONTENT_SOURCE.search(window) and (WEAK_SECRET.search(window) or "read" in window.lower())):
                return param.name, snippet_at(description, match.start(), match.end(), 80)
    return None


def _shadowing(tool: McpTool, server_tools: set[str]) -> tuple[str, str, bool] | None:
    """(other tool, snippet, must) when the description changes how another tool is used."""
    own = {tool.name, *(param.name for param in tool.params)}
    for full_sentence in _SENTENCE_SPLIT.split(tool.description)[:MAX_SENTENCES]:
        sentence = full_sentence[:MAX_SENTENCE_CHARS]
        must = _MUST.search(sentence) is not None
        if not must and not _PREFER.search(sentence):
            continue
        for count, match in enumerate(_TOOL_IDENT.finditer(sentence)):
            if count >= MAX_IDENTS_PER_SENTENCE:
                break
            ident = match.group(1)
            if ident in own or ident in server_tools or ident.lower().startswith(("http", "www")):
                continue
            escaped = re.escape(ident)
            tool_context = re.search(
                rf"{escaped}\W{{0,3}}(?:tool|function)\b|\b(?:tool|function)\W{{0,3}}{escaped}"
                rf"|\b(?:when|whenever|before|after|every time|each time|if)\b[^.\n]{{0,60}}{escaped}",
                sentence, re.IGNORECASE,
            )
            if tool_context:
                return ident, snippet_at(sentence, match.start(), match.end(), 80), must
    return None


def tool_poisoning(tool: McpTool, server_tools: set[str]) -> list[Threat]:
    """Every poisoning finding for one tool. Severities per rule; combinations raise them."""
    threats: list[Threat] = []
    where_tool = f"tool `{tool.name}`"

    def add(rule: str, severity: Severity, detail: str, evidence: str) -> None:
        threats.append(threat(T, severity, f"{where_tool}: {detail}", rule, path=tool.path, line=tool.line, evidence=evidence))

    findings: list[tuple[str, TextFinding]] = []
    for where, text in _texts(tool):
        findings.extend((where, finding) for finding in analyse_instructions(text).findings)
    kinds = {finding.kind for _, finding in findings}
    serious = kinds & {"hidden_unicode", "silence", "exfil", "secret_path", "override", "exec", "fetch_run", "hidden_section"}
    for where, finding in findings:
        hidden = " (inside hidden characters)" if finding.hidden else ""
        if finding.kind == "hidden_unicode":
            add("mcp/tool-hidden-unicode", Severity.CRITICAL if finding.strong else Severity.HIGH,
                f"{where} hides {finding.detail}", finding.snippet)
        elif finding.kind == "instruction_block":
            add("mcp/tool-instruction-block", Severity.HIGH if serious else Severity.MEDIUM,
                f"{where} addresses the model in a {finding.detail} block{hidden}", finding.snippet)
        elif finding.kind == "silence":
            add("mcp/tool-conceal", Severity.CRITICAL, f"{where} tells the model to keep something from the user{hidden}", finding.snippet)
        elif finding.kind == "exfil":
            add("mcp/tool-exfiltration", Severity.CRITICAL, f"{where} tells the model to send data out{hidden}", finding.snippet)
        elif finding.kind == "secret_path":
            add("mcp/tool-requests-secrets", Severity.CRITICAL if finding.strong else Severity.HIGH,
                f"{where} points the model at `{finding.detail}`{hidden}", finding.snippet)
        elif finding.kind in {"override", "exec"}:
            what = "tries to override the model's instructions" if finding.kind == "override" else "tells the model to run something automatically"
            add("mcp/tool-injection", Severity.HIGH, f"{where} {what}{hidden}", finding.snippet)
        elif finding.kind == "fetch_run":
            add("mcp/tool-injection", Severity.CRITICAL if finding.strong else Severity.HIGH,
                f"{where} tells the model to download and run code{hidden}", finding.snippet)
        elif finding.kind == "disable_safety":
            add("mcp/tool-injection", Severity.HIGH if serious else Severity.MEDIUM,
                f"{where} tells the model to skip confirmations or safety checks{hidden}", finding.snippet)
        elif finding.kind == "hidden_section":
            add("mcp/tool-hidden-section", Severity.HIGH, f"{where} has {finding.detail}", finding.snippet)
        elif finding.kind == "comment_block" and serious:
            add("mcp/tool-hidden-section", Severity.MEDIUM, f"{where} contains an HTML comment the user will not see", finding.snippet)
    smuggled = _smuggling(tool)
    if smuggled:
        add("mcp/tool-param-smuggling", Severity.CRITICAL,
            f"the description asks the model to put file contents or secrets into parameter `{smuggled[0]}`", smuggled[1])
    shadow = _shadowing(tool, server_tools)
    if shadow:
        other, evidence, must = shadow
        severity = Severity.CRITICAL if serious & {"silence", "exfil", "secret_path"} else Severity.HIGH if must else Severity.MEDIUM
        add("mcp/tool-shadowing", severity, f"the description changes how the `{other}` tool must be used", evidence)
    return threats


def is_long(tool: McpTool) -> bool:
    return len(tool.description) > LONG_DESCRIPTION_CHARS


__all__ = ["LONG_DESCRIPTION_CHARS", "is_long", "tool_poisoning"]
