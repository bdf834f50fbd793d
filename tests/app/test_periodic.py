from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from app.jobs import JobQueue
from app.periodic import (
    MAINTAIN_QUEUE,
    PeriodicJob,
    maintain_queue,
    prune_workspaces,
    schedule_due,
    slot_start,
)
from app.tables import Delivery, Job

HOURLY = (PeriodicJob(MAINTAIN_QUEUE, timedelta(hours=1)),)


def test_slots() -> None:
    assert slot_start(datetime(2026, 3, 1, 10, 59, 59), timedelta(hours=1)) == datetime(2026, 3, 1, 10)
    assert slot_start(datetime(2026, 3, 1, 11, 0, 0), timedelta(hours=1)) == datetime(2026, 3, 1, 11)


def test_exactly_once_per_slot_even_with_racing_schedulers(engine) -> None:
    queue = JobQueue(engine)
    now = datetime(2026, 3, 1, 10, 15)
    created: list[list[int]] = []
    threads = [threading.Thread(target=lambda: created.append(schedule_due(queue, HOURLY, now))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(ids) for ids in created) == 1
    assert schedule_due(queue, HOURLY, now + timedelta(minutes=30)) == []  # same slot
    assert len(schedule_due(queue, HOURLY, now + timedelta(hours=1))) == 1  # next slot
    with Session(engine) as session:
        keys = sorted(job.dedupe_key for job in session.exec(select(Job)).all())
    assert keys == ["periodic:maintain_queue:2026-03-01T10:00:00", "periodic:maintain_queue:2026-03-01T11:00:00"]


def test_maintenance_prunes_old_rows_and_buries_exhausted(engine) -> None:
    now = datetime(2026, 3, 1, 12)
    queue = JobQueue(engine, clock=lambda: now - timedelta(days=10))
    with Session(engine) as session:
        old = queue.enqueue(session, "scan_pr", {}).id
        session.add(Delivery(delivery_id="old", event="ping", status="ignored", received_at=now - timedelta(days=40), updated_at=now))
        session.add(Delivery(delivery_id="new", event="ping", status="ignored", received_at=now, updated_at=now))
        session.commit()
    claimed = queue.claim("w")
    queue.complete(claimed.id, "w")
    outcome = maintain_queue(engine, JobQueue(engine, clock=lambda: now), now=now)
    assert outcome["jobs_pruned"] == 1 and outcome["deliveries_pruned"] == 1
    with Session(engine) as session:
        assert session.get(Job, old) is None
        assert [d.delivery_id for d in session.exec(select(Delivery)).all()] == ["new"]


def test_prune_workspaces(tmp_path: Path) -> None:
    fresh = tmp_path / "workspaces" / "o__r" / "1" / "aaa-1-1"
    stale = tmp_path / "workspaces" / "o__r" / "2" / "bbb-2-1"
    for directory in (fresh, stale):
        directory.mkdir(parents=True)
        (directory / "metadata.json").write_text("{}")
    old = (stale / "metadata.json").stat().st_mtime - 4 * 86400
    os.utime(stale / "metadata.json", (old, old))
    assert prune_workspaces(tmp_path, timedelta(hours=72)) == 1
    assert fresh.exists() and not stale.exists()
