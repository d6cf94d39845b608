"""Taking assignments in, and delivering them: Kafka at once, webhooks from a durable queue.

An assignment is stored when its event arrives (a repeat changes nothing). For a Kafka provider
it is written, in the same transaction, to provider.assignments.v1 keyed by the provider, and is
delivered. For a webhook provider it waits in `assignments` until a deliverer leases it; the
POST happens outside any transaction, then the attempt and its outcome are recorded and
`assignment.delivered` or (after retrying for `give_up_after_s`) `assignment.delivery_failed`
are published. Leases expire, so a deliverer that dies mid-attempt costs a retry, never a loss.

The deliverer also carries withdrawals (`withdrawals`: an assignment cancelled or expired) to
webhook providers, from their own table, with the same leases, signing, retries and parking;
they announce nothing on Kafka (the referral's own events already say what happened), and one
that cannot be delivered is logged as an error for operators. A withdrawal is not sent while
its assignment's own POST is still under way, so it never overtakes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import asyncpg
from provider_notify.adapters.assignments import NewAssignment
from provider_notify.adapters.unit_of_work import NotifyUnitOfWork
from provider_notify.adapters.webhook import Attempt, WebhookSender
from provider_notify.domain.channels import Channels
from provider_notify.domain.deadlines import held_deadline
from provider_notify.domain.delivery import Outcome, RetryPolicy
from referral_schemas import Envelope, dump_event, parse_event
from referral_schemas.enums import DeliveryChannel
from referral_schemas.events.assignment import AssignmentDelivered, AssignmentDeliveryFailed
from referral_schemas.registry import AssignmentDeliveredV1, AssignmentDeliveryFailedV1
from servicekit.db.uow import UnitOfWork
from servicekit.observability.tracing import continue_trace, current_trace_headers

log = logging.getLogger(__name__)

PRODUCER = "provider-notify"
PROVIDER_TOPIC = "provider.assignments.v1"
CREATED = "assignment.created"


@dataclass(frozen=True)
class NotifyContext:
    channels: Callable[[], Channels]
    policy: RetryPolicy
    lease: timedelta
    batch: int
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    deadline_override_s: Mapping[str, float] = field(default_factory=dict)
    """provider_id -> seconds: NotifySettings.contact_deadline_override_s (tests and demos only)."""


async def prefetch_assignments(events: Sequence[Envelope[Any]], uow: NotifyUnitOfWork) -> None:
    await uow.assignments.prefetch(e.data.assignment_id for e in events if e.event_type == CREATED)


async def handle_assignment_created(event: Envelope[Any], uow: NotifyUnitOfWork, ctx: NotifyContext) -> None:
    data = event.data
    if await uow.assignments.is_held(data.assignment_id):
        return  # a repeat changes nothing
    assert event.referral_id is not None  # assignment events always name their referral
    channel = ctx.channels().of(data.provider_id).channel
    now = ctx.now()
    kafka = channel is DeliveryChannel.KAFKA
    uow.assignments.add(
        NewAssignment(
            assignment_id=data.assignment_id,
            referral_id=event.referral_id,
            provider_id=data.provider_id,
            channel=channel.value,
            delivery_state="delivered" if kafka else "pending",
            payload=dump_event(event).decode(),
            contact_deadline=held_deadline(
                data.provider_id, data.contact_deadline, now, ctx.deadline_override_s
            ),
            attempts=1 if kafka else 0,
            next_attempt_at=None if kafka else now,
            delivered_at=now if kafka else None,
            trace_headers=current_trace_headers(),
        )
    )
    if not kafka:
        uow.on_flush(announce_due)  # one NOTIFY per transaction, delivered when it commits
        return
    # The provider's own copy, keyed by provider so that Kafka ACLs can confine each to its own.
    uow.publish(event, topic=PROVIDER_TOPIC, key=data.provider_id, aggregate_type="provider")
    delivered = AssignmentDelivered(
        assignment_id=data.assignment_id,
        provider_id=data.provider_id,
        channel=DeliveryChannel.KAFKA,
        delivered_at=now,
        attempts=1,
    )
    uow.emit(
        AssignmentDeliveredV1, delivered, producer=PRODUCER, referral_id=event.referral_id, caused_by=event
    )


class Queue(StrEnum):
    """What a webhook delivery carries; each is queued in its own table, with its own attempts."""

    ASSIGNMENT = "assignment"  # assignments, delivery_attempts
    WITHDRAWAL = "withdrawal"  # withdrawals, withdrawal_attempts
    REMINDER = "reminder"  # reminders, reminder_attempts


# Due deliveries of every queue, oldest first, of providers with room for more: candidates only,
# not locked. A withdrawal or reminder waits while its assignment's own POST is under way (leased).
_DUE_ASSIGNMENTS = """
(SELECT 'assignment' AS queue, assignment_id, provider_id, next_attempt_at FROM assignments
 WHERE delivery_state = 'pending' AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until < $1)
     AND provider_id <> ALL($2::text[])
 ORDER BY next_attempt_at LIMIT $3)"""
_DUE_NOTICES = """
(SELECT '{queue}', n.assignment_id, n.provider_id, n.next_attempt_at FROM {table} n
 WHERE n.delivery_state = 'pending' AND n.next_attempt_at <= $1
     AND (n.leased_until IS NULL OR n.leased_until < $1) AND n.provider_id <> ALL($2::text[])
     AND NOT EXISTS (
         SELECT 1 FROM assignments a WHERE a.assignment_id = n.assignment_id AND a.leased_until >= $1)
 ORDER BY n.next_attempt_at LIMIT $3)"""
# The lease, re-checked row by row under its lock: a row another deliverer leased meanwhile is
# skipped. The delivery id is the same for every attempt of one delivery: an assignment's is its
# assignment_id, a withdrawal's or reminder's its own event id.
_LEASE = """
UPDATE {table} SET leased_until = $3
WHERE assignment_id = ANY($1::uuid[]) AND delivery_state = 'pending' AND next_attempt_at <= $2
    AND (leased_until IS NULL OR leased_until < $2)
