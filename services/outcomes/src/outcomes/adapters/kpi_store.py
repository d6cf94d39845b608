"""KPI tallies summed by Postgres, one breakdown at a time.

Each breakdown value gets, per KPI, the sums of the numerators and denominators its episodes
contribute and how many contribute; a median KPI also gets how often each value occurs. These are
the tallies the incremental accumulator keeps, so the figures and disclosure control after them
are the domain's own.

A breakdown with no filter but the period (what the dashboard, the outcome.kpi stream and most API
calls ask), or by month or "all" with one filter, sums the tallies kept per month (kpi_tallies,
see kpi_tallies.py): a few hundred rows. Any other filtered breakdown scans the facts.
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
    period = filters.get(MONTH)
    others = [(d, v) for d, v in filters.items() if d != MONTH]
    if not others:
        return await tallied_breakdown(conn, by, period)
    if len(others) == 1 and by in (KpiDimension.ALL, MONTH):
        # A tally of (dimension, value) per month holds exactly the episodes the filter selects.
        return await tallied_breakdown(conn, by, period, others[0])
    return await facts_breakdown(conn, by, filters)


_TALLY_SUMS: Final = "sum(numerator)::bigint, sum(denominator)::bigint, sum(episodes)::bigint"


async def tallied_breakdown(
    conn: asyncpg.Connection, by: Dimension, period: str | None, only: tuple[Dimension, str] | None = None
) -> Breakdown:
    """The breakdown `by` of the episodes referred in `period` (all when None), from the tallies;
    `only` (a dimension and its value) selects the episodes of one cell, when `by` is month or all."""
    args: list[object] = []
    if only is not None:
        if by not in (KpiDimension.ALL, MONTH):
            raise ValueError(f"the tallies break one cell's episodes down by month or all, not {by}")
        args += [str(only[0]), only[1]]
        conditions = ["dimension = $1 AND dimension_value = $2"]
        cell = "month" if by == MONTH else f"'{ALL_VALUE}'"
    elif by == MONTH:
        conditions, cell = [f"dimension = '{ALL_VALUE}'"], "month"
    elif by is KpiDimension.ALL:
        conditions, cell = [f"dimension = '{ALL_VALUE}'"], "dimension_value"
    else:
        # The cells, and the total from the "all" tallies (cells of priority groups overlap);
        # a null cell is the total.
        args.append(str(by))
        conditions = [f"dimension IN ($1, '{ALL_VALUE}')"]
        cell = "CASE WHEN dimension = $1 THEN dimension_value END"
    if period is not None:
        args.append(period)
        conditions.append(f"month = ${len(args)}")
    where = " AND ".join(conditions)
    # One statement, so the sums and the value counts come from one snapshot.
    rows = await conn.fetch(
        f"SELECT {cell}, kpi, NULL::integer, {_TALLY_SUMS} FROM kpi_tallies"  # noqa: S608
        f" WHERE {where} GROUP BY 1, 2"
        f" UNION ALL SELECT {cell}, kpi, value, NULL, NULL, sum(count)::bigint FROM kpi_value_counts"
        f" WHERE {where} GROUP BY 1, 2, 3",
        *args,
    )
    # Cells never overlap but for priority groups, whose total comes from its own rows.
    total_is_sum = by == MONTH or by is KpiDimension.ALL or only is not None
    result = Breakdown()
    for value, kpi_name, number, n, d, episodes in rows:
        if not episodes:
            continue
        kpi = KpiName(kpi_name)
        targets = []
        if value is not None:
            targets.append(result.by_value.setdefault(kpi, {}).setdefault(value, Tally()))
        if value is None or total_is_sum:
            targets.append(result.total.setdefault(kpi, Tally()))
        for tally in targets:
            if number is None:
                tally.numerator += n
                tally.denominator += d
                tally.episodes += episodes
            else:
                tally.values[number] += episodes
    return result


async def facts_breakdown(conn: asyncpg.Connection, by: Dimension, filters: Filters) -> Breakdown:
    """`breakdown` summed over the facts themselves, for any filters."""
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
