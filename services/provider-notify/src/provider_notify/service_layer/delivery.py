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


async def deliver_due(
    pool: asyncpg.Pool,
    uow_factory: Callable[[], UnitOfWork],
    sender: WebhookSender,
    ctx: NotifyContext,
    rng: random.Random,
) -> int:
    """One pass: lease what is due, POST it all concurrently, record every outcome. Returns how many."""
    now = ctx.now()
    async with pool.acquire() as conn:
        due = await conn.fetch(LEASE_DUE, now, now + ctx.lease, ctx.batch)
    if not due:
        return 0
    channels = ctx.channels()

    async def attempt(row: asyncpg.Record) -> Attempt:
        provider = channels.of(row["provider_id"])
        try:
            secret = provider.secret()
        except LookupError as exc:
            return Attempt(Outcome.RETRY, None, str(exc), 0.0)
        assert provider.url is not None
        return await sender.post(
            provider.url,
            secret,
            row["payload"].encode(),
            delivery_id=str(row["assignment_id"]),
            now=int(ctx.now().timestamp()),
        )

    results = await asyncio.gather(*(attempt(row) for row in due))
    async with uow_factory() as uow:
        for row, result in zip(due, results, strict=True):
            await _record(uow, row, result, ctx, rng)
        await uow.commit()
    return len(due)


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


async def keep_delivering(
    pool: Callable[[], asyncpg.Pool],
    uow_factory: Callable[[], UnitOfWork],
    sender: WebhookSender,
    ctx: NotifyContext,
    idle_s: float = 0.2,
) -> None:
    """The deliverer: passes until cancelled, pausing only when nothing was due."""
    rng = random.Random()  # noqa: S311 - jitter, not secrecy
    while True:
        if await deliver_due(pool(), uow_factory, sender, ctx, rng) == 0:
            await asyncio.sleep(idle_s)
