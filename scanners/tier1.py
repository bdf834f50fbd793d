"""Tier 1 — identity: how much does the author's history vouch for this PR?

Every signal is measured at the PR's ``created_at`` (never "now"), so a replayed workspace gives
the same answer years later. The sub-score starts neutral (50) and each signal moves it; the
signals are returned so the report can say *why*. Identity alone never invents a code threat: it
emits ``first_time_contributor`` (low), ``bot_impersonation`` and ``burst_activity`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scanners.models import Severity, Signal, Threat, ThreatType, Tier
from scanners.workspace import GitHubUser, PRSnapshot

BASELINE = 50.0
TRUSTED_ASSOCIATIONS = {"OWNER", "MEMBER", "COLLABORATOR"}

# Free webmail is normal for open source; disposable inboxes are made to be thrown away.
FREE_EMAIL_DOMAINS = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com", "me.com",
    "proton.me", "protonmail.com", "gmx.com", "gmx.de", "mail.com", "yandex.ru", "qq.com", "163.com", "aol.com",
}
DISPOSABLE_EMAIL_DOMAINS = {
    "mailinator.com", "guerrillamail.com", "guerrillamail.net", "sharklasers.com", "10minutemail.com", "tempmail.com",
    "temp-mail.org", "yopmail.com", "trashmail.com", "getnada.com", "dispostable.com", "maildrop.cc", "throwawaymail.com",
    "fakeinbox.com", "mintemail.com", "mohmal.com", "emailondeck.com", "spamgourmet.com", "tempr.email", "discard.email",
    "mailnesia.com", "burnermail.io", "moakt.com", "tmpmail.org", "1secmail.com", "mail.tm", "inboxkitten.com",
}
# App bots people imitate; a real one is type "Bot" with a "[bot]" login.
WELL_KNOWN_BOTS = ("dependabot", "renovate", "github-actions", "snyk", "greenkeeper", "imgbot", "allcontributors", "pre-commit-ci", "codecov", "mergify", "stale", "copilot", "coderabbitai", "sonarcloud", "deepsource")


@dataclass(slots=True)
class Tier1Result:
    identity: float | None
    threats: list[Threat] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    low_trust: bool = False
    ran: bool = True
    skip_reason: str | None = None


def _signal(signals: list[Signal], name: str, effect: float, detail: str) -> float:
    signals.append(Signal(sub_score="identity", name=name, effect=effect, detail=detail))
    return effect


def _threat(kind: ThreatType, severity: Severity, detail: str, rule: str) -> Threat:
    return Threat(type=kind.value, severity=severity, detail=detail, rule=rule, tier=Tier.TIER1)


def _age_days(user: GitHubUser, at: datetime | None) -> float | None:
    if user.created_at is None or at is None:
        return None
    return (at - user.created_at).total_seconds() / 86400


def _email_domain(user: GitHubUser) -> str | None:
    if not user.email or "@" not in user.email:
        return None
    return user.email.rsplit("@", 1)[1].strip().lower()


def _bot_checks(user: GitHubUser, threats: list[Threat], signals: list[Signal]) -> tuple[bool, float]:
    login = (user.login or "").lower()
    is_bot_type = (user.type or "").lower() == "bot"
    if is_bot_type and login.endswith("[bot]"):
        return True, _signal(signals, "github_app_bot", 25, f"{user.login} is a GitHub App bot account")
    stem = re.sub(r"[\[\]_.-]?bot\]?$", "", login).strip("-_[]")
    imitated = next((name for name in WELL_KNOWN_BOTS if stem == name or (name in login and login != name and "bot" in login)), None)
    if not is_bot_type and (imitated or login.endswith("[bot]")):
        threats.append(_threat(
            ThreatType.BOT_IMPERSONATION, Severity.HIGH,
            f"{user.login} is a regular user account named like the {imitated or 'app'} bot; real app bots are type Bot with a [bot] login",
            "identity/bot-impersonation",
        ))
        return False, _signal(signals, "bot_impersonation", -30, f"{user.login} imitates a bot account")
    return False, 0.0


def _burst(snapshot: PRSnapshot, at: datetime | None, threats: list[Threat], signals: list[Signal]) -> float:
    events = snapshot.author_events
    if not events or at is None:
        return 0.0
    window_start = at - timedelta(hours=24)
    base = (snapshot.repository or "").lower()
    repos = set()
    for event in events:
        if event.type != "PullRequestEvent" or event.created_at is None or not (window_start <= event.created_at <= at + timedelta(hours=1)):
            continue
        action = (event.payload or {}).get("action")
        if action not in (None, "opened", "reopened"):
            continue
        name = (event.repo.name if event.repo and event.repo.name else "").lower()
        if name and name != base:
            repos.add(name)
    if len(repos) >= 5:
        threats.append(_threat(
            ThreatType.BURST_ACTIVITY, Severity.MEDIUM,
            f"The author opened PRs to {len(repos)} other repositories within 24 hours of this one (spray pattern)",
            "identity/burst-activity",
        ))
        return _signal(signals, "burst_activity", -20 if len(repos) >= 10 else -12, f"PRs to {len(repos)} other repositories in 24 h")
    return 0.0


def run_tier1(snapshot: PRSnapshot) -> Tier1Result:
    if snapshot.diff_only or snapshot.pull_request is None:
        return Tier1Result(identity=None, ran=False, skip_reason="no PR metadata (bare diff)")
    user = snapshot.author
    if user is None or not user.login:
        return Tier1Result(identity=None, ran=False, skip_reason="author unknown (no author or pull_request.user)")
    at = snapshot.created_at
    signals: list[Signal] = []
    threats: list[Threat] = []
    score = BASELINE

    is_app_bot, effect = _bot_checks(user, threats, signals)
    score += effect

    age = _age_days(user, at)
    if age is not None and not is_app_bot:
        if age < 7:
            score += _signal(signals, "account_age", -30, f"account {age:.0f} days old when the PR was opened")
        elif age < 30:
            score += _signal(signals, "account_age", -20, f"account {age:.0f} days old")
        elif age < 90:
            score += _signal(signals, "account_age", -10, f"account {age:.0f} days old")
        elif age >= 3 * 365:
            score += _signal(signals, "account_age", 10, f"account {age / 365:.0f} years old")
        elif age >= 365:
            score += _signal(signals, "account_age", 5, f"account {age / 365:.1f} years old")

    if not is_app_bot and user.public_repos is not None:
        if user.public_repos == 0:
            score += _signal(signals, "public_repos", -5, "no public repositories")
        elif user.public_repos >= 10:
            score += _signal(signals, "public_repos", 5, f"{user.public_repos} public repositories")
    if not is_app_bot and user.followers is not None:
        if user.followers == 0:
            score += _signal(signals, "followers", -5, "no followers")
        elif user.followers >= 200:
            score += _signal(signals, "followers", 10, f"{user.followers} followers")
        elif user.followers >= 20:
            score += _signal(signals, "followers", 5, f"{user.followers} followers")

    base_owner = (snapshot.base_owner or "").lower()
    if snapshot.author_orgs is not None:
        orgs = {(org.login or "").lower() for org in snapshot.author_orgs}
        if base_owner and base_owner in orgs:
            score += _signal(signals, "base_org_member", 25, f"public member of {snapshot.base_owner}, the repository's organisation")
        elif orgs:
            score += _signal(signals, "org_member", 5, f"public member of {len(orgs)} organisation(s)")

    association = (snapshot.pull_request.author_association or "").upper()
    if association in {"OWNER", "MEMBER"}:
        score += _signal(signals, "author_association", 25, f"author is {association.lower()} of the repository")
    elif association == "COLLABORATOR":
        score += _signal(signals, "author_association", 20, "author is a collaborator on the repository")
    elif association == "CONTRIBUTOR":
        score += _signal(signals, "author_association", 5, "author has contributed before")
    elif association == "FIRST_TIMER":
        score += _signal(signals, "author_association", -10, "author's first contribution anywhere on GitHub")
    elif association == "FIRST_TIME_CONTRIBUTOR":
        score += _signal(signals, "author_association", -5, "author's first contribution to this repository")

    commits = snapshot.author_repo_commits
    if commits is not None and not is_app_bot:
        if commits == 0:
            score += _signal(signals, "prior_commits", -5, "no prior commits to this repository")
            threats.append(_threat(
                ThreatType.FIRST_TIME_CONTRIBUTOR, Severity.LOW,
                f"{user.login} has no prior commits to this repository", "identity/first-time-contributor",
            ))
        elif commits >= 10:
            score += _signal(signals, "prior_commits", 20, f"{commits} prior commits to this repository")
        else:
            score += _signal(signals, "prior_commits", 10, f"{commits} prior commit(s) to this repository")

    if snapshot.reviews:
        approvers = {
            (review.user.login or "").lower()
            for review in snapshot.reviews
            if review.state == "APPROVED" and review.user and (review.author_association or "").upper() in TRUSTED_ASSOCIATIONS
            and (review.user.login or "").lower() != (user.login or "").lower()
        }
        if approvers:
            score += _signal(signals, "member_approval", 10, f"approved by {len(approvers)} repository member(s)")

    if not is_app_bot:
        profile_fields = [user.name, user.bio, user.company, user.blog, user.location, user.twitter_username, user.email]
        present = sum(1 for value in profile_fields if value)
        if present == 0:
            score += _signal(signals, "profile", -5, "empty profile")
        elif present >= 3:
            score += _signal(signals, "profile", 5, f"profile with {present} filled fields")

    domain = _email_domain(user)
    if domain in DISPOSABLE_EMAIL_DOMAINS:
        score += _signal(signals, "email_domain", -15, f"public e-mail at a disposable domain ({domain})")
    elif domain in FREE_EMAIL_DOMAINS:
        score += _signal(signals, "email_domain", -2, f"public e-mail at a free provider ({domain})")

    score += _burst(snapshot, at, threats, signals)

    identity = max(0.0, min(100.0, score))
    low_trust = identity < 40 or any(t.type == ThreatType.BOT_IMPERSONATION.value for t in threats)
    return Tier1Result(identity=round(identity, 1), threats=threats, signals=signals, low_trust=low_trust)
