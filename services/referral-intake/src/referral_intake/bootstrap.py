"""Builds referral-intake: production defaults, with overrides for tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import cast

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from servicekit.service import Service

from referral_intake.adapters.area import LlrArea
from referral_intake.adapters.unit_of_work import IntakeUnitOfWork
from referral_intake.domain.validation import AreaLookup, ValidationPolicy
from referral_intake.entrypoints import consumers, http
from referral_intake.service_layer.submissions import IntakeContext
from referral_intake.settings import LOCAL_PSEUDONYM_KEY, IntakeSettings

SERVICE = "referral-intake"
log = logging.getLogger(__name__)


def bootstrap(
    settings: IntakeSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    producer: AIOKafkaProducer | None = None,
    area: AreaLookup | None = None,
    today: Callable[[], date] | None = None,
    consume: bool = True,
) -> Service:
    """referral-intake, ready to `run()`; `consume=False` serves only HTTP (API-only replicas)."""
    settings = settings or IntakeSettings()
    key = settings.pseudonym_key.get_secret_value()
    if key == LOCAL_PSEUDONYM_KEY:
        log.warning("INTAKE_PSEUDONYM_KEY is the local development key; set a secret one in deployment")
    service = Service(SERVICE, settings, broker=broker, producer=producer, uow_factory=IntakeUnitOfWork)
    policy = ValidationPolicy(
        accept_test_nhs_numbers=settings.accept_test_nhs_numbers,
        max_free_text=settings.max_free_text,
    )
    ctx = IntakeContext(policy=policy, area=area or LlrArea(), pseudonym_key=key.encode())
    if today is not None:
        ctx = IntakeContext(policy=policy, area=ctx.area, pseudonym_key=ctx.pseudonym_key, today=today)
    if consume:
        consumers.register(service, ctx)
    service.routes.extend(http.routes(settings, lambda: cast(IntakeUnitOfWork, service.uow()), ctx))
    return service
