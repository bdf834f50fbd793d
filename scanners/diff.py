"""Unified-diff parsing for git / GitHub diffs, tolerant of every malformed input.

Two sources feed it: GitHub's aggregate ``application/vnd.github.diff`` (``diff --git`` headers)
and the per-file ``files[].patch`` strings of the REST API (hunks only, no headers). Parsing never
raises: what cannot be understood is recorded in ``ParsedDiff.errors`` so the caller can lower
confidence or report a ``scan_error``.

Hunk line counts are honoured strictly, because a removed SQL comment (``-- x``) shows up as
``--- x`` and would otherwise be mistaken for a file header.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_GIT_HEADER_RE = re.compile(r'^diff --git (?:"?a/)(.*?)"? (?:"?b/)(.*?)"?$')
SYMLINK_MODE = "120000"


@dataclass(slots=True)
class FileChange:
    """One file of a diff. Line numbers of added lines are new-file numbers; removed, old-file."""

    path: str
    old_path: str | None = None
    status: str = "modified"  # added | modified | removed | renamed | copied
    is_binary: bool = False
    patch_missing: bool = False  # the API listed the file but gave no patch (binary / too large)
    old_mode: str | None = None
    new_mode: str | None = None
    # (kind, line number, text) in diff order; kind is "+", "-" or " ".
    lines: list[tuple[str, int, str]] = field(default_factory=list)
    added: list[tuple[int, str]] = field(default_factory=list)
    removed: list[tuple[int, str]] = field(default_factory=list)
    _added_text: str | None = None
    _added_lower: str | None = None
    _added_offsets: list[int] | None = None

    @property
    def is_symlink(self) -> bool:
        return self.new_mode == SYMLINK_MODE

    @property
    def added_text(self) -> str:
        """All added lines joined by newlines, for whole-file regex passes (much faster than
        running every pattern line by line)."""
        if self._added_text is None:
            self._added_text = "\n".join(text for _, text in self.added)
        return self._added_text

    @property
    def added_text_lower(self) -> str:
        """``added_text`` lower-cased once: keyword prefilters then use plain substring search,
        several times faster than case-insensitive regular expressions."""
        if self._added_lower is None:
            self._added_lower = self.added_text.lower()
        return self._added_lower

    def added_indexes_with(self, keywords: tuple[str, ...]) -> list[int]:
        """Indexes into ``added`` of the lines containing any of the lower-case ``keywords``."""
        text = self.added_text_lower
        found: set[int] = set()
        for keyword in keywords:
            position = text.find(keyword)
            while position != -1:
                index = self.added_index_at(position)
                found.add(index)
                line_end = text.find("\n", position)
                if line_end == -1:
                    break
                position = text.find(keyword, line_end)
        return sorted(found)

    def added_line_at(self, offset: int) -> tuple[int, str]:
        """Map an offset in ``added_text`` back to (new-file line number, line text)."""
        return self.added[self.added_index_at(offset)]

    def added_index_at(self, offset: int) -> int:
        """Index into ``added`` of the line holding ``offset`` of ``added_text``."""
        if self._added_offsets is None:
            offsets = []
            position = 0
            for _, text in self.added:
                offsets.append(position)
                position += len(text) + 1
            self._added_offsets = offsets
        index = bisect.bisect_right(self._added_offsets, offset) - 1
        return max(0, min(index, len(self.added) - 1))

    @property
    def removed_text(self) -> str:
        return "\n".join(text for _, text in self.removed)


@dataclass(slots=True)
class ParsedDiff:
    files: list[FileChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _unquote_git_path(raw: str) -> str:
    """Undo git's C-style quoting ("a/caf\\303\\251.txt") of unusual path names."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
        raw = raw[1:-1]
        out = bytearray()
        i = 0
        escapes = {"n": 10, "t": 9, '"': 34, "\\": 92, "a": 7, "b": 8, "f": 12, "r": 13, "v": 11}
        while i < len(raw):
            ch = raw[i]
            if ch == "\\" and i + 1 < len(raw):
                nxt = raw[i + 1]
                if nxt in escapes:
                    out.append(escapes[nxt])
                    i += 2
                    continue
                if nxt.isdigit() and i + 3 < len(raw) + 1:
                    try:
                        out.append(int(raw[i + 1 : i + 4], 8) & 0xFF)
                        i += 4
                        continue
                    except ValueError:
                        pass
            out.extend(ch.encode("utf-8"))
            i += 1
        return out.decode("utf-8", errors="replace")
    return raw


def _strip_prefix(path: str) -> str | None:
    path = _unquote_git_path(path.split("\t", 1)[0])
    if path == "/dev/null":
        return None
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def _parse_range(match: re.Match[str]) -> tuple[int, int, int, int]:
    old_start = int(match.group(1))
    old_count = int(match.group(2)) if match.group(2) is not None else 1
    new_start = int(match.group(3))
    new_count = int(match.group(4)) if match.group(4) is not None else 1
    return old_start, old_count, new_start, new_count


