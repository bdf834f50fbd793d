"""Hostname facts shared by the page, domain and e-mail analysers: the registrable domain, IP
literals, punycode and mixed scripts, and lookalikes of the brands in ``data/brands.txt``.

The registrable domain is approximated without the Public Suffix List (which would be a new,
frequently changing data dependency): the last two labels, or three under a known two-level suffix
(``co.uk`` …) or a hosting suffix where every subdomain has a different owner (``github.io`` …).
Unknown multi-level suffixes make two unrelated sites look related, never the reverse.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from scanners.models import Severity

MAX_HOST_CHARS = 253

_TWO_LEVEL_SUFFIXES = frozenset({
    "co.uk", "org.uk", "ac.uk", "gov.uk", "ltd.uk", "plc.uk", "me.uk", "com.au", "net.au", "org.au", "edu.au", "gov.au",
    "co.jp", "ne.jp", "or.jp", "ac.jp", "co.nz", "org.nz", "com.br", "net.br", "com.cn", "net.cn", "org.cn", "com.mx",
    "co.in", "net.in", "org.in", "co.za", "com.tr", "com.sg", "com.hk", "co.kr", "or.kr", "com.ar", "com.tw", "co.id",
    "com.my", "com.ph", "com.vn", "com.ua", "co.il", "com.pl", "com.es", "co.th", "com.co", "com.pe", "com.sa",
})
# Suffixes under which each subdomain belongs to someone else: "x.github.io" is not GitHub.
_HOSTING_SUFFIXES = frozenset({
    "github.io", "gitlab.io", "netlify.app", "vercel.app", "herokuapp.com", "pages.dev", "workers.dev", "web.app",
    "firebaseapp.com", "azurewebsites.net", "blogspot.com", "wordpress.com", "s3.amazonaws.com", "cloudfront.net",
    "appspot.com", "glitch.me", "repl.co", "ngrok.io", "ngrok-free.app", "trycloudflare.com", "onrender.com",
    "fly.dev", "surge.sh", "000webhostapp.com", "weebly.com", "wixsite.com", "godaddysites.com", "myshopify.com",
    "sharepoint.com", "web.core.windows.net", "blob.core.windows.net", "r2.dev", "framer.app", "webflow.io",
    "carrd.co", "notion.site", "gitbook.io", "readthedocs.io", "duckdns.org", "no-ip.org", "ddns.net",
})
_PHISHY_WORDS = frozenset({
    "secure", "security", "login", "logon", "signin", "sign", "verify", "verification", "account", "accounts", "support",
    "update", "service", "services", "billing", "help", "auth", "wallet", "id", "confirm", "unlock", "recovery", "alert",
    "customer", "online", "webscr", "access", "payment", "invoice",
})

# Characters that render like Latin letters (Cyrillic, Greek, Armenian, IPA, fullwidth forms are
# folded by NFKC first) and digits used for letters.
_HOMOGLYPHS = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "п": "n", "г": "r",
    "ɡ": "g", "ɑ": "a", "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ϲ": "c", "ո": "n", "ս": "u", "օ": "o", "ց": "g", "ı": "i", "ł": "l", "ø": "o", "đ": "d",
    "0": "o", "1": "l", "3": "e", "5": "s", "$": "s", "@": "a",
})
_MULTI_GLYPHS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_LABEL_SPLIT = re.compile(r"[-_.]")


@dataclass(frozen=True, slots=True)
class Brand:
    key: str
    domains: tuple[str, ...]
    names: tuple[str, ...]  # display names matched in text (empty: none)
    common_word: bool


@dataclass(frozen=True, slots=True)
class HostFinding:
    kind: str  # lookalike, brand-in-subdomain, brand-token, mixed-script, confusable-idn, idn, ip-literal, deep-subdomains
    severity: Severity | None  # None: a fact for a signal, not a threat
    detail: str
    brand: str | None = None


@lru_cache(maxsize=1)
def brands() -> tuple[Brand, ...]:
    text = resources.files("scanners.web").joinpath("data/brands.txt").read_text(encoding="utf-8")
    result: list[Brand] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, _, names = line.partition(";")
        fields = head.split()
        key = fields[0]
        common = key.startswith("!")
        key = key.lstrip("!")
        display = tuple(name.strip() for name in names.split(";") if name.strip())
        if not display and not common:
            display = (key,)
        result.append(Brand(key, tuple(fields[1:]), display, common))
    return tuple(result)


def normalise_host(host: str) -> str:
    """Lower-case, no port, no trailing dot, no IPv6 brackets; Unicode labels to punycode."""
    host = host.strip().lower()[:MAX_HOST_CHARS]
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    host = host.rsplit("@", 1)[-1]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError, ValueError):
            host = host.encode("idna").decode("ascii")
    return host


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    host = normalise_host(host)
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # Browsers also accept a single decimal or hex number ("http://3232235777/").
    if re.fullmatch(r"(?:0x[0-9a-f]{1,8}|\d{1,10})", host):
        try:
            value = int(host, 16) if host.startswith("0x") else int(host)
            return ipaddress.IPv4Address(value) if value < 2**32 else None
        except ValueError:
            return None
    return None


def registrable_domain(host: str) -> str:
    host = normalise_host(host)
    if ip_literal(host) is not None:
        return host
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    for size in (3, 2):
        suffix = ".".join(labels[-size:])
        if suffix in _HOSTING_SUFFIXES and len(labels) > size:
            return ".".join(labels[-size - 1 :])
    if ".".join(labels[-2:]) in _TWO_LEVEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(a: str, b: str) -> bool:
    return registrable_domain(a) == registrable_domain(b)


def unicode_label(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        return label.encode("ascii").decode("idna")
    except (UnicodeError, ValueError):
        return label


def unicode_host(host: str) -> str:
    return ".".join(unicode_label(label) for label in normalise_host(host).split("."))


def _script(ch: str) -> str:
    if ch.isascii():
        return "latin" if ch.isalpha() else ""
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "other"
    word = name.split(" ", 1)[0]
    if word in ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "HEBREW", "ARABIC", "HANGUL", "HIRAGANA", "KATAKANA", "THAI", "GEORGIAN"):
        return word.lower()
    if word in ("CJK", "IDEOGRAPHIC"):
        return "han"
    return "other" if unicodedata.category(ch).startswith("L") else ""


def scripts(label: str) -> set[str]:
    return {script for ch in label if (script := _script(ch))}


def skeleton(text: str) -> str:
    """What a label looks like: homoglyphs and look-alike digits folded to Latin letters."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text.lower()).translate(_HOMOGLYPHS))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    for pair, single in _MULTI_GLYPHS:
        folded = folded.replace(pair, single)
    return folded


