"""``watchpost lookup``: one deep scan in this process, no server and no database — the same
sources and analysers the API's workers use, for a person or an agent at a shell."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from app.lookup.fetch import GuardedFetcher
from app.lookup.identifiers import Identifier, Origin, parse_identifier, parse_pr
from app.lookup.sources.base import SourceContext
from app.lookup.sources.registry import SOURCES
from app.runtime import GitHubAccess
from app.settings import Settings
from scanners.models import ScanReport, Tolerance
from scanners.pipeline import with_tolerance


def parse_target(target: str) -> Identifier:
    """``ORIGIN/IDENTIFIER`` as in the API path (``npm/left-pad``, ``pr/owner/repo/12``)."""
    origin, _, rest = target.partition("/")
    if origin == Origin.PR.value:
        owner, _, remainder = rest.partition("/")
        repo, _, number = remainder.partition("/")
        return parse_pr(owner, repo, number)
    return parse_identifier(origin, rest)


async def lookup_once(settings: Settings, identifier: Identifier, tolerance: Tolerance) -> ScanReport:
    source = SOURCES.get(identifier.origin)
    if source is None:
        raise LookupError(f"{identifier.origin.value} lookups are answered by the server (e.g. POST /email), not the CLI")
    async with aiohttp.ClientSession() as session:
        fetcher = GuardedFetcher(allow_private=settings.allow_private_fetch, max_bytes=settings.fetch_max_bytes, timeout=settings.fetch_timeout_seconds)
        try:
            context = SourceContext(settings=settings, session=session, executor=None, github=GitHubAccess.from_settings(settings, session), page_fetcher=fetcher)
            outcome = await source.deep_scan(identifier, context, datetime.now(UTC))
        finally:
            await fetcher.close()
    return with_tolerance(outcome.report, tolerance)
