from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import gidgethub
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.github.app_auth import GitHubApp
from app.github.auth import InstallationToken, InstallationTokenCache, make_app_jwt
from app.github.client import API_VERSION, RateLimitedError
from tests.conftest import requires_corpus
from tests.fake_github import FakeGitHub, serve_fake_github

pytestmark = requires_corpus


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def run_with_app(fake: FakeGitHub, private: str, scenario):
    async def go():
        with serve_fake_github(fake) as url:
            async with aiohttp.ClientSession() as session:
                app = GitHubApp(session, app_id=fake.app_id, private_key=private, api_url=url)
                return await scenario(app)

    return asyncio.run(go())


def test_app_jwt_claims(keys) -> None:
    private, public = keys
    now = time.time()
    claims = jwt.decode(make_app_jwt(77, private, now=now), public, algorithms=["RS256"])
    assert claims["iss"] == "77"
    assert claims["iat"] == int(now) - 60
    assert claims["exp"] - int(now) == 540 and claims["exp"] - claims["iat"] <= 600


def test_installation_token_is_cached_and_refreshed_before_expiry(keys) -> None:
    private, public = keys
    fake = FakeGitHub(public_key=public)
    fake.add_pull_request("o/r", 1)

    async def scenario(app):
        for _ in range(3):
            client = await app.installation_client(9)
            await client.getitem("/repos/o/r/pulls/1")
        return fake.tokens_minted

    assert run_with_app(fake, private, scenario) == 1
    short = FakeGitHub(public_key=public, token_lifetime=timedelta(minutes=4))  # inside the refresh margin
    short.add_pull_request("o/r", 1)

    async def twice(app):
        await app.installation_client(9)
        await app.installation_client(9)
        return short.tokens_minted

    assert run_with_app(short, private, twice) == 2


def test_concurrent_callers_share_one_mint() -> None:
    minted = []

    async def mint(installation_id: int) -> InstallationToken:
        minted.append(installation_id)
        await asyncio.sleep(0.05)
        return InstallationToken("t", datetime.now(UTC) + timedelta(hours=1))

    async def go():
        cache = InstallationTokenCache(mint)
        return await asyncio.gather(*(cache.get(5) for _ in range(10)))

    assert asyncio.run(go()) == ["t"] * 10 and minted == [5]


def test_api_version_pinned_and_token_sent(keys) -> None:
    private, public = keys
    fake = FakeGitHub(public_key=public)
    fake.add_pull_request("o/r", 1)

    async def scenario(app):
        client = await app.installation_client(3)
        await client.getitem("/repos/o/r/pulls/1")

    run_with_app(fake, private, scenario)
    assert all(r.headers.get("x-github-api-version") == API_VERSION for r in fake.requests)
    pull_request = fake.requests_to("GET", "/repos/o/r/pulls/1")[0]
    assert pull_request.headers["authorization"].startswith("token ghs_fake")


def test_retries_5xx_then_succeeds(keys) -> None:
    private, public = keys
    fake = FakeGitHub(public_key=public)
    fake.add_pull_request("o/r", 1)
    fake.fail_next("/repos/o/r/pulls/1", 502)
    fake.fail_next("/repos/o/r/pulls/1", 503)

    async def scenario(app):
        client = await app.installation_client(3)
        waits = []

        async def fake_sleep(seconds):
            waits.append(seconds)

        client.sleep = fake_sleep
        return await client.getitem("/repos/o/r/pulls/1"), waits

    pull, waits = run_with_app(fake, private, scenario)
    assert pull["number"] == 1 and waits == [0.5, 1.0]


def test_persistent_5xx_raises(keys) -> None:
    private, public = keys
    fake = FakeGitHub(public_key=public)
    fake.add_pull_request("o/r", 1)
    for _ in range(4):
        fake.fail_next("/repos/o/r/pulls/1", 500)

    async def scenario(app):
        client = await app.installation_client(3)

        async def no_sleep(seconds):
            return None

        client.sleep = no_sleep
        with pytest.raises(gidgethub.GitHubException):
            await client.getitem("/repos/o/r/pulls/1")

    run_with_app(fake, private, scenario)


def test_secondary_rate_limit_is_waited_out_or_raised(keys) -> None:
    private, public = keys
    fake = FakeGitHub(public_key=public)
    fake.add_pull_request("o/r", 1)
    fake.fail_next("/repos/o/r/pulls/1", 403, {"retry-after": "2"})

    async def scenario(app):
        client = await app.installation_client(3)
        waits = []

        async def fake_sleep(seconds):
            waits.append(seconds)

        client.sleep = fake_sleep
        pull = await client.getitem("/repos/o/r/pulls/1")
        fake.fail_next("/repos/o/r/pulls/2", 429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3600)})
        with pytest.raises(RateLimitedError):
            await client.getitem("/repos/o/r/pulls/2")
        return pull, waits

    fake.add_pull_request("o/r", 2)
    pull, waits = run_with_app(fake, private, scenario)
    assert pull["number"] == 1 and waits == [2.0]


def test_etag_cache_and_diffs_bypass_it(keys) -> None:
    private, public = keys
    fake = FakeGitHub(public_key=public)
    fake.add_pull_request("o/r", 1, diff="diff --git a/x b/x\n")

    async def scenario(app):
        client = await app.installation_client(3)
        first = await client.getitem("/repos/o/r/pulls/1")
        second = await client.getitem("/repos/o/r/pulls/1")
        for _ in range(2):
            status, _, body = await client.get_raw("/repos/o/r/pulls/1", "application/vnd.github.diff")
        return first, second, status, body

    first, second, status, body = run_with_app(fake, private, scenario)
    assert first == second
    gets = fake.requests_to("GET", "/repos/o/r/pulls/1")
    json_gets = [r for r in gets if "diff" not in r.headers.get("accept", "")]
    diff_gets = [r for r in gets if "diff" in r.headers.get("accept", "")]
    assert "if-none-match" not in json_gets[0].headers and "if-none-match" in json_gets[1].headers
    assert status == 200 and body.startswith(b"diff --git") and all("if-none-match" not in r.headers for r in diff_gets)


def test_pagination_follows_link_headers(keys) -> None:
    private, public = keys
    fake = FakeGitHub(public_key=public)
    fake.add_pull_request("o/r", 1, files=[{"filename": f"f{i}.py", "status": "added", "patch": "@@ -0,0 +1 @@\n+x"} for i in range(70)])

    async def scenario(app):
        client = await app.installation_client(3)
        return [item async for item in client.getiter("/repos/o/r/pulls/1/files?per_page=30")]

    files = run_with_app(fake, private, scenario)
    assert [f["filename"] for f in files] == [f"f{i}.py" for i in range(70)]
    assert len(fake.requests_to("GET", "/repos/o/r/pulls/1/files")) == 3


def test_bad_jwt_is_refused_by_github(keys) -> None:
    _private, public = keys
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    fake = FakeGitHub(public_key=public)

    async def scenario(app):
        with pytest.raises(gidgethub.GitHubException):
            await app.installation_client(3)

    run_with_app(fake, wrong, scenario)