def _one_slip(a: str, b: str) -> bool:
    """``a`` is ``b`` with one character left out, one added, or two neighbours swapped — the
    typos squatters register (``paypl``, ``paypall``, ``pyapal``). A single substituted letter is
    left to ``skeleton``: arbitrary substitutions turn ordinary words into brands (finance →
    binance, cooking → booking)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def official_brand(host: str) -> Brand | None:
    """The brand whose own domain this host is (a subdomain of one of its domains, or the brand's
    name as the whole registrable label under another public suffix, such as a country domain —
    brands register those defensively; ``paypal.github.io`` is not one)."""
    host = normalise_host(host)
    site = registrable_domain(host)
    label, _, suffix = site.partition(".")
    for brand in brands():
        for domain in brand.domains:
            if (host == domain or host.endswith("." + domain)) and registrable_domain(domain) == site:
                return brand
        if label == brand.key and not brand.common_word and suffix not in _HOSTING_SUFFIXES:
            return brand
    return None


def _brand_lookalike(site_label: str, tokens: list[str]) -> tuple[Brand, str] | None:
    """A brand the registrable label imitates: (brand, how)."""
    folded_label = skeleton(unicode_label(site_label))
    for brand in brands():
        key = brand.key
        folded_key = skeleton(key)
        if site_label != key and folded_label == folded_key:
            return brand, "looks like"
        for token in tokens:
            if token != key and skeleton(token) == folded_key:
                return brand, "contains a look-alike of"
        if brand.common_word or len(key) < 5:
            continue
        if any(_one_slip(candidate, key) for candidate in (site_label, *tokens) if len(candidate) >= 4):
            return brand, "is one typo away from"
    return None


def check_host(host: str, *, domain_checks: bool = False) -> list[HostFinding]:
    """Lookalike / punycode / mixed-script findings for a hostname; with ``domain_checks`` also IP
    literals and deep subdomain chains (checks that belong to a domain verdict)."""
    host = normalise_host(host)
    findings: list[HostFinding] = []
    if not host:
        return findings
    address = ip_literal(host)
    if address is not None:
        if domain_checks:
            private = not address.is_global  # private, loopback, link-local, documentation ranges
            severity = Severity.LOW if private else Severity.MEDIUM
            findings.append(HostFinding("ip-literal", severity, "the host is a bare IP address, not a domain name"))
        return findings
    if official_brand(host) is not None:
        return findings
    site = registrable_domain(host)
    site_label = site.split(".", 1)[0]
    sub_labels = host[: -len(site)].rstrip(".").split(".") if host != site else []
    tokens = [t for t in _LABEL_SPLIT.split(unicode_label(site_label)) if t]

    for label in host.split("."):
        if not label.startswith("xn--"):
            continue
        decoded = unicode_label(label)
        found = scripts(decoded)
        # Latin mixed with CJK scripts is ordinary (Japanese, Chinese, Korean names); Latin with
        # Cyrillic or Greek, or two such scripts together, is the homograph trick.
        other = found - {"latin", "han", "hiragana", "katakana", "hangul"}
        if ("latin" in found and other) or len(other) > 1:
            findings.append(HostFinding("mixed-script", Severity.HIGH, f"label {label} mixes scripts ({', '.join(sorted(found))})"))
        elif found != {"latin"} and (folded := skeleton(decoded)).isascii() and folded.replace("-", "").isalpha():
            findings.append(HostFinding("confusable-idn", Severity.MEDIUM, f"label {label} is written entirely in characters that look Latin"))
        else:
            findings.append(HostFinding("idn", None, f"internationalised label {label}"))

    lookalike = _brand_lookalike(site_label, tokens)
    if lookalike:
        brand, how = lookalike
        shown = site if site.isascii() and "xn--" not in site else f"{site} ({unicode_host(site)})"
        findings.append(HostFinding("lookalike", Severity.HIGH, f"{shown} {how} {brand.key} (official: {brand.domains[0]})", brand.key))
    else:
        embedded = _embedded_brand_domain(sub_labels)
        if embedded:
            findings.append(HostFinding(
                "brand-in-subdomain", Severity.HIGH, f"{host} puts {embedded.domains[0]}-like labels in front of the unrelated {site}", embedded.key
            ))
        else:
            token_brand, phishy = _brand_token(tokens, sub_labels)
            if token_brand:
                severity = Severity.MEDIUM if phishy else Severity.LOW
                extra = " next to words such as login / verify / account" if phishy else ""
                findings.append(HostFinding(
                    "brand-token", severity, f"{host} uses the brand name {token_brand.key}{extra} but is not its domain", token_brand.key
                ))
    if domain_checks and len(sub_labels) >= 5:
        findings.append(HostFinding("deep-subdomains", Severity.LOW, f"{len(sub_labels)} subdomain levels in front of {site}"))
    return findings


def _embedded_brand_domain(sub_labels: list[str]) -> Brand | None:
    """``paypal.com.account-check.example``: a brand's domain spelled out as subdomain labels."""
    joined = "." + ".".join(sub_labels) + "."
    for brand in brands():
        for domain in brand.domains:
            if f".{domain}." in joined:
                return brand
    return None


