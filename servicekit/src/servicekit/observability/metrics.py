"""The kit's Prometheus metrics (FastStream's middleware adds per-message ones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_APPLIED = Counter(
    "kit_events_applied_total", "Events applied by a handler", ["consumer", "event_type"]
)
EVENTS_DUPLICATE = Counter(
    "kit_events_duplicate_total", "Redelivered events skipped by the inbox", ["consumer"]
)
DEAD_LETTERS = Counter(
    "kit_dead_letters_total",
    "Messages sent to a dead-letter topic",
    ["consumer", "topic", "reason"],
)
TRANSIENT_RETRIES = Counter(
    "kit_transient_retries_total", "Batch retries after a transient failure", ["consumer"]
)
BATCH_SECONDS = Histogram(
    "kit_batch_seconds",
    "Time to apply one consumed batch",
    ["consumer"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PUBLISHED = Counter("kit_outbox_published_total", "Outbox rows published", ["schema"])
OUTBOX_PENDING = Gauge("kit_outbox_pending", "Unsent outbox rows at the last relay pass", ["schema"])
RELAY_ACTIVE = Gauge("kit_relay_active", "1 when this instance holds the relay lock", ["schema"])
BACKGROUND_RESTARTS = Counter(
    "kit_background_restarts_total", "Background work restarted after a failure", ["service", "work"]
)
