"""GitHub App authentication: the App's JWT and per-installation access tokens.

The JWT's ``iat`` is set 60 s in the past (clock drift between us and GitHub) and it lives 9
minutes (GitHub's limit is 10). Installation tokens are cached per installation and refreshed
5 minutes before they expire; one lock per installation keeps concurrent jobs from minting
tokens in a burst.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

JWT_BACKDATE_SECONDS = 60
JWT_LIFETIME_SECONDS = 9 * 60
TOKEN_REFRESH_MARGIN_SECONDS = 5 * 60


def make_app_jwt(app_id: int | str, private_key: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"iat": issued - JWT_BACKDATE_SECONDS, "exp": issued + JWT_LIFETIME_SECONDS, "iss": str(app_id)}
    return jwt.encode(claims, private_key, algorithm="RS256")


@dataclass(slots=True)
class InstallationToken:
    token: str
    expires_at: datetime

    def fresh(self, now: datetime) -> bool:
        return (self.expires_at - now).total_seconds() > TOKEN_REFRESH_MARGIN_SECONDS


TokenMinter = Callable[[int], Awaitable[InstallationToken]]


class InstallationTokenCache:
    def __init__(self, mint: TokenMinter, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._mint = mint
        self._clock = clock
        self._tokens: dict[int, InstallationToken] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def get(self, installation_id: int) -> str:
        cached = self._tokens.get(installation_id)
        if cached is not None and cached.fresh(self._clock()):
            return cached.token
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached is not None and cached.fresh(self._clock()):
                return cached.token
            token = await self._mint(installation_id)
            self._tokens[installation_id] = token
            return token.token

    def forget(self, installation_id: int) -> None:
        """Drop a token GitHub refused (revoked, installation suspended)."""
        self._tokens.pop(installation_id, None)


def parse_expiry(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
