"""Every rule id the web page, domain and e-mail analysers emit, with the reason it exists."""

from __future__ import annotations

RULES: dict[str, str] = {
    # Pages and domains
    "web/hidden-instructions": "Text a human cannot see (CSS-hidden, same colour as the background, comments, meta, "
    "invisible Unicode) that addresses an AI agent or tells it to override, run, leak or conceal something is an "
    "injection aimed at the agent reading the page.",
    "web/visible-agent-instructions": "Visible text that tells AI agents to run commands, override their instructions "
    "or send data out tries to make the agent act for the page's author instead of its user.",
    "web/download-and-run": "A command that pipes a download into a shell runs unreviewed code; an agent should not "
    "follow it without its user asking.",
    "web/invisible-unicode": "Unicode tag characters and variation-selector runs carry text no reader sees, the known "
    "way to smuggle instructions or data past a human.",
    "web/credential-form-cross-domain": "A password or card form that submits to another domain (or a data:/mailto: "
    "target) hands credentials to someone other than the site the user believes they are on.",
    "web/credential-form-insecure": "A password or card form sent over plain HTTP exposes credentials in transit.",
    "web/brand-impersonation": "A login page that presents itself as a well-known brand on a domain the brand does "
    "not own is the shape of credential phishing.",
    "web/lookalike-domain": "A hostname confusable with a well-known brand's domain (homoglyphs, one-typo spellings, "
    "the brand's domain spelled out in subdomains) exists to be mistaken for it.",
    "web/punycode-hostname": "An internationalised hostname that mixes scripts or is written entirely in Latin "
    "look-alike characters is a homograph attack on the reader.",
    "web/brand-in-hostname": "A brand name inside someone else's hostname (often beside words like login or verify) "
    "borrows the brand's trust.",
    "web/ip-literal-host": "A bare IP address instead of a domain name hides who operates the site and is typical of "
    "throwaway phishing and malware hosts.",
    "web/excessive-subdomains": "A long chain of subdomains pushes the real registrable domain out of view in a "
    "browser's address bar.",
    "web/data-url-link": "Links that open a data: URL document show content with no real origin, a known way to "
    "evade URL filters in phishing.",
    "web/javascript-url-link": "javascript: links that decode or redirect run script the reader cannot inspect from "
    "the link text.",
    "web/meta-refresh-cross-domain": "An automatic meta refresh to an unrelated domain moves the reader somewhere "
    "they did not choose to go.",
    "web/redirect-cross-domain": "The requested URL ended on an unrelated domain: what the reader (or agent) was "
    "sent to is not what was linked.",
    # E-mail
    "email/hidden-instructions": "Text in an e-mail that the recipient does not see (hidden HTML, or instructions "
    "only in one of the text/HTML alternatives) and that addresses an AI assistant is an injection aimed at it.",
    "email/visible-agent-instructions": "An e-mail telling an AI assistant to forward mail, send secrets or run "
    "commands tries to make the assistant act for the sender.",
    "email/download-and-run": "An e-mail telling its reader to pipe a download into a shell asks for code execution.",
    "email/invisible-unicode": "Unicode tag characters and variation-selector runs in an e-mail carry text the "
    "recipient does not see.",
    "email/reply-to-mismatch": "Replies go to a different domain than the sender's, the pattern of impersonation "
    "and business-e-mail-compromise fraud.",
    "email/return-path-mismatch": "The envelope sender's domain differs from the From domain and nothing "
    "(DMARC/DKIM) vouches that the From domain sent it.",
    "email/display-name-spoof": "The display name shows an e-mail address at another domain than the real sender, "
    "so the recipient sees a trusted address that is not the one sending.",
    "email/display-name-brand": "The display name claims a well-known brand that does not own the sending domain.",
    "email/lookalike-sender": "The sender's domain imitates a well-known brand (homoglyphs, punycode, one typo).",
    "email/auth-fail": "SPF, DKIM or DMARC failed for the sender's domain: the message is likely forged.",
    "email/auth-weak": "SPF, DKIM or DMARC produced no pass (none, softfail, neutral, error): the sender is not "
    "authenticated.",
    "email/deceptive-link": "A link shows one domain but goes to another (a brand's domain as text, a lookalike or "
    "IP as target): the recipient is misled about where they will land.",
    "email/credential-request": "The message pressures the recipient to verify or update passwords, account or "
    "payment details, the core of credential phishing.",
    "email/dangerous-attachment": "Executable, script, macro-enabled, disk-image or HTML attachments are how "
    "e-mail delivers malware and local phishing pages.",
    "email/disguised-attachment": "An attachment whose name hides its real type (a double extension, or contents "
    "that do not match the extension) exists to deceive.",
}
