"""Outcomes' unit of work: the kit's transaction plus the episode repository."""

from __future__ import annotations

import asyncpg
from servicekit.db.uow import UnitOfWork

from outcomes.adapters.episodes import EpisodeRepository


class OutcomesUnitOfWork(UnitOfWork):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.episodes = EpisodeRepository(self)
