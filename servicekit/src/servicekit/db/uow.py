"""Unit of work: one transaction for state, inbox rows and outbox rows.

It rolls back unless `commit()` is called. Repositories may run statements on `connection`
directly, or stage rows with `on_flush` so a batch of events costs one round trip per table.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self, TypeVar, cast
from uuid import UUID

import asyncpg
from referral_schemas import Contract, Envelope, new_envelope, topic_for

from servicekit.db.outbox import OutboxBuffer

Flusher = Callable[[asyncpg.Connection], Awaitable[None]]
Committed = Callable[[], None]
U = TypeVar("U", bound="UnitOfWork")


def backref(uow: U) -> U:
    """A repository's link back to its unit of work, as a weak proxy.

    A plain reference made each unit of work a reference cycle (it holds its repositories, they
    hold it), so a batch's unit of work and everything it staged outlived the batch until the
    cyclic collector found them; that garbage, promoted meanwhile, made the full collections
    frequent and slow. Through the proxy they are freed as the batch ends."""
    return cast(U, weakref.proxy(uow))


class UnitOfWork:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._conn: asyncpg.pool.PoolConnectionProxy | None = None
        self._tx: asyncpg.transaction.Transaction | None = None
        self._flushers: list[Flusher] = []
        self._on_commit: list[Committed] = []
        self.outbox = OutboxBuffer()
        self.committed = False

    async def __aenter__(self) -> Self:
        self._conn = await self._pool.acquire()
        try:
            self._tx = self._conn.transaction()
            await self._tx.start()
        except BaseException:
            await self._pool.release(self._conn)
            self._conn = None
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not self.committed and self._tx is not None and not conn.is_closed():
                await self._tx.rollback()
        finally:
            await self._pool.release(conn)

    @property
    def connection(self) -> asyncpg.Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._conn

    def on_flush(self, flusher: Flusher) -> None:
        """Run `flusher` once, just before commit (for batched repository writes)."""
        if flusher not in self._flushers:
            self._flushers.append(flusher)

    def after_commit(self, callback: Committed) -> None:
        """Run `callback` once the transaction has committed (never if it rolls back): for
        memory that must only ever hold what is stored."""
        self._on_commit.append(callback)

    def publish(self, event: Envelope, *, topic: str, key: str, aggregate_type: str) -> None:  # type: ignore[type-arg]
        """Stage an event for the outbox; it is sent only if this unit of work commits."""
        self.outbox.add(
            event_id=event.event_id,
            event_type=event.event_type,
            topic=topic,
            key=key,
            payload=event.model_dump_json(),
            aggregate_type=aggregate_type,
        )

    def emit(
        self,
        envelope_type: type[Envelope],  # type: ignore[type-arg]
        data: Contract,
        *,
        producer: str,
        referral_id: UUID,
        caused_by: Envelope | None,  # type: ignore[type-arg]
    ) -> Envelope:  # type: ignore[type-arg]
        """Build an event about `referral_id` and stage it on its registry topic, keyed by the
        referral (so every event of one referral stays in order)."""
        event = new_envelope(
            envelope_type, data, producer=producer, referral_id=referral_id, caused_by=caused_by
        )
        self.publish(
            event,
            topic=topic_for(envelope_type.event_type_name()),
            key=str(referral_id),
            aggregate_type="referral",
        )
        return event

    async def commit(self) -> None:
        conn = self.connection
        for flush in self._flushers:
            await flush(conn)
        self._flushers.clear()
        await self.outbox.flush(conn)
        assert self._tx is not None
        await self._tx.commit()
        self.committed = True
        for callback in self._on_commit:
            callback()
        self._on_commit.clear()
