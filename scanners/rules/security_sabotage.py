"""Rule family: security_sabotage (being written)."""
