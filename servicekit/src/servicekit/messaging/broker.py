"""FastStream KafkaBroker with the platform's middlewares (OpenTelemetry, Prometheus)."""

from __future__ import annotations

import logging

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY, CollectorRegistry


def create_broker(
    bootstrap_servers: str,
    *,
    service: str,
    registry: CollectorRegistry = REGISTRY,
) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=service,
        # Publishes made through the broker (never outbox traffic, which has its own relay)
        # are idempotent and wait for all in-sync replicas too.
        enable_idempotence=True,
        acks="all",
        allow_auto_create_topics=False,
        middlewares=(
            KafkaTelemetryMiddleware(),
            KafkaPrometheusMiddleware(registry=registry, app_name=service),
        ),
        logger=logging.getLogger(f"{service}.broker"),
        description=f"{service} — Active Referrals platform",
    )
