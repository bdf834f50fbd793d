"""In-memory reading of a GitHub repository tarball (``GET /repos/{o}/{r}/tarball/{ref}``).

GitHub serves a gzip tar whose members all live under one ``owner-repo-sha/`` directory and whose
pax global header carries the commit id. Nothing is written to disk and nothing is followed:
symlinks and hard links are recorded with their targets, member names that climb out of the
archive (``..``, absolute paths) are recorded as unsafe and dropped.

Every limit below is a module constant. Hitting one never raises and never passes silently: the
result says what was skipped, and ``complete`` is False when the archive itself could not be read
to the end (truncated, corrupt, over the decompression cap, too many members).
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import zlib

from pydantic import BaseModel, Field

# Compressed input accepted at all; a bigger download is refused by the caller, never read here.
MAX_ARCHIVE_BYTES = 128 * 1024 * 1024
# Decompressed bytes streamed through the tar reader (content we skip still has to be inflated):
# the guard against decompression bombs.
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
# Content kept in memory, summed over files.
MAX_TOTAL_BYTES = 64 * 1024 * 1024
# Files kept, and archive members looked at (directories and links included).
MAX_FILES = 20_000
MAX_MEMBERS = 200_000
# A single kept file; bigger ones are listed in ``oversized`` (data dumps, bundles, media).
MAX_FILE_BYTES = 1024 * 1024
# Files kept from vendored trees (node_modules, vendor, …): some are worth a look, thousands are not.
MAX_VENDORED_FILES = 200
# How much of a file decides "binary" (a NUL byte), as git does.
BINARY_SNIFF_BYTES = 8192
# Each note list is cut at this length (the counts stay exact).
MAX_NOTES = 500

VENDORED_DIRS = ("node_modules", "vendor", "third_party", "third-party", "bower_components", ".yarn", "site-packages")
ALWAYS_SKIPPED_DIRS = (".git", ".hg", ".svn")


class ArchiveNotes(BaseModel):
    """What the reader saw besides the kept files: the reasons behind an incomplete picture."""

    complete: bool = True
    top_level: str | None = None
    commit: str | None = None  # from the pax global header GitHub writes
    symlinks: dict[str, str] = Field(default_factory=dict)  # path -> link target (never followed)
    binaries: list[str] = Field(default_factory=list)
    binary_count: int = 0
    oversized: list[str] = Field(default_factory=list)
    oversized_count: int = 0
    vendored_skipped: int = 0
    unsafe_paths: list[str] = Field(default_factory=list)
    budget_skipped: int = 0  # files dropped because MAX_FILES / MAX_TOTAL_BYTES was reached
    errors: list[str] = Field(default_factory=list)

    def gaps(self) -> list[str]:
        """Human-readable evidence gaps for a findings object."""
        gaps = list(self.errors)
        if self.oversized_count:
            gaps.append(f"{self.oversized_count} file(s) larger than {MAX_FILE_BYTES // 1024} KB not inspected")
        if self.budget_skipped:
            gaps.append(f"{self.budget_skipped} file(s) not kept: archive over the {MAX_FILES} files / "
                        f"{MAX_TOTAL_BYTES // (1024 * 1024)} MB budget")
        if self.vendored_skipped:
            gaps.append(f"{self.vendored_skipped} vendored file(s) not inspected")
        if self.unsafe_paths:
            gaps.append(f"{len(self.unsafe_paths)} archive member(s) with unsafe paths dropped")
        return gaps


class RepoFiles(ArchiveNotes):
    """The files of one tarball, keyed by their path inside the repository."""

    files: dict[str, bytes] = Field(default_factory=dict)
    total_bytes: int = 0


class _ArchiveTooLarge(Exception):
    pass


class _BoundedReader(io.RawIOBase):
    """A read-only stream over ``data`` (gunzipped on the fly when gzip) that stops at a cap."""

    def __init__(self, data: bytes, limit: int) -> None:
        self._data = memoryview(data)
        self._position = 0
        self._limit = limit
        self._produced = 0
        self._inflater = zlib.decompressobj(wbits=31) if data[:2] == b"\x1f\x8b" else None
        self._pending = b""
        self._offset = 0
        self.truncated = False

    def readable(self) -> bool:
        return True

    def _next_chunk(self, size: int) -> bytes:
        if self._inflater is None:
            chunk = bytes(self._data[self._position : self._position + size])
            self._position += len(chunk)
            return chunk
        while self._offset >= len(self._pending):
            if self._inflater.eof:
                return b""
            source = self._inflater.unconsumed_tail
            if not source:
                if self._position >= len(self._data):
                    self.truncated = True  # the gzip stream ended before its end marker
                    return b""
                source = bytes(self._data[self._position : self._position + 65536])
                self._position += len(source)
            # Bounded inflate: a tiny input cannot expand into one giant buffer.
            self._pending = self._inflater.decompress(source, 1 << 20)
            self._offset = 0
        # An offset instead of re-slicing the buffer keeps many small reads linear.
        chunk = self._pending[self._offset : self._offset + size]
        self._offset += len(chunk)
        return chunk

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 20
        chunk = self._next_chunk(size)
        self._produced += len(chunk)
        if self._produced > self._limit:
            raise _ArchiveTooLarge
        return chunk


def _clean_path(name: str) -> tuple[str | None, str | None]:
    """(path inside the repository, top-level directory) or (None, reason) when unsafe/ignorable."""
    name = name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None, "absolute"
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        return None, "traversal"
    if len(parts) < 2:
        return None, None  # the top-level directory itself
    return "/".join(parts[1:]), parts[0]


def _is_vendored(path: str) -> bool:
    return any(segment in VENDORED_DIRS for segment in path.split("/")[:-1])


def _note(items: list[str], value: str) -> None:
    if len(items) < MAX_NOTES:
        items.append(value)


def read_tarball(data: bytes) -> RepoFiles:
    """Read a (gzip) tar archive from bytes. Never raises: a corrupt or truncated archive gives the
    files read so far and ``complete=False`` with the reason in ``errors``."""
    result = RepoFiles()
    if not isinstance(data, bytes | bytearray) or not data:
        result.complete = False
        result.errors.append("archive is empty")
        return result
    if len(data) > MAX_ARCHIVE_BYTES:
        result.complete = False
        result.errors.append(f"archive larger than {MAX_ARCHIVE_BYTES // (1024 * 1024)} MB: not read")
        return result
    reader = _BoundedReader(bytes(data), MAX_UNCOMPRESSED_BYTES)
    vendored_kept = 0
    members = 0
    try:
        with tarfile.open(fileobj=reader, mode="r|") as archive:
            for member in archive:
                members += 1
                if members == 1:
                    comment = archive.pax_headers.get("comment") if archive.pax_headers else None
                    if isinstance(comment, str) and len(comment) == 40:
                        result.commit = comment
                if members > MAX_MEMBERS:
                    result.complete = False
                    result.errors.append(f"archive has more than {MAX_MEMBERS} members: the rest was not read")
                    break
                path, top = _clean_path(member.name)
                if path is None:
                    if top is not None:
                        _note(result.unsafe_paths, member.name[:200])
                    continue
                if result.top_level is None:
                    result.top_level = top
                elif top != result.top_level:
                    _note(result.unsafe_paths, member.name[:200])
                    continue
                if member.isdir():
                    continue
                if path.split("/", 1)[0] in ALWAYS_SKIPPED_DIRS:
                    continue
                if member.issym() or member.islnk():
                    if len(result.symlinks) < MAX_NOTES:
                        result.symlinks[path] = member.linkname[:500]
                    continue
                if not member.isfile():
                    continue  # devices, fifos: nothing to read
                if member.size > MAX_FILE_BYTES:
                    result.oversized_count += 1
                    _note(result.oversized, path)
                    continue
                if _is_vendored(path):
                    if vendored_kept >= MAX_VENDORED_FILES:
                        result.vendored_skipped += 1
                        continue
                    vendored_kept += 1
                if len(result.files) >= MAX_FILES or result.total_bytes + member.size > MAX_TOTAL_BYTES:
                    result.budget_skipped += 1
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                content = handle.read(MAX_FILE_BYTES + 1)
                if len(content) != member.size:
                    result.complete = False
                    result.errors.append(f"{path}: cut short ({len(content)} of {member.size} bytes)")
                    break
                if b"\x00" in content[:BINARY_SNIFF_BYTES]:
                    result.binary_count += 1
                    _note(result.binaries, path)
                    continue
                result.files[path] = content
                result.total_bytes += len(content)
    except _ArchiveTooLarge:
        result.complete = False
        result.errors.append(f"archive inflates beyond {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB: the rest was not read")
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as exc:
        result.complete = False
        result.errors.append(f"archive unreadable after {len(result.files)} file(s): {type(exc).__name__}: {str(exc)[:120]}")
    if reader.truncated and result.complete:
        result.complete = False
        result.errors.append("archive is truncated (compressed stream ended early)")
    if members == 0 and result.complete:
        result.complete = False
        result.errors.append("archive holds no members")
    return result


def normalise_subpath(subpath: str | None) -> str:
    """``a/b/`` → ``a/b``; ``.``/``/``/None → ``""`` (the repository root)."""
    if not subpath:
        return ""
    cleaned = posixpath.normpath("/" + subpath.strip().replace("\\", "/")).lstrip("/")
    return "" if cleaned in ("", ".") else cleaned


__all__ = [
    "MAX_ARCHIVE_BYTES", "MAX_FILES", "MAX_FILE_BYTES", "MAX_TOTAL_BYTES", "MAX_UNCOMPRESSED_BYTES",
    "ArchiveNotes", "RepoFiles", "normalise_subpath", "read_tarball",
]
