"""triage against the real database."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from referral_schemas import new_envelope, parse_event
from referral_schemas.enums import DeprivationSource
from referral_schemas.events.referral import ReferralAccepted
from referral_schemas.examples import example
from referral_schemas.registry import ReferralAcceptedV1
from servicekit.db.migrate import migrate_service
from servicekit.service import Service
from servicekit.testing import event_records, reset_schema, with_changes
from triage.bootstrap import bootstrap
from triage.settings import TriageSettings


@pytest.fixture
async def triage_pool(test_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A fresh `triage` schema with its migrations; a pool logged in as the triage role."""
    dsn = reset_schema(test_database_url, "triage")
    migrate_service("triage", test_database_url)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=8)
    assert pool is not None
    yield pool
    await pool.close()


NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class FixedDeprivation:
    def deprivation_for(self, postcode: str | None, lsoa: str | None) -> tuple[int | None, DeprivationSource]:
        return 5, DeprivationSource.LSOA


@dataclass
class Triage:
    service: Service
    prefix: str
    offset: int = 0

    async def deliver(self, *events: Any) -> None:
        records = event_records(self.prefix, events, self.offset + 1)
        self.offset += len(records)
        await self.service.consumers[0].apply_batch(records)

    async def outbox(self, referral_id: uuid.UUID) -> list[Any]:
        async with self.service.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT payload FROM outbox WHERE aggregateid = $1 ORDER BY seq", str(referral_id)
            )
        return [parse_event(r["payload"].encode()) for r in rows]

    async def held(self, referral_id: uuid.UUID) -> tuple[str, dict[str, Any] | None]:
        """The referral's state in `triage.referrals` and the referral.accepted payload it keeps."""
        async with self.service.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT state, accepted::text AS accepted FROM referrals WHERE referral_id = $1", referral_id
            )
        assert row is not None, f"triage holds no referral {referral_id}"
        return row["state"], json.loads(row["accepted"]) if row["accepted"] is not None else None

    async def reserved(self, service_id: str, programme: str) -> int:
        async with self.service.pool.acquire() as conn:
            return await conn.fetchval(
                "SELECT coalesce(sum(reserved), 0) FROM capacity WHERE service_id = $1 AND programme = $2",
                service_id,
                programme,
            )


@pytest.fixture
async def make_triage(test_database_url, kafka_bootstrap, isolated_topic_prefix):
    """Factory of triage services on a fresh schema (settings overridable), stopped afterwards."""
    started: list[Service] = []

    async def make(fresh: bool = True, **settings: Any) -> Triage:
        if fresh:
            reset_schema(test_database_url, "triage")
        values = {
            "DATABASE_URL": test_database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "TOPIC_PREFIX": isolated_topic_prefix,
            "relay_enabled": False,
        } | settings
        service = bootstrap(
            TriageSettings.model_validate(values), deprivation=FixedDeprivation(), now=lambda: NOW
        )
        await service.open_database()
        await service.producer.start()
        started.append(service)
        return Triage(service, isolated_topic_prefix)

    yield make
    for service in started:
        await service.producer.stop()
        await service.close_database()


@pytest.fixture
async def triage(make_triage):
    return await make_triage()


def accepted(**changes: Any) -> Any:
    """A referral.accepted event for a new referral; `changes` update the payload (dotted keys)."""
    doc = with_changes(example("referral.accepted").data.model_dump(mode="json"), changes)
    data = ReferralAccepted.model_validate_json(json.dumps(doc))
    return new_envelope(ReferralAcceptedV1, data, producer="referral-intake", referral_id=uuid.uuid4())


@pytest.fixture
def make_accepted():
    return accepted
