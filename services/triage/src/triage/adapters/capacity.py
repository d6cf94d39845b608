"""Provider capacity in PostgreSQL, reserved atomically per batch without holding locks while
the batch is decided.

`load` brings the rows a batch may touch up to date with the directory and reads their free
places, without locking them; reservations are counted in memory against those figures and
settled just before commit by one statement that locks the rows in key order, re-reads them and
applies a batch's reservations only where the room is still there. So two instances do not queue
for each other's row locks while each decides a whole batch (they did when the rows were locked
as they were read).

Where another instance took the places meanwhile, the reservations that no longer fit are moved
at commit: each belongs to a `Holder` (a referral being placed) that names its options, best
first; the ledger locks those options too and gives the holder the first with room, or none, and
the holder restates what it will publish. Only a reservation without a holder, or an option
another transaction holds locked at that moment, makes the whole batch roll back
(`CapacityTaken`) and be applied again, which costs the batch's work twice: in a benchmark whose
capacities fill up, a third of all the work, when every lost race did that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol

import asyncpg
from servicekit.db.uow import UnitOfWork, backref
from servicekit.resilience import ConcurrentChange
from triage.directory.model import Directory

Key = tuple[str, str, str]  # service_id, programme, period (YYYY-MM)


class Holder(Protocol):
    """What a reservation is for, so that it can be moved at commit if its place was taken."""

    @property
    def options(self) -> Sequence[Key]:
        """The places it may take, best first."""
        ...

    @property
    def movable(self) -> bool:
        """False once something later in the batch changed what it placed (a cancellation)."""
        ...

    def moved(self, to: Key | None) -> None:
        """Its reservation now holds `to` instead (None: no option has room left)."""
        ...


# Locks the rows in key order (two instances never deadlock), reads them as locked, applies each
# delta where the room is still there, and reports every locked row with whether it applied.
SETTLE = """
WITH locked AS (
    SELECT c.service_id, c.programme, c.period, c.capacity, c.reserved, d.delta
    FROM capacity c JOIN unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS d(s, p, m, delta)
        ON c.service_id = d.s AND c.programme = d.p AND c.period = d.m
    ORDER BY c.service_id, c.programme, c.period FOR UPDATE OF c),
applied AS (
    UPDATE capacity c SET reserved = greatest(0, l.reserved + l.delta) FROM locked l
    WHERE c.service_id = l.service_id AND c.programme = l.programme AND c.period = l.period
        AND (l.delta < 0 OR l.reserved + l.delta <= l.capacity)
    RETURNING c.service_id, c.programme, c.period)
SELECT l.service_id, l.programme, l.period, l.capacity, l.reserved,
    a.service_id IS NOT NULL AS applied
FROM locked l LEFT JOIN applied a
    ON a.service_id = l.service_id AND a.programme = l.programme AND a.period = l.period
"""
# Options of moved reservations not locked yet: NOWAIT, because taking a lock out of key order
# while holding others could deadlock with an instance settling the other way round.
LOCK_MORE = """
SELECT c.service_id, c.programme, c.period, c.capacity, c.reserved
FROM capacity c JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(s, p, m)
    ON c.service_id = k.s AND c.programme = k.p AND c.period = k.m
ORDER BY c.service_id, c.programme, c.period FOR UPDATE OF c NOWAIT
"""
APPLY = """
UPDATE capacity c SET reserved = greatest(0, c.reserved + d.delta)
FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS d(s, p, m, delta)
WHERE c.service_id = d.s AND c.programme = d.p AND c.period = d.m
"""


class CapacityLedger:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = backref(uow)
        self._free: dict[Key, int] = {}
        self._delta: Counter[Key] = Counter()
        self._holders: dict[Key, list[Holder | None]] = {}  # each reservation, in order taken
        self._order: dict[int, int] = {}  # id(holder) -> when it first reserved, to move in order

    async def load(self, directory: Directory, keys: Iterable[Key]) -> None:
        """Read the free places of `keys` (not locked), first writing rows the directory has
        added or changed. Every directory service's rows for the same months come with them:
        a batch asks for a few keys at a time, and each small read was a round trip the instance
        waited for, about four a batch."""
        asked = set(keys) - self._free.keys()
        if not asked:
            return
        months = {k[2] for k in asked}
        everything = {
            (s.id, p.value, m) for s in directory.services for p in s.monthly_capacity for m in months
        }
        wanted = sorted((asked | everything) - self._free.keys())
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

    def try_reserve(self, key: Key, holder: Holder | None = None) -> bool:
        """Take one place, if the row had one left when loaded (checked again at commit, where a
        `holder`'s reservation is moved if the place was taken meanwhile)."""
        if self._free.get(key, 0) <= 0:
            return False
        self._free[key] -= 1
        self._delta[key] += 1
        self._holders.setdefault(key, []).append(holder)
        if holder is not None:
            self._order.setdefault(id(holder), len(self._order))
        return True

    def release(self, key: Key) -> None:
        """Give a place back (a declined or expired placement, a cancelled referral).

        The row must be loaded first, so the freed place is counted for the rest of the batch.
        """
        if key not in self._free:
            raise RuntimeError(f"capacity {key} released without being loaded")
        self._free[key] += 1
        self._delta[key] -= 1

    async def settle(self, conn: asyncpg.Connection) -> None:
        """Write the batch's reservations and releases, moving those whose places were taken."""
        changed = sorted((k, d) for k, d in self._delta.items() if d)
        if not changed:
            return
        rows = await conn.fetch(SETTLE, *_columns([k for k, _ in changed]), [d for _, d in changed])
        room: dict[Key, int] = {}
        short: list[asyncpg.Record] = []
        for r in rows:
            if r["applied"]:
                room[_key(r)] = r["capacity"] - max(0, r["reserved"] + self._delta[_key(r)])
            else:
                short.append(r)
        if short:
            await self._move(conn, short, room)
        self._delta.clear()
        self._holders.clear()
        self._order.clear()

    async def _move(
        self, conn: asyncpg.Connection, short: list[asyncpg.Record], room: dict[Key, int]
    ) -> None:
        keys = [_key(r) for r in short]
        fix: Counter[Key] = Counter()
        moving: list[Holder] = []
        for r, key in zip(short, keys, strict=True):
            over = r["reserved"] + self._delta[key] - r["capacity"]
            held = self._holders.get(key, [])
            last = held[len(held) - over :] if over <= len(held) else [None]
            if any(h is None or not h.movable for h in last):  # the batch again
                raise CapacityTaken(keys)
            moving.extend(h for h in last if h is not None)
            fix[key] = self._delta[key] - over
            room[key] = 0
        more = sorted({k for h in moving for k in h.options} - set(room))
        if more:
            try:
                locked = await conn.fetch(LOCK_MORE, *_columns(more))
            except asyncpg.exceptions.LockNotAvailableError:
                raise CapacityTaken(keys) from None
            room |= dict.fromkeys(more, 0) | {_key(r): r["capacity"] - r["reserved"] for r in locked}
        for holder in sorted(moving, key=lambda h: self._order[id(h)]):
            to = next((k for k in holder.options if room.get(k, 0) > 0), None)
            if to is not None:
                room[to] -= 1
                fix[to] += 1
            holder.moved(to)
        changes = [(k, d) for k, d in fix.items() if d]
        if changes:
            await conn.execute(APPLY, *_columns([k for k, _ in changes]), [d for _, d in changes])


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
