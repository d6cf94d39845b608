"""Builds provider-notify: production defaults, with overrides for tests."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from referral_schemas import Envelope, topic_for
from servicekit.calendar import england_bank_holidays
from servicekit.db.uow import UnitOfWork
from servicekit.reloading import Reloadable
from servicekit.service import Service

from provider_notify.adapters.unit_of_work import NotifyUnitOfWork
from provider_notify.adapters.webhook import WebhookSender
from provider_notify.domain.channels import load_channels
from provider_notify.domain.delivery import RetryPolicy
from provider_notify.domain.reminders import reminder_due
from provider_notify.entrypoints import http
from provider_notify.service_layer.deadlines import (
    acts_on_status,
    handle_status,
    keep_expiring,
    keep_reminding,
)
from provider_notify.service_layer.delivery import (
    Deliverer,
    NotifyContext,
    handle_assignment_created,
    keep_delivering,
    prefetch_assignments,
)
from provider_notify.service_layer.responses import handle_response
from provider_notify.settings import NotifySettings

SERVICE = "provider-notify"
log = logging.getLogger(__name__)


def bootstrap(
    settings: NotifySettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    producer: AIOKafkaProducer | None = None,
    now: Callable[[], datetime] | None = None,
    consume: bool = True,
) -> Service:
    """provider-notify, ready to `run()`: takes assignments in and delivers them."""
    settings = settings or NotifySettings()
    if settings.contact_deadline_override_s:
        log.warning(
            "NOTIFY_CONTACT_DEADLINE_OVERRIDE_S is set (for tests and demos only): assignments of %s"
            " expire within seconds, not at triage's working-day contact deadline",
            ", ".join(sorted(settings.contact_deadline_override_s)),
        )
    service = Service(SERVICE, settings, broker=broker, producer=producer, uow_factory=NotifyUnitOfWork)
    channels = Reloadable(settings.providers_file, load_channels, lambda: load_channels(None))
    ctx = NotifyContext(
        channels=channels,
        policy=RetryPolicy(settings.retry_base_s, settings.retry_cap_s, settings.give_up_after_s),
        lease=timedelta(seconds=settings.lease_s),
        batch=settings.deliver_batch,
        deadline_override_s=settings.contact_deadline_override_s,
        **({"now": now} if now is not None else {}),
    )

    async def on_created(event: Envelope[Any], uow: UnitOfWork) -> None:
        await handle_assignment_created(event, cast(NotifyUnitOfWork, uow), ctx)

    async def on_response(event: Envelope[Any], uow: UnitOfWork) -> None:
        # Refusals are kept in `responses`, with their reason.
        await handle_response(event, cast(NotifyUnitOfWork, uow))

    async def on_status(event: Envelope[Any], uow: UnitOfWork) -> None:
        await handle_status(event, cast(NotifyUnitOfWork, uow), ctx.now())

    async def prefetch(events: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
        await prefetch_assignments(events, cast(NotifyUnitOfWork, uow))

    if consume:
        service.consume(
            topic_for("assignment.created"),
            topic_for("provider.response"),
            topic_for("referral.status"),
            handlers={
                "assignment.created": on_created,
                "provider.response": on_response,
                "referral.status": on_status,
            },
            prefetch=prefetch,
            acts_on={"referral.status": acts_on_status},
        )
    service.routes.extend(http.routes(settings.api_keys, lambda: cast(NotifyUnitOfWork, service.uow())))

    async def deliverer() -> None:
        sender = WebhookSender(timeout_s=settings.webhook_timeout_s)  # closed by keep_delivering
        rng = random.Random()  # noqa: S311 - jitter, not secrecy
        await keep_delivering(Deliverer(lambda: service.pool, service.uow, sender, ctx, rng))

    service.add_background(deliverer)
    service.add_background(lambda: keep_expiring(service.uow, ctx.now))
    if settings.remind_before_working_days:
        holidays = england_bank_holidays()
        days = settings.remind_before_working_days

        def remind_at(deadline: datetime, assigned_at: datetime) -> datetime | None:
            return reminder_due(deadline, assigned_at, days, holidays)

        service.add_background(lambda: keep_reminding(service.uow, ctx.now, remind_at))
    service.add_background(channels.watch)
    return service
