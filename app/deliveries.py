"""A delivery's outcome follows its job: ``done`` when the job succeeded, ``failed`` when it went
to the dead-letter state. GitHub's "Redeliver" on a failed delivery then runs it again, and one
that succeeded starts nothing (see ``intake._record_in``).

Written after the job's own state change, not in its transaction: if the process dies between the
two, the intake still sees the dead job through ``delivery.job_id`` and re-arms it.
"""

from __future__ import annotations

from sqlalchemy import DateTime, Engine, bindparam, text

from app.tables import DeliveryStatus, JobStatus, utcnow

_MARK = text(
    "UPDATE delivery SET status = :status, error = :error, updated_at = :now "
    "WHERE delivery_id = :delivery_id AND status IN ('queued', 'failed', 'done')"
).bindparams(bindparam("now", type_=DateTime()))
# One delivery can start several jobs (a check suite with several PRs): one failure marks it
# failed, and a later success of a sibling must not hide that.
_MARK_DONE = text(
    "UPDATE delivery SET status = 'done', updated_at = :now WHERE delivery_id = :delivery_id AND status = 'queued'"
).bindparams(bindparam("now", type_=DateTime()))


def record_job_outcome(engine: Engine, delivery_id: str | None, job_status: str | None, error: str | None = None) -> None:
    """Mark the delivery that caused a job once the job is finished (succeeded or dead)."""
    if not delivery_id or job_status not in (JobStatus.SUCCEEDED, JobStatus.DEAD):
        return
    with engine.begin() as connection:
        if job_status == JobStatus.SUCCEEDED:
            connection.execute(_MARK_DONE, {"delivery_id": delivery_id, "now": utcnow()})
        else:
            connection.execute(_MARK, {"delivery_id": delivery_id, "status": DeliveryStatus.FAILED, "error": (error or "")[:2000], "now": utcnow()})
