"""Talking to GitHub: App authentication, a resilient gidgethub client, the PR fetcher."""
