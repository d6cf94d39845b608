"""An assignment cancelled or expired is withdrawn from its provider, on its own channel: on
provider.assignments.v1 keyed by the provider (read back from Kafka), or by signed webhook through
the same delivery queue, retries and parking as assignments."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaConsumer
from provider_notify.adapters.webhook import Attempt
from provider_notify.domain.delivery import Outcome
from provider_notify.service_layer.deadlines import expire_due
from provider_notify.service_layer.delivery import Deliverer
from referral_schemas import dump_event, new_envelope, parse_event, topic_for
from referral_schemas.enums import ReferralStatus
from referral_schemas.events.provider import ProviderResponse
from referral_schemas.events.referral import ReferralStatusChanged
from referral_schemas.examples import example
from referral_schemas.registry import ProviderResponseV1, ReferralStatusV1
from servicekit.testing import consumer_record

pytestmark = pytest.mark.infra

READ_BOUND_S = 30  # how long reading the feed back may take before the test fails; no sleeps


def assignment_for(provider_id: str):
    template = example("assignment.created")
    data = template.data.model_copy(update={"provider_id": provider_id, "assignment_id": uuid.uuid4()})
    return new_envelope(type(template), data, producer="triage", referral_id=uuid.uuid4())


async def consume(service, prefix, topic: str, *events, offset: int = 0) -> None:
    """`events` arrive on `topic`, as provider-notify's consumer would take them."""
    records = [
        consumer_record(prefix + topic, dump_event(e), key=str(e.referral_id).encode(), offset=offset + i)
        for i, e in enumerate(events)
    ]
    await service.consumers[0].apply_batch(records)


async def take_in(service, prefix, assignment) -> None:
    await consume(service, prefix, topic_for("assignment.created"), assignment)


async def provider_records(service, prefix, assignment, *steps: str) -> None:
    """The provider records `steps` from its own system (provider.response.v1)."""
    events = []
    for i, step in enumerate(steps):
        answer = ProviderResponse.model_validate_json(
            json.dumps(
                {
                    "response_id": f"r-{uuid.uuid4().hex[:8]}",
                    "assignment_id": str(assignment.data.assignment_id),
                    "provider_id": assignment.data.provider_id,
                    "response": step,
                    "recorded_at": f"2026-03-02T10:0{i}:00Z",
                }
            )
        )
        events.append(
            new_envelope(
                ProviderResponseV1, answer, producer="provider-system", referral_id=assignment.referral_id
            )
        )
    await consume(service, prefix, topic_for("provider.response"), *events, offset=100)


async def referrer_cancels(service, prefix, assignment) -> None:
    status = ReferralStatusChanged(
        source_system="emis-c82001", source_referral_id="REF-1", status=ReferralStatus.CANCELLED
    )
    cancel = new_envelope(
        ReferralStatusV1, status, producer="referral-intake", referral_id=assignment.referral_id
    )
    await consume(service, prefix, topic_for("referral.status"), cancel, offset=200)


async def deliver_due(service, sender, ctx) -> int:
    """One pass of the deliverer, waiting for the deliveries it started."""
    deliverer = Deliverer(lambda: service.pool, service.uow, sender, ctx, random.Random(1))
    leased = await deliverer.pass_once()
    await deliverer.drain()
    return leased


async def withdrawal_row(service, assignment):
    async with service.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT channel, reason, delivery_state, attempts, payload FROM withdrawals WHERE assignment_id = $1",
            assignment.data.assignment_id,
        )
        attempts = await conn.fetch(
            "SELECT status, outcome FROM withdrawal_attempts WHERE assignment_id = $1 ORDER BY attempt",
            assignment.data.assignment_id,
        )
    return row, [(a["status"], a["outcome"]) for a in attempts]


async def assignment_delivery(service, assignment):
    async with service.pool.acquire() as conn:
        state = await conn.fetchval(
            "SELECT delivery_state FROM assignments WHERE assignment_id = $1", assignment.data.assignment_id
        )
        attempts = await conn.fetch(
            "SELECT status, outcome FROM delivery_attempts WHERE assignment_id = $1 ORDER BY attempt",
            assignment.data.assignment_id,
        )
    return state, [(a["status"], a["outcome"]) for a in attempts]


async def announced_for_referral(service, assignment) -> list[str]:
    async with service.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT type FROM outbox WHERE aggregateid = $1 ORDER BY seq", str(assignment.referral_id)
        )
    return [r["type"] for r in rows]


