"""Outbox rows staged by a unit of work and written with its commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from servicekit.observability.tracing import current_trace_headers

INSERT_OUTBOX = """
INSERT INTO outbox (id, aggregatetype, aggregateid, type, topic, payload, headers)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::text[])
"""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: UUID
    aggregatetype: str
    aggregateid: str
    type: str
    topic: str
    payload: str
    headers: str


@dataclass
class OutboxBuffer:
    """Messages a handler emits; nothing reaches the table unless the unit of work commits."""

    messages: list[OutboxMessage] = field(default_factory=list)

    def add(
        self,
        *,
        event_id: UUID,
        event_type: str,
        topic: str,
        key: str,
        payload: str,
        aggregate_type: str,
    ) -> None:
        self.messages.append(
            OutboxMessage(
                id=event_id,
                aggregatetype=aggregate_type,
                aggregateid=key,
                type=event_type,
                topic=topic,
                payload=payload,
                headers=current_trace_headers(),
            )
        )

    async def flush(self, conn: asyncpg.Connection) -> int:
        if not self.messages:
            return 0
        m = self.messages
        await conn.execute(
            INSERT_OUTBOX,
            [x.id for x in m],
            [x.aggregatetype for x in m],
            [x.aggregateid for x in m],
            [x.type for x in m],
            [x.topic for x in m],
            [x.payload for x in m],
            [x.headers for x in m],
        )
        count = len(m)
        self.messages = []
        return count
