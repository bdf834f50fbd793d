"""The PR fetcher against the fake GitHub: the workspace it writes replays to the same scan."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from app.github.app_auth import token_client
from app.github.pr_fetcher import fetch_pull_request_workspace
from scanners.pipeline import scan_pr
from scanners.workspace import load_workspace
from tests.conftest import DIFFS, requires_corpus, rest_body
from tests.fake_github import FakeGitHub, serve_fake_github

pytestmark = requires_corpus


def fetch(fake: FakeGitHub, repo: str, number: int, directory: Path) -> Path:
    async def go():
        with serve_fake_github(fake) as url:
            async with aiohttp.ClientSession() as session:
                client = token_client(session, "ghs_test", url)
                return await fetch_pull_request_workspace(client, repo, number, directory)

    return asyncio.run(go())


def seeded(diff_name: str = "shai-hulud-workflow") -> FakeGitHub:
    fake = FakeGitHub(page_size=2)
    diff = (DIFFS / f"{diff_name}.patch").read_text(encoding="utf-8")
    fake.add_pull_request("acme/widgets", 7, title="Add workflow", body="Adds CI.", author="newbie", diff=diff,
                          files=[{"filename": ".github/workflows/shai-hulud-workflow.yml", "status": "added", "patch": "@@ -0,0 +1 @@\n+on: push"}])
    fake.users["newbie"] = dict(rest_body("users_get_by_username.json"), login="newbie", created_at="2026-01-20T00:00:00Z", followers=0)
    fake.orgs["newbie"] = []
    fake.commit_counts[("acme/widgets", "newbie")] = 5
    fake.events["newbie"] = rest_body("activity_list_public_events_for_user.json")
    fake.reviews[("acme/widgets", 7)] = rest_body("pulls_list_reviews.json")
    return fake


def test_workspace_has_every_key_and_replays(tmp_path: Path) -> None:
    fake = seeded()
    directory = fetch(fake, "acme/widgets", 7, tmp_path / "ws")
    metadata = json.loads((directory / "metadata.json").read_text())
    assert set(metadata) == {"pull_request", "files", "reviews", "author", "author_orgs", "author_repo_commits", "author_events"}
    assert metadata["author_repo_commits"] == 5  # counted from the Link header's last page
    assert (directory / "pr-description.txt").read_text() == "Add workflow\n\nAdds CI."
    assert (directory / "diff.patch").read_text().startswith("diff --git")
    report = scan_pr(load_workspace(directory), scanned_at=datetime.now(UTC))
    assert report.verdict.value == "dangerous" and report.confidence.value == "medium"  # tier 3 not configured
    assert any(t.rule == "supply-chain/secrets-sent-to-network" for t in report.threats)
    assert "tier1" in report.tiers_completed


def test_too_large_diff_falls_back_to_files_and_is_truncated(tmp_path: Path) -> None:
    fake = seeded()
    fake.diff_too_large.add(("acme/widgets", 7))
    directory = fetch(fake, "acme/widgets", 7, tmp_path / "ws")
    metadata = json.loads((directory / "metadata.json").read_text())
    assert metadata["truncated"] is True and not (directory / "diff.patch").exists()
    report = scan_pr(load_workspace(directory), scanned_at=datetime.now(UTC))
    assert not report.complete and report.verdict.value != "safe"


def test_missing_optional_pieces_lower_confidence_only(tmp_path: Path) -> None:
    fake = seeded("benign-docs-readme")
    fake.fail_next("/users/newbie", 404)
    fake.fail_next("/repos/acme/widgets/commits", 500)
    for _ in range(3):
        fake.fail_next("/repos/acme/widgets/commits", 500)
    directory = fetch(fake, "acme/widgets", 7, tmp_path / "ws")
    metadata = json.loads((directory / "metadata.json").read_text())
    assert "pull_request" in metadata and "author" not in metadata
    report = scan_pr(load_workspace(directory), scanned_at=datetime.now(UTC))
    assert report.confidence.value != "high"


def test_unknown_pull_request_raises_fetch_error(tmp_path: Path) -> None:
    import pytest

    from app.github.pr_fetcher import FetchError

    with pytest.raises(FetchError):
        fetch(seeded(), "acme/widgets", 999, tmp_path / "ws")
