"""The installation store, from the real ``installation`` / ``installation_repositories`` payloads
through the intake and the worker's handler, reconciled against the fake GitHub; scans of a
suspended or deleted installation are skipped."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import Session, select

from app.installations import (
    apply_installation_event,
    installation_counts,
    installation_job_payload,
    installation_state,
)
from app.jobs import JobQueue
from app.runtime import GitHubAccess, make_installation_handler
from app.scan_job import ScanJobContext, make_scan_handler
from app.settings import Settings
from app.tables import Installation, InstallationRepository, Job
from app.webhook_routes import ROUTER, RoutingContext
from app.worker import Worker
from tests.app.workers import run_until_drained
from tests.conftest import CORPUS, requires_corpus
from tests.fake_github import FakeGitHub, serve_fake_github

pytestmark = requires_corpus
INSTALLATION = 957387  # the id in the corpus payloads


def payload(name: str) -> dict[str, Any]:
    return json.loads((CORPUS / "webhooks" / f"{name}.json").read_text(encoding="utf-8"))


def job_payload(event: str, name: str, delivery: str = "d", **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(payload(name))
    data.update(changes)
    data["installation"]["id"] = INSTALLATION  # the corpus files come from different installations
    return installation_job_payload(event, data, delivery)


def repositories(engine, installation_id: int = INSTALLATION) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(InstallationRepository.full_name).where(InstallationRepository.installation_id == installation_id)).all())


def test_routing_extracts_what_the_worker_needs() -> None:
    from gidgethub import sansio

    context = RoutingContext(delivery_id="d-inst")
    asyncio.run(ROUTER.dispatch(sansio.Event(payload("installation_repositories/added"), event="installation_repositories", delivery_id="d-inst"), context))
    (job,) = context.jobs
    assert job.kind == "sync_installation" and job.concurrency_key == f"installation:{INSTALLATION}"
    assert job.payload["repositories_added"] == [{"full_name": "Codertocat/Space", "id": 186853007}]
    assert job.payload["account_login"] == "Codertocat" and "sender" not in job.payload


def test_lifecycle_created_added_removed_suspend_unsuspend_deleted(engine) -> None:
    assert installation_state(engine, INSTALLATION).known is False
    apply_installation_event(engine, job_payload("installation", "installation/created"))
    row_state = installation_state(engine, INSTALLATION)
    assert row_state.known and row_state.active
    assert repositories(engine) == ["Codertocat/Hello-World"]

    apply_installation_event(engine, job_payload("installation_repositories", "installation_repositories/added"))
    assert repositories(engine) == ["Codertocat/Hello-World", "Codertocat/Space"]
    apply_installation_event(engine, job_payload("installation_repositories", "installation_repositories/added"))  # replayed: no duplicate
    assert repositories(engine) == ["Codertocat/Hello-World", "Codertocat/Space"]
    apply_installation_event(engine, job_payload("installation_repositories", "installation_repositories/removed"))
    removed = {r["full_name"] for r in payload("installation_repositories/removed")["repositories_removed"]}
    assert set(repositories(engine)) == {"Codertocat/Hello-World", "Codertocat/Space"} - removed

    apply_installation_event(engine, job_payload("installation", "installation/suspend"))
    assert installation_state(engine, INSTALLATION).suspended
    assert installation_counts(engine) == {"active": 0, "suspended": 1, "deleted": 0}
    apply_installation_event(engine, job_payload("installation", "installation/suspend", action="unsuspend"))
    assert installation_state(engine, INSTALLATION).active

    apply_installation_event(engine, job_payload("installation", "installation/deleted"))
    state = installation_state(engine, INSTALLATION)
    assert state.deleted and not state.active and repositories(engine) == []
    # A late event for a deleted installation changes nothing.
    assert apply_installation_event(engine, job_payload("installation_repositories", "installation_repositories/added")).startswith("ignored")
    assert repositories(engine) == []


def test_event_without_installation_id_is_refused(engine) -> None:
    with pytest.raises(ValueError, match="installation id"):
        apply_installation_event(engine, {"event": "installation", "action": "created", "installation_id": None})


@pytest.fixture(scope="module")
def app_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def run_worker(engine, fake: FakeGitHub, settings_for, jobs: list[tuple[str, dict[str, Any]]], tmp_path: Path) -> None:
    queue = JobQueue(engine)
    with Session(engine) as session:
        for kind, job in jobs:
            queue.enqueue(session, kind, job)
        session.commit()

    async def go() -> None:
        with serve_fake_github(fake) as url:
            async with aiohttp.ClientSession() as http:
                access = GitHubAccess.from_settings(settings_for(url), http)
                context = ScanJobContext(engine=engine, executor=None, data_dir=tmp_path, client_for=access.client_for, bot_login=access.bot_login)
                worker = Worker(
                    queue, {"sync_installation": make_installation_handler(engine, access), "scan_pr": make_scan_handler(context)},
                    concurrency=1, poll_interval=0.02, lease=timedelta(seconds=30),
                )
                await run_until_drained(worker, engine, polls=300, interval=0.03)

    asyncio.run(go())


def test_created_is_reconciled_with_every_page_of_installation_repositories(engine, tmp_path: Path, app_key) -> None:
    private, public = app_key
    fake = FakeGitHub(public_key=public)
    fake.installation_repositories[INSTALLATION] = [f"Codertocat/repo-{i:03d}" for i in range(250)]
    settings = lambda url: Settings(github_app_id=str(fake.app_id), github_private_key=private, github_api_url=url, data_dir=tmp_path,  # noqa: E731
                                    github_webhook_secret="s")
    run_worker(engine, fake, settings, [("sync_installation", job_payload("installation", "installation/created"))], tmp_path)
    with Session(engine) as session:
        assert [job.status for job in session.exec(select(Job)).all()] == ["succeeded"]
        assert session.get(Installation, INSTALLATION).account_login == "Codertocat"
    # The payload's Hello-World is gone: GitHub's own list is the truth, read across three pages.
    assert repositories(engine) == [f"Codertocat/repo-{i:03d}" for i in range(250)]
    assert len(fake.requests_to("GET", "/installation/repositories")) == 3


def test_scan_of_a_suspended_installation_is_skipped(engine, tmp_path: Path) -> None:
    apply_installation_event(engine, job_payload("installation", "installation/created"))
    apply_installation_event(engine, job_payload("installation", "installation/suspend"))
    fake = FakeGitHub()
    fake.add_pull_request("Codertocat/Hello-World", 2, head_sha="b" * 40)
    scan = {"repository": "Codertocat/Hello-World", "number": 2, "head_sha": "b" * 40, "installation_id": INSTALLATION}
    settings = lambda url: Settings(github_token="ghp_test", github_api_url=url, data_dir=tmp_path)  # noqa: E731
    run_worker(engine, fake, settings, [("scan_pr", scan)], tmp_path)
    with Session(engine) as session:
        assert [job.status for job in session.exec(select(Job)).all()] == ["succeeded"]
    assert fake.check_runs == {} and fake.requests == []  # GitHub was never called


def test_metrics_report_installations_by_state(engine) -> None:
    from app.metrics import QueueDepthCollector

    apply_installation_event(engine, job_payload("installation", "installation/created"))
    apply_installation_event(engine, job_payload("installation", "installation/suspend"))
    families = {family.name: family for family in QueueDepthCollector(engine).collect()}
    samples = {sample.labels["state"]: sample.value for sample in families["watchpost_installations"].samples}
    assert samples == {"active": 0, "suspended": 1, "deleted": 0}
