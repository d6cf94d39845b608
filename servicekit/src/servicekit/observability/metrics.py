"""The kit's Prometheus metrics (FastStream's middleware adds per-message ones)."""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

EVENTS_APPLIED = Counter(
    "kit_events_applied_total", "Events applied by a handler", ["consumer", "event_type"]
)
EVENTS_PASSED_OVER = Counter(
    "kit_events_passed_over_total",
    "Valid events the consumer does not act on (no handler call, no inbox row)",
    ["consumer", "event_type"],
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
GC_PAUSE_SECONDS = Histogram(
    "kit_gc_pause_seconds",
    "Pauses of the cyclic garbage collector's older generations (the process does nothing else)",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)


class GcPauses:
    """Times the collector's generation 1 and 2 runs into GC_PAUSE_SECONDS: a full collection
    stops every consumer in the process, so long ones show in the latency tail. Generation 0
    runs are many and short, and left out."""

    def __init__(self) -> None:
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        generation = info["generation"]
        if generation == 0:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started:
            GC_PAUSE_SECONDS.labels(str(generation)).observe(time.perf_counter() - self._started)
            self._started = 0.0


def watch_gc_pauses() -> None:
    """Install the GC pause timer once per process."""
    if not any(isinstance(c, GcPauses) for c in gc.callbacks):
        gc.callbacks.append(GcPauses())
