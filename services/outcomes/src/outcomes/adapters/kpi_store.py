"""KPI tallies summed by Postgres over the episodes' facts, one breakdown at a time.

Each breakdown value gets, per KPI, the sums of the numerators and denominators its episodes
contribute and how many contribute; a median KPI also gets how often each value occurs. These are
the tallies the incremental accumulator keeps, so the figures and disclosure control after them
are the domain's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import asyncpg
from referral_schemas.enums import KpiDimension, KpiName

from outcomes.adapters.episodes import contribution_columns
from outcomes.domain.accumulator import Tally
from outcomes.domain.dimensions import ALL_VALUE, MONTH, NO_PRIORITY_GROUP, UNKNOWN, Dimension
from outcomes.domain.kpis import KPIS, Aggregate

# The SQL giving each episode's value of a dimension, as `dimension_values` gives it.
_VALUE: Final[Mapping[Dimension, str]] = {
    KpiDimension.ALL: f"'{ALL_VALUE}'",
    KpiDimension.PROGRAMME: "programme",
    KpiDimension.PROVIDER: "provider_id",
    KpiDimension.DISTRICT: f"coalesce(district, '{UNKNOWN}')",
    KpiDimension.IMD_QUINTILE: f"coalesce(imd_quintile::text, '{UNKNOWN}')",
    KpiDimension.CORE20: (
        f"CASE WHEN imd_quintile IS NULL THEN '{UNKNOWN}' WHEN imd_quintile = 1 THEN 'core20' ELSE 'rest' END"
    ),
    KpiDimension.ETHNICITY: "ethnic_group",
    KpiDimension.AGE_BAND: "age_band",
    KpiDimension.SEX: "sex",
    MONTH: "month",
}
# A patient in several PLUS groups counts in each: one row per group, or one "none" row.
_PRIORITY_GROUPS: Final = (
    f" CROSS JOIN LATERAL unnest(CASE WHEN cardinality(plus_groups) = 0"
    f" THEN ARRAY['{NO_PRIORITY_GROUP}'] ELSE plus_groups END) AS pg(value)"
)
_MEDIANS: Final = [kpi for kpi in KPIS if kpi.aggregate is Aggregate.MEDIAN]
_SUMS: Final = ", ".join(
    f"sum({n})::bigint, sum({d})::bigint, count({d})"
    for n, d in (contribution_columns(kpi.name) for kpi in KPIS)
)

Filters = Mapping[Dimension, str]


@dataclass
class Breakdown:
    """Per KPI: the tally of each breakdown value, and of all the episodes selected."""

    by_value: dict[KpiName, dict[str, Tally]] = field(default_factory=dict)
    total: dict[KpiName, Tally] = field(default_factory=dict)


async def breakdown(conn: asyncpg.Connection, by: Dimension, filters: Filters) -> Breakdown:
    """The tallies of every KPI broken down `by`, over the episodes matching every filter."""
    where, args = _where(filters)
    overlapping = by is KpiDimension.PRIORITY_GROUP
    value_sql = "pg.value" if overlapping else _VALUE[by]
    source = f"kpi_facts{_PRIORITY_GROUPS}" if overlapping else "kpi_facts"
    # One plain GROUP BY per question (Postgres can run it in parallel); the total is the sum of
    # the cells, except where cells overlap and it must be counted over the episodes themselves.
    rows = await conn.fetch(
        f"SELECT {value_sql}, {_SUMS} FROM {source}{where} GROUP BY 1",  # noqa: S608
        *args,
    )
    if overlapping:
        rows = [*rows, *await conn.fetch(f"SELECT NULL, {_SUMS} FROM kpi_facts{where}", *args)]  # noqa: S608
    result = Breakdown()
    for row in rows:
        value = row[0]
        for position, kpi in enumerate(KPIS):
            n, d, count = row[1 + 3 * position : 4 + 3 * position]
            if not count:
                continue
            tally = Tally(numerator=n, denominator=d, episodes=count)
            if value is not None:
                result.by_value.setdefault(kpi.name, {})[value] = tally
            if value is None or not overlapping:
                total = result.total.setdefault(kpi.name, Tally())
                total.numerator += n
                total.denominator += d
                total.episodes += count
    for kpi in _MEDIANS:
        await _add_value_counts(conn, kpi.name, value_sql, source, where, args, result, overlapping)
    return result


async def _add_value_counts(
    conn: asyncpg.Connection,
    kpi: KpiName,
    value_sql: str,
    source: str,
    where: str,
    args: list[object],
    result: Breakdown,
    overlapping: bool,
) -> None:
    n, d = contribution_columns(kpi)
    present = f"{d} IS NOT NULL"
    where = f"{where} AND {present}" if where else f" WHERE {present}"
    rows = await conn.fetch(
        f"SELECT {value_sql}, {n}, count(*) FROM {source}{where} GROUP BY 1, 2",  # noqa: S608
        *args,
    )
    for value, number, count in rows:
        result.by_value[kpi][value].values[number] += count
        if not overlapping:
            result.total[kpi].values[number] += count
    if overlapping:
        for number, count in await conn.fetch(
            f"SELECT {n}, count(*) FROM kpi_facts{where} GROUP BY 1",  # noqa: S608
            *args,
        ):
            result.total[kpi].values[number] += count


def _where(filters: Filters) -> tuple[str, list[object]]:
    clauses: list[str] = []
    args: list[object] = []
    for dimension, wanted in filters.items():
        args.append(wanted)
        slot = f"${len(args)}"
        if dimension is KpiDimension.PRIORITY_GROUP:
            none = f"({slot} = '{NO_PRIORITY_GROUP}' AND cardinality(plus_groups) = 0)"
            clauses.append(f"({slot} = ANY(plus_groups) OR {none})")
        else:
            clauses.append(f"{_VALUE[dimension]} = {slot}")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args
