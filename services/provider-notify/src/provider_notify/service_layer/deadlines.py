"""Contact deadlines: an assignment the provider has not accepted by its deadline expires.

The timer is a query over `assignments` (pending and past the deadline), run every
`every_s` by every instance; SKIP LOCKED gives each due row to one of them, and the expiry and
its assignment.expired event commit together, so a restart neither loses nor repeats one.
A cancelled referral's open assignments are closed the same way, so a late answer is refused;
either way an undelivered webhook stops being retried (delivery_state "stopped").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from provider_notify.domain.lifecycle import FINAL
from referral_schemas import Envelope, parse_event
from referral_schemas.enums import ReferralStatus
from referral_schemas.events.assignment import AssignmentExpired
from referral_schemas.registry import AssignmentExpiredV1
from servicekit.db.uow import UnitOfWork

PRODUCER = "provider-notify"
EXPIRE_DUE = """
UPDATE assignments SET stage = 'expired', expired_at = $1, next_attempt_at = NULL,
    delivery_state = CASE WHEN delivery_state = 'pending' THEN 'stopped' ELSE delivery_state END
WHERE assignment_id IN (
    SELECT assignment_id FROM assignments
    WHERE stage = 'pending' AND contact_deadline <= $1
    ORDER BY contact_deadline LIMIT $2
    FOR UPDATE SKIP LOCKED)
RETURNING assignment_id, provider_id, contact_deadline, payload
"""


async def expire_due(uow_factory: Callable[[], UnitOfWork], now: datetime, batch: int = 500) -> int:
    async with uow_factory() as uow:
        rows = await uow.connection.fetch(EXPIRE_DUE, now, batch)
        for row in rows:
            cause = parse_event(row["payload"].encode())
            assert cause.referral_id is not None
            expired = AssignmentExpired(
                assignment_id=row["assignment_id"],
                provider_id=row["provider_id"],
                contact_deadline=row["contact_deadline"],
                expired_at=now,
            )
            uow.emit(
                AssignmentExpiredV1,
                expired,
                producer=PRODUCER,
                referral_id=cause.referral_id,
                caused_by=cause,
            )
        await uow.commit()
    return len(rows)


async def keep_expiring(
    uow_factory: Callable[[], UnitOfWork], now: Callable[[], datetime], every_s: float = 1.0
) -> None:
    while True:
        if await expire_due(uow_factory, now()) == 0:
            await asyncio.sleep(every_s)


async def handle_status(event: Envelope[Any], uow: UnitOfWork) -> None:
    """Only a cancellation matters: the referral's open assignments stop."""
    if event.data.status is not ReferralStatus.CANCELLED:
        return
    await uow.connection.execute(
        "UPDATE assignments SET stage = 'cancelled', next_attempt_at = NULL,"
        " delivery_state = CASE WHEN delivery_state = 'pending' THEN 'stopped' ELSE delivery_state END"
        " WHERE referral_id = $1 AND stage <> ALL($2::text[])",
        event.referral_id,
        [s.value for s in FINAL],
    )
