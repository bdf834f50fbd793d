"""``python -m action``: scan the workflow's pull request and report it the ways a workflow reads.

- ``local`` (default): fetch the PR workspace through the same GitHub client as the App and run
  the same pipeline inside the runner. The PR's code is never checked out or run.
- ``remote``: ask a running Watchpost (``{api-url}/pr/{owner}/{repo}/{number}?mode=full&details=true``).

Then: outputs, step summary, annotations on the exact lines, SARIF 2.1.0, the report JSON, and the
sticky comment when the token may write (a fork's read-only token gets a notice instead). Exit 1
when the verdict reaches ``fail-on`` or the scan could not complete (unless ``allow-incomplete``),
2 when the action itself could not run.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import gidgethub

from action.context import (
    ActionError,
    ActionInputs,
    PullRequestTarget,
    WorkflowContext,
    pull_request_target,
    read_context,
    read_inputs,
)
from action.summary import step_summary
from action.workflow_commands import annotation_commands, command, print_lines, write_outputs
from app.github.app_auth import token_client
from app.github.client import GitHubClient, new_etag_cache
from app.github.pr_fetcher import FetchError, fetch_pull_request_workspace
from app.publish.sticky import upsert_sticky_comment
from scanners.models import ScanReport, Verdict
from scanners.sarif import to_sarif

ACTIONS_BOT = "github-actions[bot]"


def _client(session: aiohttp.ClientSession, inputs: ActionInputs, context: WorkflowContext) -> GitHubClient:
    if inputs.github_token is not None:
        return token_client(session, inputs.github_token.get_secret_value(), context.api_url)
    return GitHubClient(session, base_url=context.api_url, cache=new_etag_cache())


async def scan_locally(client: GitHubClient, inputs: ActionInputs, target: PullRequestTarget) -> ScanReport:
    from app.llm import reviewer_from_settings
    from app.settings import Settings
    from scanners.pipeline import DEFAULT_LLM_UNAVAILABLE, scan_pr
    from scanners.workspace import load_workspace

    reviewer, reason = None, DEFAULT_LLM_UNAVAILABLE
    try:
        reviewer = reviewer_from_settings(Settings())
    except Exception as exc:  # the [llm] extra is missing or WATCHPOST_LLM_* are invalid: tier 3 says so
        reason = f"LLM review unavailable: {type(exc).__name__}"
    with tempfile.TemporaryDirectory(prefix="watchpost-action-") as temp:
        directory = Path(temp) / "workspace"
        try:
            await fetch_pull_request_workspace(client, target.repository, target.number, directory)
        except FetchError as exc:
            raise ActionError(f"cannot read pull request {target.repository}#{target.number}: {exc}") from None
        snapshot = load_workspace(directory)
    return scan_pr(snapshot, scanned_at=datetime.now(UTC), tolerance=inputs.tolerance, llm=reviewer, llm_unavailable_reason=reason)


async def scan_remotely(session: aiohttp.ClientSession, inputs: ActionInputs, target: PullRequestTarget) -> ScanReport:
    assert inputs.api_url is not None
    url = f"{inputs.api_url.rstrip('/')}/pr/{target.repository}/{target.number}"
    params = {"mode": "full", "details": "true", "tolerance": inputs.tolerance.value}
    try:
        async with session.get(url, params=params, timeout=aiohttp.ClientTimeout(total=180)) as response:
            body = await response.read()
            if response.status != 200:
                try:
                    reason = json.loads(body).get("error", "")
                except ValueError:
                    reason = body[:200].decode("utf-8", errors="replace")
                raise ActionError(f"Watchpost at {inputs.api_url} answered {response.status}: {reason}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ActionError(f"cannot reach Watchpost at {inputs.api_url}: {type(exc).__name__}") from None
    try:
        answer = json.loads(body)
        return ScanReport.model_validate({
            **answer, "scanned_at": answer["scanned_at"], "scanner_version": answer.get("scanner_version") or "remote",
            "complete": answer.get("complete", True), "tiers_skipped": answer.get("tiers_skipped") or {},
            "sub_scores": answer.get("sub_scores") or {}, "name": answer.get("name") or target.repository,
        })
    except (ValueError, KeyError) as exc:
        raise ActionError(f"Watchpost at {inputs.api_url} answered something that is not a report: {exc}") from None


async def verify_head(client: GitHubClient, target: PullRequestTarget) -> None:
    """A PR number handed over by another run (an artifact a fork could forge) is only trusted when
    that PR's head is the commit the triggering run was for."""
    try:
        pull_request = await client.getitem(f"/repos/{target.repository}/pulls/{target.number}")
    except gidgethub.GitHubException as exc:
        raise ActionError(f"cannot read pull request {target.repository}#{target.number}: {exc}") from None
    if not target.head_sha or (pull_request.get("head") or {}).get("sha") != target.head_sha:
        raise ActionError(f"pull request #{target.number}'s head is not the commit this workflow_run was for: not scanning or commenting")


