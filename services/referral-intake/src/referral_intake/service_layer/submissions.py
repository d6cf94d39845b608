"""Handling a submitted referral: new, update or cancel, from Kafka or from the FHIR API.

Every submission gets an answer on the referrer's status stream; nothing is dropped. A
resubmission of a referral intake already holds changes nothing and answers with its status.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from referral_intake.adapters.referrals import Referral
from referral_intake.adapters.unit_of_work import IntakeUnitOfWork
from referral_intake.domain.lifecycle import duplicate_key, is_active
from referral_intake.domain.nhs_number import check_nhs_number
from referral_intake.domain.pseudonym import patient_key
from referral_intake.domain.validation import (
    Accepted,
    AreaLookup,
    Rejected,
    ValidationPolicy,
    validate,
    validate_cancellation,
)
from referral_intake.service_layer.answers import publish, tell_referrer
from referral_schemas import referral_id_for
from referral_schemas.enums import ReferralAction, ReferralStatus
from referral_schemas.events.common import Reason
from referral_schemas.events.referral import ReferralAccepted, ReferralRejected, ReferralSubmitted
from referral_schemas.registry import ReferralAcceptedV1, ReferralRejectedV1, ReferralSubmittedV1

S = ReferralStatus


@dataclass(frozen=True)
class IntakeContext:
    """What the submission handler needs besides the message and the unit of work."""

    policy: ValidationPolicy
    area: AreaLookup
    pseudonym_key: bytes
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())


@dataclass(frozen=True)
class Answer:
    """What intake told the referrer, for the HTTP API to return."""

    referral_id: uuid.UUID
    status: ReferralStatus
    reasons: list[Reason]
    summary: str
    changed: bool


def _source(event: ReferralSubmittedV1) -> tuple[str, str]:
    return event.data.source_system, event.data.source_referral_id


def _patient_key_of(submission: ReferralSubmitted, ctx: IntakeContext) -> str | None:
    nhs = check_nhs_number(submission.patient.nhs_number, accept_test_numbers=True)
    return patient_key(nhs, ctx.pseudonym_key) if isinstance(nhs, str) and nhs.isdigit() else None


async def prefetch_submissions(
    events: Sequence[ReferralSubmittedV1], uow: IntakeUnitOfWork, ctx: IntakeContext
) -> None:
    """Load what a batch of submissions will read, in one query."""
    ids, keys = [], []
    for e in events:
        ids.append(referral_id_for(e.data.source_system, e.data.source_referral_id))
        if (key := _patient_key_of(e.data, ctx)) is not None:
            keys.append(key)
    await uow.referrals.prefetch(ids, keys)


async def handle_submission(event: ReferralSubmittedV1, uow: IntakeUnitOfWork, ctx: IntakeContext) -> Answer:
    sub = event.data
    referral_id = referral_id_for(sub.source_system, sub.source_referral_id)
    existing = await uow.referrals.get(referral_id)
    if sub.action is ReferralAction.CANCEL:
        invalid = validate_cancellation(sub, policy=ctx.policy)
        if invalid is not None:
            return _reject(event, referral_id, existing, uow, invalid)
        return await _cancel(event, referral_id, existing, uow)
    if sub.action is ReferralAction.NEW and existing is not None and existing.status is not S.REJECTED:
        return _answer_with_existing(event, existing, uow)
    if sub.action is ReferralAction.UPDATE:
        problem = _update_problem(existing)
        if problem is not None:
            return _refuse(event, referral_id, existing, uow, problem)
    result = validate(sub, today=ctx.today(), policy=ctx.policy, area=ctx.area)
    if isinstance(result, Rejected):
        return _reject(event, referral_id, existing, uow, result)
    return await _accept(event, referral_id, existing, uow, ctx, result)


# ---------------------------------------------------------------------------- outcomes
def _answer_with_existing(event: ReferralSubmittedV1, existing: Referral, uow: IntakeUnitOfWork) -> Answer:
    detail = "Already received; this resubmission changed nothing."
    tell_referrer(
        uow, event, existing.referral_id, _source(event), existing.status, detail=detail, record=False
    )
    return Answer(existing.referral_id, existing.status, [], detail, changed=False)


def _update_problem(existing: Referral | None) -> Reason | None:
    if existing is None:
        return Reason(
            code="update.unknown_referral",
            field="data.source_referral_id",
            message="An update names a referral intake has not received.",
        )
    if not is_active(existing.status):
        return Reason(
            code="update.not_active",
            field="data.action",
            message=f"The referral can no longer be updated: it is {existing.status.value}.",
        )
    return None


async def _cancel(
    event: ReferralSubmittedV1,
    referral_id: uuid.UUID,
    existing: Referral | None,
    uow: IntakeUnitOfWork,
) -> Answer:
    if existing is None:
        problem = Reason(
            code="cancel.unknown_referral",
            field="data.source_referral_id",
            message="A cancellation names a referral intake has not received.",
        )
        return _refuse(event, referral_id, existing, uow, problem)
    if not is_active(existing.status):
        problem = Reason(
            code="cancel.not_active",
            field="data.action",
            message=f"The referral is no longer active ({existing.status.value}); nothing to cancel.",
        )
        return _refuse(event, referral_id, existing, uow, problem)
    existing.status = S.CANCELLED
    uow.referrals.save(existing)
    why = event.data.cancel_status.value if event.data.cancel_status else "cancelled"
    detail = f"Cancelled by the referrer ({why})."
    tell_referrer(uow, event, referral_id, _source(event), S.CANCELLED, detail=detail)
    return Answer(referral_id, S.CANCELLED, [], detail, changed=True)


def _refuse(
    event: ReferralSubmittedV1,
    referral_id: uuid.UUID,
    existing: Referral | None,
    uow: IntakeUnitOfWork,
    problem: Reason,
) -> Answer:
    """Refuse an update or cancellation; the referral itself, if any, is unchanged."""
    sub = event.data
    summary = problem.message
    publish(
        uow,
        event,
        referral_id,
        ReferralRejectedV1,
        ReferralRejected(
            source_system=sub.source_system,
            source_referral_id=sub.source_referral_id,
            reasons=[problem],
            summary=summary,
        ),
    )
    current = existing.status if existing is not None else S.REJECTED
    tell_referrer(
        uow,
        event,
        referral_id,
        _source(event),
        current,
        detail=summary,
        reasons=[problem],
        record=existing is not None,
    )
    return Answer(referral_id, current, [problem], summary, changed=False)


def _reject(
    event: ReferralSubmittedV1,
    referral_id: uuid.UUID,
    existing: Referral | None,
    uow: IntakeUnitOfWork,
    result: Rejected,
) -> Answer:
    sub = event.data
    if existing is None or existing.status is S.REJECTED:
        # Kept so the referrer's query and a corrected resubmission find it; an invalid update
        # of an active referral leaves the referral as it was.
        uow.referrals.save(
            Referral(
                referral_id=referral_id,
                source_system=sub.source_system,
                source_referral_id=sub.source_referral_id,
                source_type=sub.source_type,
                referrer_ods_code=sub.referrer.ods_code[:20],
                status=S.REJECTED,
                revision=existing.revision if existing else 0,
                patient_key=existing.patient_key if existing else None,
                duplicate_key=None,
                likely_duplicate_of=None,
                referred_at=event.occurred_at,
                submission=sub.model_dump_json(),
            )
        )
    publish(
        uow,
        event,
        referral_id,
        ReferralRejectedV1,
        ReferralRejected(
            source_system=sub.source_system,
            source_referral_id=sub.source_referral_id,
            reasons=result.reasons,
            summary=result.summary,
        ),
    )
    status = S.REJECTED if existing is None or existing.status is S.REJECTED else existing.status
    tell_referrer(
        uow, event, referral_id, _source(event), status, detail=result.summary, reasons=result.reasons
    )
    return Answer(referral_id, status, result.reasons, result.summary, changed=status is S.REJECTED)


async def _accept(
    event: ReferralSubmittedV1,
    referral_id: uuid.UUID,
    existing: Referral | None,
    uow: IntakeUnitOfWork,
    ctx: IntakeContext,
    ok: Accepted,
) -> Answer:
    sub = event.data
    key = patient_key(ok.nhs_number, ctx.pseudonym_key)
    dkey = duplicate_key(sub.requested_programme, sub.reasons)
    duplicate_of = await uow.referrals.active_duplicate(key, dkey, excluding=referral_id)
    revision = (existing.revision if existing else 0) + 1
    referral = Referral(
        referral_id=referral_id,
        source_system=sub.source_system,
        source_referral_id=sub.source_referral_id,
        source_type=sub.source_type,
        referrer_ods_code=ok.referrer_ods_code,
        status=S.ACCEPTED,
        revision=revision,
        patient_key=key,
        duplicate_key=dkey,
        likely_duplicate_of=duplicate_of,
        referred_at=event.occurred_at,
        submission=sub.model_dump_json(),
    )
    uow.referrals.save_patient(key, ok.nhs_number, ok.contact.model_dump_json())
    uow.referrals.save(referral)
    if revision == 1 or existing is None or existing.status is S.REJECTED:
        tell_referrer(
            uow, event, referral_id, _source(event), S.RECEIVED, detail="Received by referral intake."
        )
    accepted = ReferralAccepted(
        source_system=sub.source_system,
        source_referral_id=sub.source_referral_id,
        source_type=sub.source_type,
        revision=revision,
        referrer_ods_code=ok.referrer_ods_code,
        referred_at=event.occurred_at,
        patient_key=key,
        demographics=ok.demographics,
        residence=ok.residence,
        reasons=sub.reasons[:20],
        reason_text=ok.reason_text,
        requested_programme=sub.requested_programme,
        safety=ok.safety,
        priority_flags=sub.priority_flags,
        likely_duplicate_of=duplicate_of,
        contact=ok.contact,
    )
    publish(uow, event, referral_id, ReferralAcceptedV1, accepted)
    detail = "Accepted; passed to triage." if revision == 1 else f"Update accepted (revision {revision})."
    if duplicate_of is not None:
        detail += " Flagged as a likely duplicate of an active referral for the same patient."
    tell_referrer(uow, event, referral_id, _source(event), S.ACCEPTED, detail=detail)
    return Answer(referral_id, S.ACCEPTED, [], detail, changed=True)
