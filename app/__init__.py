"""Watchpost's service layer: everything with I/O (settings, GitHub, storage, HTTP, LLM client)."""