async def _bot_login(client: GitHubClient) -> str:
    """The token's own login (a PAT or an App token can read /user; GITHUB_TOKEN cannot and acts as
    github-actions[bot])."""
    try:
        return str((await client.getitem("/user"))["login"])
    except gidgethub.GitHubException:
        return ACTIONS_BOT


async def comment(client: GitHubClient, target: PullRequestTarget, report: ScanReport) -> bool:
    """Create or update the sticky comment; False when the token may not write (fork PRs)."""
    try:
        await upsert_sticky_comment(client, target.repository, target.number, report, await _bot_login(client), "on-findings")
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) in (401, 403, 404):
            return False
        raise
    return True


def status_of(report: ScanReport, should_fail: bool) -> str:
    if should_fail:
        return "blocking"
    return "clean" if report.verdict is Verdict.SAFE else "review"


async def run(env: Mapping[str, str]) -> int:
    inputs = read_inputs(env)
    context = read_context(env)
    target = pull_request_target(context, inputs.pr_number)
    async with aiohttp.ClientSession() as session:
        client = _client(session, inputs, context)
        if target.verify_head:
            await verify_head(client, target)
        report = await (scan_remotely(session, inputs, target) if inputs.mode == "remote" else scan_locally(client, inputs, target))
        wrote_comment = False
        if inputs.comment and inputs.github_token is not None:
            wrote_comment = await comment(client, target, report)
            if not wrote_comment:
                print_lines([command("notice", "The token cannot write to this pull request (a fork's read-only token): "
                                     "no comment was posted; the step summary and the SARIF file carry the result.", title="Watchpost")])
    should_fail = inputs.fail_on != "never" and report.verdict.rank >= Verdict(inputs.fail_on).rank
    incomplete_fails = not report.complete and not inputs.allow_incomplete
    status = status_of(report, should_fail or incomplete_fails)

    sarif_path = (context.workspace / inputs.sarif_file).resolve()
    report_path = (context.workspace / "watchpost-report.json").resolve()
    sarif_path.parent.mkdir(parents=True, exist_ok=True)
    # File-less findings (the PR description, the author) are shown on the workflow that ran the scan.
    sarif_path.write_text(json.dumps(to_sarif(report, anchor_path=context.workflow_path), indent=2), encoding="utf-8")
    report_path.write_text(report.model_dump_json(indent=2), encoding="utf-8")

    print_lines(annotation_commands(report))
    threats = "\n".join(f"- {t.type}: {' '.join(t.detail.split())}" for t in report.threats)
    write_outputs(context.output_path, {
        "score": str(report.score), "verdict": report.verdict.value, "confidence": report.confidence.value, "status": status,
        "should_fail": "true" if should_fail or incomplete_fails else "false", "threats": threats, "report-path": str(report_path),
        "sarif-file": str(sarif_path),
    })
    if context.summary_path is not None:
        with context.summary_path.open("a", encoding="utf-8") as handle:
            handle.write(step_summary(report, server_url=context.server_url, repository=target.repository, head_sha=target.head_sha,
                                      status=status, fork_read_only=inputs.comment and not wrote_comment and inputs.github_token is not None))
    print(f"Watchpost: {report.verdict.value} · score {report.score}/100 · confidence {report.confidence.value} · "
          f"{len(report.threats)} finding(s) · report {report_path}", flush=True)
    if incomplete_fails:
        print_lines([command("error", "The scan could not complete, so this pull request is not reported as safe "
                             "(set allow-incomplete: true to pass anyway). See the step summary's evidence gaps.", title="Watchpost")])
        return 1
    if should_fail:
        print_lines([command("error", f"Verdict {report.verdict.value} reaches fail-on: {inputs.fail_on}.", title="Watchpost")])
        return 1
    return 0


def main(env: Mapping[str, str] | None = None) -> int:
    try:
        return asyncio.run(run(env if env is not None else os.environ))
    except ActionError as exc:
        print(command("error", str(exc), title="Watchpost"), flush=True)
        return 2
