"""Rule family: pr_injection (being written)."""
