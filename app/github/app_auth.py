"""One place that turns settings into authenticated GitHub clients: the App itself (JWT) and each
installation (cached installation token, its own ETag cache)."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import cachetools

from app.github.auth import InstallationToken, InstallationTokenCache, make_app_jwt, parse_expiry
from app.github.client import GitHubClient, new_etag_cache


class GitHubApp:
    def __init__(self, session: aiohttp.ClientSession, *, app_id: int, private_key: str, api_url: str) -> None:
        self.session = session
        self.app_id = app_id
        self.private_key = private_key
        self.api_url = api_url.rstrip("/")
        self.tokens = InstallationTokenCache(self._mint)
        self._etag_caches: cachetools.LRUCache = cachetools.LRUCache(maxsize=1000)

    def app_client(self) -> GitHubClient:
        return GitHubClient(self.session, jwt=make_app_jwt(self.app_id, self.private_key), base_url=self.api_url)

    async def _mint(self, installation_id: int) -> InstallationToken:
        answer = await self.app_client().post(f"/app/installations/{installation_id}/access_tokens", data={})
        expires = parse_expiry(answer["expires_at"]) if answer.get("expires_at") else datetime.now(UTC)
        return InstallationToken(token=answer["token"], expires_at=expires)

    async def installation_client(self, installation_id: int) -> GitHubClient:
        token = await self.tokens.get(installation_id)
        cache = self._etag_caches.get(installation_id)
        if cache is None:
            cache = new_etag_cache()
            self._etag_caches[installation_id] = cache
        return GitHubClient(self.session, oauth_token=token, base_url=self.api_url, cache=cache)


def token_client(session: aiohttp.ClientSession, token: str, api_url: str) -> GitHubClient:
    """A client for a plain token (WATCHPOST_GITHUB_TOKEN, or the Action's GITHUB_TOKEN)."""
    return GitHubClient(session, oauth_token=token, base_url=api_url, cache=new_etag_cache())
