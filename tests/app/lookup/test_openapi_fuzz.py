"""Schemathesis over ``/openapi.json``: every documented operation, with generated inputs, against
the real server (loopback, in a thread of this process) — no answer may be a 5xx, except the
documented 504 of a ``mode=full`` lookup whose deep scan cannot finish (no workers run here).

Deep scans are not run (no workers: nothing leaves the machine), and the webhook URL check's DNS
lookup is replaced by a local answer so generated hostnames never reach a resolver."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from app.db import make_engine
from app.lookup import outbound
from app.lookup.openapi import build_document
from app.migrate import upgrade
from app.server import create_app
from app.settings import Settings
from tests.loopback import serve_in_thread


@schemathesis.serializer("message/rfc822")
def _raw_message(ctx, value) -> bytes:
    # The schema says "a string": generated strings are sent as the message's raw bytes.
    return value.encode("utf-8", errors="surrogatepass") if isinstance(value, str) else bytes(str(value), "utf-8")


@pytest.fixture(scope="module")
def base_url():
    async def offline_dns(host: str) -> bool:
        return host.endswith(".example")  # generated names never go to a real resolver

    patcher = pytest.MonkeyPatch()
    patcher.setattr(outbound, "host_is_public", offline_dns)
    directory = Path(tempfile.mkdtemp(prefix="watchpost-fuzz-"))
    engine = make_engine(f"sqlite:///{directory / 'watchpost.db'}")
    upgrade(engine)
    # No workers run here, so mode=full always waits its whole bound: keep that far below the
    # client's timeout, or a loaded machine turns the documented 504 into a client timeout.
    config = Settings(data_dir=directory, rate_limit="1000000/minute", lookup_wait_seconds=2, npm_registry_url="https://npm.registry.test",
                      pypi_url="https://pypi.registry.test", crates_url="https://crates.registry.test")
    with serve_in_thread(lambda: create_app(config, engine)) as url:
        yield url
    patcher.undo()
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(base_url: str):
    schema = schemathesis.openapi.from_dict(build_document())
    schema.config.update(base_url=base_url)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_documented_operation_answers_5xx(case) -> None:
    response = case.call(timeout=30)
    if response.status_code == 504 and (case.query or {}).get("mode") == "full":
        # Documented: mode=full waits a bounded time for a deep scan, and none runs here.
        assert "deep scan did not finish" in response.json()["error"]
        return
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    case.validate_response(response, checks=(not_a_server_error,))
