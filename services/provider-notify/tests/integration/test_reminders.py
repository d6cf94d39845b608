"""Reminders before the contact deadline, against the real database: once, only while unanswered."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from provider_notify.bootstrap import bootstrap
from provider_notify.domain.reminders import reminder_due, working_days_before
from provider_notify.service_layer.deadlines import expire_due, keep_reminding, remind_due
from referral_schemas import dump_event, new_envelope, topic_for
from referral_schemas.examples import example
from servicekit.calendar import add_working_days, england_bank_holidays
from servicekit.testing import consumer_record

pytestmark = pytest.mark.infra

H = england_bank_holidays()
TOKEN = "active-blaby-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def schedule(deadline, assigned_at):
    return reminder_due(deadline, assigned_at, 1, H)


@pytest.fixture
def settings(notify_settings):
    return notify_settings(api_keys={"active-blaby": hashlib.sha256(TOKEN.encode()).hexdigest()})


@pytest.fixture
async def api(settings):
    service = bootstrap(settings)
    await service.open_database()
    await service.producer.start()
    transport = httpx.ASGITransport(app=service.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:
        yield service, client
    await service.producer.stop()
    await service.close_database()


def working_days_ahead(days):
    return add_working_days(datetime.now(UTC), days, H)


async def assigned(service, settings, deadline):
    template = example("assignment.created")
    data = template.data.model_copy(
        update={"provider_id": "active-blaby", "assignment_id": uuid.uuid4(), "contact_deadline": deadline}
    )
    event = new_envelope(type(template), data, producer="triage", referral_id=uuid.uuid4())
    topic = settings.topic_prefix + topic_for("assignment.created")
    await service.consumers[0].apply_batch([consumer_record(topic, dump_event(event), key=b"k", offset=1)])
    return event


async def view(client, event):
    got = await client.get(f"/providers/active-blaby/assignments/{event.data.assignment_id}", headers=AUTH)
    assert got.status_code == 200
    return got.json()


async def reminder_row(service, event):
    async with service.pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT state, reason, remind_at, reminded_at FROM reminders WHERE assignment_id = $1",
            event.data.assignment_id,
        )


async def test_an_assignment_is_stored_with_its_reminder_row_still_to_be_scheduled(api):
    service, _ = api
    a = await assigned(service, service.settings, working_days_ahead(3))
    row = await reminder_row(service, a)
    assert (row["state"], row["remind_at"], row["reminded_at"]) == ("unscheduled", None, None)


async def test_a_reminder_fires_once_a_working_day_before_the_deadline(api):
    service, client = api
    a = await assigned(service, service.settings, working_days_ahead(3))
    remind_at = working_days_before(a.data.contact_deadline, 1, H)
    early = await remind_due(service.uow, remind_at - timedelta(seconds=1), schedule)
    assert (early.scheduled, early.reminded) == (1, 0)
    assert (await view(client, a))["reminded_at"] is None
    assert (await remind_due(service.uow, remind_at, schedule)).reminded == 1
    row = await reminder_row(service, a)
    assert (row["state"], row["remind_at"], row["reminded_at"]) == ("reminded", remind_at, remind_at)
    assert (await view(client, a))["reminded_at"] == remind_at.astimezone(UTC).isoformat()
    later = a.data.contact_deadline - timedelta(seconds=1)
    assert not (await remind_due(service.uow, later, schedule)).busy
    # The reminder leaves the deadline alone: unanswered, the assignment still expires on time.
    assert await expire_due(service.uow, a.data.contact_deadline) == 1


async def test_a_reminder_is_not_repeated_by_a_restarted_service(api, settings):
    service, _ = api
    a = await assigned(service, settings, working_days_ahead(3))
    remind_at = working_days_before(a.data.contact_deadline, 1, H)
    assert (await remind_due(service.uow, remind_at, schedule)).reminded == 1
    restarted = bootstrap(settings)
    await restarted.open_database()
    try:
        again = await remind_due(restarted.uow, remind_at + timedelta(hours=1), schedule)
    finally:
        await restarted.close_database()
    assert not again.busy
    assert (await reminder_row(service, a))["reminded_at"] == remind_at


async def test_an_accepted_assignment_is_not_reminded(api):
    service, client = api
    a = await assigned(service, service.settings, working_days_ahead(3))
    remind_at = working_days_before(a.data.contact_deadline, 1, H)
    assert (await remind_due(service.uow, remind_at - timedelta(hours=1), schedule)).scheduled == 1
    accepted = await client.post(
        "/providers/active-blaby/responses",
        json={
            "response_id": "r-accept",
            "assignment_id": str(a.data.assignment_id),
            "provider_id": "active-blaby",
            "response": "accepted",
            "recorded_at": datetime.now(UTC).isoformat(),
        },
        headers=AUTH,
    )
    assert accepted.json()["stage"] == "accepted"
    fired = await remind_due(service.uow, remind_at, schedule)
    assert (fired.reminded, fired.not_needed) == (0, 1)
    row = await reminder_row(service, a)
    assert (row["state"], row["reason"], row["reminded_at"]) == ("not_needed", "assignment accepted", None)
    assert (await view(client, a))["reminded_at"] is None


async def test_expired_and_too_near_assignments_are_not_reminded(api):
    service, client = api
    expired = await assigned(service, service.settings, working_days_ahead(3))
    assert await expire_due(service.uow, expired.data.contact_deadline) == 1
    # A working day before a deadline an hour away has already gone by when the assignment comes.
    near = await assigned(service, service.settings, datetime.now(UTC) + timedelta(hours=1))
    done = await remind_due(service.uow, near.data.contact_deadline - timedelta(seconds=1), schedule)
    assert (done.scheduled, done.reminded, done.not_needed) == (1, 0, 1)
    # The expired one's row (written with the assignment) records why it was never reminded.
    row = await reminder_row(service, expired)
    assert (row["state"], row["reason"], row["remind_at"]) == ("not_needed", "assignment expired", None)
    row = await reminder_row(service, near)
    assert (row["state"], row["reason"], row["remind_at"]) == ("not_needed", "deadline too near", None)
    assert (await view(client, near))["reminded_at"] is None


class Stop(Exception):
    pass


async def test_the_timer_loop_reminds_and_then_idles(api):
    service, client = api
    a = await assigned(service, service.settings, working_days_ahead(3))
    remind_at = working_days_before(a.data.contact_deadline, 1, H)
    passes = []

    def now():
        # Pass 1 schedules and fires, pass 2 finds nothing and sleeps, then the loop is stopped.
        if len(passes) == 2:
            raise Stop
        passes.append(remind_at)
        return remind_at

    with pytest.raises(Stop):
        await keep_reminding(service.uow, now, schedule, every_s=0)
    assert (await view(client, a))["reminded_at"] == remind_at.astimezone(UTC).isoformat()
