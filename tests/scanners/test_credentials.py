"""The credential_exposure family: provider patterns, generic secrets, exclusions, redaction,
path handling, corpus negatives and speed.

Every token below is assembled at run time from made-up characters (``fake_value``) so that no
complete token literal — real or fake — appears in this file.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from scanners.analysis.secrets import KIND_LABELS, SecretMatch, entropy, find_secrets, redact_text
from scanners.diff import parse_unified_diff
from scanners.models import Severity, Threat
from scanners.rules import REGISTRY
from scanners.rules import credentials as C
from scanners.rules.credentials import (
    ALNUM,
    BASE32,
    BASE64,
    BASE64URL,
    DIGITS,
    HEX,
    UPPER,
    detect_credentials,
    fake_value,
)
from scanners.rules.engine import FileContext
from scanners.rules.registry import edit_file, new_file
from scanners.tier2 import threats_for

CORPUS_DIFFS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "diffs"


def creds(diff: str) -> list[Threat]:
    return [t for t in threats_for(diff) if t.type == "credential_exposure"]


def assert_redacted(threats: list[Threat], *values: str) -> None:
    for threat in threats:
        dumped = threat.model_dump_json()
        for value in values:
            assert value not in dumped, f"raw value leaked in {threat.rule}"
            # no long piece of it either (a prefix of the public part is allowed)
            assert value[-12:] not in dumped


# ---------------------------------------------------------------------------------------------
# Provider patterns


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    severity: Severity
    value: str
    line: str  # "{v}" is replaced by the value


def _cases() -> list[Case]:
    a62 = ALNUM
    cases = [
        *(Case(f"aws-{p}", "aws-access-key", Severity.CRITICAL, p + fake_value(16, BASE32, n), 'key_id = "{v}"') for n, p in enumerate(("AKIA", "ASIA", "ABIA", "ACCA"))),
        *(Case(f"github-{p}", "github-token", Severity.CRITICAL, p + fake_value(36, a62, 10 + n), "token: {v}") for n, p in enumerate(("ghp_", "gho_", "ghu_", "ghs_", "ghr_"))),
        Case("github-pat", "github-token", Severity.CRITICAL, "github_pat_" + fake_value(22, a62, 20) + "_" + fake_value(59, a62, 21), "GH={v}"),
        *(Case(f"gitlab-{p}", "gitlab-token", Severity.CRITICAL, p + fake_value(20, a62, 30 + n), "GITLAB={v}") for n, p in enumerate(("glpat-", "gldt-", "glrt-", "glcbt-", "GR1348941"))),
        *(
            Case(f"slack-{p}", "slack-token", Severity.CRITICAL, f"{p}-{fake_value(11, DIGITS, 40 + n)}-{fake_value(13, DIGITS, 50 + n)}-{fake_value(24, a62, 60 + n)}", "SLACK={v}")
            for n, p in enumerate(("xoxb", "xoxp", "xoxa", "xoxr", "xoxs"))
        ),
        Case("slack-xapp", "slack-token", Severity.CRITICAL, f"xapp-1-A{fake_value(10, UPPER + DIGITS, 70)}-{fake_value(13, DIGITS, 71)}-{fake_value(64, HEX, 72)}", "APP={v}"),
        Case("slack-webhook", "slack-webhook", Severity.HIGH, C.FAKE_SLACK_HOOK, 'url = "{v}"'),
        Case("stripe-live", "stripe-key", Severity.CRITICAL, "sk_live_" + fake_value(24, a62, 80), 'stripe.api_key = "{v}"'),
        Case("stripe-restricted", "stripe-key", Severity.CRITICAL, "rk_live_" + fake_value(24, a62, 81), 'key = "{v}"'),
        Case("stripe-test", "stripe-key", Severity.LOW, "sk_test_" + fake_value(24, a62, 82), 'key = "{v}"'),
        Case("stripe-webhook-secret", "stripe-key", Severity.HIGH, "whsec_" + fake_value(32, a62, 83), 'hook = "{v}"'),
        Case("google", "google-api-key", Severity.HIGH, C.FAKE_GOOGLE, 'apiKey: "{v}",'),
        Case("jwt", "jwt", Severity.HIGH, C.fake_jwt(), "Authorization: Bearer {v}"),
        Case("npm", "npm-token", Severity.CRITICAL, C.FAKE_NPM, "NPM_TOKEN={v}"),
        Case("pypi", "pypi-token", Severity.CRITICAL, C.FAKE_PYPI, "password = {v}"),
        Case("openai-project", "openai-key", Severity.CRITICAL, C.FAKE_OPENAI, "OPENAI_API_KEY={v}"),
        Case("openai-legacy", "openai-key", Severity.CRITICAL, "sk-" + fake_value(20, a62, 90) + "T3Blbk" + "FJ" + fake_value(20, a62, 91), "key={v}"),
        Case("anthropic", "anthropic-key", Severity.CRITICAL, C.FAKE_ANTHROPIC, "ANTHROPIC_API_KEY={v}"),
        Case("huggingface", "huggingface-token", Severity.CRITICAL, C.FAKE_HF, "HF_TOKEN={v}"),
        Case("sendgrid", "sendgrid-key", Severity.CRITICAL, C.FAKE_SENDGRID, "SENDGRID={v}"),
        Case("twilio", "twilio-key", Severity.HIGH, C.FAKE_TWILIO, "TWILIO={v}"),
        Case("telegram", "telegram-bot-token", Severity.CRITICAL, C.FAKE_TELEGRAM, 'bot = Bot("{v}")'),
        Case("discord-webhook", "discord-webhook", Severity.HIGH, C.FAKE_DISCORD_HOOK, "const hook = '{v}'"),
        *(Case(f"digitalocean-{p}", "digitalocean-token", Severity.CRITICAL, p + fake_value(64, HEX, 100 + n), "DO={v}") for n, p in enumerate(("dop_v1_", "doo_v1_", "dor_v1_"))),
        Case("vault", "vault-token", Severity.CRITICAL, C.FAKE_VAULT, "VAULT_TOKEN={v}"),
        Case("azure", "azure-storage-key", Severity.CRITICAL, "AccountKey=" + C.FAKE_AZURE_KEY, "conn = 'DefaultEndpointsProtocol=https;AccountName=a;{v};EndpointSuffix=core.windows.net'"),
        Case("azure-sas", "azure-storage-key", Severity.CRITICAL, "SharedAccessKey=" + fake_value(43, BASE64, 110) + "=", "sb = 'Endpoint=sb://x/;SharedAccessKeyName=root;{v}'"),
        Case("shopify", "shopify-token", Severity.CRITICAL, C.FAKE_SHOPIFY, 'token = "{v}"'),
        Case("databricks", "databricks-token", Severity.CRITICAL, C.FAKE_DATABRICKS, "DATABRICKS_TOKEN={v}"),
    ]
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_provider_token_fires_with_its_rule_and_severity(case: Case) -> None:
    content = "import os\n\n" + case.line.replace("{v}", case.value) + "\nprint('done')\n"
    threats = creds(new_file("app/config/settings.txt", content))
    assert [t.rule for t in threats] == [f"credentials/{case.rule}"]
    threat = threats[0]
    assert threat.severity is case.severity
    assert threat.line == 3
    assert threat.path == "app/config/settings.txt"
    assert threat.evidence is not None and threat.evidence.endswith(f"({len(case.value)} chars)")
    assert_redacted(threats, case.value)


@pytest.mark.parametrize(
    "header",
    ["RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY"],
)
def test_private_key_blocks(header: str) -> None:
    pem = C.fake_pem(header, salt=len(header))
    threats = creds(new_file("deploy/key.pem", "# deploy key\n" + pem + "\n"))
    assert [(t.rule, t.severity, t.line) for t in threats] == [("credentials/private-key", Severity.CRITICAL, 2)]
    assert threats[0].evidence == f"-----BEGIN {header}-----…({len(pem)} chars)"
    body_line = pem.split("\n")[1]
    assert_redacted(threats, body_line)


def test_pgp_private_key_block_and_escaped_pem_in_a_string() -> None:
    pgp = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + "\n".join(fake_value(64, BASE64, n) for n in range(4)) + "\n-----END PGP PRIVATE KEY BLOCK-----"
    escaped = 'KEY = "' + C.fake_pem("RSA PRIVATE KEY", newline="\\n", salt=5) + '"'
    assert [t.rule for t in creds(new_file("keys/signing.asc", pgp + "\n"))] == ["credentials/private-key"]
    assert [t.rule for t in creds(new_file("src/keys.py", escaped + "\n"))] == ["credentials/private-key"]


def test_gcp_service_account_json() -> None:
    doc = json.dumps({"type": "service_account", "project_id": "p", "private_key_id": fake_value(40, HEX, 3), "private_key": C.fake_pem("PRIVATE KEY") + "\n", "client_email": "svc@p.iam.gserviceaccount.com"}, indent=2)
    threats = creds(new_file("infra/sa-key.json", doc + "\n"))
    assert [(t.rule, t.severity) for t in threats] == [("credentials/gcp-service-account", Severity.CRITICAL)]
    assert threats[0].line == 5


def test_header_only_pem_in_code_is_not_a_key() -> None:
    code = 'MARKER = "-----BEGIN RSA PRIVATE KEY-----"\nif text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----"):\n    pass\n'
    assert creds(new_file("lib/pem.py", code)) == []


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg2", "mysql", "mongodb", "mongodb+srv", "redis", "rediss", "amqp", "amqps", "mssql"])
def test_database_urls_with_a_password(scheme: str) -> None:
    password = fake_value(16, ALNUM, len(scheme))
    threats = creds(new_file("config/app.env", f"DATABASE_URL={scheme}://svc:{password}@db.prod.internal:5432/app\n"))
    assert [(t.rule, t.severity) for t in threats] == [("credentials/database-url", Severity.CRITICAL)]
    assert threats[0].evidence is not None and threats[0].evidence.startswith(f"{scheme}://…")
    assert_redacted(threats, password)


def test_database_url_variants_that_are_not_leaks() -> None:
    lines = [
        "DATABASE_URL=postgres://app@db.internal/app",  # no password
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal/app",
        "DATABASE_URL=postgres://postgres:postgres@localhost/app",  # default credentials
        "REDIS_URL=redis://:password@cache:6379/0",
        "URL=https://user:" + fake_value(16, ALNUM, 1) + "@example.org/",  # not a database scheme
    ]
    assert creds(new_file("config/app.env", "\n".join(lines) + "\n")) == []
    local = creds(new_file("docker/dev.env", f"DATABASE_URL=postgres://app:{fake_value(16, ALNUM, 2)}@localhost:5432/app\n"))
    assert [(t.rule, t.severity) for t in local] == [("credentials/database-url", Severity.LOW)]


def test_npmrc_legacy_auth_token() -> None:
    uuid = "-".join((fake_value(8, HEX, 0), fake_value(4, HEX, 1), "4" + fake_value(3, HEX, 2), "8" + fake_value(3, HEX, 3), fake_value(12, HEX, 4)))
    threats = creds(new_file(".npmrc", "//${REGISTRY}/:_authToken=" + uuid + "\n"))
    assert [(t.rule, t.severity) for t in threats] == [("credentials/npm-token", Severity.CRITICAL)]
    assert creds(new_file("src/client.py", f"self._auth={fake_value(12, ALNUM, 5)}_value\n")) == []


def test_openai_and_anthropic_share_the_sk_dash_prefix_correctly() -> None:
    kinds = [m.kind for m in find_secrets(f"a={C.FAKE_OPENAI}\nb={C.FAKE_ANTHROPIC}\nc=sk-{fake_value(12, ALNUM, 1)}\n")]
    assert kinds == ["openai-key", "anthropic-key"]


def test_tokens_glued_to_longer_words_are_ignored() -> None:
    body = fake_value(36, ALNUM, 7)
    assert find_secrets("xghp_" + body) == []
    assert find_secrets("ghp_" + body + "Z") != []  # still a token shape (37 chars is allowed)
    assert find_secrets("AKIA" + fake_value(16, BASE32, 8) + "abc") == []
    assert find_secrets("AIza" + fake_value(36, BASE64URL, 9)) == []  # 40 chars: not a Google key


# ---------------------------------------------------------------------------------------------
# AWS key pairs


def test_aws_key_pair_is_one_critical_finding() -> None:
    content = f"[default]\naws_access_key_id = {C.FAKE_AWS_ID}\naws_secret_access_key = {C.FAKE_AWS_SECRET}\nregion = eu-west-1\n"
    threats = creds(new_file("deploy/credentials", content))
    assert [(t.rule, t.severity, t.line) for t in threats] == [("credentials/aws-key-pair", Severity.CRITICAL, 2)]
    assert threats[0].evidence == "AKIA…(20 chars) + …(40 chars)"
    assert_redacted(threats, C.FAKE_AWS_ID, C.FAKE_AWS_SECRET)


def test_aws_key_pair_in_a_typescript_object() -> None:
    content = f"const creds = {{\n    accessKeyId: '{C.FAKE_AWS_ID}',\n    secretAccessKey: '{C.FAKE_AWS_SECRET}',\n}}\n"
    assert [t.rule for t in creds(new_file("src/aws.ts", content))] == ["credentials/aws-key-pair"]


def test_aws_secret_alone_and_far_apart_pairs() -> None:
    alone = creds(new_file("deploy/aws.env", f"AWS_SECRET_ACCESS_KEY={C.FAKE_AWS_SECRET}\n"))
    assert [(t.rule, t.severity) for t in alone] == [("credentials/aws-secret-key", Severity.CRITICAL)]
    filler = "\n".join(f"setting_{n} = {n}" for n in range(200))
    apart = creds(new_file("deploy/aws.py", f'KEY_ID = "{C.FAKE_AWS_ID}"\n{filler}\naws_secret_access_key = "{C.FAKE_AWS_SECRET}"\n'))
    assert sorted(t.rule for t in apart) == ["credentials/aws-access-key", "credentials/aws-secret-key"]


def test_aws_documentation_keys_are_not_secrets() -> None:
    content = f"accessKeyId: '{C.AWS_DOC_ID}',\nsecretAccessKey: '{C.AWS_DOC_SECRET}',\n"
    assert creds(new_file("src/aws.ts", content)) == []
    other_example = "AKIA" + "I44QH8DHBEXAMPLE"
    assert creds(new_file("src/aws.ts", f"id = '{other_example}'\n")) == []


# ---------------------------------------------------------------------------------------------
# Generic secrets


GENERIC_POSITIVES = {
    "python": 'DB_PASSWORD = "{v}"',
    "python-annotated": 'api_key: str = "{v}"',
    "python-kwarg": 'client = Client(url, password="{v}")',
    "env": "API_KEY={v}",
    "export": "export SERVICE_TOKEN='{v}'",
    "yaml": "  password: {v}",
    "json": '  "client_secret": "{v}",',
    "php": "    'auth_token' => '{v}',",
    "ruby-symbol": "  secret_key_base: '{v}'",
    "go": '    Password: "{v}",',
    "ts": 'const apiKey: string = "{v}"',
    "dict-subscript": 'settings["access_token"] = "{v}"',
    "header": '"Authorization": "Bearer {v}",',
    "properties": "db.password={v}",
    "camel": "signingKey = '{v}'",
}


@pytest.mark.parametrize("name", sorted(GENERIC_POSITIVES))
def test_generic_secret_assignments(name: str) -> None:
    value = fake_value(20, ALNUM, len(name)) + "9aZ"
    threats = creds(new_file("src/app/config.txt", "x = 1\n" + GENERIC_POSITIVES[name].replace("{v}", value) + "\n"))
    assert [(t.rule, t.severity, t.line) for t in threats] == [("credentials/generic-secret", Severity.HIGH, 2)]
    assert threats[0].evidence == f"{value[:2]}…({len(value)} chars)"
    assert_redacted(threats, value)


def test_short_password_with_mixed_characters_fires() -> None:
    password = "".join(("Xk9#", "mP2q!v"))
    assert [t.rule for t in creds(new_file("app/db.py", f'password = "{password}"\n'))] == ["credentials/generic-secret"]


GENERIC_NEGATIVES = {
    # placeholders
    "example": 'password = "example-password-123"',
    "dummy": 'api_key = "dummy_key_8f7a6b5c4d3e2f1a"',
    "fake": 'token = "fake-token-Zx81kQ0aPlm3Vb7r"',
    "sample": 'secret = "sample9Qz8Xy7Wv6Ut5"',
    "test": 'password = "test1234ABCD!xyz"',
    "changeme": 'password = "changeme123"',
    "your": 'api_key = "your_api_key_here"',
    "angle": 'token = "<YOUR-TOKEN-9>"',
    "xxx": 'secret = "xxxxxxxxxxxxxxxx"',
    "stars": 'password = "************"',
    "redacted": 'token = "REDACTED-9x8y7z6w"',
    # references to the environment or configuration
    "shell-braces": "password = ${DB_PASSWORD}",
    "shell": "TOKEN=$GITHUB_TOKEN_2024",
    "process-env": "const token = process.env.API_TOKEN_V2",
    "os-environ": 'secret = os.environ["APP_SECRET_1"]',
    "os-getenv": 'password = os.getenv("DB_PASSWORD", "")',
    "ruby-env": 'api_key = ENV["API_KEY_1"]',
    "actions-secret": "  token: ${{ secrets.DEPLOY_TOKEN }}",
    "actions-expression": "  token: ${{ github.token }}",
    "template": 'password: "{{ .Values.db.password }}"',
    "fstring": 'token = f"{prefix}{suffix}"',
    # code, not literals
    "call": "api_key = getToken()",
    "dotted": "token = self.settings.api_token2",
    "identifier": "password = passwordFromVault",
    "comparison": 'if token == "a8f5f167f44f4964e6c998dee827110c":',
    # shapes that are not secrets
    "short": 'password = "Ab1!"',
    "uuid": 'api_key = "123e4567-e89b-12d3-a456-426614174000"',
    "git-sha": f'commit_token = "{fake_value(40, HEX, 1)}"',
    "sha256": f'secret = "{fake_value(64, HEX, 2)}"',
    "sha512": f'token = "{fake_value(128, HEX, 3)}"',
    "integrity": f'  "auth": "sha512-{fake_value(86, BASE64, 4)}=="',
    "data-uri": f'token = "data:image/png;base64,{fake_value(40, BASE64, 5)}"',
    "path": 'private_key = "/etc/ssl/private/server-2024.key"',
    "relative-path": 'password_file = "./secrets/db_password.txt"',
    "url": 'auth = "https://login.example.org/oauth2/v2.0/token"',
    "slug": "token: 'k8s-aws-v1.initial-token'",
    "camel-words": 'secret = "getUserAccessToken2"',
    "version": 'token = "1.22.3-rc.1"',
    # names that are not credential settings
    "password-hash": f'password_hash = "{fake_value(20, ALNUM, 6)}9aZ"',
    "token-url": f'token_url = "{fake_value(20, ALNUM, 7)}9aZ"',
    "tokenizer": f'tokenizer = "{fake_value(20, ALNUM, 8)}9aZ"',
    "secret-name": f'secret_name = "{fake_value(20, ALNUM, 9)}9aZ"',
    "next-page-token": f'next_page_token = "{fake_value(20, ALNUM, 10)}9aZ"',
    "csrf": f'csrf_token = "{fake_value(20, ALNUM, 11)}9aZ"',
    "public-key": f'public_key = "{fake_value(20, ALNUM, 12)}9aZ"',
    "cache-key": f'cache_key = "{fake_value(20, ALNUM, 13)}9aZ"',
    "author": f'author = "{fake_value(20, ALNUM, 14)}9aZ"',
}


@pytest.mark.parametrize("name", sorted(GENERIC_NEGATIVES))
def test_generic_non_secrets(name: str) -> None:
    assert creds(new_file("src/app/config.txt", GENERIC_NEGATIVES[name] + "\n")) == []


def test_unquoted_values_count_only_outside_programming_languages() -> None:
    value = fake_value(16, ALNUM, 3) + "7x"
    line = f"password = {value}\n"
    assert [t.rule for t in creds(new_file("deploy/app.env", line))] == ["credentials/generic-secret"]
    assert [t.rule for t in creds(new_file("deploy/values.yaml", f"password: {value}\n"))] == ["credentials/generic-secret"]
    assert creds(new_file("src/app.py", line)) == []  # a variable named like a random string
    assert [t.rule for t in creds(new_file("src/app.py", f'password = "{value}"\n'))] == ["credentials/generic-secret"]
    assert [m.kind for m in find_secrets(line)] == ["generic-secret"]
    assert find_secrets(line, code=True) == []


def test_provider_token_in_an_assignment_is_reported_once() -> None:
    threats = creds(new_file("src/settings.py", f'GITHUB_TOKEN = "{C.FAKE_GITHUB}"\n'))
    assert [t.rule for t in threats] == ["credentials/github-token"]


# ---------------------------------------------------------------------------------------------
# Documentation examples and allowlist


def test_documented_examples_are_allowlisted() -> None:
    docs_github = "ghs_" + "16C7e42F292c6912E7710c838347Ae178B4a"
    stripe_docs = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"
    content = "\n".join(
        [
            f"token: {docs_github}",
            f'stripe.api_key = "{stripe_docs}"',
            f"jwt: {C.JWT_IO_SAMPLE}",
            "aws_access_key_id = AKIA" + "ABCDEFGHEXAMPLE7",
        ]
    )
    assert creds(new_file("docs/examples.txt", content + "\n")) == []


def test_placeholder_provider_tokens_are_ignored() -> None:
    content = "\n".join(["ghp_" + "x" * 36, "AKIA" + "X" * 16, "sk_live_" + "0" * 24, "xoxb-" + "1" * 12 + "-" + "x" * 24])
    assert find_secrets(content) == []


# ---------------------------------------------------------------------------------------------
# Redaction


def test_find_secrets_reports_offsets_and_no_value() -> None:
    text = f"a = 1\ntoken = '{C.FAKE_GITHUB}'\nkey = {C.FAKE_STRIPE}\n"
    matches = find_secrets(text)
    assert [m.kind for m in matches] == ["github-token", "stripe-key"]
    assert [text[m.start : m.end] for m in matches] == [C.FAKE_GITHUB, C.FAKE_STRIPE]
    assert matches[0].redacted == "ghp_…(40 chars)"
    assert matches[0].severity is Severity.CRITICAL
    for match in matches:
        assert isinstance(match, SecretMatch)
        for field in fields(match):
            assert C.FAKE_GITHUB not in repr(getattr(match, field.name))
            assert C.FAKE_STRIPE not in repr(getattr(match, field.name))


def test_redact_text_removes_every_value() -> None:
    values = [C.FAKE_GITHUB, C.FAKE_SLACK, C.FAKE_OPENAI, C.fake_jwt(), C.FAKE_PASSWORD, C.FAKE_DB_PASSWORD]
    text = (
        f"The agent found {values[0]} and {values[1]}; also OPENAI_API_KEY={values[2]}.\n"
        f"curl -H 'Authorization: Bearer {values[3]}'\npassword: \"{values[4]}\"\n"
        f"postgres://admin:{values[5]}@db.example.net/x\n"
    )
    redacted = redact_text(text)
    for value in values:
        assert value not in redacted
    assert "ghp_…(40 chars)" in redacted
    assert "postgres://…" in redacted
    assert redact_text(redacted) == redacted  # idempotent
    plain = "Nothing secret here: token = os.environ['TOKEN']"
    assert redact_text(plain) == plain
    assert redact_text("") == ""


def test_redact_text_handles_pairs_and_keeps_the_text_between() -> None:
    text = f"id={C.FAKE_AWS_ID}\naws_secret_access_key={C.FAKE_AWS_SECRET}\n"
    assert redact_text(text) == "id=AKIA…(20 chars)\naws_secret_access_key=…(40 chars)\n"


def test_every_rule_example_threat_is_redacted() -> None:
    secrets = [getattr(C, name) for name in dir(C) if name.startswith("FAKE_")]
    for rule_id, rule in REGISTRY.items():
        if not rule_id.startswith("credentials/"):
            continue
        fired = [t for t in threats_for(rule.positive.diff) if t.rule == rule_id]
        assert fired, rule_id
        for threat in fired:
            dumped = threat.model_dump_json()
            assert "chars)" in (threat.evidence or "")
            for secret in secrets:
                assert secret not in dumped, rule_id


def test_every_kind_has_one_registered_rule() -> None:
    ids = {rule_id for rule_id in REGISTRY if rule_id.startswith("credentials/")}
    assert ids == {f"credentials/{kind}" for kind in KIND_LABELS}
    assert all(REGISTRY[rule_id].threat_type.value == "credential_exposure" for rule_id in ids)


# ---------------------------------------------------------------------------------------------
# What is scanned


def test_removed_and_context_lines_are_not_scanned() -> None:
    removed = edit_file("scripts/release.sh", f"export GITHUB_TOKEN={C.FAKE_GITHUB}", 'export GITHUB_TOKEN="$GH_TOKEN"')
    context = edit_file("scripts/release.sh", "", "echo done", context_before=f"export NPM_TOKEN={C.FAKE_NPM}\n")
    assert creds(removed) == []
    assert creds(context) == []


@pytest.mark.parametrize("path", ["yarn.lock", "package-lock.json", "go.sum", "poetry.lock", "src/__snapshots__/app.test.ts.snap", "tests/snapshots/out.snap"])
def test_lockfiles_and_snapshots_are_skipped(path: str) -> None:
    assert creds(new_file(path, f'  "token": "{C.FAKE_GITHUB}"\n  password: "{C.FAKE_PASSWORD}"\n')) == []


def test_test_paths_keep_provider_keys_and_lower_generic_findings() -> None:
    content = f'GITHUB_TOKEN = "{C.FAKE_GITHUB}"\nDB_PASSWORD = "{C.FAKE_PASSWORD}"\nJWT = "{C.fake_jwt()}"\n'
    in_tests = {t.rule: t.severity for t in creds(new_file("tests/test_client.py", content))}
    in_src = {t.rule: t.severity for t in creds(new_file("src/client.py", content))}
    assert in_src == {"credentials/github-token": Severity.CRITICAL, "credentials/generic-secret": Severity.HIGH, "credentials/jwt": Severity.HIGH}
    assert in_tests == {"credentials/github-token": Severity.CRITICAL, "credentials/generic-secret": Severity.MEDIUM, "credentials/jwt": Severity.MEDIUM}
    keys = creds(new_file("testdata/tls/server.key", C.fake_pem() + "\n"))
    assert [(t.rule, t.severity) for t in keys] == [("credentials/private-key", Severity.HIGH)]


def test_line_numbers_follow_the_new_file() -> None:
    diff = edit_file("app/settings.py", "OLD = 1\n", f'OLD = 2\nNEW_TOKEN = "{C.FAKE_GITHUB}"\n', context_before="import os\n", start=40)
    assert [t.line for t in creds(diff)] == [42]


def test_non_ascii_text_keeps_offsets_aligned() -> None:
    text = f"# İstanbul ünïcödé 🎉\npassword = \"{C.FAKE_PASSWORD}\"  # İ\ntoken: {C.FAKE_GITHUB}\n"
    matches = find_secrets(text)
    assert [text[m.start : m.end] for m in matches] == [C.FAKE_PASSWORD, C.FAKE_GITHUB]
    assert sorted(t.line for t in creds(new_file("app/é.py", text))) == [2, 3]


# ---------------------------------------------------------------------------------------------
# Real diffs from the corpus


@pytest.mark.parametrize(
    "name",
    ["benign-test-fixture-aws-example-keys", "benign-yarn-lock-bump", "benign-refactor-sdkv3", "benign-auth-fix"],
)
def test_benign_corpus_diffs_have_no_credential_findings(name: str) -> None:
    path = CORPUS_DIFFS / f"{name}.patch"
    if not path.is_file():
        pytest.skip("corpus not present beside the checkout")
    diff = path.read_text(encoding="utf-8")
    assert parse_unified_diff(diff).files, "the patch should parse into files"
    serious = [t for t in creds(diff) if t.severity.rank >= Severity.MEDIUM.rank]
    assert serious == []


# ---------------------------------------------------------------------------------------------
# Speed and linear time


FIVE_MB = 5_000_000


SHAPES = {
    "one-char": lambda: "a" * FIVE_MB,
    "base64-blob": lambda: (fake_value(4093, BASE64, 1) * (FIVE_MB // 4093 + 1))[:FIVE_MB],
    "anchors": lambda: ("AKIA" * 7 + "ghp_" * 7 + "eyJ." + "sk-" * 5 + "xoxb-1-") * (FIVE_MB // 80),
    "keyword-identifier": lambda: "token" * (FIVE_MB // 5),
    "assignments": lambda: 'password="' * (FIVE_MB // 10),
    "key-value": lambda: "key=" * (FIVE_MB // 4),
    "pem-headers": lambda: "-----BEGIN PRIVATE KEY-----" * (FIVE_MB // 27),
    "url-userinfo": lambda: "postgres://u:pppppp@" * (FIVE_MB // 20),
    "minified": lambda: "var a={key:b,value:function(c){return c.token&&c.auth?d(c):null}};" * (FIVE_MB // 66),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_five_megabyte_line_scans_in_well_under_a_second(shape: str) -> None:
    text = SHAPES[shape]()
    assert "\n" not in text and len(text) >= FIVE_MB * 0.95
    started = time.perf_counter()
    find_secrets(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{shape}: {elapsed:.2f}s"


def test_detector_throughput_on_ordinary_code() -> None:
    snippet = (
        "def handler(event, context):\n"
        "    token = event.get('token')\n"
        "    if not token:\n"
        "        raise ValueError('missing token')\n"
        "    password = os.environ['DB_PASSWORD']\n"
        "    return {'statusCode': 200, 'body': json.dumps({'key': key, 'auth': bool(token)})}\n"
        "\n"
        "const config = { apiKey: process.env.API_KEY, secret: undefined, retries: 3 }\n"
    )
    lines = 60_000
    content = snippet * (lines // snippet.count("\n"))
    diff = new_file("src/handler.py", content)
    change = parse_unified_diff(diff).files[0]
    assert len(change.added) >= lines - 10
    started = time.perf_counter()
    found = list(detect_credentials(FileContext.of(change)))
    elapsed = time.perf_counter() - started
    assert found == []
    # The tier budget is 50,000 lines/s for all ~8 families together; this family alone must be
    # several times faster than that.
    assert len(change.added) / elapsed > 200_000, f"{len(change.added) / elapsed:.0f} lines/s"


def test_entropy_is_bits_per_character() -> None:
    assert entropy("") == 0.0
    assert entropy("aaaa") == 0.0
    assert entropy("abcd") == pytest.approx(2.0)
    assert entropy(fake_value(64, BASE64URL)) > 4.5
