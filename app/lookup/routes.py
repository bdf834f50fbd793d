"""The lookup API's HTTP surface (see ``docs/api.md`` and ``GET /openapi.json``).

Handlers validate input (400 with the reason), call ``LookupService``, and render the one report
shape as JSON, ``simple`` text or an SVG badge, always with the ``x-watchpost-*`` headers.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from cachetools import LRUCache
from pydantic import ValidationError

from app.flags import parse_flag
from app.http_errors import json_error
from app.lookup import store
from app.lookup.answers import (
    BulkRequest,
    BulkResult,
    EmailAnswer,
    GraphAnswer,
    GraphEdgeOut,
    GraphNode,
    ListAnswer,
    ListedArtifact,
    answer_headers,
    answer_json,
    badge_svg,
    lookup_answer,
    simple_text,
)
from app.lookup.identifiers import (
    LOOKUP_ORIGINS,
    Identifier,
    IdentifierError,
    Origin,
    parse_identifier,
    parse_pr,
)
from app.lookup.outbound import WebhookRefused, validate_webhook_url
from app.lookup.service import DeepScanTimeout, LookupNotFound, LookupService
from app.metrics import LOOKUPS
from app.streams import read_body
from app.tables import ArtifactState
from scanners.models import ScanReport, Tolerance

MAX_BULK = 100
MAX_EMAIL_BYTES = 10 * 1024 * 1024
ORIGIN_PATTERN = "|".join(o.value for o in LOOKUP_ORIGINS if o is not Origin.EMAIL)
class QueryError(ValueError):
    pass


def _flag(query: Any, name: str) -> bool:
    value = query.get(name)
    parsed = False if value is None else parse_flag(value)
    if parsed is None:
        raise QueryError(f"{name} must be true or false")
    return parsed


def _tolerance(query: Any) -> Tolerance:
    value = query.get("tolerance", "conservative")
    try:
        return Tolerance(value)
    except ValueError:
        raise QueryError("tolerance must be conservative, lenient or yolo") from None


@dataclass(frozen=True, slots=True)
class LookupParams:
    format: str
    details: bool
    refresh: bool
    full: bool
    tolerance: Tolerance
    webhook: str | None

    @classmethod
    def from_query(cls, query: Any) -> LookupParams:
        output = query.get("format", "json")
        if output not in ("json", "simple", "badge"):
            raise QueryError("format must be json, simple or badge")
        mode = query.get("mode", "fast")
        if mode not in ("fast", "full"):
            raise QueryError("mode must be fast or full")
        return cls(format=output, details=_flag(query, "details"), refresh=_flag(query, "refresh"), full=mode == "full",
                   tolerance=_tolerance(query), webhook=query.get("webhook") or None)


class LookupRoutes:
    def __init__(self, service: LookupService, *, public_url: str | None, allow_private: bool, executor: Any = None) -> None:
        self.service = service
        self.public_url = public_url.rstrip("/") if public_url else None
        self.allow_private = allow_private
        self.executor = executor
        self._parsed_queries: LRUCache[str, LookupParams] = LRUCache(maxsize=4096)
        self._rendered: LRUCache[tuple[Any, ...], tuple[bytes, str, dict[str, str]]] = LRUCache(maxsize=20_000)

    # -- rendering --------------------------------------------------------------------------

    def url_for(self, request: web.Request, origin: str, key: str) -> str:
        base = self.public_url or f"{request.scheme}://{request.host}"
        return f"{base}/{origin}/{key}"

    def render(self, request: web.Request, report: ScanReport, key: str, params: LookupParams, version: str = "") -> web.Response:
        # The same stored answer asked the same way renders the same bytes: keep them.
        cache_key = (version, request.host, params.format, params.details, params.tolerance) if version else None
        if cache_key is not None:
            hit = self._rendered.get(cache_key)
            if hit is not None:
                body, content_type, headers = hit
                return web.Response(body=body, content_type=content_type, headers=headers)
        response = self._render(request, report, key, params)
        if cache_key is not None:
            kept = {k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")}
            self._rendered[cache_key] = (response.body, response.content_type, kept)  # type: ignore[arg-type]
        return response

    def _render(self, request: web.Request, report: ScanReport, key: str, params: LookupParams) -> web.Response:
        headers = answer_headers(report)
        if params.format == "simple":
            return web.Response(text=simple_text(report), content_type="text/plain", headers=headers)
        if params.format == "badge":
            headers["Cache-Control"] = "max-age=300"
            return web.Response(text=badge_svg(report), content_type="image/svg+xml", headers=headers)
        answer = lookup_answer(report, self.url_for(request, report.origin, key), details=params.details)
        return web.Response(body=answer_json(answer), content_type="application/json", headers=headers)

    async def _checked_webhook(self, webhook: str | None) -> str | None:
        if webhook is None:
            return None
        # Webhooks are strict even in a lab setup: the URL comes from whoever calls the API.
        return await validate_webhook_url(webhook)

    def _params(self, request: web.Request) -> LookupParams:
        # Agents repeat the same few query strings: parse each once.
        cached = self._parsed_queries.get(request.query_string)
        if cached is None:
            cached = LookupParams.from_query(request.query)
            self._parsed_queries[request.query_string] = cached
        return cached

    async def _answer(self, request: web.Request, identifier: Identifier) -> web.Response:
        origin = identifier.origin.value
        try:
            params = self._params(request)
            webhook = await self._checked_webhook(params.webhook)
        except (QueryError, WebhookRefused) as exc:
            LOOKUPS.labels(origin=origin, outcome="bad_request").inc()
            return json_error(400, str(exc))
        try:
            result = await self.service.lookup(identifier, tolerance=params.tolerance, refresh=params.refresh, full=params.full, webhook=webhook)
        except LookupNotFound as exc:
            LOOKUPS.labels(origin=origin, outcome="not_found").inc()
            return json_error(404, str(exc))
        except DeepScanTimeout as exc:
            LOOKUPS.labels(origin=origin, outcome="timeout").inc()
            return json_error(504, str(exc))
        LOOKUPS.labels(origin=origin, outcome="provisional" if result.report.pending_deep_scan else "answered").inc()
        return self.render(request, result.report, identifier.key, params, result.version)

    # -- handlers ---------------------------------------------------------------------------

    async def lookup(self, request: web.Request) -> web.Response:
        try:
            identifier = parse_identifier(request.match_info["origin"], request.match_info["identifier"])
        except IdentifierError as exc:
            return json_error(400, str(exc))
        return await self._answer(request, identifier)

    async def pull_request(self, request: web.Request) -> web.Response:
        try:
            identifier = parse_pr(request.match_info["owner"], request.match_info["repo"], request.match_info["number"])
        except IdentifierError as exc:
            return json_error(400, str(exc))
        return await self._answer(request, identifier)

    async def email_read(self, request: web.Request) -> web.Response:
        try:
            identifier = parse_identifier("email", request.match_info["message_id"])
            params = LookupParams.from_query(request.query)
        except (IdentifierError, QueryError) as exc:
            return json_error(400, str(exc))
        report = await self.service.read(Origin.EMAIL, identifier.key, params.tolerance)
        if report is None:
            return json_error(404, "no e-mail with that Message-ID was submitted (POST /email first)")
        return self.render(request, report, identifier.key, params)

    async def email_submit(self, request: web.Request) -> web.Response:
        content_type = request.content_type
        if content_type != "message/rfc822":
            return json_error(400, "POST /email takes a raw RFC 822 message with Content-Type: message/rfc822")
        if request.content_length is not None and request.content_length > MAX_EMAIL_BYTES:
            return json_error(413, f"message larger than {MAX_EMAIL_BYTES // (1024 * 1024)} MB")
        raw, _too_large = await read_body(request.content, MAX_EMAIL_BYTES)
        if len(raw) > MAX_EMAIL_BYTES:
            return json_error(413, f"message larger than {MAX_EMAIL_BYTES // (1024 * 1024)} MB")
        if not raw.strip():
            return json_error(400, "empty message")
        try:
            tolerance = _tolerance(request.query)
        except QueryError as exc:
            return json_error(400, str(exc))
        from app.lookup.sources.email import analyse_email_bytes

        loop = asyncio.get_running_loop()
        identifier, report, edges = await loop.run_in_executor(self.executor, analyse_email_bytes, raw, datetime.now(UTC))
        await self.service.store_complete(identifier, report, edges)
        judged = await self.service.read(Origin.EMAIL, identifier.key, tolerance)
        assert judged is not None
        answer = EmailAnswer(identifier=identifier.key, report=judged)
        return web.Response(body=answer.model_dump_json(), content_type="application/json", headers=answer_headers(judged))

    async def bulk(self, request: web.Request) -> web.Response:
        try:
            raw = await request.read()
            data = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            return json_error(400, "body must be JSON: {\"lookups\": [...], \"tolerance\": ...}")
        if isinstance(data, dict) and isinstance(data.get("lookups"), list) and len(data["lookups"]) > MAX_BULK:
            return json_error(400, f"at most {MAX_BULK} lookups per request ({len(data['lookups'])} sent)")
        try:
            bulk = BulkRequest.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            return json_error(400, f"invalid bulk request at {'.'.join(str(p) for p in first['loc']) or 'body'}: {first['msg']}")
        results = await asyncio.gather(*(self._bulk_one(request, item.origin, item.identifier, item.webhook, bulk.tolerance) for item in bulk.lookups))
        items = [{k: v for k, v in {**r.model_dump(mode="json", exclude={"result"}), "result": json.loads(answer_json(r.result)) if r.result else None}.items()
                  if v is not None} for r in results]
        return web.Response(body=json.dumps({"results": items}), content_type="application/json")

    async def _bulk_one(self, request: web.Request, origin: str, text: str, webhook: str | None, tolerance: Tolerance) -> BulkResult:
        try:
            identifier = parse_identifier(origin, text)
            checked = await self._checked_webhook(webhook)
        except (IdentifierError, WebhookRefused) as exc:
            return BulkResult(origin=origin, identifier=text, status=400, error=str(exc))
        if identifier.origin is Origin.EMAIL:
            report = await self.service.read(Origin.EMAIL, identifier.key, tolerance)
            if report is None:
                return BulkResult(origin=origin, identifier=text, status=404, error="no e-mail with that Message-ID was submitted")
        else:
            try:
                report = (await self.service.lookup(identifier, tolerance=tolerance, webhook=checked)).report
            except LookupNotFound as exc:
                return BulkResult(origin=origin, identifier=text, status=404, error=str(exc))
        answer = lookup_answer(report, self.url_for(request, identifier.origin.value, identifier.key), details=True)
        return BulkResult(origin=origin, identifier=identifier.key, status=200, result=answer)

    async def listing(self, request: web.Request) -> web.Response:
        try:
            query = store.ListQuery.model_validate(dict(request.query))
        except ValidationError as exc:
            first = exc.errors()[0]
            return json_error(400, f"invalid query parameter {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
        total, rows = await asyncio.to_thread(store.list_records, self.service.engine, query)
        data = [ListedArtifact(
            origin=row.origin, identifier=row.key, name=row.name, version=row.version, score=row.score, verdict=row.verdict,
            confidence=row.confidence, threats=row.threat_count, scanned_at=row.scanned_at.replace(tzinfo=UTC), pending_deep_scan=row.state == ArtifactState.PENDING,
            url=self.url_for(request, row.origin, row.key),
        ) for row in rows]
        answer = ListAnswer(total=total, limit=query.limit, offset=query.offset, data=data)
        return web.Response(body=answer.model_dump_json(), content_type="application/json")

    async def graph(self, request: web.Request) -> web.Response:
        try:
            origin, text = request.match_info["origin"], request.match_info["identifier"]
            if origin == "pr":
                owner, _, rest = text.partition("/")
                repo, _, number = rest.partition("/")
                identifier = parse_pr(owner, repo, number)
            else:
                identifier = parse_identifier(origin, text)
            depth = int(request.query.get("depth", "1"))
            if not 1 <= depth <= 5:
                raise ValueError
        except IdentifierError as exc:
            return json_error(400, str(exc))
        except ValueError:
            return json_error(400, "depth must be an integer from 1 to 5")
        nodes, edges = await asyncio.to_thread(store.graph, self.service.engine, identifier.node, depth)
        scored = await asyncio.to_thread(_scores_for, self.service.engine, nodes)
        answer = GraphAnswer(
            nodes=[GraphNode(id=node, origin=node.split(":", 1)[0], identifier=node.split(":", 1)[1], **scored.get(node, {})) for node in nodes],
            edges=[GraphEdgeOut(source=e.source, target=e.target, relation=e.relation) for e in edges],
        )
        return web.Response(body=answer_json(answer), content_type="application/json")


def _scores_for(engine: Any, nodes: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for node in nodes[:200]:
        origin, _, key = node.partition(":")
        record = store.get_record(engine, origin, key)
        if record is not None and record.state != ArtifactState.NOT_FOUND:
            found[node] = {"score": record.score, "verdict": record.verdict}
    return found


def wants_html(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and not request.query


def add_lookup_routes(app: web.Application, routes: LookupRoutes) -> None:
    app.router.add_get("/pr/{owner}/{repo}/{number}", routes.pull_request)
    app.router.add_post("/email", routes.email_submit)
    app.router.add_get("/email/{message_id:.+}", routes.email_read)
    app.router.add_post("/bulk", routes.bulk)
    app.router.add_get(f"/graph/{{origin:(?:{ORIGIN_PATTERN}|email|pr)}}/{{identifier:.+}}", routes.graph)
    app.router.add_get(f"/{{origin:(?:{ORIGIN_PATTERN})}}/{{identifier:.+}}", routes.lookup)

