"""FastStream KafkaBroker with the platform's middlewares (OpenTelemetry, Prometheus)."""

from __future__ import annotations

import logging
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY, CollectorRegistry


def create_broker(
    bootstrap_servers: str,
    *,
    service: str,
    registry: CollectorRegistry = REGISTRY,
    tracing: bool = True,
) -> KafkaBroker:
    """`tracing`: whether spans are exported (TRACE_EXPORTER is not "none"). Without an exporter
    the OpenTelemetry middleware would record nothing, yet it reads every record's headers for
    baggage and links (about a twentieth of a hop's time), so it is left out; the kit's consumer
    carries each event's trace context on to what it emits either way."""
    middlewares: tuple[Any, ...] = (KafkaPrometheusMiddleware(registry=registry, app_name=service),)
    if tracing:
        middlewares = (KafkaTelemetryMiddleware(), *middlewares)
    return KafkaBroker(
        bootstrap_servers,
        client_id=service,
        # Publishes made through the broker (never outbox traffic, which has its own relay)
        # are idempotent and wait for all in-sync replicas too.
        enable_idempotence=True,
        acks="all",
        allow_auto_create_topics=False,
        middlewares=middlewares,
        logger=logging.getLogger(f"{service}.broker"),
        description=f"{service} — Active Referrals platform",
    )
