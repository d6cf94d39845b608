"""Kafka subscriptions: submissions in one consumer group, later services' events in another.

Two groups so that a backlog of new referrals never delays the status updates referrers see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from referral_intake.adapters.unit_of_work import IntakeUnitOfWork
from referral_intake.service_layer.status_updates import (
    changes_what_referrers_see,
    handle_downstream,
    prefetch_referrals,
)
from referral_intake.service_layer.submissions import (
    IntakeContext,
    handle_submission,
    prefetch_submissions,
)
from referral_schemas import Envelope, topic_for
from referral_schemas.registry import ReferralSubmittedV1
from servicekit.db.uow import UnitOfWork
from servicekit.service import Service

DOWNSTREAM = (
    "referral.triaged",
    "assignment.created",
    "assignment.delivered",
    "assignment.declined",
    "assignment.expired",
    "provider.activity",
)


def register(service: Service, ctx: IntakeContext) -> None:
    async def on_submitted(event: Envelope[Any], uow: UnitOfWork) -> None:
        await handle_submission(cast(ReferralSubmittedV1, event), cast(IntakeUnitOfWork, uow), ctx)

    async def before_submissions(events: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
        await prefetch_submissions(
            cast(Sequence[ReferralSubmittedV1], events), cast(IntakeUnitOfWork, uow), ctx
        )

    async def on_downstream(event: Envelope[Any], uow: UnitOfWork) -> None:
        await handle_downstream(event, cast(IntakeUnitOfWork, uow))

    async def before_downstream(events: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
        await prefetch_referrals(events, cast(IntakeUnitOfWork, uow))

    service.consume(
        topic_for("referral.submitted"),
        handlers={"referral.submitted": on_submitted},
        prefetch=before_submissions,
    )
    service.consume(
        *(topic_for(t) for t in DOWNSTREAM),
        handlers=dict.fromkeys(DOWNSTREAM, on_downstream),
        consumer=f"{service.name}-status",
        prefetch=before_downstream,
        acts_on=dict.fromkeys(DOWNSTREAM, changes_what_referrers_see),
    )
