"""The Action when GitHub or a remote Watchpost misbehaves, and the sticky comment under a GitHub App
token: an unreadable PR is exit 2 (never a verdict), a comment that cannot be written never costs
the results, the reason a step fails is never dropped by the annotation limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from action.workflow_commands import annotation_commands, command
from app.publish.comment import STICKY_MARKER
from tests.action.test_action import event, fake_for, run_action
from tests.conftest import requires_corpus
from tests.fake_github import serve_fake_github
from tests.loopback import serve_in_thread

pytestmark = requires_corpus


def pr_path() -> str:
    return f"/repos/{event()['repository']['full_name']}/pulls/{event()['pull_request']['number']}"


def comments_key() -> str:
    return f"{event()['repository']['full_name']}#{event()['pull_request']['number']}"


def test_github_failing_to_serve_the_pr_is_exit_2_with_a_clear_error(tmp_path: Path) -> None:
    fake = fake_for("ghostaction-workflow.patch")
    for _ in range(12):  # more 502s than the client retries
        fake.fail_next(pr_path(), 502)
    with serve_fake_github(fake) as api_url:
        result, outputs, _ = run_action(tmp_path, api_url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and any(line.startswith("::error ") and "could not" in line for line in result.stdout.splitlines())
    assert "verdict" not in outputs  # nothing pretends to be a result


def test_a_comment_that_cannot_be_written_keeps_every_result(tmp_path: Path) -> None:
    fake = fake_for("ghostaction-workflow.patch")
    for _ in range(12):
        fake.fail_next(f"/repos/{event()['repository']['full_name']}/issues/{event()['pull_request']['number']}/comments", 500)
    with serve_fake_github(fake) as api_url:
        result, outputs, summary = run_action(tmp_path, api_url)
    assert result.returncode == 1, result.stdout + result.stderr  # the verdict still decides
    assert outputs["verdict"] == "dangerous" and (tmp_path / "watchpost.sarif").exists() and "Watchpost: dangerous" in summary
    assert any(line.startswith("::warning ") and "comment could not be written" in line for line in result.stdout.splitlines())


def test_with_an_app_token_the_sticky_comment_is_found_and_another_apps_is_left_alone(tmp_path: Path) -> None:
    fake = fake_for("ghostaction-workflow.patch")
    fake.bot_login, fake.user_forbidden = "acme-scanner[bot]", True  # an installation token cannot read /user
    other = {"id": 77, "body": f"{STICKY_MARKER}\nsomeone else's report", "user": {"login": "other-app[bot]", "type": "Bot"}}
    fake.comments[comments_key()] = [other]
    with serve_fake_github(fake) as api_url:
        first, _, _ = run_action(tmp_path, api_url)
        second, _, _ = run_action(tmp_path, api_url)
    assert first.returncode == second.returncode == 1, first.stdout + second.stdout
    comments = fake.comments[comments_key()]
    assert len(comments) == 2 and comments[0] == other  # one of ours, edited in place the second time
    assert comments[1]["user"]["login"] == "acme-scanner[bot]" and "<!-- watchpost:report v1" in comments[1]["body"]


def test_the_reason_the_step_fails_is_never_dropped_by_the_annotation_limit() -> None:
    from datetime import UTC, datetime

    from scanners.models import Confidence, ScanReport, Severity, SubScores, Threat, Verdict

    threats = [Threat(type="t", severity=Severity.HIGH, detail=f"d{i}", rule="r", path="p", line=i + 1) for i in range(15)]
    report = ScanReport(name="o/r", score=10, verdict=Verdict.DANGEROUS, confidence=Confidence.HIGH, scanned_at=datetime.now(UTC),
                        sub_scores=SubScores(), threats=threats, scanner_version="x")
    reason = command("error", "Verdict dangerous reaches fail-on: dangerous.", title="Watchpost")
    lines = annotation_commands(report, reserved=[reason])
    assert sum(line.startswith("::error") for line in lines) == 9  # ten errors per step, one taken by the reason


@pytest.mark.parametrize("body", [b"[1, 2]", b"null", b'"hi"'])
def test_remote_answers_that_are_not_objects_are_exit_2(tmp_path: Path, body: bytes) -> None:
    def application() -> web.Application:
        app = web.Application()

        async def answer(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type="application/json")

        app.router.add_get("/pr/{owner}/{repo}/{number}", answer)
        return app

    with serve_in_thread(application) as remote, serve_fake_github(fake_for("benign-docs-readme.patch")) as api_url:
        result, _, _ = run_action(tmp_path, api_url, mode="remote", api_url=remote, comment="false")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "not a report" in result.stdout


def test_non_ascii_paths_print_on_a_cp1252_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows runners hand Python a cp1252 pipe; the action switches its streams to UTF-8.
    monkeypatch.setenv("PYTHONIOENCODING", "cp1252")
    fake = fake_for("ghostaction-workflow.patch")
    with serve_fake_github(fake) as api_url:
        result, outputs, _ = run_action(tmp_path, api_url)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "·" in result.stdout
    assert json.loads(Path(outputs["report-path"]).read_text(encoding="utf-8"))["verdict"] == "dangerous"
