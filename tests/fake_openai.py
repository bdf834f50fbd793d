"""A fake OpenAI-compatible chat server (aiohttp, real HTTP on loopback) for the tier-3 client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from tests.loopback import serve_in_thread

Responder = Callable[[dict[str, Any]], tuple[int, str]]


def completion(content: str, model: str = "fake-model") -> str:
    return json.dumps({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_700_000_000, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    })


@contextmanager
def fake_openai_server(responder: Responder) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Yield (base_url, received request bodies) while a server answers with ``responder``."""
    received: list[dict[str, Any]] = []

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        body["_auth"] = request.headers.get("Authorization", "")
        received.append(body)
        status, text = responder(body)
        return web.Response(status=status, text=text, content_type="application/json")

    def make_app() -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", chat)
        return app

    with serve_in_thread(make_app) as url:
        yield f"{url}/v1", received
