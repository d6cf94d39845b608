"""Intake's unit of work: the kit's transaction plus intake's repository."""

from __future__ import annotations

import asyncpg
from referral_intake.adapters.referrals import ReferralRepository
from servicekit.db.uow import UnitOfWork


class IntakeUnitOfWork(UnitOfWork):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.referrals = ReferralRepository(self)