async def read_feed(bootstrap: str, topic: str, assignment_id: str, count: int) -> list[tuple[bytes, dict]]:
    """The first `count` records about `assignment_id` on `topic`, from the beginning: (key, event)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"feed-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[tuple[bytes, dict]] = []
    try:
        async with asyncio.timeout(READ_BOUND_S):
            while len(found) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        event = json.loads(r.value)
                        if event["data"].get("assignment_id") == assignment_id:
                            found.append((r.key, event))
    except TimeoutError:
        raise AssertionError(f"{len(found)} of {count} records on {topic} after {READ_BOUND_S}s") from None
    finally:
        await consumer.stop()
    return found


async def test_a_kafka_providers_cancelled_assignment_is_withdrawn_on_its_feed_keyed_by_provider(
    notify, isolated_topic_prefix, kafka_bootstrap
):
    service, _, _, _, _ = notify
    assignment = assignment_for("active-blaby")  # no webhook registered: takes Kafka
    await take_in(service, isolated_topic_prefix, assignment)
    await provider_records(service, isolated_topic_prefix, assignment, "accepted", "contacted")
    await referrer_cancels(service, isolated_topic_prefix, assignment)
    async with service.pool.acquire() as conn:  # the outbox, relayed to Kafka as in service
        await service.relay.relay_once(conn)

    feed = await read_feed(
        kafka_bootstrap,
        isolated_topic_prefix + "provider.assignments.v1",
        str(assignment.data.assignment_id),
        count=2,
    )
    # On the provider's own feed, under its key, the withdrawal follows the assignment.
    assert [(key, e["event_type"]) for key, e in feed] == [
        (b"active-blaby", "assignment.created"),
        (b"active-blaby", "assignment.withdrawn"),
    ]
    withdrawn = parse_event(json.dumps(feed[1][1]).encode())
    assert withdrawn.referral_id == assignment.referral_id
    assert withdrawn.data.provider_id == "active-blaby"
    assert withdrawn.data.reason.value == "referral_cancelled"
    assert withdrawn.data.stage_reached.value == "contacted"  # it had started: it must stop
    assert "stop work on it" in withdrawn.data.detail
    row, attempts = await withdrawal_row(service, assignment)
    assert (row["channel"], row["reason"], row["delivery_state"], row["attempts"]) == (
        "kafka",
        "referral_cancelled",
        "delivered",
        1,
    )
    assert attempts == []  # nothing posted: Kafka providers read their feed


async def test_a_webhook_providers_cancelled_assignment_is_withdrawn_by_a_signed_delivery(
    notify, isolated_topic_prefix
):
    service, rec, sender, _, ctx = notify
    assignment = assignment_for("hook-ok")
    await take_in(service, isolated_topic_prefix, assignment)
    assert await deliver_due(service, sender, ctx) == 1
    await referrer_cancels(service, isolated_topic_prefix, assignment)
    assert await deliver_due(service, sender, ctx) == 1
    assert await deliver_due(service, sender, ctx) == 0  # delivered once

    # The receiver took both (it verifies each signature and refuses any it cannot), in order.
    created, withdrawn = (parse_event(body) for body in rec.taken)
    assert (created.event_type, withdrawn.event_type) == ("assignment.created", "assignment.withdrawn")
    assert withdrawn.data.assignment_id == assignment.data.assignment_id
    assert withdrawn.data.reason.value == "referral_cancelled"
    assert withdrawn.data.stage_reached is None
    # Its own delivery id, so a receiver dropping repeats does not drop it as the assignment again.
    assert rec.seen_deliveries == {str(assignment.data.assignment_id), str(withdrawn.event_id)}
    row, attempts = await withdrawal_row(service, assignment)
    assert (row["channel"], row["delivery_state"], attempts) == ("webhook", "delivered", [(200, "delivered")])
    assert parse_event(row["payload"].encode()) == withdrawn
    # The assignment's own delivery record is untouched, and nothing announces the withdrawal's
    # delivery as an assignment's.
    assert await assignment_delivery(service, assignment) == ("delivered", [(200, "delivered")])
    assert await announced_for_referral(service, assignment) == ["assignment.delivered"]


async def test_an_expired_webhook_assignment_is_withdrawn_with_the_same_retries_and_parked_when_it_cannot_be(
    notify, isolated_topic_prefix
):
    service, rec, sender, clock, ctx = notify
    assignment = assignment_for("hook-broken")
    await take_in(service, isolated_topic_prefix, assignment)
    await deliver_due(service, sender, ctx)  # 503: the provider may have it all the same
    assert await expire_due(service.uow, clock["now"]) == 1  # its deadline is in the past

    await deliver_due(service, sender, ctx)
    row, attempts = await withdrawal_row(service, assignment)
    assert (row["reason"], row["delivery_state"], attempts) == ("expired", "pending", [(503, "retry")])
    withdrawn = parse_event(row["payload"].encode())
    assert withdrawn.data.contact_deadline == assignment.data.contact_deadline
    assert await deliver_due(service, sender, ctx) == 0  # backing off, not due yet
    clock["now"] += timedelta(hours=2)  # past the backoff and the one-hour give-up
    await deliver_due(service, sender, ctx)
    row, attempts = await withdrawal_row(service, assignment)
    assert (row["delivery_state"], attempts) == ("failed", [(503, "retry"), (503, "retry")])
    # The expired assignment itself is not tried again, and the withdrawal's failure is not
    # announced as the assignment's.
    assert await assignment_delivery(service, assignment) == ("stopped", [(503, "retry")])
    assert await announced_for_referral(service, assignment) == ["assignment.expired"]
    assert rec.taken == []


async def test_a_webhook_assignment_cancelled_before_its_delivery_started_gets_no_withdrawal(
    notify, isolated_topic_prefix
):
    service, rec, sender, _, ctx = notify
    assignment = assignment_for("hook-ok")
    await take_in(service, isolated_topic_prefix, assignment)
    await referrer_cancels(service, isolated_topic_prefix, assignment)
    assert await deliver_due(service, sender, ctx) == 0
    row, attempts = await withdrawal_row(service, assignment)
    assert (row["reason"], row["delivery_state"], attempts) == ("referral_cancelled", "not_needed", [])
    assert rec.taken == []
    assert (await assignment_delivery(service, assignment))[0] == "stopped"


class HeldSender:
    """A sender whose POSTs stay under way until the test lets them answer 503."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.posted: list[str] = []

    async def post(self, url, secret, body, *, delivery_id, now, pool=None) -> Attempt:
        self.posted.append(delivery_id)
        await self.release.wait()
        return Attempt(Outcome.RETRY, 503, "HTTP 503", 1.0)

    async def aclose(self) -> None:
        pass


