"""Taking assignments in, and delivering them: Kafka at once, webhooks from a durable queue.

An assignment is stored when its event arrives (a repeat changes nothing). For a Kafka provider
it is written, in the same transaction, to provider.assignments.v1 keyed by the provider, and is
delivered. For a webhook provider it waits in `assignments` until a deliverer leases it; the
POST happens outside any transaction, then the attempt and its outcome are recorded and
`assignment.delivered` or (after retrying for `give_up_after_s`) `assignment.delivery_failed`
are published. Leases expire, so a deliverer that dies mid-attempt costs a retry, never a loss.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from provider_notify.adapters.webhook import Attempt, WebhookSender
from provider_notify.domain.channels import Channels
from provider_notify.domain.delivery import Outcome, RetryPolicy
from referral_schemas import Envelope, dump_event, parse_event
from referral_schemas.enums import DeliveryChannel
from referral_schemas.events.assignment import AssignmentDelivered, AssignmentDeliveryFailed
from referral_schemas.registry import AssignmentDeliveredV1, AssignmentDeliveryFailedV1
from servicekit.db.uow import UnitOfWork

PRODUCER = "provider-notify"
PROVIDER_TOPIC = "provider.assignments.v1"


@dataclass(frozen=True)
class NotifyContext:
    channels: Callable[[], Channels]
    policy: RetryPolicy
    lease: timedelta
    batch: int
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


async def handle_assignment_created(event: Envelope[Any], uow: UnitOfWork, ctx: NotifyContext) -> None:
    data = event.data
    channel = ctx.channels().of(data.provider_id).channel
    now = ctx.now()
    kafka = channel is DeliveryChannel.KAFKA
    stored = await uow.connection.fetchval(
        "INSERT INTO assignments (assignment_id, referral_id, provider_id, channel, delivery_state, payload,"
        " contact_deadline, attempts, next_attempt_at, delivered_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (assignment_id) DO NOTHING RETURNING assignment_id",
        data.assignment_id,
        event.referral_id,
        data.provider_id,
        channel.value,
        "delivered" if kafka else "pending",
        dump_event(event).decode(),
        data.contact_deadline,
        1 if kafka else 0,
        None if kafka else now,
        now if kafka else None,
    )
    if stored is None or not kafka:
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
    assert event.referral_id is not None
    uow.emit(
        AssignmentDeliveredV1, delivered, producer=PRODUCER, referral_id=event.referral_id, caused_by=event
    )


LEASE_DUE = """
UPDATE assignments SET leased_until = $2
WHERE assignment_id IN (
    SELECT assignment_id FROM assignments
    WHERE delivery_state = 'pending' AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until < $1)
    ORDER BY next_attempt_at LIMIT $3
    FOR UPDATE SKIP LOCKED)
RETURNING assignment_id, provider_id, payload, attempts, first_failed_at
"""


class Deliverer:
    """Leases due deliveries and posts each as its own task, recorded in its own transaction.

    No pass waits for its slowest endpoint: a slow provider ties up at most
    `per_provider` of the `total` concurrent requests, and everyone else's keep flowing.
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
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: list[tuple[asyncpg.Record, Attempt]] = []
        self._recording = asyncio.Lock()

    async def pass_once(self) -> int:
        """Lease what is due and start delivering it; returns how many were leased."""
        now = self._ctx.now()
        async with self._pool().acquire() as conn:
            due = await conn.fetch(LEASE_DUE, now, now + self._ctx.lease, self._ctx.batch)
        channels = self._ctx.channels()
        for row in due:
            task = asyncio.create_task(self._deliver(row, channels))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(due)

    async def drain(self) -> None:
        """Wait for every delivery started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

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
                    delivery_id=str(row["assignment_id"]),
                    now=int(self._ctx.now().timestamp()),
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
            async with self._uow_factory() as uow:
                for row, result in batch:
                    await _record(uow, row, result, self._ctx, self._rng)
                await uow.commit()


async def _record(
    uow: UnitOfWork, row: asyncpg.Record, result: Attempt, ctx: NotifyContext, rng: random.Random
) -> None:
    now = ctx.now()
    number = row["attempts"] + 1
    first_failed = row["first_failed_at"] or (now if result.outcome is not Outcome.DELIVERED else None)
    give_up = result.outcome is Outcome.GIVE_UP or (
        result.outcome is Outcome.RETRY
        and first_failed is not None
        and ctx.policy.exhausted((now - first_failed).total_seconds())
    )
    state = "delivered" if result.outcome is Outcome.DELIVERED else "failed" if give_up else "pending"
    next_at = now + timedelta(seconds=ctx.policy.delay(number, rng)) if state == "pending" else None
    conn = uow.connection
    await conn.execute(
        "INSERT INTO delivery_attempts (assignment_id, attempt, at, status, error, outcome, elapsed_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        row["assignment_id"],
        number,
        now,
        result.status,
        result.error,
        result.outcome.value,
        result.elapsed_ms,
    )
    await conn.execute(
        "UPDATE assignments SET attempts = $2, delivery_state = $3, next_attempt_at = $4,"
        " leased_until = NULL, first_failed_at = $5,"
        " delivered_at = CASE WHEN $3 = 'delivered' THEN $6 ELSE delivered_at END"
        " WHERE assignment_id = $1",
        row["assignment_id"],
        number,
        state,
        next_at,
        first_failed,
        now,
    )
    if state == "pending":
        return
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
    """The deliverer's loop: passes until cancelled, pausing only when nothing was due."""
    while True:
        if await deliverer.pass_once() == 0:
            await asyncio.sleep(idle_s)
