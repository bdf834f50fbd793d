"""Prometheus metrics (``GET /metrics``). Queue depth is read from the database at scrape time,
so every replica reports the cluster-wide figure."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, text

REGISTRY = CollectorRegistry(auto_describe=True)

WEBHOOK_DELIVERIES = Counter(
    "watchpost_webhook_deliveries_total", "Webhook deliveries by event and outcome", ["event", "outcome"], registry=REGISTRY
)
WEBHOOK_LATENCY = Histogram(
    "watchpost_webhook_ack_seconds", "Time from request to acknowledgement", registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
LOOKUPS = Counter(
    "watchpost_lookups_total", "Lookup answers by origin and outcome (cached, stored, provisional, not_found, timeout, bad_request)",
    ["origin", "outcome"], registry=REGISTRY,
)
JOBS_FINISHED = Counter("watchpost_jobs_finished_total", "Jobs finished by kind and outcome", ["kind", "outcome"], registry=REGISTRY)


class QueueDepthCollector:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("watchpost_jobs", "Jobs in the queue by status", labels=["status"])
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(text("SELECT status, COUNT(*) FROM job GROUP BY status")).all()
        except Exception:  # a scrape must not fail because the database is briefly away
            rows = []
        for status, count in rows:
            gauge.add_metric([status], count)
        yield gauge
        installations = GaugeMetricFamily("watchpost_installations", "GitHub App installations by state", labels=["state"])
        try:
            from app.installations import installation_counts

            counts = installation_counts(self.engine)
        except Exception:  # as above: never fail a scrape
            counts = {}
        for state, count in counts.items():
            installations.add_metric([state], count)
        yield installations

    def describe(self) -> list[GaugeMetricFamily]:
        return []
