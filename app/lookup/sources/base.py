"""What every origin's source provides: a cheap provisional answer (pure, no network: the cache-miss
path must stay fast) and a deep scan (fetch → pure analyser → report)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar

import aiohttp

from app.lookup.identifiers import Identifier
from app.settings import Settings
from scanners.artifacts import ArtifactFindings, Edge
from scanners.models import ScanReport

T = TypeVar("T")


class SourceError(Exception):
    """The deep scan could not finish; worth retrying (network trouble, 5xx)."""


class SourceUnavailable(SourceError):
    """This origin cannot be scanned on this instance (a setting is missing); retrying is useless."""


class ArtifactNotFound(SourceError):
    """The registry, GitHub or site says the artifact does not exist (answered 404)."""


@dataclass
class ScanOutcome:
    """A finished deep scan: the final report, the edges it saw, and the report after each tier in
    order (for the ``tier1_complete`` … ``scan_complete`` webhook events)."""

    report: ScanReport
    edges: list[Edge] = field(default_factory=list)
    stages: list[tuple[str, ScanReport]] = field(default_factory=list)


STAGE_EVENTS = ("tier1_complete", "tier2_complete", "tier3_complete", "scan_complete")


def staged(identity_stage: ScanReport | None, final: ScanReport) -> list[tuple[str, ScanReport]]:
    """The webhook stages of an artifact scan: tier 1 is what identity and metadata alone said
    (marked ``pending_deep_scan``: more is coming), tiers 2 and 3 and the end carry the final
    answer (tier 3 is not run for artifacts; its event still comes, in order)."""
    first = (identity_stage or final).model_copy(update={"pending_deep_scan": True})
    interim = final.model_copy(update={"pending_deep_scan": True})
    return [("tier1_complete", first), ("tier2_complete", interim), ("tier3_complete", interim), ("scan_complete", final)]


@dataclass
class SourceContext:
    settings: Settings
    session: aiohttp.ClientSession
    executor: Executor | None
    github: Any  # app.runtime.GitHubAccess (typed loosely to keep the import graph one-way)
    page_fetcher: Any = None  # app.lookup.fetch.GuardedFetcher

    async def cpu(self, function: Callable[..., T], *args: Any) -> T:
        """Run a pure analyser off the event loop (a process pool when there is one)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(function, *args))


class Source(Protocol):
    def provisional(self, identifier: Identifier) -> ArtifactFindings: ...

    def deep_scan(self, identifier: Identifier, context: SourceContext, scanned_at: datetime) -> Awaitable[ScanOutcome]: ...
