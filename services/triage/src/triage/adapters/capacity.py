"""Provider capacity in PostgreSQL, reserved atomically per batch without holding locks while
the batch is decided.

`load` brings the rows a batch may touch up to date with the directory and reads their free
places, without locking them; reservations are counted in memory against those figures and
written back at commit in one statement that locks the rows in key order and applies a batch's
reservations only where the room is still there. If another instance took the places meanwhile,
the statement applies nothing and `CapacityTaken` rolls the batch back; the consumer applies it
again on fresh figures. So a service is never over-filled, and two instances no longer queue for
each other's row locks while each decides a whole batch (they did when the rows were locked as
they were read: a second instance added almost nothing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import asyncpg
from servicekit.db.uow import UnitOfWork
from servicekit.resilience import ConcurrentChange
from triage.directory.model import Directory

Key = tuple[str, str, str]  # service_id, programme, period (YYYY-MM)


class CapacityLedger:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._free: dict[Key, int] = {}
        self._delta: Counter[Key] = Counter()

    async def load(self, directory: Directory, keys: Iterable[Key]) -> None:
        """Read the free places of `keys` (not locked), first writing rows the directory has
        added or changed."""
        wanted = sorted(set(keys) - set(self._free))
        if not wanted:
            return
        configured = {(s.id, p.value): c for s in directory.services for p, c in s.monthly_capacity.items()}
        conn = self._uow.connection
        found = {
            _key(r): r
            for r in await conn.fetch(
                "SELECT c.service_id, c.programme, c.period, c.capacity, c.reserved"
                " FROM capacity c JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(s, p, m)"
                " ON c.service_id = k.s AND c.programme = k.p AND c.period = k.m",
                *_columns(wanted),
            )
        }
        # Written only when new or changed: an upsert locks every row it meets, even unchanged.
        stale = [
            k
            for k in wanted
            if (k[0], k[1]) in configured
            and (k not in found or found[k]["capacity"] != configured[(k[0], k[1])])
        ]
        if stale:
            for r in await conn.fetch(
                "INSERT INTO capacity (service_id, programme, period, capacity)"
                " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])"
                " ON CONFLICT (service_id, programme, period) DO UPDATE SET capacity = EXCLUDED.capacity"
                " RETURNING service_id, programme, period, capacity, reserved",
                *_columns(stale),
                [configured[(k[0], k[1])] for k in stale],
            ):
                found[_key(r)] = r
        for k in wanted:
            row = found.get(k)  # a service the directory never listed has no row and no room
            self._free[k] = max(0, row["capacity"] - row["reserved"]) if row is not None else 0

    def try_reserve(self, key: Key) -> bool:
        """Take one place, if the row had one left when loaded (checked again at commit)."""
        if self._free.get(key, 0) <= 0:
            return False
        self._free[key] -= 1
        self._delta[key] += 1
        self._uow.on_flush(self._flush)
        return True

    def release(self, key: Key) -> None:
        """Give a place back (a declined or expired placement, a cancelled referral).

        The row must be loaded first, so the freed place is counted for the rest of the batch.
        """
        if key not in self._free:
            raise RuntimeError(f"capacity {key} released without being loaded")
        self._free[key] += 1
        self._delta[key] -= 1
        self._uow.on_flush(self._flush)

    async def _flush(self, conn: asyncpg.Connection) -> None:
        changed = sorted((k, d) for k, d in self._delta.items() if d)
        self._delta.clear()
        if not changed:
            return
        # Locked in key order (two instances never deadlock) and re-read as locked; a row whose
        # room another instance has taken since `load` is left as it is.
        applied = await conn.fetch(
            "WITH locked AS ("
            " SELECT c.service_id, c.programme, c.period, c.capacity, c.reserved, d.delta"
            " FROM capacity c JOIN unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS d(s, p, m, delta)"
            " ON c.service_id = d.s AND c.programme = d.p AND c.period = d.m"
            " ORDER BY c.service_id, c.programme, c.period FOR UPDATE OF c)"
            " UPDATE capacity c SET reserved = greatest(0, l.reserved + l.delta) FROM locked l"
            " WHERE c.service_id = l.service_id AND c.programme = l.programme AND c.period = l.period"
            " AND (l.delta < 0 OR l.reserved + l.delta <= l.capacity)"
            " RETURNING c.service_id, c.programme, c.period",
            *_columns([k for k, _ in changed]),
            [d for _, d in changed],
        )
        done = {_key(r) for r in applied}
        short = [k for k, d in changed if d > 0 and k not in done]
        if short:
            raise CapacityTaken(short)


def _columns(keys: Sequence[Key]) -> tuple[list[str], list[str], list[str]]:
    """Keys as the three arrays the statements unnest."""
    return [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]


def _key(row: asyncpg.Record) -> Key:
    return row["service_id"], row["programme"], row["period"]


class CapacityTaken(ConcurrentChange):
    """Another instance took places this batch counted on; the batch is applied again."""

    def __init__(self, keys: list[Key]) -> None:
        super().__init__(
            f"capacity taken meanwhile by another instance: {', '.join('/'.join(k) for k in keys)}"
        )
        self.keys = keys
