"""Arriving assignments, stored for a whole batch in one statement.

The batch's assignment ids are looked up together (`prefetch`) before its events are handled,
so a handler knows at once whether an assignment is new; new ones are staged and written as one
insert just before commit. A statement per assignment had made each batch a round trip per event.
Two deliveries of the same assignment.created cannot both pass as new: the inbox holds the
second until the first commits, and then skips it. A handler that reads `assignments` in the same
batch (a cancellation, a response) calls `write_staged` first, so it sees the batch's arrivals.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from servicekit.db.uow import UnitOfWork, backref

KNOWN = "SELECT assignment_id FROM assignments WHERE assignment_id = ANY($1::uuid[])"
# With each new assignment, its reminder's row, for the reminder timer to schedule
# (`deadlines.remind_due`).
INSERT = """
WITH added AS (
    INSERT INTO assignments (assignment_id, referral_id, provider_id, channel, delivery_state, payload,
        contact_deadline, attempts, next_attempt_at, delivered_at, trace_headers)
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::timestamptz[], $8::int[], $9::timestamptz[], $10::timestamptz[], $11::text[])
    ON CONFLICT (assignment_id) DO NOTHING
    RETURNING assignment_id, provider_id)
INSERT INTO reminders (assignment_id, provider_id, state)
SELECT assignment_id, provider_id, 'unscheduled' FROM added
"""


@dataclass(frozen=True, slots=True)
class NewAssignment:
    assignment_id: uuid.UUID
    referral_id: uuid.UUID
    provider_id: str
    channel: str
    delivery_state: str
    payload: str  # the assignment.created event as it will be sent
    contact_deadline: datetime
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    trace_headers: str  # so that the delivery and the answers join the referral's trace


class AssignmentRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = backref(uow)
        self._looked_up: set[uuid.UUID] = set()
        self._held: set[uuid.UUID] = set()  # stored before, or staged in this transaction
        self._staged: list[NewAssignment] = []

    async def prefetch(self, assignment_ids: Iterable[uuid.UUID]) -> None:
        ids = list({i for i in assignment_ids if i not in self._looked_up})
        if not ids:
            return
        rows = await self._uow.connection.fetch(KNOWN, ids)
        self._looked_up.update(ids)
        self._held.update(r["assignment_id"] for r in rows)

    async def is_held(self, assignment_id: uuid.UUID) -> bool:
        """Whether the assignment is stored already (or added earlier in this transaction)."""
        if assignment_id not in self._looked_up:
            await self.prefetch([assignment_id])
        return assignment_id in self._held

    def add(self, assignment: NewAssignment) -> None:
        self._held.add(assignment.assignment_id)
        self._staged.append(assignment)
        self._uow.on_flush(self._flush)

    async def write_staged(self) -> None:
        """Write the assignments added so far, before a statement that must see them."""
        await self._flush(self._uow.connection)

    async def _flush(self, conn: asyncpg.Connection) -> None:
        staged, self._staged = self._staged, []
        if staged:
            columns = zip(*(_row(a) for a in staged), strict=True)
            await conn.execute(INSERT, *(list(c) for c in columns))


def _row(a: NewAssignment) -> tuple[object, ...]:
    return (
        a.assignment_id,
        a.referral_id,
        a.provider_id,
        a.channel,
        a.delivery_state,
        a.payload,
        a.contact_deadline,
        a.attempts,
        a.next_attempt_at,
        a.delivered_at,
        a.trace_headers,
    )
