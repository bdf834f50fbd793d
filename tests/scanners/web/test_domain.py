"""analyze_domain and the hostname helpers behind it."""

from __future__ import annotations

import pytest

from scanners.web import analyze_domain, analyze_page
from scanners.web.hostnames import (
    brands,
    brands_named_in,
    check_host,
    official_brand,
    registrable_domain,
    skeleton,
)
from tests.scanners.web.helpers import fixture, page, rules_of


def kinds(host: str, *, domain_checks: bool = True) -> dict[str, str | None]:
    return {f.kind: (f.severity.value if f.severity else None) for f in check_host(host, domain_checks=domain_checks)}


def test_brand_list_is_package_data_and_well_formed() -> None:
    loaded = brands()
    assert len(loaded) >= 40
    assert all(b.key.isascii() and b.key == b.key.lower() and b.domains for b in loaded)
    assert not any("npm" in d or "pypi" in d for b in loaded for d in b.domains)


@pytest.mark.parametrize(("host", "site"), [
    ("a.b.example.co.uk", "example.co.uk"), ("www.example.com", "example.com"), ("user.github.io", "user.github.io"),
    ("bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com"), ("EXAMPLE.com.", "example.com"), ("example.com:8443", "example.com"),
    ("10.0.0.1", "10.0.0.1"),
])
def test_registrable_domain(host: str, site: str) -> None:
    assert registrable_domain(host) == site


@pytest.mark.parametrize(("host", "kind", "severity"), [
    ("paypa1.test", "lookalike", "high"),  # digit for letter
    ("rnicrosoft.test", "lookalike", "high"),  # rn for m
    ("paypall.test", "lookalike", "high"),  # one letter added
    ("pyapal.test", "lookalike", "high"),  # neighbours swapped
    ("xn--80ak6aa92e.test", "lookalike", "high"),  # Cyrillic "аррӏе"
    ("xn--80ak6aa92e.test", "confusable-idn", "medium"),
    ("xn--pypal-4ve.test", "mixed-script", "high"),  # Latin with a Cyrillic "а"
    ("paypal.com.verify-account.test", "brand-in-subdomain", "high"),
    ("paypal-secure-login.test", "brand-token", "medium"),
    ("paypal-fans.test", "brand-token", "low"),
    ("8.8.4.4", "ip-literal", "medium"),
    ("192.168.0.10", "ip-literal", "low"),
    ("3232235777", "ip-literal", "low"),  # a decimal IPv4 literal
    ("a.b.c.d.e.shop.test", "deep-subdomains", "low"),
    ("xn--mnchen-3ya.test", "idn", None),
])
def test_hostname_findings(host: str, kind: str, severity: str | None) -> None:
    assert kinds(host).get(kind, "missing") == severity


@pytest.mark.parametrize("host", [
    "www.paypal.com", "login.microsoftonline.com", "google.de", "finance.test", "cooking.test", "apple-pie.test",
    "stripes.test", "docs.python.org", "example.com", "a.b.example.com", "mail.google.com",
])
def test_ordinary_hostnames_are_clean(host: str) -> None:
    assert [f for f in check_host(host, domain_checks=True) if f.severity is not None] == []


def test_brand_lookalike_helpers() -> None:
    assert skeleton("pаypаl") == "paypal"
    assert official_brand("paypal.github.io") is None  # a user page under a hosting suffix
    assert official_brand("www.paypal.com") is not None
    assert [b.key for b in brands_named_in("PayPal: Log in")] == ["paypal"]
    assert brands_named_in("Apple pie recipes") == []  # common-word brands need their display name
    assert brands_named_in("Sign in with your Apple ID")[0].key == "apple"


def test_domain_analysis_combines_hostname_and_home_page() -> None:
    findings = analyze_domain(page(fixture("injected_page.html"), "https://paypa1.test/"))
    assert rules_of(findings) == {"web/lookalike-domain": "high", "web/hidden-instructions": "critical"}
    assert all(e.source == "domain:paypa1.test" for e in findings.edges)


def test_domain_only_checks() -> None:
    assert rules_of(analyze_domain(page("<p>router</p>", "http://8.8.4.4/"))) == {"web/ip-literal-host": "medium"}
    assert rules_of(analyze_domain(page("<p>router</p>", "http://192.168.1.1/"))) == {"web/ip-literal-host": "low"}
    assert rules_of(analyze_domain(page("<p>x</p>", "https://a.b.c.d.e.shop.test/"))) == {"web/excessive-subdomains": "low"}
    # The page analyser leaves those to the domain verdict.
    assert analyze_page(page("<p>router</p>", "http://203.0.113.7/")).threats == []


def test_typo_domain_redirecting_to_the_brand_is_a_defensive_registration() -> None:
    snapshot = page("<p>PayPal home</p>", "https://www.paypal.com/", requested="https://paypall.com/",
                    chain=["https://paypall.com/"])
    findings = analyze_domain(snapshot)
    assert "web/lookalike-domain" not in rules_of(findings)
    assert any(e.relation == "redirects_to" and e.target == "domain:www.paypal.com" for e in findings.edges)


def test_benign_domain_is_clean() -> None:
    findings = analyze_domain(page(fixture("docs_page.html"), "https://widgetlib.test/"))
    assert findings.threats == [] and findings.complete
    assert ("domain:widgetlib.test", "domain:code.example.test", "links_to") in {(e.source, e.target, e.relation) for e in findings.edges}
