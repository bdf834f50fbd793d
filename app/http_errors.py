"""JSON error answers ``{"error": "…"}`` used by every endpoint, and a middleware that turns
aiohttp's own HTTP exceptions (404, 405, 413 …) and unexpected failures into the same shape."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("watchpost.http")


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def json_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = {404: "not found", 405: "method not allowed", 413: "request body too large"}.get(exc.status, exc.reason)
        return json_error(exc.status, message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal error")
