"""Which failures are transient (wait and retry, never skip) and the retry policy for them."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_never, wait_exponential_jitter

TRANSIENT_PG = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.QueryCanceledError,
)
TRANSIENT_KAFKA = (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError)


class ConcurrentChange(Exception):
    """A transaction found that state it had read was changed by another since (an optimistic
    check failed at commit). Transient: the batch is applied again, on fresh reads."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT_PG + TRANSIENT_KAFKA + (psycopg.OperationalError, ConcurrentChange)):
        return True
    # Connection refused/reset while the database or broker restarts.
    return isinstance(exc, (OSError, asyncio.TimeoutError, ConnectionError))


# A transaction that lost to a concurrent one is retried at once, a few times: the winner has
# committed by the time the loser learns of it, so the fresh figures are already there. Backing
# off as for an outage left a triage instance idle 0.1-0.2 s for every capacity race it lost.
CONFLICTS = (ConcurrentChange, asyncpg.exceptions.SerializationError)
IMMEDIATE_CONFLICT_RETRIES = 3


def retry_transient(max_delay_s: float, before_sleep: object = None) -> AsyncRetrying:
    """Retry transient failures forever, backing off exponentially up to `max_delay_s`; lost
    conflicts first at once (`IMMEDIATE_CONFLICT_RETRIES` times)."""
    backoff = wait_exponential_jitter(multiplier=0.1, max=max_delay_s, jitter=0.1)

    def wait(state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, CONFLICTS) and state.attempt_number <= IMMEDIATE_CONFLICT_RETRIES:
            return 0.0
        return backoff(state)

    return AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=wait,
        stop=stop_never,
        reraise=True,
        before_sleep=before_sleep,  # type: ignore[arg-type]
    )
