"""Text aimed at an AI agent inside a page or an e-mail, graded by whether a human can see it.

The vocabulary is ``scanners.analysis.injection`` (one fix serves PRs, pages and mail) plus a few
phrasings that only matter here: "Email assistant:" as an addressee, forwarding a mailbox, and
sending a named secret file to an e-mail address rather than a URL.

Grading (``prefix`` is ``web`` or ``email``):

- hidden + addresses an AI + any directive (override, exec, exfil, approve, silence, destructive,
  download-and-run), or hidden + an unmistakable override ("ignore all previous instructions")
  → ``<prefix>/hidden-instructions`` critical. Other directives without an addressee are not
  enough: hidden UI says "Do not show again" and inactive install tabs say "Run the following
  command";
- hidden + asks for secrets to be sent out (no addressee) → the same rule, high;
- hidden + only addresses an AI → the same rule, high; low when the note only points agents to a
  machine-readable copy of the page (``llms.txt``, a markdown version), which sites do in good faith;
  labels (meta content, alt / title / aria-label) need a directive;
- visible + addresses an AI + asks it to leak data → ``<prefix>/visible-agent-instructions``
  critical; + asks it to run something, override its instructions or destroy data → high;
- a download-and-run command (``curl … | sh``) a human can read and nobody addresses to an agent
  → ``<prefix>/download-and-run`` low (medium from a raw-content host): install pages do this in
  good faith, but an agent should not follow it unasked;
- Unicode tag characters / variation-selector runs that smuggle text → ``<prefix>/invisible-unicode``
  high (critical as hidden instructions when the smuggled text is itself an instruction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanners.analysis.injection import InstructionIntents, classify_instruction_text
from scanners.analysis.secrets import redact_text
from scanners.analysis.shell import RAW_CONTENT_HOSTS, download_and_run
from scanners.analysis.unicode import describe, find_hidden, strip_hidden
from scanners.artifacts import ArtifactThreat, threat
from scanners.models import Severity, Threat

EVIDENCE_CHARS = 160
MAX_PIECES = 5_000  # text pieces (paragraphs, hidden blocks) classified per artifact
MAX_UNICODE_RUNS = 200
MIN_SMUGGLED_CHARS = 4  # decoded tag text shorter than this is noise (a stray tag character)
MIN_VARIATION_RUN = 8

DIRECTIVES = ("override", "exec", "exfil", "approve", "silence", "destructive", "download_and_run")
# Hidden sources that are labels, not prose: product names there ("AI Agents: a practical guide")
# address nobody, so only a directive counts.
LABEL_SOURCES = frozenset({"meta", "alt attribute", "title attribute", "aria-label attribute"})

_ADDRESS_EXTRA = re.compile(
    r"\b(?:ai|llm|e-?mail|mail|inbox|personal|virtual|automated|browsing|web)\s+(?:assistants?|agents?|models?|bots?)\s*[:,]\s*"
    r"(?:please\s+)?(?:you|ignore|disregard|forget|do|don't|never|always|run|execute|send|forward|reply|respond|delete|before|when|"
    r"summari[sz]e|include|tell|make|add|remember|fetch|open|visit|click|copy|upload|approve|recommend|say)\b"
    r"|\b(?:ai|llm)\s+(?:assistants?|agents?|models?|systems?|crawlers?)\s+(?:reading|processing|summari[sz]ing|handling|visiting|browsing)\b",
    re.IGNORECASE,
)
_SECRET_EXFIL = re.compile(
    r"\b(?:send|upload|post|forward|e-?mail|copy|paste|exfiltrate|leak|share)\b[^.\n]{0,80}?"
    r"(?:~/\.aws|\.aws/credentials|~/\.ssh/(?![\w.-]{0,40}\.pub\b)|\bid_rsa\b(?!\.pub)|\bid_ed25519\b(?!\.pub)|\.env\b|\.npmrc\b|\.netrc\b|\bkeychain\b|"
    r"\bsession (?:tokens?|cookies?)\b|\bapi[ _-]?keys?\b|\bpasswords?\b|\bcredentials\b|\bprivate keys?\b|\bseed phrase\b|\b2fa codes?\b)"
    r"[^.\n]{0,80}?\bto\s+\S",
    re.IGNORECASE,
)
_MAIL_EXFIL = re.compile(
    r"\b(?:forward|send|copy|bcc|upload|export)\b[^.\n]{0,40}?\b(?:all|every|each|the|their|user'?s|his|her|my|your|recent|last \d+)\s+"
    r"(?:\w+\s+){0,2}(?:e-?mails?|messages|inbox|mailbox|conversations?|correspondence|contacts|attachments|calendar|threads?)\b"
    r"[^.\n]{0,80}?\bto\s+\S",
    re.IGNORECASE,
)
_MAIL_DESTRUCTIVE = re.compile(
    r"\b(?:delete|remove|trash|purge|archive)\s+(?:all|every|the user'?s|their|these|the)\s+(?:\w+\s+)?(?:e-?mails?|messages|inbox|mailbox|contacts)\b",
    re.IGNORECASE,
)
# Overrides that ordinary prose does not contain ("skip the instructions below" does; "ignore all
# previous instructions" does not).
_STRONG_OVERRIDE = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|of\s+|your\s+|the\s+|my\s+){0,3}"
    r"(?:previous|prior|above|earlier|preceding|original|system|safety|existing)\s+(?:instructions?|prompts?|rules|directions|guidelines|guardrails|directives|policies|constraints)\b"
    r"|\bnew (?:system )?instructions\s*:|\bsystem prompt\s*[:=]|<\|im_start\|>|\[/?INST\]"
    r"|\bfrom now on,? you (?:will|must|are)\b|\byour (?:new|real|actual) (?:task|instructions?|goal|role) (?:is|are)\b",
    re.IGNORECASE,
)
_BENIGN_POINTER = re.compile(
    r"llms(?:-full)?\.txt|\bmarkdown (?:version|copy|format)\b|\.md\b|\bplain[- ]text version\b|\bmachine[- ]readable\b"
    r"|\bapi reference\b|\bsitemap\b|\bdocumentation (?:index|is available)\b",
    re.IGNORECASE,
)
_EMAIL_ADDRESS = re.compile(r"\b([A-Za-z0-9._%+-]{1,64})@([A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24})\b")


@dataclass(slots=True)
class TextPiece:
    text: str
    hidden: str | None  # why a human does not see it; None when visible
    where: str  # "page", "HTML part", "text/plain part", "subject" …
    # A short preceding paragraph (a heading such as "For AI agents") read together with this one
    # when this one alone carries nothing.
    context: str = ""


def mask_addresses(text: str) -> str:
    """Keep the domain of an e-mail address (it is the evidence) and drop the mailbox name."""
    return _EMAIL_ADDRESS.sub(lambda m: f"{m.group(1)[:1]}…@{m.group(2)}", text)


def shorten(text: str, limit: int = EVIDENCE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def evidence_of(text: str) -> str:
    return shorten(mask_addresses(redact_text(text)))


def classify(text: str) -> InstructionIntents:
    """The shared intents plus the page/e-mail phrasings; zero-width and tag characters are
    removed first so ``ig\u200bnore previous instructions`` reads as what it says."""
    clean = strip_hidden(text)
    intents = classify_instruction_text(clean)
    for name, pattern in (("address", _ADDRESS_EXTRA), ("exfil", _SECRET_EXFIL), ("exfil", _MAIL_EXFIL),
                          ("destructive", _MAIL_DESTRUCTIVE)):
        if name in intents.intents:
            continue
        match = pattern.search(clean[:64_000])
        if match:
            intents.intents.add(name)
            intents.snippets[name] = shorten(clean[max(0, match.start() - 40) : match.end() + 60])
    command = download_and_run(clean[:64_000])
    if command:
        intents.intents.add("download_and_run")
        intents.snippets["download_and_run"] = shorten(clean[max(0, command.start() - 40) : command.end() + 40])
    return intents


def _best_snippet(intents: InstructionIntents) -> str:
    for name in ("override", "exfil", "download_and_run", "exec", "destructive", "silence", "approve", "claim", "address"):
        if name in intents.snippets:
            return intents.snippets[name]
    return ""


def _describe(intents: InstructionIntents) -> str:
    words = intents.describe()
    if "download_and_run" in intents.intents:
        words = f"{words}, pipes a download into a shell" if words else "pipes a download into a shell"
    return words


def instruction_threats(pieces: list[TextPiece], prefix: str) -> tuple[list[Threat], bool]:
    """Threats for agent-directed text in ``pieces``; the flag is False when the piece limit cut
    the analysis short."""
    threats: list[Threat] = []
    seen: set[tuple[str, str]] = set()
    complete = len(pieces) <= MAX_PIECES
    previous_flagged = False
    for piece in pieces[:MAX_PIECES]:
        intents = classify(piece.text)
        found = _grade(piece, intents, prefix) if intents.intents else None
        if piece.context and not previous_flagged and (found is None or found.severity is not Severity.CRITICAL):
            joined = TextPiece(f"{piece.context}\n{piece.text}", piece.hidden, piece.where)
            joined_intents = classify(joined.text)
            with_context = _grade(joined, joined_intents, prefix) if joined_intents.intents else None
            if with_context is not None and (found is None or with_context.severity.rank > found.severity.rank):
                found = with_context
        previous_flagged = found is not None
        if found and (found.rule, found.evidence or "") not in seen:
            seen.add((found.rule, found.evidence or ""))
            threats.append(found)
    return threats, complete


def _grade(piece: TextPiece, intents: InstructionIntents, prefix: str) -> Threat | None:
    addressed = intents.has("address")
    evidence = evidence_of(_best_snippet(intents))
    hidden_type = ArtifactThreat.HIDDEN_INSTRUCTIONS
    if piece.hidden is not None:
        where = f"{piece.where}, hidden by {piece.hidden}"
        # Hidden UI is full of imperative phrases ("Do not show again", "Run the following
        # command" in an inactive install tab, "will be approved"): without an AI addressee only an
        # unmistakable override counts as an instruction to the agent.
        strong_override = "override" in intents.intents and _STRONG_OVERRIDE.search(strip_hidden(piece.text)[:64_000])
        if strong_override or (addressed and intents.has(*DIRECTIVES)):
            return threat(hidden_type, Severity.CRITICAL, f"Hidden text ({where}) {_describe(intents)}",
                          f"{prefix}/hidden-instructions", evidence=evidence)
        if intents.has("exfil"):
            return threat(hidden_type, Severity.HIGH, f"Hidden text ({where}) asks for secrets to be sent out",
                          f"{prefix}/hidden-instructions", evidence=evidence)
        if addressed and piece.hidden not in LABEL_SOURCES:
            if _BENIGN_POINTER.search(piece.text):
                return threat(hidden_type, Severity.LOW, f"Hidden note to AI agents ({where}) points to a machine-readable copy",
                              f"{prefix}/hidden-instructions", evidence=evidence)
            if len(piece.text.split()) >= 4:
                return threat(hidden_type, Severity.HIGH, f"Hidden text ({where}) addresses AI agents",
                              f"{prefix}/hidden-instructions", evidence=evidence)
        return _download_and_run(piece, intents, prefix)
    if addressed and intents.has("exfil"):
        return threat(hidden_type, Severity.CRITICAL, f"Visible text ({piece.where}) {_describe(intents)}",
                      f"{prefix}/visible-agent-instructions", evidence=evidence)
    if addressed and intents.has("exec", "download_and_run", "override", "destructive"):
        return threat(hidden_type, Severity.HIGH, f"Visible text ({piece.where}) {_describe(intents)}",
                      f"{prefix}/visible-agent-instructions", evidence=evidence)
    return _download_and_run(piece, intents, prefix)


def _download_and_run(piece: TextPiece, intents: InstructionIntents, prefix: str) -> Threat | None:
    """A pipe-to-shell nobody addresses to an agent: install instructions, shown or in a hidden
    tab. Worth telling an agent about, not an attack by itself."""
    if not intents.has("download_and_run"):
        return None
    snippet = intents.snippets["download_and_run"]
    severity = Severity.MEDIUM if RAW_CONTENT_HOSTS.search(snippet) else Severity.LOW
    return threat(ArtifactThreat.DANGEROUS_CAPABILITY, severity, f"Text ({piece.where}) tells readers to pipe a download into a shell",
                  f"{prefix}/download-and-run", evidence=evidence_of(snippet))


def invisible_unicode_threats(text: str, where: str, prefix: str) -> list[Threat]:
    """Tag-character and variation-selector smuggling anywhere in the raw text."""
    hidden = find_hidden(text, max_runs=MAX_UNICODE_RUNS)
    if not hidden:
        return []
    threats: list[Threat] = []
    smuggled = hidden.decoded_tags.strip()
    if len(smuggled) >= MIN_SMUGGLED_CHARS:
        intents = classify(smuggled)
        if intents.has(*DIRECTIVES) or intents.has("address"):
            threats.append(threat(ArtifactThreat.HIDDEN_INSTRUCTIONS, Severity.CRITICAL,
                                  f"Invisible Unicode tag characters ({where}) spell out an instruction: {_describe(intents)}",
                                  f"{prefix}/hidden-instructions", evidence=evidence_of(smuggled)))
        else:
            threats.append(threat(ArtifactThreat.HIDDEN_INSTRUCTIONS, Severity.HIGH,
                                  f"Invisible Unicode tag characters ({where}) carry {len(smuggled)} hidden characters",
                                  f"{prefix}/invisible-unicode", evidence=evidence_of(smuggled)))
    selectors = [run for run in hidden.of_kind("variation_selector") if run.count >= MIN_VARIATION_RUN]
    if selectors:
        threats.append(threat(ArtifactThreat.HIDDEN_INSTRUCTIONS, Severity.HIGH,
                              f"Runs of variation-selector characters ({where}) can smuggle data: {describe(hidden)}",
                              f"{prefix}/invisible-unicode"))
    return threats
