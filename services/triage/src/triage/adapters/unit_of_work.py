"""Triage's unit of work: the kit's transaction plus placements and capacity."""

from __future__ import annotations

import asyncpg
from servicekit.db.uow import UnitOfWork
from triage.adapters.capacity import CapacityLedger
from triage.adapters.placements import PlacementRepository


class TriageUnitOfWork(UnitOfWork):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.referrals = PlacementRepository(self)
        self.capacity = CapacityLedger(self)

    async def commit(self) -> None:
        # Settled first: a reservation moved there restates the rows and events the other
        # repositories and the outbox write next.
        await self.capacity.settle(self.connection)
        await super().commit()
