import asyncio

import asyncpg
import psycopg
import pytest
from aiokafka.errors import KafkaConnectionError
from servicekit.resilience import IMMEDIATE_CONFLICT_RETRIES, ConcurrentChange, is_transient, retry_transient


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.ConnectionDoesNotExistError("gone"),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
        asyncpg.exceptions.SerializationError("retry"),
        ConnectionRefusedError(111, "refused"),
        KafkaConnectionError("no broker"),
        psycopg.OperationalError("server closed the connection"),
        TimeoutError(),
    ],
)
def test_outages_are_transient(exc):
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad value"),
        KeyError("missing"),
        asyncpg.exceptions.UniqueViolationError("duplicate"),
        asyncpg.exceptions.UndefinedTableError("no table"),
    ],
)
def test_bugs_and_data_errors_are_not_transient(exc):
    assert not is_transient(exc)


async def test_transient_failures_are_retried_until_they_pass():
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise ConnectionResetError("reset")
        return "done"

    result = None
    async for attempt in retry_transient(max_delay_s=0.01):
        with attempt:
            result = await flaky()
    assert (result, calls) == ("done", 4)


async def test_a_non_transient_failure_is_raised_at_once():
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        async for attempt in retry_transient(max_delay_s=0.01):
            with attempt:
                await broken()
    assert calls == 1


async def sleeps_until_it_passes(failures: list[BaseException]) -> list[float]:
    """The waits `retry_transient` chooses while an operation fails with `failures` in turn."""
    sleeps: list[float] = []
    retrying = retry_transient(max_delay_s=0.5)
    retrying.sleep = lambda s: sleeps.append(s) or asyncio.sleep(0)  # type: ignore[method-assign]
    left = list(failures)
    async for attempt in retrying:
        with attempt:
            if left:
                raise left.pop(0)
    return sleeps


async def test_backoff_is_bounded_not_a_hot_loop():
    sleeps = await sleeps_until_it_passes([ConnectionResetError("reset")] * 11)
    assert len(sleeps) == 11
    assert all(0 < s <= 0.5 + 1e-9 for s in sleeps)
    assert sleeps[-1] > sleeps[0]


async def test_a_lost_conflict_is_retried_at_once_a_few_times_then_backs_off():
    lost = ConcurrentChange("another instance took the last place")
    sleeps = await sleeps_until_it_passes([lost] * (IMMEDIATE_CONFLICT_RETRIES + 2))
    assert sleeps[:IMMEDIATE_CONFLICT_RETRIES] == [0.0] * IMMEDIATE_CONFLICT_RETRIES
    assert all(s > 0 for s in sleeps[IMMEDIATE_CONFLICT_RETRIES:])
    assert len(sleeps) == IMMEDIATE_CONFLICT_RETRIES + 2


async def test_an_outage_backs_off_from_its_first_retry():
    sleeps = await sleeps_until_it_passes([ConnectionResetError("reset")] * 2)
    assert len(sleeps) == 2
    assert all(s > 0 for s in sleeps)