def _brand_token(tokens: list[str], sub_labels: list[str]) -> tuple[Brand | None, bool]:
    words = set(tokens)
    for label in sub_labels:
        words.update(t for t in _LABEL_SPLIT.split(label) if t)
    phishy = bool(words & _PHISHY_WORDS)
    for brand in brands():
        if brand.key in words and (not brand.common_word or phishy):
            return brand, phishy
        if not brand.common_word and len(brand.key) >= 6 and any(brand.key in word and word != brand.key for word in words):
            return brand, phishy or any(word != brand.key and brand.key in word and word.replace(brand.key, "") in _PHISHY_WORDS for word in words)
    return None, phishy


def brands_named_in(text: str) -> list[Brand]:
    """Brands whose display name appears as words in ``text`` (a title, a sender name, alt text)."""
    lowered = text.lower()
    found: list[Brand] = []
    for brand in brands():
        for name in brand.names:
            if re.search(rf"(?<![a-z0-9]){re.escape(name.lower())}(?![a-z0-9])", lowered):
                found.append(brand)
                break
    return found


def brand_owns(brand: Brand, host: str) -> bool:
    host = normalise_host(host)
    official = official_brand(host)
    if official is not None and (official.key == brand.key or set(official.domains) & set(brand.domains)):
        return True
    return any(host == d or host.endswith("." + d) for d in brand.domains)
