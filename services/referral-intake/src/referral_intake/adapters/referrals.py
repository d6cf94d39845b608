"""Intake's repository: referrals, patients and the status history, written once per batch.

Reads go through an in-transaction cache that `prefetch` can fill for a whole batch in one
query; writes are staged and flushed as one statement per table just before the unit of work
commits, so a batch of N submissions costs a handful of round trips, not several per event.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from referral_intake.domain.lifecycle import ACTIVE
from referral_schemas.enums import ReferralStatus, SourceType
from servicekit.db.uow import UnitOfWork, backref

_ACTIVE = [s.value for s in ACTIVE]
# Interpolated into queries below (S608 there): a constant, never input.
_COLUMNS = (
    "referral_id, source_system, source_referral_id, source_type, referrer_ods_code, status, "
    "revision, patient_key, duplicate_key, likely_duplicate_of, referred_at, received_at, submission"
)


@dataclass
class Referral:
    referral_id: uuid.UUID
    source_system: str
    source_referral_id: str
    source_type: SourceType
    referrer_ods_code: str
    status: ReferralStatus
    revision: int
    patient_key: str | None
    duplicate_key: str | None
    likely_duplicate_of: uuid.UUID | None
    referred_at: datetime
    submission: str
    """The latest submission as received, as JSON text."""
    received_at: datetime | None = None


@dataclass(frozen=True)
class HistoryEntry:
    referral_id: uuid.UUID
    status: ReferralStatus
    at: datetime
    actor: str
    event_id: uuid.UUID
    event_type: str
    detail: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)


def _referral_from_row(row: asyncpg.Record) -> Referral:
    return Referral(
        referral_id=row["referral_id"],
        source_system=row["source_system"],
        source_referral_id=row["source_referral_id"],
        source_type=SourceType(row["source_type"]),
        referrer_ods_code=row["referrer_ods_code"],
        status=ReferralStatus(row["status"]),
        revision=row["revision"],
        patient_key=row["patient_key"],
        duplicate_key=row["duplicate_key"],
        likely_duplicate_of=row["likely_duplicate_of"],
        referred_at=row["referred_at"],
        received_at=row["received_at"],
        submission=row["submission"],
    )


class ReferralRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = backref(uow)
        self._known: dict[uuid.UUID, Referral | None] = {}
        self._patients_loaded: set[str] = set()
        self._by_patient: defaultdict[str, set[uuid.UUID]] = defaultdict(set)
        self._dirty: dict[uuid.UUID, Referral] = {}
        self._patients: dict[str, tuple[str, str]] = {}
        self._history: list[HistoryEntry] = []

    # ------------------------------------------------------------------ reads
    async def prefetch(self, referral_ids: Iterable[uuid.UUID], patient_keys: Iterable[str]) -> None:
        """Load the referrals a batch names and every active referral of its patients."""
        ids = [i for i in set(referral_ids) if i not in self._known]
        keys = [k for k in set(patient_keys) if k not in self._patients_loaded]
        if not ids and not keys:
            return
        rows = await self._uow.connection.fetch(
            f"SELECT {_COLUMNS} FROM referrals WHERE referral_id = ANY($1::uuid[])"  # noqa: S608
            " OR (patient_key = ANY($2::text[]) AND status = ANY($3::text[]))",
            ids,
            keys,
            _ACTIVE,
        )
        for i in ids:
            self._known.setdefault(i, None)
        for row in rows:
            self._remember(_referral_from_row(row))
        self._patients_loaded.update(keys)

    async def get(self, referral_id: uuid.UUID) -> Referral | None:
        if referral_id not in self._known:
            await self.prefetch([referral_id], [])
        return self._known[referral_id]

    async def active_duplicate(
        self, patient_key: str, duplicate_key: str, *, excluding: uuid.UUID
    ) -> uuid.UUID | None:
        """The earliest other active referral of this patient for the same programme, if any."""
        if patient_key not in self._patients_loaded:
            await self.prefetch([], [patient_key])
        candidates = [
            r
            for rid in self._by_patient.get(patient_key, ())
            if (r := self._known.get(rid)) is not None
            and rid != excluding
            and r.duplicate_key == duplicate_key
            and r.status in ACTIVE
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda r: (r.referred_at, str(r.referral_id))).referral_id

    async def lock(self, referral_id: uuid.UUID) -> None:
        """Serialise writers of one referral until commit (concurrent HTTP submissions)."""
        await self._uow.connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", str(referral_id)
        )
        self._known.pop(referral_id, None)

    # ------------------------------------------------------------------ writes (staged)
    def save(self, referral: Referral) -> None:
        self._remember(referral)
        self._dirty[referral.referral_id] = referral
        self._uow.on_flush(self._flush)

    def save_patient(self, patient_key: str, nhs_number: str, contact_json: str) -> None:
        self._patients[patient_key] = (nhs_number, contact_json)
        self._uow.on_flush(self._flush)

    def append_history(self, entry: HistoryEntry) -> None:
        self._history.append(entry)
        self._uow.on_flush(self._flush)

    def _remember(self, referral: Referral) -> None:
        self._known[referral.referral_id] = referral
        if referral.patient_key is not None:
            self._by_patient[referral.patient_key].add(referral.referral_id)

    async def _flush(self, conn: asyncpg.Connection) -> None:
        if self._patients:
            keys = list(self._patients)
            await conn.execute(
                "INSERT INTO patients (patient_key, nhs_number, contact)"
                " SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
                " ON CONFLICT (patient_key) DO UPDATE"
                " SET contact = EXCLUDED.contact, updated_at = now()",
                keys,
                [self._patients[k][0] for k in keys],
                [self._patients[k][1] for k in keys],
            )
        if self._dirty:
            rs = list(self._dirty.values())
            await conn.execute(
                f"INSERT INTO referrals ({_COLUMNS})"  # noqa: S608
                " SELECT referral_id, source_system, source_referral_id, source_type,"
                " referrer_ods_code, status, revision, patient_key, duplicate_key,"
                " likely_duplicate_of, referred_at, now(), submission"
                " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
                " $6::text[], $7::int[], $8::text[], $9::text[], $10::uuid[], $11::timestamptz[],"
                " $12::text[]) AS r(referral_id, source_system, source_referral_id, source_type,"
                " referrer_ods_code, status, revision, patient_key, duplicate_key,"
                " likely_duplicate_of, referred_at, submission)"
                " ON CONFLICT (referral_id) DO UPDATE SET"
                " source_type = EXCLUDED.source_type, referrer_ods_code = EXCLUDED.referrer_ods_code,"
                " status = EXCLUDED.status, revision = EXCLUDED.revision,"
                " patient_key = EXCLUDED.patient_key, duplicate_key = EXCLUDED.duplicate_key,"
                " likely_duplicate_of = EXCLUDED.likely_duplicate_of,"
                " referred_at = EXCLUDED.referred_at, submission = EXCLUDED.submission,"
                " updated_at = now()",
                [r.referral_id for r in rs],
                [r.source_system for r in rs],
                [r.source_referral_id for r in rs],
                [r.source_type.value for r in rs],
                [r.referrer_ods_code for r in rs],
                [r.status.value for r in rs],
                [r.revision for r in rs],
                [r.patient_key for r in rs],
                [r.duplicate_key for r in rs],
                [r.likely_duplicate_of for r in rs],
                [r.referred_at for r in rs],
                [r.submission for r in rs],
            )
        if self._history:
            h = self._history
            await conn.execute(
                "INSERT INTO status_history"
                " (referral_id, status, at, actor, event_id, event_type, detail, reasons)"
                " SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[],"
                " $5::uuid[], $6::text[], $7::text[], $8::text[])",
                [e.referral_id for e in h],
                [e.status.value for e in h],
                [e.at for e in h],
                [e.actor for e in h],
                [e.event_id for e in h],
                [e.event_type for e in h],
                [e.detail for e in h],
                [json.dumps(e.reasons, separators=(",", ":")) for e in h],
            )
        self._dirty.clear()
        self._patients.clear()
        self._history = []


async def timeline(conn: asyncpg.Connection, referral_id: uuid.UUID) -> tuple[Referral | None, Sequence[Any]]:
    """A referral and its status history, oldest first (for the referrer's view)."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM referrals WHERE referral_id = $1", referral_id)  # noqa: S608
    if row is None:
        return None, []
    history = await conn.fetch(
        "SELECT status, at, actor, event_id, event_type, detail, reasons"
        " FROM status_history WHERE referral_id = $1 ORDER BY id",
        referral_id,
    )
    return _referral_from_row(row), history
