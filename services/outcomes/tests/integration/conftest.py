"""outcomes against the real database (and Kafka for its producer), fed events directly."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from outcomes.adapters.episodes import EPISODE_JSON
from outcomes.bootstrap import bootstrap
from outcomes.domain.episode import Episode
from outcomes.service_layer.recording import Keys
from outcomes.settings import OutcomesSettings
from referral_schemas import Envelope, new_envelope, parse_event
from referral_schemas.enums import District, Programme, Sex
from referral_schemas.examples import example
from servicekit.service import Service
from servicekit.testing import event_records, reset_schema, with_changes

TOKENS = {"leicester-city-leisure": "city-token", "active-rutland": "rutland-token"}
PROVIDER = "leicester-city-leisure"


def event(event_type: str, referral_id: uuid.UUID, **changes: Any) -> Envelope[Any]:
    """A new event of `event_type` about `referral_id`: the contract's example with `changes`."""
    template = example(event_type)
    doc = with_changes(template.data.model_dump(mode="json"), changes)
    data = type(template.data).model_validate_json(json.dumps(doc))
    return new_envelope(type(template), data, producer="test", referral_id=referral_id)


def triaged(referral_id: uuid.UUID, **changes: Any) -> Envelope[Any]:
    return event("referral.triaged", referral_id, **changes)


def delivered(referral_id: uuid.UUID, provider_id: str = PROVIDER, assignment_id: uuid.UUID | None = None):
    return event(
        "assignment.delivered",
        referral_id,
        provider_id=provider_id,
        assignment_id=str(assignment_id or uuid.uuid4()),
    )


def activity(referral_id: uuid.UUID, kind: str, on: date, provider_id: str = PROVIDER, **changes: Any):
    fields = {"activity": kind, "occurred_on": on.isoformat(), "provider_id": provider_id, "measures": None}
    return event("provider.activity", referral_id, **(fields | changes))


@dataclass
class Outcomes:
    service: Service
    prefix: str
    client: httpx.AsyncClient
    offset: int = 0

    @property
    def keys(self) -> Keys:
        return Keys(self.service.settings.episode_key_secret.get_secret_value().encode())  # type: ignore[attr-defined]

    async def deliver(self, *events: Envelope[Any]) -> None:
        records = event_records(self.prefix, events, self.offset + 1)
        self.offset += len(records)
        await self.service.consumers[0].apply_batch(records)

    async def episode(self, referral_id: uuid.UUID) -> Episode | None:
        async with self.service.pool.acquire() as conn:
            state = await conn.fetchval(
                "SELECT state FROM episodes WHERE episode_id = $1", self.keys.episode(referral_id)
            )
        return None if state is None else EPISODE_JSON.validate_json(state)

    async def rows(self, query: str, *args: Any) -> list[Any]:
        async with self.service.pool.acquire() as conn:
            return await conn.fetch(query, *args)

    async def outbox(self, event_type: str) -> list[tuple[str, Any]]:
        rows = await self.rows(
            "SELECT aggregateid, payload FROM outbox WHERE type = $1 ORDER BY seq", event_type
        )
        return [(r["aggregateid"], parse_event(r["payload"].encode())) for r in rows]


