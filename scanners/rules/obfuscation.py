"""Rule family: obfuscation (being written)."""
