"""What intake publishes: events caused by another event, and the referrer's status stream."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from referral_intake.adapters.referrals import HistoryEntry
from referral_intake.adapters.unit_of_work import IntakeUnitOfWork
from referral_schemas import Contract, Envelope
from referral_schemas.enums import ReferralStatus
from referral_schemas.events.common import Reason
from referral_schemas.events.referral import ReferralStatusChanged
from referral_schemas.registry import ReferralStatusV1

PRODUCER = "referral-intake"
_TEXT_MAX = 2000


def publish(
    uow: IntakeUnitOfWork,
    cause: Envelope[Any],
    referral_id: uuid.UUID,
    envelope_type: type[Envelope[Any]],
    data: Contract,
) -> None:
    """Stage an event about `referral_id`, caused by `cause`, keyed by the referral."""
    uow.emit(envelope_type, data, producer=PRODUCER, referral_id=referral_id, caused_by=cause)


def tell_referrer(
    uow: IntakeUnitOfWork,
    cause: Envelope[Any],
    referral_id: uuid.UUID,
    source: tuple[str, str],
    status: ReferralStatus,
    *,
    detail: str | None,
    reasons: Sequence[Reason] = (),
    record: bool = True,
) -> None:
    """Publish `status` to the referrer; with `record`, also append it to the referral's history.

    `source` is the referral's (source_system, source_referral_id), which referrers key on.
    """
    data = ReferralStatusChanged(
        source_system=source[0],
        source_referral_id=source[1],
        status=status,
        detail=detail[:_TEXT_MAX] if detail else None,
        reasons=list(reasons)[:100],
    )
    publish(uow, cause, referral_id, ReferralStatusV1, data)
    if record:
        uow.referrals.append_history(
            HistoryEntry(
                referral_id=referral_id,
                status=status,
                at=datetime.now(UTC),
                actor=cause.producer,
                event_id=cause.event_id,
                event_type=cause.event_type,
                detail=detail,
                reasons=[r.model_dump(mode="json") for r in reasons],
            )
        )
