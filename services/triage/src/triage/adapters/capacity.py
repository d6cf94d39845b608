"""Provider capacity in PostgreSQL, reserved atomically per batch.

`lock` brings the rows a batch may touch up to date with the directory and locks them
(`SELECT ... FOR UPDATE`, in key order so two instances never deadlock); reservations are then
counted in memory against the locked figures and written back in one statement at commit. A
second triage instance wanting the same rows waits for the commit and then sees what is left,
so a service is never over-filled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import asyncpg
from servicekit.db.uow import UnitOfWork
from triage.directory.model import Directory

Key = tuple[str, str, str]  # service_id, programme, period (YYYY-MM)


class CapacityLedger:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._free: dict[Key, int] = {}
        self._delta: Counter[Key] = Counter()

    async def lock(self, directory: Directory, keys: Iterable[Key]) -> None:
        wanted = sorted(set(keys) - set(self._free))
        if not wanted:
            return
        configured = {(s.id, p.value): c for s in directory.services for p, c in s.monthly_capacity.items()}
        known = [k for k in wanted if (k[0], k[1]) in configured]
        conn = self._uow.connection
        await conn.execute(
            "INSERT INTO capacity (service_id, programme, period, capacity)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])"
            " ON CONFLICT (service_id, programme, period) DO UPDATE SET capacity = EXCLUDED.capacity"
            " WHERE capacity.capacity <> EXCLUDED.capacity",
            [k[0] for k in known],
            [k[1] for k in known],
            [k[2] for k in known],
            [configured[(k[0], k[1])] for k in known],
        )
        rows = await conn.fetch(
            "SELECT c.service_id, c.programme, c.period, c.capacity - c.reserved AS free"
            " FROM capacity c JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(s, p, m)"
            " ON c.service_id = k.s AND c.programme = k.p AND c.period = k.m"
            " ORDER BY c.service_id, c.programme, c.period FOR UPDATE OF c",
            [k[0] for k in wanted],
            [k[1] for k in wanted],
            [k[2] for k in wanted],
        )
        for k in wanted:
            self._free[k] = 0  # a service the directory no longer lists has no room
        for r in rows:
            self._free[(r["service_id"], r["programme"], r["period"])] = max(0, r["free"])

    def try_reserve(self, key: Key) -> bool:
        """Take one place, if the (locked) row has one left."""
        if self._free.get(key, 0) <= 0:
            return False
        self._free[key] -= 1
        self._delta[key] += 1
        self._uow.on_flush(self._flush)
        return True

    def release(self, key: Key) -> None:
        """Give a place back (a declined or expired placement, a cancelled referral).

        The row must be locked first, so the freed place is counted for the rest of the batch.
        """
        if key not in self._free:
            raise RuntimeError(f"capacity {key} released without being locked")
        self._free[key] += 1
        self._delta[key] -= 1
        self._uow.on_flush(self._flush)

    async def _flush(self, conn: asyncpg.Connection) -> None:
        changed = [(k, d) for k, d in self._delta.items() if d]
        if changed:
            await conn.execute(
                "UPDATE capacity c SET reserved = greatest(0, c.reserved + d.delta)"
                " FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS d(s, p, m, delta)"
                " WHERE c.service_id = d.s AND c.programme = d.p AND c.period = d.m",
                [k[0] for k, _ in changed],
                [k[1] for k, _ in changed],
                [k[2] for k, _ in changed],
                [d for _, d in changed],
            )
        self._delta.clear()
