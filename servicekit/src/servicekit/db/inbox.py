"""The inbox: which events a consumer has already applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

CLAIM = """
INSERT INTO inbox (consumer, event_id, event_type, topic, "partition", "offset")
SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int[], $6::bigint[])
ON CONFLICT (consumer, event_id) DO NOTHING
RETURNING event_id
"""


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where an event came from, recorded with its inbox row for audit."""

    event_id: UUID
    event_type: str
    topic: str
    partition: int
    offset: int


async def claim(conn: asyncpg.Connection, consumer: str, deliveries: Sequence[Delivery]) -> set[UUID]:
    """Record the deliveries; returns the event ids seen for the first time."""
    if not deliveries:
        return set()
    rows = await conn.fetch(
        CLAIM,
        consumer,
        [d.event_id for d in deliveries],
        [d.event_type for d in deliveries],
        [d.topic for d in deliveries],
        [d.partition for d in deliveries],
        [d.offset for d in deliveries],
    )
    return {r["event_id"] for r in rows}
