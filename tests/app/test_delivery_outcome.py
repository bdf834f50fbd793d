"""A delivery's status follows its job (done / failed), and GitHub's "Redeliver" runs a failed
delivery again but never one that succeeded — on SQLite and PostgreSQL, with a real Worker."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import Session, select

from app.deliveries import record_job_outcome
from app.intake import record_delivery
from app.jobs import JobQueue
from app.tables import Delivery, Job
from app.webhook_routes import JobSpec
from app.worker import PermanentJobError, Worker
from tests.app.workers import run_until_drained


def deliver(engine, queue: JobQueue, delivery_id: str, kind: str = "scan_pr", dedupe: str | None = None):
    spec = JobSpec(kind=kind, payload={"delivery_id": delivery_id}, dedupe_key=dedupe or f"k:{delivery_id}")
    return record_delivery(engine, queue, delivery_id=delivery_id, event="pull_request", action="opened", installation_id=1, repository="o/r", jobs=[spec])


def delivery(engine, delivery_id: str) -> Delivery:
    with Session(engine) as session:
        return session.exec(select(Delivery).where(Delivery.delivery_id == delivery_id)).one()


def run_until_idle(engine, queue: JobQueue, handler) -> None:
    async def go() -> None:
        worker = Worker(
            queue, {"scan_pr": handler}, concurrency=1, poll_interval=0.02, lease=timedelta(seconds=30),
            on_finished=lambda job, status, error: record_job_outcome(engine, job.payload.get("delivery_id"), status, error),
        )
        await run_until_drained(worker, engine)

    asyncio.run(go())


def test_success_marks_the_delivery_done_and_a_redelivery_starts_nothing(engine) -> None:
    queue = JobQueue(engine)
    calls: list[int] = []

    async def ok(job) -> None:
        calls.append(job.id)

    deliver(engine, queue, "d-ok")
    run_until_idle(engine, queue, ok)
    assert delivery(engine, "d-ok").status == "done" and len(calls) == 1
    assert deliver(engine, queue, "d-ok").status == "duplicate"
    run_until_idle(engine, queue, ok)
    assert len(calls) == 1


def test_dead_job_marks_the_delivery_failed_and_a_redelivery_runs_it_again(engine) -> None:
    queue = JobQueue(engine)
    attempts: list[int] = []

    async def broken(job) -> None:
        attempts.append(job.id)
        raise PermanentJobError("installation token refused")

    deliver(engine, queue, "d-bad")
    run_until_idle(engine, queue, broken)
    row = delivery(engine, "d-bad")
    assert row.status == "failed" and "installation token refused" in (row.error or "")

    async def ok(job) -> None:
        attempts.append(job.id)

    assert deliver(engine, queue, "d-bad").status == "requeued"
    run_until_idle(engine, queue, ok)
    assert len(attempts) == 2 and delivery(engine, "d-bad").status == "done"


def test_dead_job_whose_outcome_was_never_recorded_still_reruns(engine) -> None:
    # The worker died between burying the job and marking the delivery: the delivery still says
    # "queued", but the intake looks at the job itself.
    queue = JobQueue(engine)
    result = deliver(engine, queue, "d-lost")
    with Session(engine) as session:
        job = session.get(Job, delivery(engine, "d-lost").job_id)
        job.status = "dead"
        session.add(job)
        session.commit()
    assert result.status == "queued"
    assert deliver(engine, queue, "d-lost").status == "requeued"
    with Session(engine) as session:
        assert session.get(Job, delivery(engine, "d-lost").job_id).status == "queued"


def test_a_failed_sibling_is_not_hidden_by_a_later_success(engine) -> None:
    queue = JobQueue(engine)
    deliver(engine, queue, "d-two")
    record_job_outcome(engine, "d-two", "dead", "boom")
    record_job_outcome(engine, "d-two", "succeeded")
    assert delivery(engine, "d-two").status == "failed"
    record_job_outcome(engine, "d-two", "running")  # not final: ignored
    record_job_outcome(engine, None, "dead")  # jobs without a delivery (periodic ones): ignored
    assert delivery(engine, "d-two").status == "failed"
