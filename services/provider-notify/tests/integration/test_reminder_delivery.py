"""Reminders reach the provider as assignment.reminded, on the channel the assignment came by."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from provider_notify.service_layer.deadlines import remind_due
from referral_schemas import new_envelope, parse_event, topic_for
from referral_schemas.examples import example
from servicekit.calendar import add_working_days, england_bank_holidays

from .test_withdrawals import consume, deliver_due, referrer_cancels

pytestmark = pytest.mark.infra

H = england_bank_holidays()


def assignment_for(provider_id: str):
    template = example("assignment.created")
    deadline = add_working_days(datetime.now(UTC), 3, H)
    data = template.data.model_copy(
        update={"provider_id": provider_id, "assignment_id": uuid.uuid4(), "contact_deadline": deadline}
    )
    return new_envelope(type(template), data, producer="triage", referral_id=uuid.uuid4())


async def remind_when_due(service, clock, assignment) -> None:
    """Its reminder scheduled for now and fired (when a reminder falls due is test_reminders')."""
    fired = await remind_due(service.uow, clock["now"], lambda deadline, assigned_at: clock["now"])
    assert (fired.scheduled, fired.reminded) == (1, 1)


async def posted_then_reminded(notify, prefix):
    """A webhook assignment posted to hook-ok, then its reminder issued (queued for the deliverer)."""
    service, _, sender, clock, ctx = notify
    assignment = assignment_for("hook-ok")
    await consume(service, prefix, topic_for("assignment.created"), assignment)
    assert await deliver_due(service, sender, ctx) == 1
    await remind_when_due(service, clock, assignment)
    return assignment


async def reminder_row(service, assignment):
    async with service.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT state, channel, delivery_state, event_id, payload FROM reminders WHERE assignment_id = $1",
            assignment.data.assignment_id,
        )
        attempts = await conn.fetch(
            "SELECT status, outcome FROM reminder_attempts WHERE assignment_id = $1 ORDER BY attempt",
            assignment.data.assignment_id,
        )
    return row, [(a["status"], a["outcome"]) for a in attempts]


async def test_a_kafka_provider_is_reminded_on_its_feed_after_its_copy_of_the_assignment(
    notify, isolated_topic_prefix
):
    service, _, _, clock, _ = notify
    assignment = assignment_for("active-blaby")  # no webhook registered: takes Kafka
    await consume(service, isolated_topic_prefix, topic_for("assignment.created"), assignment)
    await remind_when_due(service, clock, assignment)

    async with service.pool.acquire() as conn:
        feed = await conn.fetch(
            "SELECT type, payload FROM outbox WHERE aggregateid = 'active-blaby' ORDER BY seq"
        )
    assert [r["type"] for r in feed] == ["assignment.created", "assignment.reminded"]
    reminded = parse_event(feed[1]["payload"].encode())
    assert reminded.referral_id == assignment.referral_id
    assert reminded.causation_id == assignment.event_id
    assert reminded.data.assignment_id == assignment.data.assignment_id
    assert reminded.data.contact_deadline == assignment.data.contact_deadline
    assert "Answer by" in reminded.data.detail
    row, attempts = await reminder_row(service, assignment)
    assert (row["state"], row["channel"], row["delivery_state"]) == ("reminded", "kafka", "delivered")
    assert row["event_id"] == reminded.event_id
    assert attempts == []


async def test_a_webhook_provider_is_reminded_by_a_signed_post_with_its_own_delivery_id(
    notify, isolated_topic_prefix
):
    service, rec, sender, _, ctx = notify
    assignment = await posted_then_reminded(notify, isolated_topic_prefix)
    assert await deliver_due(service, sender, ctx) == 1
    assert await deliver_due(service, sender, ctx) == 0  # delivered once

    # The receiver verified both signatures (it refuses any it cannot), in order.
    created, reminded = (parse_event(body) for body in rec.taken)
    assert (created.event_type, reminded.event_type) == ("assignment.created", "assignment.reminded")
    assert reminded.data.assignment_id == assignment.data.assignment_id
    assert rec.seen_deliveries == {str(assignment.data.assignment_id), str(reminded.event_id)}
    row, attempts = await reminder_row(service, assignment)
    assert (row["channel"], row["delivery_state"], attempts) == ("webhook", "delivered", [(200, "delivered")])


async def test_a_webhook_assignment_never_posted_is_not_reminded_over_the_webhook(
    notify, isolated_topic_prefix
):
    service, rec, sender, clock, ctx = notify
    assignment = assignment_for("hook-ok")
    await consume(service, isolated_topic_prefix, topic_for("assignment.created"), assignment)
    await remind_when_due(service, clock, assignment)  # its own delivery has not started
    row, _ = await reminder_row(service, assignment)
    assert (row["state"], row["delivery_state"]) == ("reminded", "not_needed")
    assert await deliver_due(service, sender, ctx) == 1  # the assignment, at last; no reminder
    assert [parse_event(body).event_type for body in rec.taken] == ["assignment.created"]


async def test_a_queued_reminder_is_stopped_when_the_referral_is_cancelled_before_it_is_posted(
    notify, isolated_topic_prefix
):
    service, rec, sender, _, ctx = notify
    assignment = await posted_then_reminded(notify, isolated_topic_prefix)
    await referrer_cancels(service, isolated_topic_prefix, assignment)
    assert await deliver_due(service, sender, ctx) == 1  # the withdrawal only

    assert [parse_event(body).event_type for body in rec.taken] == [
        "assignment.created",
        "assignment.withdrawn",
    ]
    row, attempts = await reminder_row(service, assignment)
    assert (row["delivery_state"], attempts) == ("stopped", [])
