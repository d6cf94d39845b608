"""A referral's life in `triage.referrals`: its state, and how long triage keeps the patient's
contact details (the referral.accepted payload), through the real consumer pipeline and database.

Triage keeps the contact details only while the referral may still need a provider, because a
reassignment must pass them on. Provider-notify lets a provider decline until it has contacted
the patient, so an acceptance alone does not end placing; the first step triage hears of after
which no decline or expiry can come is the referral starting, completing or closing at the
provider (on `referral.status`).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from referral_schemas import new_envelope
from referral_schemas.enums import ReferralStatus
from referral_schemas.events.assignment import AssignmentDeclined, AssignmentExpired
from referral_schemas.events.referral import ReferralStatusChanged
from referral_schemas.registry import (
    AssignmentDeclinedV1,
    AssignmentExpiredV1,
    ReferralAcceptedV1,
    ReferralStatusV1,
)

pytestmark = pytest.mark.infra

S = ReferralStatus
# What a referrer hears, in order, for a referral a provider takes on and sees through.
BEFORE_THE_PROVIDER_STARTS = [S.TRIAGED, S.ASSIGNED, S.ACCEPTED_BY_PROVIDER]
# Fields of assignment.created that come from the referral (not from the placement itself).
FROM_THE_REFERRAL = (
    "programme",
    "risk",
    "prioritised",
    "patient_key",
    "contact",
    "referrer_ods_code",
    "reasons",
    "reason_text",
    "safety",
)


def status(cause: Any, value: ReferralStatus) -> Any:
    data = ReferralStatusChanged(
        source_system=cause.data.source_system, source_referral_id=cause.data.source_referral_id, status=value
    )
    return new_envelope(ReferralStatusV1, data, producer="referral-intake", referral_id=cause.referral_id)


def declined(cause: Any, assignment: Any) -> Any:
    data = AssignmentDeclined(
        assignment_id=assignment.data.assignment_id,
        provider_id=assignment.data.provider_id,
        reason_code="no_capacity",
    )
    return new_envelope(AssignmentDeclinedV1, data, producer="provider-notify", referral_id=cause.referral_id)


def expired(cause: Any, assignment: Any) -> Any:
    data = AssignmentExpired(
        assignment_id=assignment.data.assignment_id,
        provider_id=assignment.data.provider_id,
        contact_deadline=assignment.data.contact_deadline,
        expired_at=assignment.data.contact_deadline,
    )
    return new_envelope(AssignmentExpiredV1, data, producer="provider-notify", referral_id=cause.referral_id)


def revision(cause: Any, number: int, **changes: Any) -> Any:
    """An update of `cause`'s referral: the same referral id, the next revision."""
    data = cause.data.model_copy(update={"revision": number, **changes})
    return new_envelope(ReferralAcceptedV1, data, producer="referral-intake", referral_id=cause.referral_id)


def the_referral(assignment: Any) -> dict[str, Any]:
    return {name: getattr(assignment.data, name) for name in FROM_THE_REFERRAL}


async def assignments(triage: Any, referral_id: uuid.UUID) -> list[Any]:
    return [e for e in await triage.outbox(referral_id) if e.event_type == "assignment.created"]


async def test_a_referral_is_placing_with_its_contact_details_until_the_provider_starts_it(
    triage, make_accepted
):
    event = make_accepted()
    await triage.deliver(event)
    kept = event.data.model_dump(mode="json")
    assert await triage.held(event.referral_id) == ("placing", kept)
    for step in BEFORE_THE_PROVIDER_STARTS:
        await triage.deliver(status(event, step))
        # Accepted, but the provider may still decline before contacting the patient.
        assert await triage.held(event.referral_id) == ("placing", kept), step
    await triage.deliver(status(event, S.STARTED))
    assert await triage.held(event.referral_id) == ("placed", None)
    await triage.deliver(status(event, S.COMPLETED))
    assert await triage.held(event.referral_id) == ("placed", None)


@pytest.mark.parametrize("end", [S.STARTED, S.COMPLETED, S.CLOSED])
async def test_contact_details_are_gone_once_the_referral_is_finally_placed(triage, make_accepted, end):
    event = make_accepted()
    await triage.deliver(event)
    [assignment] = await assignments(triage, event.referral_id)
    for step in [*BEFORE_THE_PROVIDER_STARTS, end]:
        await triage.deliver(status(event, step))
    assert await triage.held(event.referral_id) == ("placed", None)
    # The place stays taken (capacity counts new patients a month), and nothing more is published.
    assert await triage.reserved(assignment.data.service_id, "exercise_referral") == 1
    assert len(await triage.outbox(event.referral_id)) == 2


async def test_a_provider_closing_a_referral_it_only_accepted_ends_placing(triage, make_accepted):
    event = make_accepted()
    await triage.deliver(event)
    await triage.deliver(status(event, S.ACCEPTED_BY_PROVIDER), status(event, S.CLOSED))
    assert await triage.held(event.referral_id) == ("placed", None)