@pytest.fixture
async def outcomes(test_database_url, kafka_bootstrap, isolated_topic_prefix):
    reset_schema(test_database_url, "outcomes")
    settings = OutcomesSettings.model_validate(
        {
            "DATABASE_URL": test_database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "TOPIC_PREFIX": isolated_topic_prefix,
            "relay_enabled": False,
            "api_keys": {p: hashlib.sha256(t.encode()).hexdigest() for p, t in TOKENS.items()},
        }
    )
    service = bootstrap(settings, publish_kpis=False)
    await service.open_database()
    await service.producer.start()
    transport = httpx.ASGITransport(app=service.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://outcomes") as client:
        yield Outcomes(service, isolated_topic_prefix, client)
    await service.producer.stop()
    await service.close_database()


@pytest.fixture
async def other_process(outcomes):
    """A second outcomes instance on the same database, with its own memory of episodes."""
    service = bootstrap(outcomes.service.settings, publish_kpis=False)
    await service.open_database()
    await service.producer.start()
    yield service
    await service.producer.stop()
    await service.close_database()


PROVIDERS = ("leicester-city-leisure", "active-rutland", "active-blaby")
ETHNICITY = ("A", "H", "M", "N", "R", "Z", None)


def referral_events(rng: random.Random) -> list:
    """One referral's journey, chosen at random: placed, and then as far as the provider took it."""
    rid = uuid.uuid4()
    referred = date(2026, rng.randint(1, 4), rng.randint(1, 28))
    decile = rng.choice([None, *range(1, 11)])
    programme = rng.choice(list(Programme))
    changes = {
        "programme": programme.value,
        "district": rng.choice(list(District)).value,
        "referred_at": f"{referred.isoformat()}T09:00:00Z",
        "priority.imd_decile": decile,
        "priority.deprivation_source": "unknown" if decile is None else rng.choice(["lsoa", "postcode_msoa"]),
        "priority.core20": decile is not None and decile <= 2,
        "priority.plus_groups": rng.sample(
            ["ethnic_minority", "carer", "learning_disability_autism"], rng.randint(0, 2)
        ),
        "demographics.age_years": rng.randint(16, 95),
        "demographics.sex": rng.choice(list(Sex)).value,
        "demographics.ethnicity": rng.choice(ETHNICITY),
    }
    provider = rng.choice(PROVIDERS)
    events = [triaged(rid, **changes), delivered(rid, provider)]
    day = referred

    def step(kind: str, **extra):
        nonlocal day
        day += timedelta(days=rng.randint(0, 9))
        events.append(activity(rid, kind, day, provider_id=provider, programme=programme.value, **extra))

    if rng.random() < 0.85:
        step("accepted")
        if rng.random() < 0.8:
            step("contacted")
            index = rng.choice(["inactive", "moderately_inactive"])
            step(
                "measures_recorded",
                measures={
                    "timepoint": "baseline",
                    "mvpa_minutes_per_week": rng.randint(0, 90),
                    "activity_index": index,
                    "wellbeing_swemwbs": rng.randint(7, 35),
                },
            )
            if rng.random() < 0.7:
                offered = rng.randint(6, 24)
                step("enrolled", sessions_offered=offered)
                for _ in range(rng.randint(0, offered)):
                    step(rng.choice(["session_attended", "session_attended", "session_missed"]))
                if rng.random() < 0.6:
                    follow_up = {
                        "timepoint": "week_12",
                        "mvpa_minutes_per_week": rng.randint(0, 300),
                        "activity_index": rng.choice(["inactive", "moderately_active", "active"]),
                        "wellbeing_swemwbs": rng.randint(7, 35),
                    }
                    if programme is Programme.DISCHARGE_TO_ASSESS:
                        follow_up |= {
                            "d2a_outcome": rng.choice(["independent", "reduced_care", "ongoing_care"]),
                            "at_home_91_days": rng.random() < 0.8,
                        }
                    step("measures_recorded", measures=follow_up)
                    step("completed", sessions_offered=offered)
                else:
                    step("dropped_out", reason_code="moved_away")
    return events


@pytest.fixture
async def population(outcomes):
    rng = random.Random(20261203)
    journeys = [referral_events(rng) for _ in range(400)]
    # Placements first, then the providers' steps in interleaved batches, as the topics deliver them.
    await outcomes.deliver(*[e for j in journeys for e in j[:2]])
    steps = [e for j in journeys for e in j[2:]]
    for start in range(0, len(steps), 500):
        await outcomes.deliver(*steps[start : start + 500])
    rows = await outcomes.rows("SELECT state FROM episodes WHERE state IS NOT NULL")
    return [EPISODE_JSON.validate_json(r["state"]) for r in rows]