async def test_a_withdrawal_waits_for_its_assignments_post_under_way_which_is_then_not_retried(
    notify, isolated_topic_prefix
):
    service, rec, sender, clock, ctx = notify
    assignment = assignment_for("hook-ok")
    await take_in(service, isolated_topic_prefix, assignment)
    held = HeldSender()
    busy = Deliverer(lambda: service.pool, service.uow, held, ctx, random.Random(1))  # type: ignore[arg-type]
    assert await busy.pass_once() == 1  # the assignment's POST is under way
    await referrer_cancels(service, isolated_topic_prefix, assignment)
    assert await deliver_due(service, sender, ctx) == 0  # the withdrawal must not overtake it

    held.release.set()
    await busy.drain()
    # The attempt is recorded, but a cancelled assignment is not posted again.
    assert await assignment_delivery(service, assignment) == ("stopped", [(503, "retry")])
    # Past the first retry it would have had (at most 1 s), within the receiver's 300 s of skew.
    clock["now"] += timedelta(seconds=5)
    assert await deliver_due(service, sender, ctx) == 1  # only the withdrawal
    assert [parse_event(b).event_type for b in rec.taken] == ["assignment.withdrawn"]
    assert held.posted == [str(assignment.data.assignment_id)]


async def test_an_assignment_cancelled_in_the_same_batch_it_arrived_in_is_stopped_before_delivery(
    notify, isolated_topic_prefix
):
    service, rec, sender, _, ctx = notify
    assignment = assignment_for("hook-ok")
    status = ReferralStatusChanged(
        source_system="emis-c82001", source_referral_id="REF-1", status=ReferralStatus.CANCELLED
    )
    cancel = new_envelope(
        ReferralStatusV1, status, producer="referral-intake", referral_id=assignment.referral_id
    )
    key = str(assignment.referral_id).encode()
    await service.consumers[0].apply_batch(
        [
            consumer_record(
                isolated_topic_prefix + topic_for("assignment.created"),
                dump_event(assignment),
                key=key,
                offset=0,
            ),
            consumer_record(
                isolated_topic_prefix + topic_for("referral.status"), dump_event(cancel), key=key, offset=0
            ),
        ]
    )
    assert await deliver_due(service, sender, ctx) == 0
    assert rec.taken == []
    assert (await assignment_delivery(service, assignment))[0] == "stopped"
    row, _ = await withdrawal_row(service, assignment)
    assert (row["reason"], row["delivery_state"]) == ("referral_cancelled", "not_needed")
