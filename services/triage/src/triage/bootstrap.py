"""Builds triage: production defaults, with overrides for tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from servicekit.calendar import add_working_days, england_bank_holidays
from servicekit.reloading import Reloadable
from servicekit.service import Service

from triage.adapters.geography import LlrDeprivation, neighbours
from triage.adapters.unit_of_work import TriageUnitOfWork
from triage.directory.load import default_directory, load_directory
from triage.domain.decide import DeprivationLookup
from triage.domain.rules import default_rules, load_rules
from triage.entrypoints import consumers, http
from triage.service_layer.placing import TriageContext
from triage.settings import TriageSettings

SERVICE = "triage"


def bootstrap(
    settings: TriageSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    producer: AIOKafkaProducer | None = None,
    deprivation: DeprivationLookup | None = None,
    now: Callable[[], datetime] | None = None,
    consume: bool = True,
) -> Service:
    """triage, ready to `run()`. Rules and directory files are re-read when they change."""
    settings = settings or TriageSettings()
    service = Service(SERVICE, settings, broker=broker, producer=producer, uow_factory=TriageUnitOfWork)
    rules = Reloadable(settings.rules_file, load_rules, default_rules)
    directory = Reloadable(settings.directory_file, load_directory, default_directory)
    holidays = england_bank_holidays()
    ctx = TriageContext(
        rules=rules,
        directory=directory,
        deprivation=deprivation or LlrDeprivation(),
        neighbours=neighbours,
        deadline=lambda start, days: add_working_days(start, days, holidays),
        max_attempts=settings.max_attempts,
        **({"now": now} if now is not None else {}),
    )
    if consume:
        consumers.register(service, ctx)
    service.add_background(rules.watch)
    service.add_background(directory.watch)
    service.routes.extend(http.routes(directory))
    return service
