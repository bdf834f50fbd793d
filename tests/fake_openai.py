"""A fake OpenAI-compatible chat server (aiohttp, real HTTP on loopback) for the tier-3 client."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

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
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        body["_auth"] = request.headers.get("Authorization", "")
        received.append(body)
        status, text = responder(body)
        return web.Response(status=status, text=text, content_type="application/json")

    def run() -> None:
        loop = asyncio.new_event_loop()
        state["loop"] = loop
        app = web.Application()
        app.router.add_post("/v1/chat/completions", chat)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        state["port"] = runner.addresses[0][1]
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "fake server did not start"
    try:
        yield f"http://127.0.0.1:{state['port']}/v1", received
    finally:
        state["loop"].call_soon_threadsafe(state["loop"].stop)
        thread.join(10)
