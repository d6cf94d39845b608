"""Builds outcomes: production defaults, with overrides for tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from referral_schemas import Envelope, topic_for
from servicekit.db.uow import UnitOfWork
from servicekit.service import Service

from outcomes.adapters.episode_cache import EpisodeCache
from outcomes.adapters.unit_of_work import OutcomesUnitOfWork
from outcomes.entrypoints import dashboard, kpi_api, measures_api
from outcomes.service_layer.kpi_stream import keep_publishing
from outcomes.service_layer.recording import Keys, handle_activity, handle_delivered, handle_triaged
from outcomes.settings import OutcomesSettings

SERVICE = "outcomes"


def bootstrap(
    settings: OutcomesSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    producer: AIOKafkaProducer | None = None,
    consume: bool = True,
    publish_kpis: bool = True,
) -> Service:
    """outcomes, ready to `run()`: builds episodes from the workflow's events and reports KPIs."""
    settings = settings or OutcomesSettings()
    cache = EpisodeCache(settings.episode_cache_size)
    service = Service(
        SERVICE,
        settings,
        broker=broker,
        producer=producer,
        uow_factory=lambda pool: OutcomesUnitOfWork(pool, cache),
    )
    keys = Keys(settings.episode_key_secret.get_secret_value().encode())

    def uow() -> OutcomesUnitOfWork:
        return cast(OutcomesUnitOfWork, service.uow())

    async def on_triaged(event: Envelope[Any], uow: UnitOfWork) -> None:
        await handle_triaged(event, cast(OutcomesUnitOfWork, uow), keys)

    async def on_delivered(event: Envelope[Any], uow: UnitOfWork) -> None:
        await handle_delivered(event, cast(OutcomesUnitOfWork, uow), keys)

    async def on_activity(event: Envelope[Any], uow: UnitOfWork) -> None:
        # Refused and parked activity is kept in the database with its reason.
        await handle_activity(event, cast(OutcomesUnitOfWork, uow), keys)

    async def prefetch(events: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
        ids = [keys.episode(e.referral_id) for e in events if e.referral_id is not None]
        await cast(OutcomesUnitOfWork, uow).episodes.prefetch(ids)

    if consume:
        service.consume(
            topic_for("referral.triaged"),
            topic_for("assignment.delivered"),
            topic_for("provider.activity"),
            handlers={
                "referral.triaged": on_triaged,
                "assignment.delivered": on_delivered,
                "provider.activity": on_activity,
            },
            prefetch=prefetch,
        )
    service.routes.extend(kpi_api.routes(lambda: service.pool))
    service.routes.extend(dashboard.routes(lambda: service.pool))
    service.routes.extend(measures_api.routes(settings.api_keys, uow))
    if publish_kpis:
        service.add_background(lambda: keep_publishing(uow, settings.kpi_publish_interval_s))
    return service
