"""The KPI tallies kept in Postgres as the facts change (see migrations/0002-kpi-tallies.sql).

A batch's changes are summed in Python first (`TallyDeltas`), then applied with one upsert per
table, in key order: concurrent batches add to the same rows (every batch touches its months'
"all" tallies), so they take the row locks in one order and never deadlock, and since the
changes are additive they commute. A tally whose episodes reach 0 is deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import asyncpg

from outcomes.domain.facts import TallyDeltas

_KEY: Final = "dimension, dimension_value, month, kpi"
_KEYS: Final = "$1::text[], $2::text[], $3::text[], $4::text[]"

_TALLY_UPSERT: Final = (
    f"INSERT INTO kpi_tallies AS t ({_KEY}, numerator, denominator, episodes)"  # noqa: S608
    f" SELECT * FROM unnest({_KEYS}, $5::bigint[], $6::bigint[], $7::bigint[])"
    f" ON CONFLICT ({_KEY}) DO UPDATE SET numerator = t.numerator + EXCLUDED.numerator,"
    " denominator = t.denominator + EXCLUDED.denominator, episodes = t.episodes + EXCLUDED.episodes"
)
_TALLY_PRUNE: Final = (
    f"DELETE FROM kpi_tallies WHERE ({_KEY}) IN (SELECT * FROM unnest({_KEYS})) AND episodes = 0"  # noqa: S608
)
_COUNT_UPSERT: Final = (
    f"INSERT INTO kpi_value_counts AS c ({_KEY}, value, count)"  # noqa: S608
    f" SELECT * FROM unnest({_KEYS}, $5::int[], $6::bigint[])"
    f" ON CONFLICT ({_KEY}, value) DO UPDATE SET count = c.count + EXCLUDED.count"
)
_COUNT_PRUNE: Final = (
    f"DELETE FROM kpi_value_counts WHERE ({_KEY}, value) IN"  # noqa: S608
    f" (SELECT * FROM unnest({_KEYS}, $5::int[])) AND count = 0"
)


async def apply_deltas(conn: asyncpg.Connection, deltas: TallyDeltas) -> None:
    """Add a batch's changes to the stored tallies (in the caller's transaction)."""
    tallies = deltas.changed_tallies()
    if tallies:
        await conn.execute(_TALLY_UPSERT, *_columns([(*k, *t) for k, t in tallies], 7))
        emptied = [k for k, t in tallies if t[2] < 0]
        if emptied:
            await conn.execute(_TALLY_PRUNE, *_columns(emptied, 4))
    counts = deltas.changed_value_counts()
    if counts:
        await conn.execute(_COUNT_UPSERT, *_columns([(*k, c) for k, c in counts], 6))
        emptied_counts = [k for k, c in counts if c < 0]
        if emptied_counts:
            await conn.execute(_COUNT_PRUNE, *_columns(emptied_counts, 5))


def _columns(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    return [[r[i] for r in rows] for i in range(width)]