RETURNING '{queue}' AS queue, {delivery_id}::text AS delivery_id, assignment_id, provider_id, payload,
    attempts, first_failed_at, trace_headers
"""
# Outcomes of a group, in one statement: an outcome whose attempt number is no longer next (its
# lease lapsed and another attempt was recorded first) changes nothing and is not returned. A
# delivery stopped while its attempt was under way (the assignment was cancelled or expired) is
# not tried again: it stays stopped unless that attempt settled it.
_RECORD = """
WITH recorded AS (
    UPDATE {table} a SET attempts = o.attempt,
        delivery_state = CASE WHEN a.delivery_state = 'stopped' AND o.state = 'pending' THEN 'stopped'
                              ELSE o.state END,
        next_attempt_at = CASE WHEN a.delivery_state = 'stopped' THEN NULL ELSE o.next_at END,
        leased_until = NULL, first_failed_at = o.first_failed,
        delivered_at = CASE WHEN o.state = 'delivered' THEN $9 ELSE a.delivered_at END
    FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::timestamptz[])
        AS o(assignment_id, attempt, state, next_at, first_failed)
    WHERE a.assignment_id = o.assignment_id AND a.attempts = o.attempt - 1
    RETURNING a.assignment_id, o.attempt)
INSERT INTO {attempts} (assignment_id, attempt, at, status, error, outcome, elapsed_ms)
SELECT d.assignment_id, d.attempt, $9, d.status, d.error, d.outcome, d.elapsed_ms
FROM unnest($1::uuid[], $2::int[], $6::int[], $7::text[], $8::text[], $10::float8[])
    AS d(assignment_id, attempt, status, error, outcome, elapsed_ms)
