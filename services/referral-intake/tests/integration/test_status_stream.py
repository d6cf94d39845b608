"""Later services' events become the referrer's status stream, in order, without going back."""

from __future__ import annotations

import json
import uuid

import pytest
from referral_schemas import new_envelope, referral_id_for
from referral_schemas.enums import CancelStatus, ReferralAction
from referral_schemas.examples import example
from servicekit.messaging.dlq_tools import list_dead_letters

pytestmark = pytest.mark.infra


def downstream(event_type: str, referral_id: uuid.UUID, **changes):
    template = example(event_type)
    data = type(template.data).model_validate_json(
        json.dumps(template.data.model_dump(mode="json") | changes)
    )
    return new_envelope(type(template), data, producer="triage", referral_id=referral_id)


async def accepted_referral(intake, submission) -> uuid.UUID:
    event = submission()
    await intake.submit(event)
    return referral_id_for(event.data.source_system, event.data.source_referral_id)


async def test_a_referral_moves_through_triage_assignment_and_provider_steps(intake, submission):
    rid = await accepted_referral(intake, submission)
    await intake.deliver(
        downstream("referral.triaged", rid),
        downstream("assignment.created", rid),
        downstream("assignment.delivered", rid),
        downstream("provider.activity", rid, activity="accepted"),
        downstream("provider.activity", rid, activity="session_attended"),
        downstream("provider.activity", rid, activity="enrolled"),
        downstream("provider.activity", rid, activity="completed"),
    )
    assert await intake.history(rid) == [
        "received",
        "accepted",
        "triaged",
        "assigned",
        "accepted_by_provider",
        "started",
        "completed",
    ]
    statuses = [e.data.status.value for e in await intake.outbox(rid) if e.event_type == "referral.status"]
    assert statuses[-5:] == ["triaged", "assigned", "accepted_by_provider", "started", "completed"]
    assert (await intake.row(rid))["status"] == "completed"


async def test_a_declined_assignment_sends_the_referral_back_to_triaged(intake, submission):
    rid = await accepted_referral(intake, submission)
    await intake.deliver(
        downstream("referral.triaged", rid),
        downstream("assignment.created", rid),
        downstream("assignment.declined", rid),
    )
    assert await intake.history(rid) == ["received", "accepted", "triaged", "assigned", "triaged"]
    await intake.deliver(downstream("assignment.created", rid))
    assert (await intake.row(rid))["status"] == "assigned"


async def test_an_assignment_overtaking_the_triage_decision_still_tells_the_referrer_both_steps(
    intake, submission
):
    rid = await accepted_referral(intake, submission)
    await intake.deliver(downstream("assignment.created", rid))
    await intake.deliver(downstream("referral.triaged", rid))  # from the other topic, later
    assert await intake.history(rid) == ["received", "accepted", "triaged", "assigned"]
    statuses = [e.data for e in await intake.outbox(rid) if e.event_type == "referral.status"]
    assert [s.status.value for s in statuses] == ["received", "accepted", "triaged", "assigned"]
    assert statuses[2].detail == "Triaged (assign for exercise_referral)."


async def test_a_late_event_never_moves_a_referral_backwards(intake, submission):
    rid = await accepted_referral(intake, submission)
    await intake.deliver(downstream("referral.triaged", rid), downstream("assignment.created", rid))
    await intake.deliver(downstream("provider.activity", rid, activity="enrolled"))
    await intake.deliver(downstream("provider.activity", rid, activity="accepted"))  # arrives late
    assert (await intake.row(rid))["status"] == "started"
    assert await intake.history(rid) == ["received", "accepted", "triaged", "assigned", "started"]


async def test_a_cancelled_referral_ignores_later_provider_steps(intake, submission):
    event = submission()
    await intake.submit(event)
    rid = referral_id_for(event.data.source_system, event.data.source_referral_id)
    cancel = new_envelope(
        type(event),
        event.data.model_copy(
            update={"action": ReferralAction.CANCEL, "cancel_status": CancelStatus.ENTERED_IN_ERROR}
        ),
        producer="emis-web",
        referral_id=None,
    )
    await intake.submit(cancel)
    await intake.deliver(downstream("referral.triaged", rid))
    assert (await intake.row(rid))["status"] == "cancelled"


async def test_an_event_for_a_referral_intake_never_accepted_is_dead_lettered(intake, kafka_bootstrap):
    stray = downstream("referral.triaged", uuid.uuid4())
    await intake.deliver(stray)
    letters = await list_dead_letters(kafka_bootstrap, intake.prefix + "referral.triaged.v1", limit=1000)
    mine = [dl for dl in letters if dl.key == str(stray.referral_id).encode()]
    assert [dl.reason for dl in mine] == ["handler_failed"]
    assert "never accepted" in mine[0].detail
