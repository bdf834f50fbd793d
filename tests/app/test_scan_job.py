"""A queued scan job → fake GitHub: check run in progress then completed with annotations, one
sticky comment created, updated, then resolved; failures leave a neutral check run."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlmodel import Session, select

from app.github.app_auth import token_client
from app.jobs import JobQueue
from app.publish.comment import STICKY_MARKER, parse_report_block
from app.scan_job import ScanJobContext, make_scan_handler
from app.tables import ScanResult
from app.worker import Worker
from tests.conftest import DIFFS, requires_corpus
from tests.fake_github import FakeGitHub, serve_fake_github

pytestmark = requires_corpus
REPO = "acme/widgets"


def seeded() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_pull_request(REPO, 7, author="octocat", head_sha="a" * 40, diff=(DIFFS / "shai-hulud-workflow.patch").read_text(encoding="utf-8"))
    return fake


def run_jobs(engine, fake: FakeGitHub, tmp_path: Path, jobs: list[dict], executor=None) -> JobQueue:
    queue = JobQueue(engine)
    with Session(engine) as session:
        for payload in jobs:
            queue.enqueue(session, "scan_pr", payload)
        session.commit()

    async def go() -> None:
        with serve_fake_github(fake) as url:
            async with aiohttp.ClientSession() as http:
                async def client_for(installation_id):
                    return token_client(http, "ghs_test", url)

                async def bot_login(client):
                    return "watchpost[bot]"

                context = ScanJobContext(engine=engine, executor=executor, data_dir=tmp_path, client_for=client_for, bot_login=bot_login)
                worker = Worker(queue, {"scan_pr": make_scan_handler(context)}, concurrency=1, poll_interval=0.05, lease=timedelta(seconds=30))
                stop = asyncio.Event()
                task = asyncio.create_task(worker.run(stop))
                for _ in range(600):
                    await asyncio.sleep(0.05)
                    statuses = await asyncio.to_thread(_statuses, engine)
                    if statuses and all(s in {"succeeded", "dead"} for s in statuses):
                        break
                stop.set()
                await task

    asyncio.run(go())
    return queue


def _statuses(engine) -> list[str]:
    from app.tables import Job

    with Session(engine) as session:
        return [job.status for job in session.exec(select(Job)).all()]


def test_dangerous_pr_gets_failed_check_annotations_and_comment(engine, tmp_path: Path) -> None:
    fake = seeded()
    run_jobs(engine, fake, tmp_path, [{"repository": REPO, "number": 7, "head_sha": "a" * 40, "installation_id": None}])
    assert _statuses(engine) == ["succeeded"]
    (run,) = fake.check_runs.values()
    assert run["name"] == "Watchpost" and run["head_sha"] == "a" * 40 and run["external_id"].startswith("watchpost:acme/widgets#7@")
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    annotations = [a for output in run["outputs"] for a in output["annotations"]]
    assert any(a["path"] == ".github/workflows/shai-hulud-workflow.yml" and a["annotation_level"] == "failure" for a in annotations)
    assert run["updates"][0]["actions"][0]["identifier"] == "rerun"
    (comment,) = fake.comments[f"{REPO}#7"]
    assert comment["body"].startswith(STICKY_MARKER)
    report = parse_report_block(comment["body"])
    assert report is not None and report.verdict.value == "dangerous"
    with Session(engine) as session:
        row = session.exec(select(ScanResult)).one()
    assert row.head_sha == "a" * 40 and row.verdict == "dangerous" and row.check_run_id == run["id"] and row.comment_id == comment["id"]


def test_comment_is_edited_in_place_then_resolved(engine, tmp_path: Path) -> None:
    fake = seeded()
    run_jobs(engine, fake, tmp_path, [{"repository": REPO, "number": 7, "head_sha": "a" * 40}])
    # someone else's comment with our marker must not be touched
    fake.comments[f"{REPO}#7"].insert(0, {"id": 1, "body": STICKY_MARKER + " fake", "user": {"login": "mallory", "type": "User"}})
    fake.pulls[(REPO, 7)]["head"]["sha"] = "b" * 40
    fake.diffs[(REPO, 7)] = (DIFFS / "benign-docs-readme.patch").read_text(encoding="utf-8")
    run_jobs(engine, fake, tmp_path, [{"repository": REPO, "number": 7, "head_sha": "b" * 40}])
    comments = fake.comments[f"{REPO}#7"]
    ours = [c for c in comments if c["user"]["login"] == "watchpost[bot]"]
    assert len(ours) == 1 and "resolved" in ours[0]["body"]
    assert comments[0]["body"] == STICKY_MARKER + " fake"
    assert len(fake.check_runs) == 2 and [r["conclusion"] for r in fake.check_runs.values()][-1] == "success"


def test_clean_pr_gets_success_and_no_comment(engine, tmp_path: Path) -> None:
    fake = FakeGitHub()
    fake.add_pull_request(REPO, 8, head_sha="c" * 40, diff=(DIFFS / "benign-docs-readme.patch").read_text(encoding="utf-8"))
    run_jobs(engine, fake, tmp_path, [{"repository": REPO, "number": 8, "head_sha": "c" * 40}])
    (run,) = fake.check_runs.values()
    assert run["conclusion"] == "success" and f"{REPO}#8" not in fake.comments


def test_unknown_pr_is_neutral_and_dead_lettered(engine, tmp_path: Path) -> None:
    fake = FakeGitHub()
    run_jobs(engine, fake, tmp_path, [{"repository": REPO, "number": 404, "head_sha": "d" * 40}])
    (run,) = fake.check_runs.values()
    assert run["conclusion"] == "neutral" and "could not complete" in run["outputs"][0]["title"]
    assert _statuses(engine) == ["dead"]


def test_scan_runs_in_a_process_pool(engine, tmp_path: Path) -> None:
    fake = seeded()
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        run_jobs(engine, fake, tmp_path, [{"repository": REPO, "number": 7, "head_sha": "a" * 40}], executor=pool)
    assert [r["conclusion"] for r in fake.check_runs.values()] == ["failure"]


def test_invalid_config_on_base_branch_gives_neutral_check_and_no_scan(engine, tmp_path: Path) -> None:
    fake = seeded()
    base_sha = fake.pulls[(REPO, 7)]["base"]["sha"]
    fake.contents[(REPO, ".github/watchpost.yml", base_sha)] = "tolerance: reckless\n"
    run_jobs(engine, fake, tmp_path, [{"repository": REPO, "number": 7, "head_sha": "a" * 40}])
    (run,) = fake.check_runs.values()
    assert run["conclusion"] == "neutral"
    output = run["outputs"][0]
    assert "Invalid .github/watchpost.yml" in output["title"] and "tolerance" in output["summary"]
    assert f"{REPO}#7" not in fake.comments
    with Session(engine) as session:
        assert session.exec(select(ScanResult)).all() == []


def test_config_comment_never_and_fail_on_caution(engine, tmp_path: Path) -> None:
    fake = FakeGitHub()
    fake.add_pull_request(REPO, 9, head_sha="f" * 40, diff=(DIFFS / "benign-agents-md-edit.patch").read_text(encoding="utf-8"))
    base_sha = fake.pulls[(REPO, 9)]["base"]["sha"]
    fake.contents[(REPO, ".github/watchpost.yml", base_sha)] = "comment: never\nfail-on: caution\n"
    run_jobs(engine, fake, tmp_path, [{"repository": REPO, "number": 9, "head_sha": "f" * 40}])
    (run,) = fake.check_runs.values()
    assert run["conclusion"] == "failure"  # caution (agent config edited) fails under fail-on: caution
    assert f"{REPO}#9" not in fake.comments


def test_same_head_sha_is_not_scanned_twice_unless_re_run(engine, tmp_path: Path) -> None:
    fake = seeded()
    first = {"repository": REPO, "number": 7, "head_sha": "a" * 40, "trigger": "pull_request.opened"}
    run_jobs(engine, fake, tmp_path, [first])
    assert len(fake.check_runs) == 1
    # Reopened later with the same head SHA (its first job long pruned): the stored result stands.
    run_jobs(engine, fake, tmp_path, [{**first, "trigger": "pull_request.reopened"}])
    assert len(fake.check_runs) == 1 and _statuses(engine) == ["succeeded", "succeeded"]
    # The "Re-run" button (or an edited description) scans again.
    run_jobs(engine, fake, tmp_path, [{**first, "trigger": "check_run.requested_action"}])
    assert len(fake.check_runs) == 2
    with Session(engine) as session:
        assert len(session.exec(select(ScanResult)).all()) == 2


def test_a_retry_takes_over_the_check_run_of_the_failed_attempt(engine, tmp_path: Path, monkeypatch) -> None:
    import app.github.client as github_client
    import app.jobs as jobs

    monkeypatch.setattr(github_client, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(jobs, "BACKOFF_BASE_SECONDS", 0.05)
    fake = seeded()
    for _ in range(github_client.MAX_ATTEMPTS):  # GitHub answers 502 to every try of the first attempt
        fake.fail_next(f"/repos/{REPO}/pulls/7", 502)
    run_jobs(engine, fake, tmp_path, [{"repository": REPO, "number": 7, "head_sha": "a" * 40, "trigger": "pull_request.opened"}])
    assert _statuses(engine) == ["succeeded"]
    (run,) = fake.check_runs.values()  # one check run, not one per attempt
    # Attempt 1 left it in progress saying why (a completed check run could never change again).
    assert run["updates"][0]["status"] == "in_progress" and "retry automatically" in run["outputs"][0]["summary"]
    assert run["conclusion"] == "failure" and run["status"] == "completed"
