"""Tier-2 rule families. Importing this package registers every rule and detector."""

from scanners.rules import (  # noqa: F401  (imported for their registrations)
    agent_config,
    comment_injection,
    credentials,
    obfuscation,
    pr_injection,
    security_sabotage,
    supply_chain,
)
from scanners.rules.registry import REGISTRY, Example, Rule

__all__ = ["REGISTRY", "Example", "Rule"]
