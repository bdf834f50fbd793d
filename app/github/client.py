"""A gidgethub client that behaves well towards GitHub.

- ``X-GitHub-Api-Version`` is pinned on every request.
- 5xx answers and network timeouts are retried with exponential backoff.
- Secondary rate limits (403/429 with ``retry-after``, or an exhausted ``x-ratelimit-remaining``
  with a reset time) are waited out when the wait is short, and raised otherwise.
- One ETag cache per installation (gidgethub's ``cache``) for JSON GETs; diffs are fetched with
  ``get_raw`` and never cached.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import cachetools
from gidgethub import aiohttp as gh_aiohttp

API_VERSION = "2022-11-28"
REQUESTER = "watchpost"
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
MAX_RATE_LIMIT_WAIT_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 30.0


class RateLimitedError(RuntimeError):
    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"GitHub rate limit: retry in {wait_seconds:.0f} s")
        self.wait_seconds = wait_seconds


def _secondary_limit_wait(status: int, headers: Mapping[str, str], body: bytes, now: float) -> float | None:
    """Seconds to wait if this answer is a rate limit, else None."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return BACKOFF_SECONDS
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
        try:
            return max(0.0, float(headers["x-ratelimit-reset"]) - now)
        except ValueError:
            return None
    if status == 429 or b"secondary rate limit" in body.lower():
        return 60.0
    return None


class GitHubClient(gh_aiohttp.GitHubAPI):
    def __init__(self, session: aiohttp.ClientSession, *, oauth_token: str | None = None, jwt: str | None = None, base_url: str, cache: Any = None) -> None:
        super().__init__(session, REQUESTER, oauth_token=oauth_token, cache=cache, base_url=base_url.rstrip("/"))
        self._jwt = jwt
        self.sleep = asyncio.sleep  # replaced in tests to observe waits without waiting

    async def _request(self, method: str, url: str, headers: Mapping[str, str], body: bytes = b"") -> tuple[int, Mapping[str, str], bytes]:
        sent = dict(headers)
        sent["x-github-api-version"] = API_VERSION
        if self._jwt is not None and "authorization" not in {k.lower() for k in sent}:
            sent["authorization"] = f"Bearer {self._jwt}"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self._session.request(method, url, headers=sent, data=body, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)) as response:
                    status, answer_headers, answer = response.status, response.headers, await response.read()
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError):
                if attempt == MAX_ATTEMPTS:
                    raise
                await self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                continue
            wait = _secondary_limit_wait(status, answer_headers, answer, time.time())
            if wait is not None:
                if wait > MAX_RATE_LIMIT_WAIT_SECONDS or attempt == MAX_ATTEMPTS:
                    raise RateLimitedError(wait)
                await self.sleep(wait)
                continue
            if status >= 500 and attempt < MAX_ATTEMPTS:
                await self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                continue
            return status, answer_headers, answer
        raise AssertionError("unreachable")

    async def get_raw(self, url: str, accept: str) -> tuple[int, Mapping[str, str], bytes]:
        """A GET outside the JSON/ETag machinery (diffs), returning status, headers and bytes."""
        from gidgethub import sansio

        headers = sansio.create_headers(self.requester, accept=accept, oauth_token=self.oauth_token)
        return await self._request("GET", sansio.format_url(url, {}, base_url=self.base_url), headers)


class DownloadTooLarge(RuntimeError):
    pass


async def download(client: GitHubClient, url: str, limit: int, accept: str = "application/vnd.github+json") -> tuple[int, bytes]:
    """A streamed GET (repository tarballs): redirects followed — aiohttp drops the Authorization
    header when one leaves the API host — and the body read only up to ``limit`` bytes."""
    from gidgethub import sansio

    headers = sansio.create_headers(client.requester, accept=accept, oauth_token=client.oauth_token)
    headers["x-github-api-version"] = API_VERSION
    async with client._session.get(sansio.format_url(url, {}, base_url=client.base_url), headers=headers,
                                   timeout=aiohttp.ClientTimeout(total=300)) as response:
        if response.status >= 400:
            return response.status, b""
        if response.content_length is not None and response.content_length > limit:
            raise DownloadTooLarge(f"{response.content_length} bytes is over the {limit}-byte limit")
        body = bytearray()
        async for chunk in response.content.iter_chunked(256 * 1024):
            body += chunk
            if len(body) > limit:
                raise DownloadTooLarge(f"over the {limit}-byte limit")
        return response.status, bytes(body)


def new_etag_cache() -> cachetools.LRUCache:
    return cachetools.LRUCache(maxsize=500)


def decode_json(body: bytes) -> Any:
    return json.loads(body.decode("utf-8")) if body else None
