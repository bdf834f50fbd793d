"""A minimal keep-alive HTTP/1.1 client for the load benchmarks: the load generator shares the
machine's cores with the server, so it must cost far less per request than a full client library
(aiohttp's client alone held the measured rates to a third of the server's)."""

from __future__ import annotations

import asyncio


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._maybe_done()

    def _maybe_done(self) -> None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None or self.waiter.done():
            return
        head = bytes(self.buffer[:end]).lower()
        marker = head.find(b"content-length:")
        line_end = head.find(b"\r\n", marker)
        length = int(head[marker + 15 : line_end if line_end > 0 else None]) if marker >= 0 else 0
        if len(self.buffer) >= end + 4 + length:
            status = int(head[9:12])
            del self.buffer[: end + 4 + length]
            self.waiter.set_result(status)

    async def send(self, request: bytes) -> int:
        """Send one complete request (head and body) and wait for its status."""
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(request)
        return await self.waiter

    get = send

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect(host: str, port: int) -> Connection:
    _, protocol = await asyncio.get_running_loop().create_connection(Connection, host, port)
    return protocol
