"""Rule family: comment_injection (being written)."""
