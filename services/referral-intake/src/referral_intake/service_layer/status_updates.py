"""Later services' events, mapped onto the one status stream referrers follow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from referral_intake.adapters.unit_of_work import IntakeUnitOfWork
from referral_intake.domain.lifecycle import next_status, status_after_activity, status_after_triage
from referral_intake.service_layer.answers import tell_referrer
from referral_schemas import Envelope
from referral_schemas.enums import ReferralStatus
from referral_schemas.events.common import Reason

S = ReferralStatus


async def prefetch_referrals(events: Sequence[Envelope[Any]], uow: IntakeUnitOfWork) -> None:
    await uow.referrals.prefetch([e.referral_id for e in events if e.referral_id is not None], [])


def changes_what_referrers_see(event: Envelope[Any]) -> bool:
    """Whether `handle_downstream` may move a referral's status on for `event`: a delivery or a
    session attended never does, and is passed over before it costs a transaction's work."""
    return event.referral_id is not None and _meaning(event)[0] is not None


async def handle_downstream(event: Envelope[Any], uow: IntakeUnitOfWork) -> None:
    """Move the referral's status on, if `event` changes what its referrer should see."""
    proposed, detail, reasons, reassignment = _meaning(event)
    if proposed is None or event.referral_id is None:
        return
    referral = await uow.referrals.get(event.referral_id)
    if referral is None:
        # Intake publishes referral.accepted only after storing the referral, in the same
        # transaction, so a later event for an unknown referral is a producer's error.
        raise LookupError(f"{event.event_type} for referral {event.referral_id}, which intake never accepted")
    new = next_status(referral.status, proposed, reassignment=reassignment)
    if new is None:
        return
    source = (referral.source_system, referral.source_referral_id)
    if new is S.ASSIGNED and referral.status is S.ACCEPTED:
        # The assignment overtook the triage decision (another topic): an assignment means the
        # referral was triaged to a programme, and the referrer hears both steps, in order; the
        # decision arriving afterwards then changes nothing.
        triaged = f"Triaged (assign for {event.data.programme.value})."
        tell_referrer(uow, event, referral.referral_id, source, S.TRIAGED, detail=triaged, reasons=[])
    referral.status = new
    uow.referrals.save(referral)
    tell_referrer(uow, event, referral.referral_id, source, new, detail=detail, reasons=reasons)


def _meaning(event: Envelope[Any]) -> tuple[ReferralStatus | None, str | None, list[Reason], bool]:
    data = event.data
    match event.event_type:
        case "referral.triaged":
            programme = f" for {data.programme.value}" if data.programme else ""
            return (
                status_after_triage(data.decision),
                f"Triaged ({data.decision.value}{programme}).",
                list(data.reasons),
                False,
            )
        case "assignment.created":
            return S.ASSIGNED, f"Assigned to provider {data.provider_id}.", [], False
        case "assignment.declined":
            detail = f"Provider {data.provider_id} declined ({data.reason_code}); finding another."
            return S.TRIAGED, detail, [], True
        case "assignment.expired":
            detail = f"Provider {data.provider_id} did not answer in time; finding another."
            return S.TRIAGED, detail, [], True
        case "provider.activity":
            return (
                status_after_activity(data.activity),
                f"Provider {data.provider_id}: {data.activity.value}.",
                [],
                False,
            )
        case _:
            # assignment.delivered and anything else: no change a referrer sees.
            return None, None, [], False
