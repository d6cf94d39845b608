"""Background work (timers, deliverers, publishers) outlives its failures."""

from __future__ import annotations

import asyncpg
import pytest
from servicekit.observability.metrics import BACKGROUND_RESTARTS
from servicekit.service import Service, ServiceSettings


@pytest.fixture
async def service() -> Service:
    settings = ServiceSettings.model_validate(
        {
            "DATABASE_URL": "postgresql://nobody:nothing@127.0.0.1:1/none",
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "retry_backoff_max_s": 0.01,
        }
    )
    return Service("triage", settings)


async def test_background_work_that_fails_is_started_again_until_it_finishes(service):
    calls = []

    async def timer() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise asyncpg.exceptions.CannotConnectNowError("the database is starting up")
        if len(calls) == 2:
            raise RuntimeError("a bug in one pass")

    before = BACKGROUND_RESTARTS.labels("triage", "timer")._value.get()
    await service._supervised(timer)
    assert calls == [0, 1, 2]
    assert BACKGROUND_RESTARTS.labels("triage", "timer")._value.get() == before + 2
