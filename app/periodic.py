"""Periodic jobs, exactly once per time slot across every replica.

Each scheduler tick inserts, for every periodic kind, a job whose ``dedupe_key`` names the current
slot (``periodic:{kind}:{slot start}``); the unique index lets exactly one insert per slot win, so
N replicas schedule it once. Work tied to one machine's disk (old PR workspaces) is not a cluster
job: each process prunes its own data dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import DateTime, Engine, bindparam, text
from sqlmodel import Session

from app.jobs import ClaimedJob, JobQueue
from app.tables import utcnow

log = logging.getLogger("watchpost.periodic")

MAINTAIN_QUEUE = "maintain_queue"
SUCCEEDED_JOB_RETENTION = timedelta(days=7)
DELIVERY_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class PeriodicJob:
    kind: str
    interval: timedelta


PERIODIC_JOBS = (PeriodicJob(MAINTAIN_QUEUE, timedelta(hours=1)),)


def slot_start(now: datetime, interval: timedelta) -> datetime:
    seconds = int(interval.total_seconds())
    epoch = int((now - datetime(1970, 1, 1)).total_seconds())
    return datetime(1970, 1, 1) + timedelta(seconds=epoch - epoch % seconds)


def schedule_due(queue: JobQueue, jobs: tuple[PeriodicJob, ...] = PERIODIC_JOBS, now: datetime | None = None) -> list[int]:
    """Enqueue the current slot of every periodic job (a no-op when another replica already did)."""
    now = now or queue.clock()
    created = []
    with Session(queue.engine) as session:
        for job in jobs:
            start = slot_start(now, job.interval)
            enqueued = queue.enqueue(session, job.kind, {"slot": start.isoformat()}, dedupe_key=f"periodic:{job.kind}:{start.isoformat()}", max_attempts=3)
            if enqueued.created:
                created.append(enqueued.id)
        session.commit()
    return created


async def run_scheduler(queue: JobQueue, stop: asyncio.Event, tick_seconds: float = 30.0) -> None:
    while not stop.is_set():
        try:
            await asyncio.to_thread(schedule_due, queue)
        except Exception:
            log.exception("periodic scheduling failed; retrying next tick")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=tick_seconds)


def maintain_queue(engine: Engine, queue: JobQueue, now: datetime | None = None) -> dict[str, int]:
    """Dead-letter jobs that exhausted their attempts, and prune old finished rows."""
    now = now or utcnow()
    buried = queue.bury_exhausted()
    with engine.begin() as connection:
        jobs = connection.execute(
            text("DELETE FROM job WHERE status = 'succeeded' AND finished_at < :cutoff").bindparams(bindparam("cutoff", type_=DateTime())),
            {"cutoff": now - SUCCEEDED_JOB_RETENTION},
        ).rowcount
        deliveries = connection.execute(
            text("DELETE FROM delivery WHERE received_at < :cutoff AND status IN ('done', 'ignored', 'malformed', 'duplicate', 'queued')").bindparams(bindparam("cutoff", type_=DateTime())),
            {"cutoff": now - DELIVERY_RETENTION},
        ).rowcount
    return {"buried": buried, "jobs_pruned": jobs, "deliveries_pruned": deliveries}


def make_maintain_handler(engine: Engine, queue: JobQueue):
    async def handle(job: ClaimedJob) -> None:
        outcome = await asyncio.to_thread(maintain_queue, engine, queue)
        log.info("queue maintenance for slot %s: %s", job.payload.get("slot"), outcome)

    return handle


def prune_workspaces(data_dir: Path, retention: timedelta, now: float | None = None) -> int:
    """Delete this machine's PR workspaces older than ``retention``; returns how many."""
    root = data_dir / "workspaces"
    if not root.is_dir():
        return 0
    cutoff = (now if now is not None else time.time()) - retention.total_seconds()
    removed = 0
    for metadata in root.glob("*/*/*/metadata.json"):
        workspace = metadata.parent
        if metadata.stat().st_mtime < cutoff:
            shutil.rmtree(workspace, ignore_errors=True)
            removed += 1
    return removed
