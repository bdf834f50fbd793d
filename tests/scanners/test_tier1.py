from __future__ import annotations

from scanners.tier1 import run_tier1
from scanners.workspace import snapshot_from_diff, snapshot_from_parts
from tests.conftest import build_metadata, requires_corpus, rest_body

pytestmark = requires_corpus


def author(**changes) -> dict:
    user = rest_body("users_get_by_username.json")
    user.update(changes)
    return user


NEUTRAL = {"author_orgs": [], "reviews": [], "author_repo_commits": 1, "pr_author_association": "CONTRIBUTOR"}


def identity_for(**overrides) -> tuple[float, list[str], list[str]]:
    """Identity of an ordinary contributor (not capped at 100), with ``overrides`` applied."""
    result = run_tier1(snapshot_from_parts(build_metadata(**{**NEUTRAL, **overrides})))
    assert result.identity is not None
    return result.identity, [s.name for s in result.signals], [t.type for t in result.threats]


def test_age_is_measured_at_pr_creation_not_now() -> None:
    # The PR example was opened 2011-01-26; an account created a day before is brand new then,
    # however old it is today.
    young, signals, _ = identity_for(author=author(created_at="2011-01-25T00:00:00Z"))
    old, _, _ = identity_for(author=author(created_at="2005-01-01T00:00:00Z"))
    assert "account_age" in signals
    assert old - young >= 35


def test_owner_of_base_org_scores_high() -> None:
    orgs = [{"login": "octocat"}]
    trusted, signals, threats = identity_for(author_orgs=orgs, pr_author_association="OWNER")
    assert trusted >= 90
    assert "base_org_member" in signals and "first_time_contributor" not in threats


def test_first_time_contributor_threat_and_low_identity() -> None:
    newcomer = author(created_at="2011-01-20T00:00:00Z", followers=0, public_repos=0, name=None, company=None, blog=None,
                      location=None, email=None, bio=None, twitter_username=None)
    score, _signals, threats = identity_for(author=newcomer, author_repo_commits=0, author_orgs=[], reviews=[],
                                           pr_author_association="FIRST_TIME_CONTRIBUTOR")
    assert "first_time_contributor" in threats
    assert score < 20
    result = run_tier1(snapshot_from_parts(build_metadata(author=newcomer, author_repo_commits=0, author_orgs=[], reviews=[])))
    assert result.low_trust


def test_disposable_email() -> None:
    normal, _, _ = identity_for()
    disposable, signals, _ = identity_for(author=author(email="someone@mailinator.com"))
    assert "email_domain" in signals and disposable < normal


def test_real_bot_versus_impersonator() -> None:
    real_bot = author(login="dependabot[bot]", type="Bot")
    _, _, threats = identity_for(author=real_bot, author_repo_commits=0)
    assert threats == []  # app bots are not "first-time contributors"
    impostor = author(login="dependabot-bot", type="User")
    _, _, threats = identity_for(author=impostor)
    assert "bot_impersonation" in threats


def test_burst_activity_from_public_events() -> None:
    events = [
        {"type": "PullRequestEvent", "repo": {"name": f"victim{i}/repo"}, "created_at": "2011-01-26T10:00:00Z", "payload": {"action": "opened"}}
        for i in range(7)
    ]
    _, signals, threats = identity_for(author_events=events)
    assert "burst_activity" in threats and "burst_activity" in signals
    quiet = [dict(event, created_at="2010-12-01T10:00:00Z") for event in events]
    _, _, threats = identity_for(author_events=quiet)
    assert "burst_activity" not in threats


def test_member_approval_counts_only_other_members() -> None:
    review = rest_body("pulls_list_reviews.json")[0]
    self_review = dict(review, author_association="OWNER")  # reviewer login == author login
    _, signals, _ = identity_for(reviews=[self_review])
    assert "member_approval" not in signals
    other = dict(review, user=dict(review["user"], login="maintainer"), author_association="MEMBER")
    _, signals, _ = identity_for(reviews=[other])
    assert "member_approval" in signals


def test_bare_diff_skips_tier1() -> None:
    result = run_tier1(snapshot_from_diff(""))
    assert not result.ran and result.identity is None and result.skip_reason
