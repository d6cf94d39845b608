"""provider-notify's unit of work: the kit's transaction plus the arriving assignments."""

from __future__ import annotations

import asyncpg
from provider_notify.adapters.assignments import AssignmentRepository
from servicekit.db.uow import UnitOfWork


class NotifyUnitOfWork(UnitOfWork):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.assignments = AssignmentRepository(self)
