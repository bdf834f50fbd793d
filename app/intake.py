"""``POST /webhooks/github``: durable before acknowledged.

Order of work: size limit (413) → HMAC-SHA256 over the raw body, constant time (401) → required
headers (400) → JSON object (400, recorded as malformed) → routing into job descriptions → one
transaction writing the delivery row and its jobs → 202. A delivery id seen before starts nothing
unless its earlier run failed; then its jobs are re-armed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from aiohttp import web
from gidgethub import sansio
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.http_errors import json_error
from app.jobs import JobQueue
from app.metrics import WEBHOOK_DELIVERIES, WEBHOOK_LATENCY
from app.tables import Delivery, DeliveryStatus, utcnow
from app.webhook_routes import ROUTER, JobSpec, RoutingContext

MAX_WEBHOOK_BODY = 25 * 1024 * 1024
SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature_is_valid(body: bytes, signature: str | None, secret: str) -> bool:
    if not signature or not signature.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("ascii", errors="replace"))


@dataclass(slots=True)
class IntakeResult:
    status: str  # queued | duplicate | requeued | ignored | malformed
    delivery_row: int | None
    jobs: int


def record_delivery(
    engine: Engine,
    queue: JobQueue,
    *,
    delivery_id: str,
    event: str,
    action: str | None,
    installation_id: int | None,
    repository: str | None,
    jobs: list[JobSpec],
    status_if_no_jobs: str = DeliveryStatus.IGNORED,
    error: str | None = None,
) -> IntakeResult:
    """Write the delivery and its jobs in one transaction (or recognise a redelivery)."""
    with Session(engine) as session:
        existing = session.exec(select(Delivery).where(Delivery.delivery_id == delivery_id)).first()
        if existing is not None and existing.status not in (DeliveryStatus.FAILED,):
            return IntakeResult("duplicate", existing.id, 0)
        now = utcnow()
        delivery = existing or Delivery(delivery_id=delivery_id, event=event, action=action, installation_id=installation_id, repository=repository, received_at=now)
        delivery.status = DeliveryStatus.QUEUED if jobs else status_if_no_jobs
        delivery.error = error
        delivery.updated_at = now
        session.add(delivery)
        try:
            session.flush()
            first_job = None
            for spec in jobs:
                job = queue.enqueue(session, spec.kind, spec.payload, dedupe_key=spec.dedupe_key, concurrency_key=spec.concurrency_key, priority=spec.priority)
                if first_job is None and job is not None:
                    first_job = job.id
            delivery.job_id = first_job
            session.add(delivery)
            session.commit()
        except IntegrityError:
            # The same delivery id arrived twice at once; the other request recorded it.
            session.rollback()
            return IntakeResult("duplicate", None, 0)
        return IntakeResult("requeued" if existing is not None else (DeliveryStatus.QUEUED if jobs else delivery.status), delivery.id, len(jobs))


class WebhookIntake:
    def __init__(self, engine: Engine, queue: JobQueue, secret: str | None, bot_login: str | None = None, skip_drafts: bool = True) -> None:
        self.engine = engine
        self.queue = queue
        self.secret = secret
        self.bot_login = bot_login
        self.skip_drafts = skip_drafts

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        response = await self._handle(request)
        WEBHOOK_LATENCY.observe(time.perf_counter() - started)
        return response

    async def _handle(self, request: web.Request) -> web.Response:
        event_name = request.headers.get("X-GitHub-Event", "")
        if self.secret is None:
            WEBHOOK_DELIVERIES.labels(event=event_name or "-", outcome="not_configured").inc()
            return json_error(503, "webhooks are disabled: the GitHub App is not configured (WATCHPOST_GITHUB_WEBHOOK_SECRET)")
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BODY:
            WEBHOOK_DELIVERIES.labels(event=event_name or "-", outcome="too_large").inc()
            return json_error(413, f"body larger than {MAX_WEBHOOK_BODY // (1024 * 1024)} MB")
        try:
            body = await request.content.read(MAX_WEBHOOK_BODY + 1)
        except asyncio.CancelledError:
            raise
        if len(body) > MAX_WEBHOOK_BODY:
            WEBHOOK_DELIVERIES.labels(event=event_name or "-", outcome="too_large").inc()
            return json_error(413, f"body larger than {MAX_WEBHOOK_BODY // (1024 * 1024)} MB")
        if not signature_is_valid(body, request.headers.get(SIGNATURE_HEADER), self.secret):
            WEBHOOK_DELIVERIES.labels(event=event_name or "-", outcome="bad_signature").inc()
            return json_error(401, f"missing or invalid {SIGNATURE_HEADER} signature")
        delivery_id = request.headers.get("X-GitHub-Delivery", "").strip()
        if not event_name or not delivery_id or len(delivery_id) > 128:
            WEBHOOK_DELIVERIES.labels(event=event_name or "-", outcome="bad_headers").inc()
            return json_error(400, "X-GitHub-Event and X-GitHub-Delivery headers are required")

        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError) as exc:
            await self._record_malformed(delivery_id, event_name, f"body is not a JSON object: {exc}")
            return json_error(400, "body is not a JSON object")

        action = data.get("action") if isinstance(data.get("action"), str) else None
        installation = data.get("installation") if isinstance(data.get("installation"), dict) else {}
        repository = data.get("repository") if isinstance(data.get("repository"), dict) else {}
        sender = data.get("sender") if isinstance(data.get("sender"), dict) else {}
        context = RoutingContext(delivery_id=delivery_id, skip_drafts=self.skip_drafts)
        if self.bot_login and sender.get("login") == self.bot_login:
            context.ignored_reason = "sent by this App"
        else:
            try:
                await ROUTER.dispatch(sansio.Event(data, event=event_name, delivery_id=delivery_id), context)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                await self._record_malformed(delivery_id, event_name, f"payload lacks expected fields: {type(exc).__name__}: {exc}", action=action)
                return json_error(400, f"malformed {event_name} payload")
        installation_id = installation.get("id") if isinstance(installation.get("id"), int) else None
        result = await asyncio.to_thread(
            record_delivery, self.engine, self.queue,
            delivery_id=delivery_id, event=event_name, action=action, installation_id=installation_id,
            repository=repository.get("full_name") if isinstance(repository.get("full_name"), str) else None,
            jobs=context.jobs, error=context.ignored_reason,
        )
        WEBHOOK_DELIVERIES.labels(event=event_name, outcome=result.status).inc()
        body_out = {"delivery": delivery_id, "status": result.status, "jobs": result.jobs}
        if context.ignored_reason and not context.jobs:
            body_out["reason"] = context.ignored_reason
        return web.json_response(body_out, status=202)

    async def _record_malformed(self, delivery_id: str, event_name: str, error: str, action: str | None = None) -> None:
        WEBHOOK_DELIVERIES.labels(event=event_name, outcome="malformed").inc()
        await asyncio.to_thread(
            record_delivery, self.engine, self.queue,
            delivery_id=delivery_id, event=event_name, action=action, installation_id=None, repository=None,
            jobs=[], status_if_no_jobs=DeliveryStatus.MALFORMED, error=error[:2000],
        )
