"""Reading a body in full, within a limit. ``StreamReader.read(n)`` returns whatever has arrived
(up to ``n`` bytes), not ``n`` bytes: a body that comes in several network segments must be read
until its end."""

from __future__ import annotations

from typing import Any

CHUNK = 256 * 1024


async def read_body(stream: Any, limit: int) -> tuple[bytes, bool]:
    """The whole body and False, or the first ``limit + 1`` bytes and True when it is larger."""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = await stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(parts), False
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(parts), True
