"""KPI cells for the API, the dashboard and the outcome.kpi stream, read from the database."""

from __future__ import annotations

import asyncpg

from outcomes.adapters.kpi_store import Filters, breakdown
from outcomes.domain.accumulator import cells_from_tallies
from outcomes.domain.dimensions import MONTH, Dimension
from outcomes.domain.kpis import KpiCell, check_period


async def kpi_cells(
    conn: asyncpg.Connection, *, by: Dimension, period: str | None = None, filters: Filters | None = None
) -> list[KpiCell]:
    """Every KPI broken down `by` over the episodes referred in `period` that match `filters`,
    with disclosure control applied. Raises ValueError for a malformed period."""
    check_period(period)
    selected = dict(filters or {})
    if period is not None:
        selected[MONTH] = period
    tallies = await breakdown(conn, by, selected)
    return cells_from_tallies(by, period, tallies.by_value, tallies.total)
