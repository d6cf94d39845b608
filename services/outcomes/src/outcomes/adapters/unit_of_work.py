"""Outcomes' unit of work: the kit's transaction plus the episode repository."""

from __future__ import annotations

import asyncpg
from servicekit.db.uow import UnitOfWork

from outcomes.adapters.episode_cache import EpisodeCache
from outcomes.adapters.episodes import EpisodeRepository


class OutcomesUnitOfWork(UnitOfWork):
    def __init__(self, pool: asyncpg.Pool, cache: EpisodeCache | None = None) -> None:
        super().__init__(pool)
        self.episodes = EpisodeRepository(self, cache if cache is not None else EpisodeCache(0))
