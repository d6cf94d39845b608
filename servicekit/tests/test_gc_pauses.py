"""Full collections are timed into kit_gc_pause_seconds, by generation; young ones are not."""

from __future__ import annotations

import gc

from prometheus_client import REGISTRY
from servicekit.observability.metrics import GcPauses, watch_gc_pauses


def _count(generation: str) -> float:
    return REGISTRY.get_sample_value("kit_gc_pause_seconds_count", {"generation": generation}) or 0.0


def test_a_full_collection_is_timed_and_a_young_one_is_not():
    watch_gc_pauses()
    watch_gc_pauses()  # installing twice keeps one timer
    assert sum(isinstance(c, GcPauses) for c in gc.callbacks) == 1
    full, young = _count("2"), _count("0")
    gc.collect(2)
    gc.collect(0)
    assert _count("2") == full + 1
    assert _count("0") == young == 0
    assert REGISTRY.get_sample_value("kit_gc_pause_seconds_sum", {"generation": "2"}) > 0
