"""Kafka subscriptions: accepted referrals, declines, expiries and the status stream."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from referral_schemas import Envelope, topic_for
from servicekit.db.uow import UnitOfWork
from servicekit.service import Service
from triage.adapters.unit_of_work import TriageUnitOfWork
from triage.service_layer.placing import (
    TriageContext,
    acts_on_status,
    handle_accepted,
    handle_reassignment,
    handle_status,
    prefetch_by_referral,
)


def register(service: Service, ctx: TriageContext) -> None:
    async def prefetch(events: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
        await prefetch_by_referral(events, cast(TriageUnitOfWork, uow), ctx)

    async def on_accepted(event: Envelope[Any], uow: UnitOfWork) -> None:
        await handle_accepted(event, cast(TriageUnitOfWork, uow), ctx)

    async def on_reassignment(event: Envelope[Any], uow: UnitOfWork) -> None:
        await handle_reassignment(event, cast(TriageUnitOfWork, uow), ctx)

    async def on_status(event: Envelope[Any], uow: UnitOfWork) -> None:
        await handle_status(event, cast(TriageUnitOfWork, uow), ctx)

    # One group for all three: a referral's accepted event, its cancellation and its declines
    # are keyed alike, and one consumer applying them keeps their effects in a single order.
    service.consume(
        topic_for("referral.accepted"),
        topic_for("referral.status"),
        topic_for("assignment.declined"),
        topic_for("assignment.expired"),
        handlers={
            "referral.accepted": on_accepted,
            "referral.status": on_status,
            "assignment.declined": on_reassignment,
            "assignment.expired": on_reassignment,
        },
        prefetch=prefetch,
        acts_on={"referral.status": acts_on_status},
    )
