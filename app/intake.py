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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web
from gidgethub import sansio
from sqlalchemy import Connection, DateTime, Engine, bindparam, text

from app.http_errors import json_error
from app.jobs import JobQueue
from app.metrics import WEBHOOK_DELIVERIES, WEBHOOK_LATENCY
from app.streams import read_body
from app.tables import DeliveryStatus, JobStatus, utcnow
from app.webhook_routes import ROUTER, JobSpec, RoutingContext

MAX_WEBHOOK_BODY = 25 * 1024 * 1024
GROUP_COMMIT_MAX = 64  # deliveries committed together while earlier ones were being written
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


_INSERT_DELIVERY = text(
    "INSERT INTO delivery (delivery_id, event, action, installation_id, repository, status, error, received_at, updated_at) "
    "VALUES (:delivery_id, :event, :action, :installation_id, :repository, :status, :error, :now, :now) "
    "ON CONFLICT (delivery_id) DO NOTHING RETURNING id"
).bindparams(bindparam("now", type_=DateTime()))


_EXISTING_DELIVERY = text(
    "SELECT d.id, d.status, j.status AS job_status FROM delivery d LEFT JOIN job j ON j.id = d.job_id WHERE d.delivery_id = :id"
)


def record_delivery(engine: Engine, queue: JobQueue, **fields: Any) -> IntakeResult:
    """Write one delivery and its jobs in one transaction (fields as ``_record_in`` takes them)."""
    with engine.begin() as connection:
        return _record_in(connection, queue, **fields)


def record_deliveries(engine: Engine, queue: JobQueue, batch: list[dict[str, Any]]) -> list[IntakeResult]:
    """Group commit: several deliveries in one transaction (one fsync), each with its jobs."""
    with engine.begin() as connection:
        return [_record_in(connection, queue, **item) for item in batch]


def _record_in(
    connection: Connection,
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
    """Core SQL with ``ON CONFLICT DO NOTHING``: this runs before every 202."""
    now = utcnow()
    status = DeliveryStatus.QUEUED if jobs else status_if_no_jobs
    row = connection.execute(_INSERT_DELIVERY, {
        "delivery_id": delivery_id, "event": event, "action": action, "installation_id": installation_id,
        "repository": repository, "status": status, "error": error, "now": now,
    }).first()
    requeued = False
    if row is None:
        # A redelivery runs again only when the first run failed: the delivery was marked failed,
        # or its job is dead (the outcome may not have been recorded if the worker died).
        existing = connection.execute(_EXISTING_DELIVERY, {"id": delivery_id}).one()
        if existing.status != DeliveryStatus.FAILED and existing.job_status != JobStatus.DEAD:
            return IntakeResult("duplicate", existing.id, 0)
        connection.execute(
            text("UPDATE delivery SET status = :status, error = :error, updated_at = :now WHERE id = :id").bindparams(bindparam("now", type_=DateTime())),
            {"status": status, "error": error, "now": now, "id": existing.id},
        )
        delivery_row, requeued = existing.id, True
    else:
        delivery_row = row[0]
    first_job = None
    for spec in jobs:
        job = queue.enqueue(connection, spec.kind, spec.payload, dedupe_key=spec.dedupe_key, concurrency_key=spec.concurrency_key, priority=spec.priority)
        first_job = first_job or job.id
    if first_job is not None:
        connection.execute(text("UPDATE delivery SET job_id = :job WHERE id = :id"), {"job": first_job, "id": delivery_row})
    return IntakeResult("requeued" if requeued else status, delivery_row, len(jobs))


class WebhookIntake:
    def __init__(self, engine: Engine, queue: JobQueue, secret: str | None, bot_login: str | None = None, skip_drafts: bool = True) -> None:
        self.engine = engine
        self.queue = queue
        self.secret = secret
        self.bot_login = bot_login
        self.skip_drafts = skip_drafts
        # SQLite has one writer: several threads racing for BEGIN IMMEDIATE make its busy handler
        # sleep (up to 100 ms a time), which is what the p99 acknowledgement latency would show.
        # One writer thread queues them without sleeping. PostgreSQL takes concurrent writers.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-db")
        self._pending: list[tuple[dict[str, Any], asyncio.Future[IntakeResult]]] = []
        self._flushing = False
        self._flush_task: asyncio.Task[None] | None = None

    async def _write(self, **kwargs: Any) -> IntakeResult:
        """Queue one delivery for the writer; resolves only after its transaction committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[IntakeResult] = loop.create_future()
        self._pending.append((kwargs, future))
        if not self._flushing:
            self._flushing = True
            self._flush_task = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending[:GROUP_COMMIT_MAX], self._pending[GROUP_COMMIT_MAX:]
                try:
                    results = await loop.run_in_executor(self._executor, partial(record_deliveries, self.engine, self.queue, [item for item, _ in batch]))
                except Exception as exc:  # nothing of this batch was committed: every sender gets an error
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._flushing = False

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
            body, _too_large = await read_body(request.content, MAX_WEBHOOK_BODY)
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
        result = await self._write(
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
        await self._write(
            delivery_id=delivery_id, event=event_name, action=action, installation_id=None, repository=None,
            jobs=[], status_if_no_jobs=DeliveryStatus.MALFORMED, error=error[:2000],
        )
