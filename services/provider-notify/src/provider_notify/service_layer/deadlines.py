"""Contact deadlines: an assignment the provider has not accepted by its deadline expires.

The timer is a query over `assignments` (pending and past the deadline), run every
`every_s` by every instance; SKIP LOCKED gives each due row to one of them, and the expiry and
its assignment.expired event commit together, so a restart neither loses nor repeats one.
A cancelled referral's open assignments are closed the same way, so a late answer is refused;
either way an undelivered webhook stops being retried (delivery_state "stopped"), and the
provider is told, in the same transaction, that the assignment is withdrawn (`withdrawals`).

The deadline an assignment is held to is triage's, in working days, unless the
`contact_deadline_override_s` setting names its provider (`domain.deadlines.held_deadline`).

Reminders before the deadline are a sibling timer over `reminders`: each assignment gets one
row as it is stored, which the timer schedules with the working-day calendar (which SQL lacks);
it fires at most once, only while the assignment is still pending and before its deadline. A
reminder is recorded for operators, shown on the provider's GET of the assignment, and sent to
the provider as assignment.reminded on the assignment's own channel (`_send_reminders`); if the
assignment closes while a webhook reminder is still queued, the reminder is stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from provider_notify.adapters.unit_of_work import NotifyUnitOfWork
from provider_notify.domain.lifecycle import FINAL, Stage
from provider_notify.domain.reminders import reminder
from provider_notify.service_layer.notices import notice_for, send_notice
from provider_notify.service_layer.withdrawals import CLOSED_COLUMNS, withdraw
from referral_schemas import Envelope, dump_event, new_envelope, parse_event
from referral_schemas.enums import DeliveryChannel, ReferralStatus, WithdrawalReason
from referral_schemas.events.assignment import AssignmentExpired
from referral_schemas.registry import AssignmentExpiredV1, AssignmentRemindedV1
from servicekit.db.uow import UnitOfWork
from servicekit.observability.tracing import continue_trace

log = logging.getLogger(__name__)

PRODUCER = "provider-notify"
EXPIRE_DUE = f"""
UPDATE assignments SET stage = 'expired', expired_at = $1, next_attempt_at = NULL,
    delivery_state = CASE WHEN delivery_state = 'pending' THEN 'stopped' ELSE delivery_state END
WHERE assignment_id IN (
    SELECT assignment_id FROM assignments
    WHERE stage = 'pending' AND contact_deadline <= $1
    ORDER BY contact_deadline LIMIT $2
    FOR UPDATE SKIP LOCKED)
RETURNING {CLOSED_COLUMNS}
"""  # noqa: S608 - the columns are a constant
# The stage each assignment had, read under the lock the update then holds.
CANCEL = f"""
WITH closing AS (
    SELECT assignment_id AS closing_id, stage AS stage_before FROM assignments
    WHERE referral_id = $1 AND stage <> ALL($2::text[])
    FOR UPDATE)
UPDATE assignments SET stage = 'cancelled', next_attempt_at = NULL,
    delivery_state = CASE WHEN delivery_state = 'pending' THEN 'stopped' ELSE delivery_state END
FROM closing WHERE assignment_id = closing_id
RETURNING stage_before, {CLOSED_COLUMNS}
"""  # noqa: S608 - the columns are a constant


async def expire_due(uow_factory: Callable[[], UnitOfWork], now: datetime, batch: int = 500) -> int:
    """Expire the assignments whose deadline has passed by `now` (at most `batch`), announce
    each for triage, and withdraw each from its provider; returns how many."""
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
            # A timer, not an event, expires it: what it emits joins the assignment's trace.
            with continue_trace(row["trace_headers"], "assignment expired"):
                uow.emit(
                    AssignmentExpiredV1,
                    expired,
                    producer=PRODUCER,
                    referral_id=cause.referral_id,
                    caused_by=cause,
                )
                await withdraw(uow, row, Stage.PENDING, WithdrawalReason.EXPIRED, now, caused_by=cause)
        await uow.commit()
    return len(rows)


async def keep_expiring(
    uow_factory: Callable[[], UnitOfWork], now: Callable[[], datetime], every_s: float = 1.0
) -> None:
    while True:
        if await expire_due(uow_factory, now()) == 0:
            await asyncio.sleep(every_s)


def acts_on_status(event: Envelope[Any]) -> bool:
    """Whether a referral.status event is one `handle_status` acts on (a cancellation); the rest
    of the stream is passed over before it costs a transaction's work."""
    return event.data.status is ReferralStatus.CANCELLED