def _consume_hunks(lines: list[str], start: int, change: FileChange, errors: list[str]) -> int:
    """Read consecutive hunks for ``change`` starting at ``lines[start]``; return the next index."""
    i = start
    total = len(lines)
    append_line = change.lines.append
    append_added = change.added.append
    append_removed = change.removed.append
    while i < total:
        header = lines[i]
        if not header.startswith("@@"):
            break
        match = _HUNK_RE.match(header)
        if match is None:
            errors.append(f"{change.path}: malformed hunk header {header[:80]!r}")
            i += 1
            break
        old_no, old_left, new_no, new_left = _parse_range(match)
        i += 1
        while i < total and (old_left > 0 or new_left > 0):
            line = lines[i]
            tag = line[:1]
            if tag == "+":
                text = line[1:]
                append_line(("+", new_no, text))
                append_added((new_no, text))
                new_no += 1
                new_left -= 1
            elif tag == "-":
                text = line[1:]
                append_line(("-", old_no, text))
                append_removed((old_no, text))
                old_no += 1
                old_left -= 1
            elif tag == " " or line == "":
                # Some tools strip the single space of an empty context line.
                append_line((" ", new_no, line[1:]))
                old_no += 1
                new_no += 1
                old_left -= 1
                new_left -= 1
            elif tag == "\\":
                pass  # "\ No newline at end of file"
            else:
                errors.append(
                    f"{change.path}: hunk ends early at line {i + 1} ({old_left} old / {new_left} new lines missing)"
                )
                break
            i += 1
        else:
            if old_left > 0 or new_left > 0:
                errors.append(f"{change.path}: diff truncated inside a hunk")
        while i < total and lines[i].startswith("\\"):
            i += 1
    return i


def parse_unified_diff(text: str) -> ParsedDiff:
    """Parse a multi-file unified diff (git format, or plain ``diff -u`` with ---/+++ headers)."""
    result = ParsedDiff()
    if not text:
        return result
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    if lines and all(line.endswith("\r") for line in lines[: min(len(lines), 50)] if line):
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]

    i = 0
    total = len(lines)
    current: FileChange | None = None
    saw_anything = False
    while i < total:
        line = lines[i]
        if line.startswith("diff --git "):
            saw_anything = True
            match = _GIT_HEADER_RE.match(line)
            if match:
                old_path, new_path = _unquote_git_path(match.group(1)), _unquote_git_path(match.group(2))
            else:
                parts = line[len("diff --git ") :].split(" ")
                old_path = _strip_prefix(parts[0]) or "" if parts else ""
                new_path = _strip_prefix(parts[-1]) or old_path if parts else ""
            current = FileChange(path=new_path, old_path=old_path if old_path != new_path else None)
            result.files.append(current)
            i += 1
            continue
        if line.startswith("--- ") and i + 1 < total and lines[i + 1].startswith("+++ "):
            saw_anything = True
            old_path = _strip_prefix(line[4:])
            new_path = _strip_prefix(lines[i + 1][4:])
            if current is None or current.lines or current.is_binary:
                current = FileChange(path=new_path or old_path or "")
                result.files.append(current)
            if new_path is None:
                current.status = "removed"
                current.path = old_path or current.path
            elif old_path is None:
                current.status = "added"
                current.path = new_path
            else:
                current.path = new_path
                if old_path != new_path and current.status != "renamed":
                    current.old_path = old_path
            i += 2
            continue
        if line.startswith("@@"):
            saw_anything = True
            if current is None:
                current = FileChange(path="")
                result.files.append(current)
                result.errors.append("hunk without a file header")
            i = _consume_hunks(lines, i, current, result.errors)
            continue
        if current is not None:
            if line.startswith("new file mode "):
                current.status = "added"
                current.new_mode = line[len("new file mode ") :].strip()
            elif line.startswith("deleted file mode "):
                current.status = "removed"
                current.old_mode = line[len("deleted file mode ") :].strip()
            elif line.startswith("old mode "):
                current.old_mode = line[len("old mode ") :].strip()
            elif line.startswith("new mode "):
                current.new_mode = line[len("new mode ") :].strip()
            elif line.startswith("rename from "):
                current.status = "renamed"
                current.old_path = _unquote_git_path(line[len("rename from ") :])
            elif line.startswith("rename to "):
                current.status = "renamed"
                current.path = _unquote_git_path(line[len("rename to ") :])
            elif line.startswith("copy from "):
                current.status = "copied"
                current.old_path = _unquote_git_path(line[len("copy from ") :])
            elif line.startswith("copy to "):
                current.status = "copied"
                current.path = _unquote_git_path(line[len("copy to ") :])
            elif line.startswith("index "):
                mode = line.rsplit(" ", 1)[-1]
                if mode.isdigit() and current.new_mode is None and current.status != "removed":
                    current.new_mode = mode
            elif line.startswith("Binary files ") or line == "GIT binary patch":
                current.is_binary = True
                if line == "GIT binary patch":
                    i += 1
                    while i < total and not lines[i].startswith("diff --git "):
                        i += 1
                    continue
            elif line.startswith(("similarity index", "dissimilarity index")):
                pass
            elif line.strip():
                result.errors.append(f"{current.path or '?'}: unexpected line {i + 1}: {line[:60]!r}")
        elif line.strip():
            # Text before any header: commit message of a `git format-patch` mail, or garbage.
            pass
        i += 1
    if not saw_anything and text.strip():
        result.errors.append("input is not a unified diff (no 'diff --git', '---/+++' or '@@' headers)")
    return result


def parse_file_patch(path: str, status: str, patch: str | None, previous_filename: str | None = None) -> tuple[FileChange, list[str]]:
    """Build a FileChange from one REST ``files[]`` entry (``patch`` holds hunks only)."""
    normalized_status = {"added": "added", "removed": "removed", "renamed": "renamed", "copied": "copied"}.get(
        status, "modified"
    )
    change = FileChange(path=path, old_path=previous_filename, status=normalized_status)
    errors: list[str] = []
    if patch is None:
        change.patch_missing = True
        return change, errors
    lines = patch.split("\n")
    if patch.endswith("\n"):
        lines.pop()
    index = 0
    while index < len(lines):
        if lines[index].startswith("@@"):
            index = _consume_hunks(lines, index, change, errors)
        else:
            if lines[index].strip():
                errors.append(f"{path}: unexpected line in patch: {lines[index][:60]!r}")
            index += 1
    return change, errors
