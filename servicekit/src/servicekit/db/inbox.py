"""The inbox: which events a consumer has already applied."""

from __future__ import annotations

from uuid import UUID

import asyncpg

CLAIM = """
INSERT INTO inbox (consumer, event_id, event_type, topic, "partition", "offset")
SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int[], $6::bigint[])
ON CONFLICT (consumer, event_id) DO NOTHING
RETURNING event_id
"""


async def claim(
    conn: asyncpg.Connection,
    consumer: str,
    event_ids: list[UUID],
    event_types: list[str],
    topics: list[str],
    partitions: list[int],
    offsets: list[int],
) -> set[UUID]:
    """Record a batch's deliveries (as columns: where each event came from, kept for audit);
    returns the event ids seen for the first time."""
    if not event_ids:
        return set()
    rows = await conn.fetch(CLAIM, consumer, event_ids, event_types, topics, partitions, offsets)
    return {r["event_id"] for r in rows}
