"""Withdrawing an assignment closed without its provider's answer, in the closing transaction.

The referral's cancellation (`deadlines.handle_status`) or the contact deadline passing
(`deadlines.expire_due`) closes the assignment; in the same unit of work `withdraw` tells the
provider, on the channel that brought it the assignment:

- Kafka: `assignment.withdrawn` on provider.assignments.v1, keyed by the provider, through the
  outbox, so it is sent if and only if the closing commits, and after the provider's copy of the
  assignment (same key, same partition, in order).
- Webhook: a row in `withdrawals`, which the deliverer (`delivery.Deliverer`) leases, posts
  signed, retries and parks exactly as it does assignments. Its delivery id is the withdrawal's
  own event id, so a receiver that drops repeats by delivery id does not take it for a repeat of
  the assignment. A webhook assignment whose delivery never started never reached the provider:
  its withdrawal is recorded as not_needed and not sent.

Every withdrawal is kept in `withdrawals` (one per assignment: an assignment closes once), which
is also where the provider's view of the assignment finds it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from provider_notify.domain.lifecycle import Stage
from provider_notify.domain.withdrawal import withdrawal
from provider_notify.service_layer.delivery import PRODUCER
from provider_notify.service_layer.notices import notice_for, send_notice
from referral_schemas import Envelope, dump_event, new_envelope, parse_event
from referral_schemas.enums import DeliveryChannel, WithdrawalReason
from referral_schemas.registry import AssignmentWithdrawnV1
from servicekit.db.uow import UnitOfWork

log = logging.getLogger(__name__)

# What the statement closing an assignment returns for `withdraw` (besides the stage it had).
CLOSED_COLUMNS = (
    "assignment_id, provider_id, channel, payload, contact_deadline, trace_headers,"
    " (attempts > 0 OR leased_until IS NOT NULL) AS delivery_started"
)
STORE = """
INSERT INTO withdrawals (assignment_id, event_id, provider_id, channel, reason, delivery_state, payload,
    attempts, next_attempt_at, delivered_at, trace_headers)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (assignment_id) DO NOTHING RETURNING assignment_id
"""
STOP_REMINDER = """
UPDATE reminders SET delivery_state = 'stopped', next_attempt_at = NULL
WHERE assignment_id = $1 AND delivery_state = 'pending'
"""


async def withdraw(
    uow: UnitOfWork,
    closed: Mapping[str, Any],
    stage_before: Stage,
    reason: WithdrawalReason,
    now: datetime,
    caused_by: Envelope[Any],
) -> Envelope[Any] | None:
    """Tell the provider of `closed` (a row with `CLOSED_COLUMNS`, just closed for `reason` at
    `stage_before`) that the assignment is withdrawn; returns the withdrawal event, or None if
    the assignment had been withdrawn before."""
    assignment = parse_event(closed["payload"].encode())
    assert assignment.referral_id is not None  # assignment events always name their referral
    data = withdrawal(
        assignment_id=closed["assignment_id"],
        provider_id=closed["provider_id"],
        reason=reason,
        stage_before=stage_before,
        contact_deadline=closed["contact_deadline"],
        now=now,
    )
    referral_id = assignment.referral_id
    event = new_envelope(
        AssignmentWithdrawnV1, data, producer=PRODUCER, referral_id=referral_id, caused_by=caused_by
    )
    channel = DeliveryChannel(closed["channel"])
    notice = notice_for(channel, closed["delivery_started"], now)
    stored = await uow.connection.fetchval(
        STORE,
        data.assignment_id,
        event.event_id,
        data.provider_id,
        channel.value,
        reason.value,
        notice.state,
        dump_event(event).decode(),
        notice.attempts,
        notice.next_attempt_at,
        notice.delivered_at,
        closed["trace_headers"],
    )
    if stored is None:  # withdrawn already: an assignment closes once, so this is only a guard
        return None
    # A reminder still queued for the provider would ask it to answer what is now closed.
    await uow.connection.execute(STOP_REMINDER, data.assignment_id)
    send_notice(uow, event, data.provider_id, notice)
    log.info(
        "assignment %s of %s withdrawn (%s): %s",
        data.assignment_id,
        data.provider_id,
        reason.value,
        "not sent, the provider never had it" if notice.state == "not_needed" else f"by {channel.value}",
    )
    return event
