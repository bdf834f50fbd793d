"""Yes/no values written by people (query strings, workflow inputs): one vocabulary everywhere."""

from __future__ import annotations

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", ""})


def parse_flag(value: str) -> bool | None:
    """True or False, or None when the text is neither (the caller says which input was wrong)."""
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None