async def handle_status(event: Envelope[Any], uow: NotifyUnitOfWork, now: datetime) -> None:
    """Only a cancellation matters: the referral's open assignments stop, and each provider is
    told that its assignment is withdrawn."""
    if event.data.status is not ReferralStatus.CANCELLED:
        return
    await uow.assignments.write_staged()  # one that arrived earlier in this batch is stopped too
    closed = await uow.connection.fetch(CANCEL, event.referral_id, [s.value for s in FINAL])
    reason = WithdrawalReason.REFERRAL_CANCELLED
    for row in closed:
        await withdraw(uow, row, Stage(row["stage_before"]), reason, now, caused_by=event)


# (contact deadline, when the assignment was made) -> when to remind, or None for no reminder
Schedule = Callable[[datetime, datetime], datetime | None]

# Of an assignment `a` at $1: whether a reminder is still wanted, and if not, why (both timers,
# and `referrals trace`, which tells a reader whether a waiting reminder will go out).
OPEN_AND_WHY_NOT = """a.stage = 'pending' AND a.contact_deadline > $1 AS open,
    CASE WHEN a.stage = 'pending' THEN 'contact deadline passed' ELSE 'assignment ' || a.stage END
        AS closed_reason"""
# Reminder rows written with their assignments (`adapters.assignments`), not yet scheduled.
UNSCHEDULED = f"""
SELECT r.assignment_id, a.contact_deadline, a.created_at, {OPEN_AND_WHY_NOT}
FROM reminders r JOIN assignments a ON a.assignment_id = r.assignment_id
WHERE r.state = 'unscheduled'
ORDER BY a.contact_deadline LIMIT $2
FOR UPDATE OF r SKIP LOCKED
"""  # noqa: S608 - the fragment is a constant
SCHEDULE = """
UPDATE reminders r SET remind_at = u.remind_at, state = u.state, reason = u.reason, scheduled_at = $1
FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::text[])
    AS u(assignment_id, remind_at, state, reason)
WHERE r.assignment_id = u.assignment_id
"""
# The share lock on the assignment waits out (SKIP LOCKED: leaves for the next pass) a response
# or an expiry being recorded, so a reminder never lands on an assignment answered meanwhile.
REMIND_DUE = f"""
WITH due AS (
    SELECT r.assignment_id, {OPEN_AND_WHY_NOT},
        a.referral_id, a.channel, a.payload, a.contact_deadline, a.trace_headers,
        (a.attempts > 0 OR a.leased_until IS NOT NULL) AS delivery_started
    FROM reminders r JOIN assignments a ON a.assignment_id = r.assignment_id
    WHERE r.state = 'waiting' AND r.remind_at <= $1
    ORDER BY r.remind_at LIMIT $2
    FOR UPDATE OF r SKIP LOCKED
    FOR SHARE OF a SKIP LOCKED)
UPDATE reminders r SET
    state = CASE WHEN due.open THEN 'reminded' ELSE 'not_needed' END,
    reminded_at = CASE WHEN due.open THEN $1::timestamptz END,
    reason = CASE WHEN due.open THEN NULL ELSE due.closed_reason END
FROM due WHERE r.assignment_id = due.assignment_id
RETURNING r.assignment_id, r.provider_id, r.state, due.referral_id, due.channel, due.payload,
    due.contact_deadline, due.trace_headers, due.delivery_started
"""  # noqa: S608 - the fragment is a constant
# How an issued reminder goes out: see `_send_reminders`.
REMINDER_SENT = """
UPDATE reminders SET event_id = $2, channel = $3, delivery_state = $4, payload = $5, attempts = $6,
    next_attempt_at = $7, delivered_at = $8, trace_headers = $9
WHERE assignment_id = $1
"""


