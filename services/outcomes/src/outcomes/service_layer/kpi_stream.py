"""outcome.kpi.v1: the KPI cells of every month whose episodes changed, as commissioners see them.

A month is marked when one of its episodes changes. Each pass takes the marked months (several
instances share the work: a month is taken by one), recomputes their cells for every dimension
and publishes the cells that differ from what was last published, through the outbox, in the
same transaction that records them as published. The topic is compacted by cell, so its latest
value per key is the current figure.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from referral_schemas import new_envelope, topic_for
from referral_schemas.enums import KpiDimension
from referral_schemas.events.outcome import OutcomeKpi
from referral_schemas.registry import OutcomeKpiV1
from servicekit.resilience import is_transient

from outcomes.adapters.unit_of_work import OutcomesUnitOfWork
from outcomes.domain.kpis import KpiCell
from outcomes.service_layer.reporting import kpi_cells

log = logging.getLogger(__name__)
PRODUCER = "outcomes"
MONTHS_PER_PASS = 6


@dataclass(frozen=True)
class Pass:
    months: int
    cells: int


async def publish_changed(uow: OutcomesUnitOfWork) -> Pass:
    """Publish the changed cells of up to MONTHS_PER_PASS marked months."""
    conn = uow.connection
    months = [
        r["month"]
        for r in await conn.fetch(
            "DELETE FROM kpi_dirty WHERE month IN"
            " (SELECT month FROM kpi_dirty ORDER BY month FOR UPDATE SKIP LOCKED LIMIT $1)"
            " RETURNING month",
            MONTHS_PER_PASS,
        )
    ]
    sent = 0
    for month in sorted(months):
        cells = [c for by in KpiDimension for c in await kpi_cells(conn, by=by, period=month)]
        published = {
            (r["kpi"], r["dimension"], r["dimension_value"]): r["published"]
            for r in await conn.fetch(
                "SELECT kpi, dimension, dimension_value, published::text FROM kpi_published"
                " WHERE period = $1",
                month,
            )
        }
        changed = []
        for cell in cells:
            data = _contract(cell, month)
            doc = data.model_dump(mode="json")
            key = (data.kpi.value, data.dimension.value, data.dimension_value)
            if key in published and json.loads(published[key]) == doc:
                continue
            changed.append((key, doc))
            event = new_envelope(OutcomeKpiV1, data, producer=PRODUCER, referral_id=None)
            uow.publish(
                event,
                topic=topic_for("outcome.kpi"),
                key=f"{data.kpi.value}:{month}:{data.dimension.value}:{data.dimension_value}",
                aggregate_type="kpi",
            )
        if changed:
            await conn.execute(
                "INSERT INTO kpi_published (kpi, period, dimension, dimension_value, published)"
                " SELECT k, $1, d, v, p::jsonb FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])"
                " AS u(k, d, v, p)"
                " ON CONFLICT (kpi, period, dimension, dimension_value) DO UPDATE"
                " SET published = EXCLUDED.published",
                month,
                [k[0] for k, _ in changed],
                [k[1] for k, _ in changed],
                [k[2] for k, _ in changed],
                [json.dumps(doc) for _, doc in changed],
            )
        sent += len(changed)
    return Pass(len(months), sent)


def _contract(cell: KpiCell, month: str) -> OutcomeKpi:
    assert cell.dimension != "month"
    return OutcomeKpi(
        kpi=cell.kpi,
        period=month,
        dimension=KpiDimension(cell.dimension),
        dimension_value=cell.dimension_value,
        numerator=cell.numerator,
        denominator=cell.denominator,
        value=cell.value,
        suppressed=cell.suppressed,
        suppression=cell.suppression,
    )


async def keep_publishing(uow_factory: Callable[[], OutcomesUnitOfWork], interval_s: float) -> None:
    while True:
        try:
            async with uow_factory() as uow:
                done = await publish_changed(uow)
                await uow.commit()
            if done.months:
                log.info("published %d changed KPI cells of %d months", done.cells, done.months)
                continue  # more months may be waiting
        except Exception as exc:
            if not is_transient(exc):
                log.exception("publishing KPI cells failed; trying again next pass")
            else:
                log.warning("publishing KPI cells waits for the database: %r", exc)
        await asyncio.sleep(interval_s)
