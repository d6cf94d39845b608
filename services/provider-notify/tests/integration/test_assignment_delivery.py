"""Assignments taken in and delivered: Kafka providers at once, webhooks through the durable queue."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import timedelta

import pytest
from provider_notify.service_layer.delivery import Deliverer
from referral_schemas import dump_event, new_envelope, parse_event, topic_for
from referral_schemas.examples import example
from servicekit.testing import consumer_record

pytestmark = pytest.mark.infra


def assignment_for(provider_id: str):
    template = example("assignment.created")
    data = template.data.model_copy(update={"provider_id": provider_id, "assignment_id": uuid.uuid4()})
    return new_envelope(type(template), data, producer="triage", referral_id=uuid.uuid4())


async def deliver_due(service, sender, ctx) -> int:
    """One pass of the deliverer, waiting for the deliveries it started."""
    deliverer = Deliverer(lambda: service.pool, service.uow, sender, ctx, random.Random(1))
    leased = await deliverer.pass_once()
    await deliverer.drain()
    return leased


async def take_in(service, prefix, *events):
    records = [
        consumer_record(
            prefix + topic_for("assignment.created"), dump_event(e), key=str(e.referral_id).encode(), offset=i
        )
        for i, e in enumerate(events)
    ]
    await service.consumers[0].apply_batch(records)


async def outbox(service, key):
    async with service.pool.acquire() as conn:
        rows = await conn.fetch("SELECT topic, payload FROM outbox WHERE aggregateid = $1 ORDER BY seq", key)
    return [(r["topic"], parse_event(r["payload"].encode())) for r in rows]


async def state_of(service, assignment_id):
    async with service.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT delivery_state, attempts FROM assignments WHERE assignment_id = $1", assignment_id
        )
        attempts = await conn.fetch(
            "SELECT status, outcome FROM delivery_attempts WHERE assignment_id = $1 ORDER BY attempt",
            assignment_id,
        )
    return row["delivery_state"], [(a["status"], a["outcome"]) for a in attempts]


async def test_a_kafka_provider_gets_its_copy_keyed_by_provider_and_the_delivery_is_announced(
    notify, isolated_topic_prefix
):
    service, _, _, _, _ = notify
    event = assignment_for("active-blaby")
    await take_in(service, isolated_topic_prefix, event, event)  # a repeat changes nothing
    copy = await outbox(service, "active-blaby")
    assert [t for t, _ in copy] == ["provider.assignments.v1"]
    assert copy[0][1].event_id == event.event_id
    delivered = await outbox(service, str(event.referral_id))
    assert [e.event_type for _, e in delivered] == ["assignment.delivered"]
    assert delivered[0][1].data.channel.value == "kafka"


async def test_an_assignment_announced_twice_in_one_batch_is_stored_and_delivered_once(
    notify, isolated_topic_prefix
):
    service, rec, sender, _, ctx = notify
    first = assignment_for("hook-ok")
    again = new_envelope(type(first), first.data, producer="triage", referral_id=first.referral_id)
    await take_in(service, isolated_topic_prefix, first, again)  # two events, one assignment
    assert await deliver_due(service, sender, ctx) == 1
    assert [parse_event(body).event_id for body in rec.taken] == [first.event_id]
    assert await state_of(service, first.data.assignment_id) == ("delivered", [(200, "delivered")])
    delivered = await outbox(service, str(first.referral_id))
    assert [e.event_type for _, e in delivered] == ["assignment.delivered"]


async def test_an_assignment_announced_again_in_a_later_batch_changes_nothing(notify, isolated_topic_prefix):
    service, _, _, _, _ = notify
    first = assignment_for("active-blaby")
    again = new_envelope(type(first), first.data, producer="triage", referral_id=first.referral_id)
    await take_in(service, isolated_topic_prefix, first)
    await take_in(service, isolated_topic_prefix, again)
    assert [e.event_id for _, e in await outbox(service, "active-blaby")] == [first.event_id]
    delivered = await outbox(service, str(first.referral_id))
    assert [e.event_type for _, e in delivered] == ["assignment.delivered"]


async def test_a_webhook_provider_is_posted_signed_and_the_attempt_recorded(notify, isolated_topic_prefix):
    service, rec, sender, _, ctx = notify
    event = assignment_for("hook-ok")
    await take_in(service, isolated_topic_prefix, event)
    assert await deliver_due(service, sender, ctx) == 1
    assert await state_of(service, event.data.assignment_id) == ("delivered", [(200, "delivered")])
    assert [parse_event(b).event_id for b in rec.taken] == [event.event_id]
    announced = [e for _, e in await outbox(service, str(event.referral_id))]
    assert [e.event_type for e in announced] == ["assignment.delivered"]
    assert announced[0].data.attempts == 1
    assert await deliver_due(service, sender, ctx) == 0


async def test_a_failing_endpoint_is_retried_later_then_parked_as_undeliverable(
    notify, isolated_topic_prefix
):
    service, _, sender, clock, ctx = notify
    event = assignment_for("hook-broken")
    await take_in(service, isolated_topic_prefix, event)
    await deliver_due(service, sender, ctx)
    assert await state_of(service, event.data.assignment_id) == ("pending", [(503, "retry")])
    assert await deliver_due(service, sender, ctx) == 0  # not due yet
    clock["now"] += timedelta(hours=2)  # past the backoff and the one-hour give-up
    await deliver_due(service, sender, ctx)
    state, attempts = await state_of(service, event.data.assignment_id)
    assert (state, len(attempts)) == ("failed", 2)
    failed = [e for _, e in await outbox(service, str(event.referral_id))]
    assert [e.event_type for e in failed] == ["assignment.delivery_failed"]
    assert failed[0].data.last_error == "HTTP 503"


async def test_a_4xx_refusal_is_parked_at_once(notify, isolated_topic_prefix):
    service, _, sender, _, ctx = notify
    event = assignment_for("hook-refusing")
    await take_in(service, isolated_topic_prefix, event)
    await deliver_due(service, sender, ctx)
    assert await state_of(service, event.data.assignment_id) == ("failed", [(400, "give_up")])


async def test_a_slow_provider_does_not_hold_up_the_others_deliveries(notify, isolated_topic_prefix):
    service, rec, sender, _, ctx = notify
    slow = assignment_for("hook-slow")
    quick = [assignment_for("hook-ok") for _ in range(5)]
    await take_in(service, isolated_topic_prefix, slow, *quick)
    deliverer = Deliverer(lambda: service.pool, service.uow, sender, ctx, random.Random(1))
    assert await deliverer.pass_once() == 6
    async with asyncio.timeout(10):
        while len(rec.taken) < 5 or any(
            [(await state_of(service, q.data.assignment_id))[0] != "delivered" for q in quick]
        ):
            await asyncio.sleep(0.05)
    assert (await state_of(service, slow.data.assignment_id))[
        0
    ] == "pending"  # still waiting on its 2 s answer
    await deliverer.drain()
    # Its 2 s answer outlasts this sender's 2 s timeout: one attempt recorded, tried again later.
    assert await state_of(service, slow.data.assignment_id) == ("pending", [(None, "retry")])
