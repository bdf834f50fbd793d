"""Rule family: credentials (being written)."""
