"""Submissions through the real consumer pipeline and database: answers, storage, idempotency."""

from __future__ import annotations

import asyncpg
import pytest
from referral_schemas import new_envelope, referral_id_for
from referral_schemas.enums import CancelStatus, ReferralAction

pytestmark = pytest.mark.infra


def rid(event):
    return referral_id_for(event.data.source_system, event.data.source_referral_id)


async def test_a_valid_referral_is_stored_and_answered_received_accepted(intake, submission, types_of):
    event = submission()
    await intake.submit(event)

    out = await intake.outbox(rid(event))
    assert types_of(out) == ["referral.status:received", "referral.accepted", "referral.status:accepted"]
    accepted = out[1]
    assert accepted.referral_id == rid(event)
    assert accepted.correlation_id == event.correlation_id
    assert accepted.data.revision == 1
    assert accepted.data.patient_key != event.data.patient.nhs_number
    assert accepted.data.contact.nhs_number == "9990000018"
    assert accepted.data.residence.district.value == "leicester"
    row = await intake.row(rid(event))
    assert row["status"] == "accepted"
    assert row["patient_key"] == accepted.data.patient_key
    assert await intake.history(rid(event)) == ["received", "accepted"]


async def test_the_nhs_number_appears_only_in_the_contact_block(intake, submission):
    event = submission()
    await intake.submit(event)
    for published in await intake.outbox(rid(event)):
        doc = published.data.model_dump(mode="json")
        doc.pop("contact", None)
        assert "9990000018" not in str(doc)


async def test_a_redelivered_event_changes_nothing(intake, submission):
    event = submission()
    await intake.submit(event)
    await intake.submit(event)
    assert len(await intake.outbox(rid(event))) == 3
    assert await intake.history(rid(event)) == ["received", "accepted"]


async def test_a_resubmission_is_a_no_op_answered_with_the_existing_status(intake, submission, types_of):
    first = submission()
    again = new_envelope(type(first), first.data, producer="emis-web", referral_id=None)
    await intake.submit(first)
    await intake.submit(again)
    out = await intake.outbox(rid(first))
    assert types_of(out) == [
        "referral.status:received",
        "referral.accepted",
        "referral.status:accepted",
        "referral.status:accepted",
    ]
    assert "changed nothing" in out[-1].data.detail
    assert await intake.history(rid(first)) == ["received", "accepted"]


async def test_an_invalid_referral_is_rejected_with_reasons_and_kept(intake, submission, types_of):
    event = submission(**{"patient.nhs_number": "9990000019", "consent.share_with_provider": False})
    await intake.submit(event)
    out = await intake.outbox(rid(event))
    assert types_of(out) == ["referral.rejected", "referral.status:rejected"]
    codes = {r.code for r in out[0].data.reasons}
    assert "nhs_number.checksum" in codes
    assert "consent.missing" in codes
    assert {r.code for r in out[1].data.reasons} == codes
    row = await intake.row(rid(event))
    assert row["status"] == "rejected"
    assert row["patient_key"] is None


async def test_a_corrected_resubmission_after_a_rejection_is_accepted(intake, submission):
    bad = submission(**{"consent.share_with_provider": False})
    await intake.submit(bad)
    fixed_data = bad.data.model_copy(
        update={"consent": bad.data.consent.model_copy(update={"share_with_provider": True})}
    )
    fixed = new_envelope(type(bad), fixed_data, producer="emis-web", referral_id=None)
    await intake.submit(fixed)
    assert (await intake.row(rid(bad)))["status"] == "accepted"
    assert await intake.history(rid(bad)) == ["rejected", "received", "accepted"]


async def test_the_same_patient_and_programme_while_active_is_flagged_as_a_likely_duplicate(
    intake, submission
):
    first, second = submission(), submission()
    await intake.submit(first)
    await intake.submit(second)
    accepted = [e for e in await intake.outbox(rid(second)) if e.event_type == "referral.accepted"]
    assert accepted[0].data.likely_duplicate_of == rid(first)
    assert (await intake.row(rid(second)))["likely_duplicate_of"] == rid(first)


async def test_a_likely_duplicate_is_flagged_within_one_batch_too(intake, submission):
    first, second = submission(), submission()
    await intake.submit(first, second)
    accepted = [e for e in await intake.outbox(rid(second)) if e.event_type == "referral.accepted"]
    assert accepted[0].data.likely_duplicate_of == rid(first)


async def test_a_different_programme_is_not_a_duplicate(intake, submission):
    first = submission()
    second = submission(requested_programme="escape_pain")
    await intake.submit(first, second)
    accepted = [e for e in await intake.outbox(rid(second)) if e.event_type == "referral.accepted"]
    assert accepted[0].data.likely_duplicate_of is None


async def test_an_update_of_an_active_referral_is_accepted_as_a_new_revision(intake, submission):
    first = submission()
    update = submission(action="update", reason_text="Blood pressure now 150/95; still keen.")
    update = new_envelope(
        type(first),
        update.data.model_copy(update={"source_referral_id": first.data.source_referral_id}),
        producer="emis-web",
        referral_id=None,
    )
    await intake.submit(first)
    await intake.submit(update)
    accepted = [e for e in await intake.outbox(rid(first)) if e.event_type == "referral.accepted"]
    assert [a.data.revision for a in accepted] == [1, 2]
    assert accepted[1].data.reason_text.startswith("Blood pressure now")
    assert (await intake.row(rid(first)))["revision"] == 2


async def test_an_update_of_an_unknown_referral_is_refused(intake, submission):
    update = submission(action="update")
    await intake.submit(update)
    out = await intake.outbox(rid(update))
    assert out[0].event_type == "referral.rejected"
    assert out[0].data.reasons[0].code == "update.unknown_referral"
    assert await intake.row(rid(update)) is None


async def test_a_cancellation_stops_an_active_referral_and_a_second_one_is_refused(
    intake, submission, types_of
):
    first = submission()
    await intake.submit(first)

    def cancel():
        data = first.data.model_copy(
            update={"action": ReferralAction.CANCEL, "cancel_status": CancelStatus.REVOKED}
        )
        return new_envelope(type(first), data, producer="emis-web", referral_id=None)

    await intake.submit(cancel())
    assert (await intake.row(rid(first)))["status"] == "cancelled"
    await intake.submit(cancel())
    out = await intake.outbox(rid(first))
    assert types_of(out)[-3:] == [
        "referral.status:cancelled",
        "referral.rejected",
        "referral.status:cancelled",
    ]
    assert out[-2].data.reasons[0].code == "cancel.not_active"
    assert await intake.history(rid(first)) == ["received", "accepted", "cancelled", "cancelled"]


async def test_the_status_history_is_append_only(intake, submission):
    event = submission()
    await intake.submit(event)
    async with intake.service.pool.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("UPDATE status_history SET status = 'closed'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("DELETE FROM status_history")