JOIN recorded USING (assignment_id, attempt)
RETURNING assignment_id
"""
_TABLES = {
    Queue.ASSIGNMENT: ("assignments", "delivery_attempts", "assignment_id"),
    Queue.WITHDRAWAL: ("withdrawals", "withdrawal_attempts", "event_id"),
    Queue.REMINDER: ("reminders", "reminder_attempts", "event_id"),
}
LEASE = {
    q: _LEASE.format(table=table, queue=q.value, delivery_id=delivery_id)
    for q, (table, _, delivery_id) in _TABLES.items()
}
RECORD = {q: _RECORD.format(table=table, attempts=attempts) for q, (table, attempts, _) in _TABLES.items()}
DUE_CANDIDATES = (
    "\nUNION ALL".join(
        [_DUE_ASSIGNMENTS]
        + [
            _DUE_NOTICES.format(queue=q.value, table=table)
            for q, (table, _, _) in _TABLES.items()
            if q is not Queue.ASSIGNMENT
        ]
    )
    + "\nORDER BY next_attempt_at LIMIT $3"
)
# Sent with the commit that stores a webhook assignment or withdrawal, so that a waiting deliverer
# starts at once.
DUE_CHANNEL = "provider_notify_due"


async def announce_due(conn: asyncpg.Connection) -> None:
    await conn.execute(f"NOTIFY {DUE_CHANNEL}")


class Deliverer:
    """Leases due deliveries and posts each as its own task; outcomes are group-committed.

    No pass waits for its slowest endpoint: a slow provider ties up at most `per_provider` of
    the `total` concurrent requests, and everyone else's keep flowing. Only what can be sent
    soon is leased: at most `queued` times `per_provider` deliveries of one provider, and
    `queued` times `total` in all, are leased and not yet recorded. So a lease (`ctx.lease`)
    outlives the wait behind its provider's earlier deliveries, even for an endpoint that
    times out, and a slow provider's backlog stays in the table, not in this process's queue.
    """

    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        uow_factory: Callable[[], UnitOfWork],
        sender: WebhookSender,
        ctx: NotifyContext,
        rng: random.Random,
        *,
        total: int = 200,
        per_provider: int = 8,
        queued: int = 2,
    ) -> None:
        self._pool, self._uow_factory, self._sender, self._ctx, self._rng = (
            pool,
            uow_factory,
            sender,
            ctx,
            rng,
        )
        self._total = asyncio.Semaphore(total)
        self._per_provider: dict[str, asyncio.Semaphore] = {}
        self._limit = per_provider
        self._provider_room = queued * per_provider
        self._room = queued * total
        self._in_flight: dict[str, int] = {}  # leased, not yet recorded, by provider
        self._in_flight_total = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: list[tuple[asyncpg.Record, Attempt]] = []
        self._recording = asyncio.Lock()
        self._wake = asyncio.Event()
        self._full = False  # the last pass stopped for want of room in all
        self._blocked: set[str] = set()  # providers the last pass left out for want of their room

    async def pass_once(self) -> int:
        """Lease what is due and has room, and start delivering it; returns how many were leased."""
        self._wake.clear()
        room = min(self._ctx.batch, self._room - self._in_flight_total)
        if room <= 0:
            self._full = True
            return 0
        full = [p for p, n in self._in_flight.items() if n >= self._provider_room]
        now = self._ctx.now()
        async with self._pool().acquire() as conn:
            candidates = await conn.fetch(DUE_CANDIDATES, now, full, room)
            taken: dict[str, int] = {}
            chosen: dict[Queue, list[Any]] = {}
            self._blocked = set(full)
            for c in candidates:
                p = c["provider_id"]
                if self._in_flight.get(p, 0) + taken.get(p, 0) < self._provider_room:
                    taken[p] = taken.get(p, 0) + 1
                    chosen.setdefault(Queue(c["queue"]), []).append(c["assignment_id"])
                else:
                    self._blocked.add(p)
            due = [
                row
                for queue, ids in chosen.items()
                for row in await conn.fetch(LEASE[queue], ids, now, now + self._ctx.lease)
            ]
        self._full = len(candidates) == room
        channels = self._ctx.channels()
        for row in due:
            self._in_flight[row["provider_id"]] = self._in_flight.get(row["provider_id"], 0) + 1
            self._in_flight_total += 1
            task = asyncio.create_task(self._deliver(row, channels))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(due)

    async def wait(self, idle_s: float) -> None:
        """Until new assignments are announced, room frees up after a full pass, or `idle_s`."""
        try:
            async with asyncio.timeout(idle_s):
                await self._wake.wait()
        except TimeoutError:
            pass

    def wake(self, *_: object) -> None:
        self._wake.set()

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """Woken by the commit of every new webhook assignment (any instance's), while inside."""
        async with self._pool().acquire() as conn:
            await conn.add_listener(DUE_CHANNEL, self.wake)
            try:
                yield
            finally:
                if not conn.is_closed():
                    await conn.remove_listener(DUE_CHANNEL, self.wake)

    async def drain(self) -> None:
        """Wait for every delivery started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def close(self) -> None:
        await self._sender.aclose()

    async def _deliver(self, row: asyncpg.Record, channels: Channels) -> None:
        provider = channels.of(row["provider_id"])
        gate = self._per_provider.setdefault(provider.provider_id, asyncio.Semaphore(self._limit))
        async with gate, self._total:
            try:
                secret = provider.secret()
            except LookupError as exc:
                result = Attempt(Outcome.RETRY, None, str(exc), 0.0)
            else:
                assert provider.url is not None
                result = await self._sender.post(
                    provider.url,
                    secret,
                    row["payload"].encode(),
                    delivery_id=row["delivery_id"],
                    now=int(self._ctx.now().timestamp()),
                    pool=provider.provider_id,
                )
        self._outcomes.append((row, result))
        await self._record_outcomes()

    async def _record_outcomes(self) -> None:
        """Group commit: whoever gets the lock records every outcome waiting, in one transaction.

        One transaction per delivery capped the rate near 100/s on this machine's disk flushes.
        If the transaction fails, the deliveries stay leased and are tried again when it lapses.
        """
        async with self._recording:
            if not self._outcomes:
                return
            batch, self._outcomes = self._outcomes, []
            try:
                async with self._uow_factory() as uow:
                    await _record(uow, batch, self._ctx, self._rng)
                    await uow.commit()
            except Exception:
                log.exception(
                    "recording %d delivery outcomes failed; retried when their leases lapse", len(batch)
                )
            finally:
                for row, _ in batch:
                    self._in_flight[row["provider_id"]] -= 1
                    self._in_flight_total -= 1
                if (self._full and self._in_flight_total <= self._room // 2) or any(
                    self._in_flight.get(p, 0) <= self._provider_room // 2 for p in self._blocked
                ):
                    self.wake()


# attempt, state, next_attempt_at, first_failed_at, status, error, outcome, elapsed_ms
_Row = tuple[int, str, datetime | None, datetime | None, int | None, str | None, str, float]


async def _record(
    uow: UnitOfWork,
    batch: list[tuple[asyncpg.Record, Attempt]],
    ctx: NotifyContext,
    rng: random.Random,
) -> None:
    now = ctx.now()
    queues: dict[Queue, dict[Any, _Row]] = {}
    settled: dict[tuple[Queue, Any], tuple[asyncpg.Record, Attempt, str, int]] = {}
    for row, result in batch:
        queue = Queue(row["queue"])
        rows = queues.setdefault(queue, {})
        if row["assignment_id"] in rows:  # the same attempt twice (a lapsed lease): the first counts
            continue
        number = row["attempts"] + 1
        first_failed = row["first_failed_at"] or (now if result.outcome is not Outcome.DELIVERED else None)
        give_up = result.outcome is Outcome.GIVE_UP or (
            result.outcome is Outcome.RETRY
            and first_failed is not None
            and ctx.policy.exhausted((now - first_failed).total_seconds())
        )
        state = "delivered" if result.outcome is Outcome.DELIVERED else "failed" if give_up else "pending"
        next_at = now + timedelta(seconds=ctx.policy.delay(number, rng)) if state == "pending" else None
        rows[row["assignment_id"]] = (
            number,
            state,
            next_at,
            first_failed,
            result.status,
            result.error,
            result.outcome.value,
            result.elapsed_ms,
        )
        if state != "pending":
            settled[(queue, row["assignment_id"])] = (row, result, state, number)
    for queue, rows in queues.items():
        numbers, states, next_ats, first_faileds, statuses, errors, outcomes, elapsed = (
            list(column) for column in zip(*rows.values(), strict=True)
        )
        recorded = await uow.connection.fetch(
            RECORD[queue],
            list(rows),
            numbers,
            states,
            next_ats,
            first_faileds,
            statuses,
            errors,
            outcomes,
            now,
            elapsed,
        )
        for r in recorded:
            if (queue, r["assignment_id"]) in settled:
                _announce(uow, queue, *settled[(queue, r["assignment_id"])], now)


def _announce(
    uow: UnitOfWork,
    queue: Queue,
    row: asyncpg.Record,
    result: Attempt,
    state: str,
    number: int,
    now: datetime,
) -> None:
    span = f"webhook {state}" if queue is Queue.ASSIGNMENT else f"webhook {queue.value} {state}"
    with continue_trace(row["trace_headers"], span):
        if queue is Queue.ASSIGNMENT:
            _emit_settled(uow, row, result, state, number, now)
        elif queue is Queue.REMINDER:
            # The reminder's fate is in `reminders`; the assignment's own deadline still holds.
            log.log(
                logging.INFO if state == "delivered" else logging.WARNING,
                "reminder of assignment %s %s to %s after %d attempt(s)%s",
                row["assignment_id"],
                "delivered" if state == "delivered" else "could not be delivered",
                row["provider_id"],
                number,
                "" if state == "delivered" else f" ({result.error or 'no answer'})",
            )
        elif state == "delivered":
            log.info("withdrawal of assignment %s delivered to %s", row["assignment_id"], row["provider_id"])
        else:
            # No contract announces it (assignment.delivery_failed would read as the assignment
            # itself undelivered): the row stays failed in `withdrawals`, and operators are told here.
            log.error(
                "withdrawal of assignment %s could not be delivered to %s after %d attempts (%s):"
                " tell the provider another way to stop work on it",
                row["assignment_id"],
                row["provider_id"],
                number,
                result.error or "no answer",
            )


def _emit_settled(
    uow: UnitOfWork, row: asyncpg.Record, result: Attempt, state: str, number: int, now: datetime
) -> None:
    cause = parse_event(row["payload"].encode())
    referral_id = cause.referral_id
    assert referral_id is not None  # assignment events always name their referral
    if state == "delivered":
        data: Any = AssignmentDelivered(
            assignment_id=row["assignment_id"],
            provider_id=row["provider_id"],
            channel=DeliveryChannel.WEBHOOK,
            delivered_at=now,
            attempts=number,
        )
        uow.emit(AssignmentDeliveredV1, data, producer=PRODUCER, referral_id=referral_id, caused_by=cause)
    else:
        data = AssignmentDeliveryFailed(
            assignment_id=row["assignment_id"],
            provider_id=row["provider_id"],
            channel=DeliveryChannel.WEBHOOK,
            attempts=number,
            last_error=(result.error or "no answer")[:2000],
        )
        uow.emit(
            AssignmentDeliveryFailedV1, data, producer=PRODUCER, referral_id=referral_id, caused_by=cause
        )


async def keep_delivering(deliverer: Deliverer, idle_s: float = 0.2) -> None:
    """The deliverer's loop: passes until cancelled, pausing only when nothing was leased, until
    an assignment is stored, room frees up, or `idle_s` has passed (retries falling due)."""
    try:
        async with deliverer.listening():
            while True:
                if await deliverer.pass_once() == 0:
                    await deliverer.wait(idle_s)
    finally:
        await deliverer.close()
