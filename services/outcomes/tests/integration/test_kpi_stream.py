"""outcome.kpi.v1: changed months' cells go out once, de-identified and suppressed below 5."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from outcomes.service_layer.kpi_stream import publish_changed
from referral_schemas.enums import Suppression

from .conftest import activity, delivered, triaged

pytestmark = pytest.mark.infra


async def publish(outcomes):
    async with outcomes.service.uow() as uow:
        done = await publish_changed(uow)
        await uow.commit()
    return done


async def placed(outcomes, n: int, month: int, enrolled: int, district: str = "melton"):
    for i in range(n):
        rid = uuid.uuid4()
        await outcomes.deliver(
            triaged(rid, referred_at=f"2026-{month:02d}-02T09:00:00Z", district=district), delivered(rid)
        )
        if i < enrolled:
            await outcomes.deliver(activity(rid, "enrolled", date(2026, month, 5), sessions_offered=10))


async def test_cells_of_changed_months_are_published_once_and_again_only_when_they_change(outcomes):
    await placed(outcomes, 12, month=3, enrolled=7)
    first = await publish(outcomes)
    assert first.months == 1 and first.cells > 0
    assert (await publish(outcomes)).months == 0

    events = [e for _, e in await outcomes.outbox("outcome.kpi")]
    uptake = next(e.data for e in events if e.data.kpi == "uptake" and e.data.dimension == "all")
    assert (uptake.period, uptake.numerator, uptake.denominator) == ("2026-03", 7, 12)

    await placed(outcomes, 1, month=3, enrolled=0)
    again = await publish(outcomes)
    assert 0 < again.cells < first.cells + 1
    latest = [e.data for _, e in await outcomes.outbox("outcome.kpi")][len(events) :]
    uptake = next(d for d in latest if d.kpi == "uptake" and d.dimension == "all")
    assert (uptake.numerator, uptake.denominator) == (7, 13)


async def test_published_cells_carry_no_identifiers_and_no_numbers_below_five(outcomes):
    await placed(outcomes, 9, month=4, enrolled=6, district="melton")
    await placed(outcomes, 3, month=4, enrolled=1, district="rutland")
    await publish(outcomes)
    published = await outcomes.outbox("outcome.kpi")
    assert published
    for key, event in published:
        assert event.referral_id is None and event.causation_id is None
        assert key == f"{event.data.kpi}:2026-04:{event.data.dimension}:{event.data.dimension_value}"
    uptake = {
        e.data.dimension_value: e.data
        for _, e in published
        if e.data.kpi == "uptake" and e.data.dimension == "district"
    }
    # Rutland rests on 3 people: suppressed; Melton could then be worked out from the total: too.
    assert uptake["rutland"].suppression is Suppression.PRIMARY
    assert uptake["melton"].suppression is Suppression.SECONDARY
    assert all(c.numerator is None and c.value is None for c in uptake.values())