@pytest.mark.parametrize("answer", [declined, expired], ids=["declined", "expired"])
async def test_reassignment_builds_a_full_assignment_with_contact_details(triage, make_accepted, answer):
    event = make_accepted()
    await triage.deliver(event)
    [first] = await assignments(triage, event.referral_id)
    await triage.deliver(status(event, S.TRIAGED), status(event, S.ASSIGNED))
    await triage.deliver(answer(event, first))
    [_, second] = await assignments(triage, event.referral_id)
    assert second.data.attempt == 2
    assert second.data.reassigned_from == first.data.assignment_id
    assert second.data.contact == event.data.contact
    assert the_referral(second) == the_referral(first)
    assert await triage.held(event.referral_id) == ("placing", event.data.model_dump(mode="json"))


async def test_a_decline_after_the_provider_accepted_still_builds_a_full_assignment_with_contact_details(
    triage, make_accepted
):
    event = make_accepted()
    await triage.deliver(event)
    [first] = await assignments(triage, event.referral_id)
    for step in BEFORE_THE_PROVIDER_STARTS:
        await triage.deliver(status(event, step))
    await triage.deliver(declined(event, first))
    [_, second] = await assignments(triage, event.referral_id)
    assert second.data.reassigned_from == first.data.assignment_id
    assert second.data.contact == event.data.contact
    assert the_referral(second) == the_referral(first)
    # The second provider takes it on: only now is placing over.
    await triage.deliver(status(event, S.ASSIGNED), status(event, S.ACCEPTED_BY_PROVIDER))
    assert (await triage.held(event.referral_id))[0] == "placing"
    await triage.deliver(status(event, S.STARTED))
    assert await triage.held(event.referral_id) == ("placed", None)
    assert await triage.reserved(first.data.service_id, "exercise_referral") == 0
    assert await triage.reserved(second.data.service_id, "exercise_referral") == 1


@pytest.mark.parametrize(
    "before", [[], BEFORE_THE_PROVIDER_STARTS, [*BEFORE_THE_PROVIDER_STARTS, S.STARTED]],
    ids=["while placing", "after the provider accepted", "after the provider started"],
)  # fmt: skip
async def test_contact_details_are_gone_once_the_referral_is_cancelled(triage, make_accepted, before):
    event = make_accepted()
    await triage.deliver(event)
    [assignment] = await assignments(triage, event.referral_id)
    for step in before:
        await triage.deliver(status(event, step))
    await triage.deliver(status(event, S.CANCELLED))
    assert await triage.held(event.referral_id) == ("cancelled", None)
    assert await triage.reserved(assignment.data.service_id, "exercise_referral") == 0


async def test_contact_details_are_never_kept_for_a_referral_returned_to_its_referrer(triage, make_accepted):
    event = make_accepted(**{"safety.resting_bp_systolic": 185, "safety.resting_bp_diastolic": 105})
    await triage.deliver(event)
    [triaged] = await triage.outbox(event.referral_id)
    assert triaged.data.decision.value == "return_to_referrer"
    assert await triage.held(event.referral_id) == ("returned", None)


async def test_contact_details_are_never_kept_for_a_signposted_referral(triage, make_accepted):
    event = make_accepted(
        requested_programme=None,
        reasons=[{"system": "http://snomed.info/sct", "code": "22253000", "display": "Pain"}],
    )
    await triage.deliver(event)
    [triaged] = await triage.outbox(event.referral_id)
    assert triaged.data.decision.value == "signpost"
    assert await triage.held(event.referral_id) == ("signposted", None)


async def test_contact_details_are_gone_once_reassignment_gives_up(make_triage, make_accepted):
    triage = await make_triage(max_attempts=1)
    event = make_accepted()
    await triage.deliver(event)
    [first] = await assignments(triage, event.referral_id)
    await triage.deliver(declined(event, first))
    returned = (await triage.outbox(event.referral_id))[-1]
    assert returned.data.reasons[-1].code == "placement.attempts_exhausted"
    assert await triage.held(event.referral_id) == ("unplaced", None)


async def test_an_update_after_the_referral_was_placed_keeps_it_placed_without_contact_details(
    triage, make_accepted
):
    event = make_accepted()
    await triage.deliver(event)
    for step in [*BEFORE_THE_PROVIDER_STARTS, S.STARTED]:
        await triage.deliver(status(event, step))
    await triage.deliver(revision(event, 2, reason_text="Also some knee pain."))
    assert await triage.held(event.referral_id) == ("placed", None)
    assert len(await assignments(triage, event.referral_id)) == 1


async def test_an_update_while_placing_passes_the_new_contact_details_to_the_next_provider(
    triage, make_accepted
):
    event = make_accepted()
    await triage.deliver(event)
    [first] = await assignments(triage, event.referral_id)
    moved = event.data.contact.model_copy(update={"phone": "0116 496 0999"})
    update = revision(event, 2, contact=moved)
    await triage.deliver(update)
    assert await triage.held(event.referral_id) == ("placing", update.data.model_dump(mode="json"))
    await triage.deliver(declined(event, first))
    [_, second] = await assignments(triage, event.referral_id)
    assert second.data.contact == moved
