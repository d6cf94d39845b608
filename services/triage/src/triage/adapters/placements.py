"""Triage's repository: decided referrals and their placements, written once per batch."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg
from servicekit.db.uow import UnitOfWork, backref


@dataclass
class TriagedReferral:
    referral_id: uuid.UUID
    revision: int
    state: str  # placing, placed, unplaced, signposted, returned, cancelled
    decision: str  # the referral.triaged payload, as JSON
    accepted: str | None  # the referral.accepted payload, as JSON, while it is being placed


@dataclass
class Placement:
    referral_id: uuid.UUID
    attempt: int
    assignment_id: uuid.UUID
    service_id: str
    provider_id: str
    programme: str
    period: str
    state: str  # open, declined, expired, cancelled

    @property
    def capacity_key(self) -> tuple[str, str, str]:
        return (self.service_id, self.programme, self.period)


class PlacementRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = backref(uow)
        self._referrals: dict[uuid.UUID, TriagedReferral | None] = {}
        self._placements: dict[uuid.UUID, list[Placement]] = {}
        self._dirty_referrals: dict[uuid.UUID, TriagedReferral] = {}
        self._dirty_placements: dict[uuid.UUID, Placement] = {}

    async def prefetch(self, referral_ids: Iterable[uuid.UUID]) -> None:
        ids = [i for i in set(referral_ids) if i not in self._referrals]
        if not ids:
            return
        conn = self._uow.connection
        rows = await conn.fetch(
            "SELECT referral_id, revision, state, decision, accepted"
            " FROM referrals WHERE referral_id = ANY($1::uuid[])",
            ids,
        )
        for i in ids:
            self._referrals[i] = None
            self._placements[i] = []
        for r in rows:
            self._referrals[r["referral_id"]] = TriagedReferral(
                r["referral_id"],
                r["revision"],
                r["state"],
                r["decision"],
                r["accepted"],
            )
        for p in await conn.fetch(
            "SELECT referral_id, attempt, assignment_id, service_id, provider_id, programme, period, state"
            " FROM placements WHERE referral_id = ANY($1::uuid[]) ORDER BY attempt",
            ids,
        ):
            self._placements[p["referral_id"]].append(Placement(**dict(p)))

    async def get(self, referral_id: uuid.UUID) -> TriagedReferral | None:
        await self.prefetch([referral_id])
        return self._referrals[referral_id]

    def held(self, referral_id: uuid.UUID) -> TriagedReferral | None:
        """The referral as this unit of work holds it now (fetched or saved before)."""
        return self._referrals.get(referral_id)

    async def placements(self, referral_id: uuid.UUID) -> list[Placement]:
        await self.prefetch([referral_id])
        return self._placements[referral_id]

    def save(self, referral: TriagedReferral) -> None:
        self._referrals[referral.referral_id] = referral
        self._placements.setdefault(referral.referral_id, [])
        self._dirty_referrals[referral.referral_id] = referral
        self._uow.on_flush(self._flush)

    def add_placement(self, placement: Placement) -> None:
        self._placements.setdefault(placement.referral_id, []).append(placement)
        self.save_placement(placement)

    def drop_placement(self, placement: Placement) -> None:
        """Unstage a placement added in this unit of work (its place was taken at commit)."""
        self._placements[placement.referral_id].remove(placement)
        del self._dirty_placements[placement.assignment_id]

    def save_placement(self, placement: Placement) -> None:
        self._dirty_placements[placement.assignment_id] = placement
        self._uow.on_flush(self._flush)

    async def _flush(self, conn: asyncpg.Connection) -> None:
        if self._dirty_referrals:
            rs = list(self._dirty_referrals.values())
            await conn.execute(
                "INSERT INTO referrals (referral_id, revision, state, decision, accepted)"
                " SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[])"
                " ON CONFLICT (referral_id) DO UPDATE SET revision = EXCLUDED.revision,"
                " state = EXCLUDED.state, decision = EXCLUDED.decision, accepted = EXCLUDED.accepted,"
                " updated_at = now()",
                [r.referral_id for r in rs],
                [r.revision for r in rs],
                [r.state for r in rs],
                [r.decision for r in rs],
                [r.accepted for r in rs],
            )
        if self._dirty_placements:
            ps = list(self._dirty_placements.values())
            await conn.execute(
                "INSERT INTO placements (referral_id, attempt, assignment_id, service_id, provider_id,"
                " programme, period, state)"
                " SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::text[],"
                " $6::text[], $7::text[], $8::text[])"
                " ON CONFLICT (assignment_id) DO UPDATE SET state = EXCLUDED.state",
                [p.referral_id for p in ps],
                [p.attempt for p in ps],
                [p.assignment_id for p in ps],
                [p.service_id for p in ps],
                [p.provider_id for p in ps],
                [p.programme for p in ps],
                [p.period for p in ps],
                [p.state for p in ps],
            )
        self._dirty_referrals.clear()
        self._dirty_placements.clear()
