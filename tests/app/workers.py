"""Run a job worker until the queue has nothing queued or running (bounded), then stop it."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.tables import Job
from app.worker import Worker


async def run_until_drained(worker: Worker, engine: Engine, *, polls: int = 200, interval: float = 0.02) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(polls):
        await asyncio.sleep(interval)
        with Session(engine) as session:
            if not session.exec(select(Job).where(Job.status.in_(["queued", "running"]))).first():
                break
    stop.set()
    await task
