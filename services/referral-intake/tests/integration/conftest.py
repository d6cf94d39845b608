"""referral-intake against the real database (and, where a test needs it, the real broker)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from referral_intake.bootstrap import bootstrap
from referral_intake.settings import IntakeSettings
from referral_schemas import dump_event, new_envelope, parse_event, topic_for
from referral_schemas.events.referral import ReferralSubmitted
from referral_schemas.examples import example
from referral_schemas.registry import ReferralSubmittedV1
from servicekit.service import Service
from servicekit.testing import consumer_record, reset_schema, with_changes

TODAY = date(2026, 3, 2)


def settings_for(database_url: str, bootstrap_servers: str, **overrides: Any) -> IntakeSettings:
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "accept_test_nhs_numbers": True,
        "relay_enabled": False,
        "http_port": 0,
    }
    values.update(overrides)
    return IntakeSettings.model_validate(values)


@dataclass
class Intake:
    service: Service
    prefix: str
    offset: int = 0

    @property
    def submissions(self) -> Any:
        return self.service.consumers[0]

    @property
    def downstream(self) -> Any:
        return self.service.consumers[1]

    async def submit(self, *events: Any) -> None:
        await self.submissions.apply_batch([self.record(topic_for("referral.submitted"), e) for e in events])

    async def deliver(self, *events: Any) -> None:
        await self.downstream.apply_batch([self.record(topic_for(e.event_type), e) for e in events])

    def record(self, topic: str, event: Any) -> Any:
        self.offset += 1
        key = str(event.referral_id or uuid.uuid4()).encode()
        return consumer_record(self.prefix + topic, dump_event(event), key=key, offset=self.offset)

    async def outbox(self, referral_id: uuid.UUID) -> list[Any]:
        """Events intake staged for `referral_id`, in publish order, parsed."""
        async with self.service.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT payload FROM outbox WHERE aggregateid = $1 ORDER BY seq", str(referral_id)
            )
        return [parse_event(r["payload"].encode()) for r in rows]

    async def row(self, referral_id: uuid.UUID) -> Any:
        async with self.service.pool.acquire() as conn:
            return await conn.fetchrow("SELECT * FROM referrals WHERE referral_id = $1", referral_id)

    async def history(self, referral_id: uuid.UUID) -> list[str]:
        async with self.service.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT status FROM status_history WHERE referral_id = $1 ORDER BY id", referral_id
            )
        return [r["status"] for r in rows]


@pytest.fixture
async def intake(
    test_database_url: str, kafka_bootstrap: str, isolated_topic_prefix: str
) -> AsyncIterator[Intake]:
    """Intake's consumers fed batch by batch (`submit`, `deliver`), on the test database.

    Dead letters and (where a test starts the relay) outputs go to this session's own topics.
    """
    reset_schema(test_database_url, "referral-intake")
    settings = settings_for(test_database_url, kafka_bootstrap, TOPIC_PREFIX=isolated_topic_prefix)
    service = bootstrap(settings, today=lambda: TODAY)
    await service.open_database()
    await service.producer.start()  # dead letters go to Kafka
    try:
        yield Intake(service, isolated_topic_prefix)
    finally:
        await service.producer.stop()
        await service.close_database()


def _submission(**changes: Any) -> Any:
    """A valid GP referral with fresh source ids; `changes` update its data (dotted keys nest)."""
    base = with_changes(
        example("referral.submitted").data.model_dump(mode="json"),
        {"source_referral_id": f"REF-{uuid.uuid4().hex[:12]}", **changes},
    )
    data = ReferralSubmitted.model_validate_json(json.dumps(base))
    return new_envelope(ReferralSubmittedV1, data, producer="emis-web", referral_id=None)


def _types_of(events: list[Any]) -> list[str]:
    return [
        e.event_type + (f":{e.data.status.value}" if e.event_type == "referral.status" else "")
        for e in events
    ]


@pytest.fixture
def intake_settings() -> Any:
    """Factory of settings for the test database and broker (see `settings_for`)."""
    return settings_for


@pytest.fixture
def submission() -> Any:
    """Factory of valid GP referrals with fresh source ids (see `_submission`)."""
    return _submission


@pytest.fixture
def types_of() -> Any:
    """Event types of a list of events, with the status for referral.status events."""
    return _types_of