@dataclass(frozen=True)
class ReminderPass:
    scheduled: int
    reminded: int
    not_needed: int

    @property
    def busy(self) -> bool:
        return self.scheduled + self.reminded + self.not_needed > 0


async def remind_due(
    uow_factory: Callable[[], UnitOfWork], now: datetime, schedule: Schedule, batch: int = 500
) -> ReminderPass:
    """Schedule reminders for assignments that have none yet, then fire those due at `now`: each
    goes to its provider as assignment.reminded, on the channel the assignment came by."""
    async with uow_factory() as uow:
        conn = uow.connection
        unscheduled = await conn.fetch(UNSCHEDULED, now, batch)
        decided = [_scheduled(a, schedule) for a in unscheduled]
        if decided:
            await conn.execute(SCHEDULE, now, *(list(column) for column in zip(*decided, strict=True)))
        fired = await conn.fetch(REMIND_DUE, now, batch)
        await _send_reminders(uow, [r for r in fired if r["state"] == "reminded"], now)
        await uow.commit()
    reminded = [r for r in fired if r["state"] == "reminded"]
    for r in reminded:
        log.info("reminded provider %s of assignment %s", r["provider_id"], r["assignment_id"])
    closed = sum(1 for a in unscheduled if not a["open"])
    return ReminderPass(len(unscheduled) - closed, len(reminded), len(fired) - len(reminded) + closed)


def _scheduled(a: asyncpg.Record, schedule: Schedule) -> tuple[Any, datetime | None, str, str | None]:
    """(assignment id, remind at, state, reason) for an unscheduled reminder."""
    if not a["open"]:
        # Answered, expired or withdrawn before the timer came to it: recorded, never sent.
        return a["assignment_id"], None, "not_needed", a["closed_reason"]
    try:
        at = schedule(a["contact_deadline"], a["created_at"])
    except ValueError as exc:
        # A date the calendar will not guess at must not stop every other reminder.
        log.warning("no reminder for assignment %s: %s", a["assignment_id"], exc)
        return a["assignment_id"], None, "not_needed", str(exc)
    if at is None:
        return a["assignment_id"], None, "not_needed", "deadline too near"
    return a["assignment_id"], at, "waiting", None


async def _send_reminders(uow: UnitOfWork, reminded: list[asyncpg.Record], now: datetime) -> None:
    """Each reminder goes out as a notice (see notices.py); a webhook POST's delivery id is the
    reminder's own event id."""
    rows: list[tuple[Any, ...]] = []
    for r in reminded:
        cause = parse_event(r["payload"].encode())
        data = reminder(
            assignment_id=r["assignment_id"],
            provider_id=r["provider_id"],
            contact_deadline=r["contact_deadline"],
            now=now,
        )
        with continue_trace(r["trace_headers"], "reminder"):
            event = new_envelope(
                AssignmentRemindedV1, data, producer=PRODUCER, referral_id=r["referral_id"], caused_by=cause
            )
            channel = DeliveryChannel(r["channel"])
            notice = notice_for(channel, r["delivery_started"], now)
            send_notice(uow, event, data.provider_id, notice)
        rows.append(
            (
                r["assignment_id"],
                event.event_id,
                channel.value,
                notice.state,
                dump_event(event).decode(),
                notice.attempts,
                notice.next_attempt_at,
                notice.delivered_at,
                r["trace_headers"],
            )
        )
    if rows:
        await uow.connection.executemany(REMINDER_SENT, rows)


async def keep_reminding(
    uow_factory: Callable[[], UnitOfWork],
    now: Callable[[], datetime],
    schedule: Schedule,
    every_s: float = 1.0,
) -> None:
    while True:
        if not (await remind_due(uow_factory, now(), schedule)).busy:
            await asyncio.sleep(every_s)
