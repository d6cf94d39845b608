"""Providers' responses over HTTP and Kafka: own assignments only, lifecycle enforced, repeats harmless."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from provider_notify.service_layer.deadlines import expire_due
from referral_schemas import dump_event, new_envelope, parse_event, topic_for
from referral_schemas.enums import ReferralStatus
from referral_schemas.events.provider import ProviderResponse
from referral_schemas.events.referral import ReferralStatusChanged
from referral_schemas.examples import example
from referral_schemas.registry import ProviderResponseV1, ReferralStatusV1
from servicekit.testing import consumer_record

pytestmark = pytest.mark.infra


async def assigned(service, prefix, provider_id="active-blaby"):
    template = example("assignment.created")
    data = template.data.model_copy(update={"provider_id": provider_id, "assignment_id": uuid.uuid4()})
    event = new_envelope(type(template), data, producer="triage", referral_id=uuid.uuid4())
    record = consumer_record(prefix + topic_for("assignment.created"), dump_event(event), key=b"k", offset=1)
    await service.consumers[0].apply_batch([record])
    return event


def response(assignment, kind, response_id=None, provider_id="active-blaby", **extra):
    return {
        "response_id": response_id or f"r-{uuid.uuid4().hex[:8]}",
        "assignment_id": str(assignment.data.assignment_id),
        "provider_id": provider_id,
        "response": kind,
        "recorded_at": datetime.now(UTC).isoformat(),
        **extra,
    }


def auth(provider):
    return {"Authorization": f"Bearer {provider}-token"}  # as conftest's `api` keys them


async def events_for(service, referral_id):
    async with service.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload FROM outbox WHERE aggregateid = $1 ORDER BY seq", str(referral_id)
        )
    return [parse_event(r["payload"].encode()) for r in rows]


async def test_a_provider_reads_its_own_assignment_and_gets_404_for_anothers(api):
    service, client, prefix = api
    mine = await assigned(service, prefix)
    theirs = await assigned(service, prefix, "active-rutland")
    ok = await client.get(
        f"/providers/active-blaby/assignments/{mine.data.assignment_id}", headers=auth("active-blaby")
    )
    assert ok.status_code == 200
    assert ok.json()["assignment"]["data"]["assignment_id"] == str(mine.data.assignment_id)
    other = await client.get(
        f"/providers/active-blaby/assignments/{theirs.data.assignment_id}", headers=auth("active-blaby")
    )
    assert other.status_code == 404
    wrong_path = await client.get(
        f"/providers/active-rutland/assignments/{theirs.data.assignment_id}", headers=auth("active-blaby")
    )
    assert wrong_path.status_code == 403  # a valid token, for another provider
    assert (
        await client.get(f"/providers/active-blaby/assignments/{mine.data.assignment_id}")
    ).status_code == 401


async def test_an_accepted_response_is_applied_once_and_goes_on_as_activity(api):
    service, client, prefix = api
    a = await assigned(service, prefix)
    body = response(a, "accepted", response_id="lcl-1")
    first = await client.post("/providers/active-blaby/responses", json=body, headers=auth("active-blaby"))
    again = await client.post("/providers/active-blaby/responses", json=body, headers=auth("active-blaby"))
    assert (first.status_code, first.json()["outcome"], first.json()["stage"]) == (200, "applied", "accepted")
    assert (again.status_code, again.json()["outcome"]) == (200, "repeat")
    activity = [e for e in await events_for(service, a.referral_id) if e.event_type == "provider.activity"]
    assert len(activity) == 1
    assert activity[0].data.activity.value == "accepted"
    assert activity[0].data.patient_key == a.data.patient_key


async def test_an_illegal_step_is_refused_with_409_and_kept(api):
    service, client, prefix = api
    a = await assigned(service, prefix)
    await client.post(
        "/providers/active-blaby/responses", json=response(a, "accepted"), headers=auth("active-blaby")
    )
    early = await client.post(
        "/providers/active-blaby/responses", json=response(a, "completed"), headers=auth("active-blaby")
    )
    assert early.status_code == 409
    assert early.json()["code"] == "transition.not_allowed"
    assert "cannot record completed while accepted" in early.json()["message"]
    async with service.pool.acquire() as conn:
        kept = await conn.fetchval("SELECT count(*) FROM responses WHERE outcome = 'refused'")
    assert kept == 1


async def test_a_decline_is_announced_for_triage_to_reassign(api):
    service, client, prefix = api
    a = await assigned(service, prefix)
    body = response(a, "declined", reason_code="no_capacity", reason="Full until April")
    declined = await client.post("/providers/active-blaby/responses", json=body, headers=auth("active-blaby"))
    assert declined.json()["stage"] == "declined"
    events = await events_for(service, a.referral_id)
    assert [e.event_type for e in events if e.event_type == "assignment.declined"] == ["assignment.declined"]


async def test_malformed_oversized_and_foreign_bodies_get_precise_errors(api):
    service, client, prefix = api
    a = await assigned(service, prefix)
    bad = await client.post(
        "/providers/active-blaby/responses",
        content=json.dumps(response(a, "teleported")),
        headers=auth("active-blaby"),
    )
    assert bad.status_code == 400
    assert bad.json()["problems"][0]["field"] == "response"
    big = await client.post(
        "/providers/active-blaby/responses", content=b"x" * 70_000, headers=auth("active-blaby")
    )
    assert big.status_code == 413
    foreign = await client.post(
        "/providers/active-blaby/responses",
        json=response(a, "accepted", provider_id="active-rutland"),
        headers=auth("active-blaby"),
    )
    assert foreign.status_code == 403
    unknown = dict(response(a, "accepted"), assignment_id=str(uuid.uuid4()))
    assert (
        await client.post("/providers/active-blaby/responses", json=unknown, headers=auth("active-blaby"))
    ).status_code == 404


async def test_a_kafka_response_from_the_wrong_provider_is_refused_and_kept(api):
    service, _, prefix = api
    a = await assigned(service, prefix)
    data = ProviderResponse.model_validate_json(
        json.dumps(response(a, "accepted", provider_id="active-rutland"))
    )
    event = new_envelope(ProviderResponseV1, data, producer="rutland-system", referral_id=a.referral_id)
    record = consumer_record(prefix + topic_for("provider.response"), dump_event(event), key=b"k", offset=2)
    await service.consumers[0].apply_batch([record])
    async with service.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT outcome, code FROM responses WHERE response_id = $1", data.response_id
        )
        stage = await conn.fetchval(
            "SELECT stage FROM assignments WHERE assignment_id = $1", a.data.assignment_id
        )
    assert (row["outcome"], row["code"]) == ("refused", "assignment.unknown")
    assert stage == "pending"


async def test_an_unanswered_assignment_expires_once_at_its_deadline_and_late_answers_are_refused(api):
    service, client, prefix = api
    a = await assigned(service, prefix)
    deadline = a.data.contact_deadline
    assert await expire_due(service.uow, deadline - timedelta(seconds=1)) == 0  # not yet due
    assert await expire_due(service.uow, deadline) == 1
    assert await expire_due(service.uow, datetime(2100, 1, 1, tzinfo=UTC)) == 0  # fired once
    expired = [e for e in await events_for(service, a.referral_id) if e.event_type == "assignment.expired"]
    assert len(expired) == 1
    late = await client.post(
        "/providers/active-blaby/responses", json=response(a, "accepted"), headers=auth("active-blaby")
    )
    assert late.status_code == 409
    assert late.json()["code"] == "transition.after_final"


async def test_a_cancelled_referral_stops_its_assignment(api):
    service, client, prefix = api
    a = await assigned(service, prefix)
    status = ReferralStatusChanged(
        source_system="emis", source_referral_id="R1", status=ReferralStatus.CANCELLED
    )
    cancel = new_envelope(ReferralStatusV1, status, producer="referral-intake", referral_id=a.referral_id)
    record = consumer_record(prefix + topic_for("referral.status"), dump_event(cancel), key=b"k", offset=3)
    await service.consumers[0].apply_batch([record])
    late = await client.post(
        "/providers/active-blaby/responses", json=response(a, "accepted"), headers=auth("active-blaby")
    )
    assert late.status_code == 409
    assert "cancelled" in late.json()["message"]
