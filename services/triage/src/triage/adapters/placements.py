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
        self._absent: set[uuid.UUID] = set()  # looked for, and with no row yet
        self._dirty_referrals: dict[uuid.UUID, TriagedReferral] = {}
        self._new_placements: dict[uuid.UUID, Placement] = {}
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
        self._absent.update(ids)
        for r in rows:
            self._absent.discard(r["referral_id"])
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
        self._new_placements[placement.assignment_id] = placement
        self._uow.on_flush(self._flush)

    def drop_placement(self, placement: Placement) -> None:
        """Unstage a placement added in this unit of work (its place was taken at commit)."""
        self._placements[placement.referral_id].remove(placement)
        del self._new_placements[placement.assignment_id]

    def save_placement(self, placement: Placement) -> None:
        if placement.assignment_id not in self._new_placements:  # a new one is written as it is
            self._dirty_placements[placement.assignment_id] = placement
        self._uow.on_flush(self._flush)

    async def _flush(self, conn: asyncpg.Connection) -> None:
        # Rows new to the table by COPY, which costs a quarter of an INSERT over arrays in the
        # client (see the kit's outbox); the rest as upserts. A referral's events share one
        # partition, so no other instance writes the same new row meanwhile (and if a rebalance
        # ever made one, the unique key refuses the batch and it is applied one event at a time).
        new = [r for rid, r in self._dirty_referrals.items() if rid in self._absent]
        if new:
            await conn.copy_records_to_table(
                "referrals",
                records=[(r.referral_id, r.revision, r.state, r.decision, r.accepted) for r in new],
                columns=["referral_id", "revision", "state", "decision", "accepted"],
            )
        changed = [r for rid, r in self._dirty_referrals.items() if rid not in self._absent]
        if changed:
            await conn.execute(
                "INSERT INTO referrals (referral_id, revision, state, decision, accepted)"
                " SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[])"
                " ON CONFLICT (referral_id) DO UPDATE SET revision = EXCLUDED.revision,"
                " state = EXCLUDED.state, decision = EXCLUDED.decision, accepted = EXCLUDED.accepted,"
                " updated_at = now()",
                [r.referral_id for r in changed],
                [r.revision for r in changed],
                [r.state for r in changed],
                [r.decision for r in changed],
                [r.accepted for r in changed],
            )
        if self._new_placements:
            await conn.copy_records_to_table(
                "placements",
                records=[
                    (
                        p.referral_id,
                        p.attempt,
                        p.assignment_id,
                        p.service_id,
                        p.provider_id,
                        p.programme,
                        p.period,
                        p.state,
                    )
                    for p in self._new_placements.values()
                ],
                columns=[
                    "referral_id",
                    "attempt",
                    "assignment_id",
                    "service_id",
                    "provider_id",
                    "programme",
                    "period",
                    "state",
                ],
            )
        if self._dirty_placements:
            ps = list(self._dirty_placements.values())
            await conn.execute(
                "UPDATE placements p SET state = u.state FROM unnest($1::uuid[], $2::text[]) AS u(id, state)"
                " WHERE p.assignment_id = u.id",
                [p.assignment_id for p in ps],
                [p.state for p in ps],
            )
        self._absent.difference_update(r.referral_id for r in new)
        self._dirty_referrals.clear()
        self._new_placements.clear()
        self._dirty_placements.clear()
