"""The KPI tallies kept as episodes change equal the tallies recomputed from the facts, and the
breakdowns read from them equal the same breakdowns summed over the facts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
from outcomes.adapters.episodes import EPISODE_JSON
from outcomes.adapters.kpi_store import breakdown, facts_breakdown, tallied_breakdown
from outcomes.domain.dimensions import DIMENSIONS, MONTH, NO_PRIORITY_GROUP
from outcomes.domain.kpis import compute
from outcomes.service_layer.recording import handle_activity
from outcomes.service_layer.reporting import kpi_cells
from referral_schemas.enums import KpiDimension, KpiName
from servicekit.resilience import ConcurrentChange

from .conftest import activity, delivered, triaged

pytestmark = pytest.mark.infra

CITY, RUTLAND = "leicester-city-leisure", "active-rutland"
PERIODS = (None, "2026-01", "2026-02", "2026-03")


async def assert_tallies_recomputed(outcomes) -> None:
    """The kept tallies are what the facts add up to now, with no emptied rows left behind."""
    key = "dimension, dimension_value, month, kpi"
    kept = await outcomes.rows(f"SELECT * FROM kpi_tallies ORDER BY {key}")
    scratch = await outcomes.rows(f"SELECT * FROM kpi_tallies_from_facts ORDER BY {key}")
    assert [tuple(r) for r in kept] == [tuple(r) for r in scratch]
    kept = await outcomes.rows(f"SELECT * FROM kpi_value_counts ORDER BY {key}, value")
    scratch = await outcomes.rows(f"SELECT * FROM kpi_value_counts_from_facts ORDER BY {key}, value")
    assert [tuple(r) for r in kept] == [tuple(r) for r in scratch]
    assert not await outcomes.rows("SELECT * FROM kpi_tallies WHERE episodes <= 0")
    assert not await outcomes.rows("SELECT * FROM kpi_value_counts WHERE count <= 0")


async def assert_cells_computed(outcomes) -> None:
    rows = await outcomes.rows("SELECT state FROM episodes WHERE state IS NOT NULL")
    episodes = [EPISODE_JSON.validate_json(r["state"]) for r in rows]
    async with outcomes.service.pool.acquire() as conn:
        for by in DIMENSIONS:
            for period in PERIODS:
                assert await kpi_cells(conn, by=by, period=period) == compute(
                    episodes, by=by, period=period
                ), (by, period)


async def tally(outcomes, dimension: str, value: str, kpi: str) -> tuple[int, int, int] | None:
    rows = await outcomes.rows(
        "SELECT sum(numerator)::bigint, sum(denominator)::bigint, sum(episodes)::bigint FROM kpi_tallies"
        " WHERE dimension = $1 AND dimension_value = $2 AND kpi = $3 HAVING count(*) > 0",
        dimension,
        value,
        kpi,
    )
    return tuple(rows[0]) if rows else None


async def test_the_tallies_of_a_population_equal_the_recomputation_from_its_facts(outcomes, population):
    await assert_tallies_recomputed(outcomes)
    assert await outcomes.rows("SELECT * FROM kpi_value_counts"), "no median KPI was tallied"


async def test_the_tallies_follow_episodes_as_they_change(outcomes):
    declined, runs, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    march = {"referred_at": "2026-03-02T09:00:00Z", "priority.plus_groups": ["carer", "ethnic_minority"]}
    await outcomes.deliver(
        triaged(declined, **march),
        delivered(declined, RUTLAND),
        triaged(runs, **march),
        delivered(runs, CITY),
        triaged(other, referred_at="2026-02-10T09:00:00Z", **{"priority.plus_groups": []}),
        delivered(other, CITY),
    )
    await assert_tallies_recomputed(outcomes)
    assert await tally(outcomes, "provider", RUTLAND, "uptake") == (0, 1, 1)
    assert await tally(outcomes, "priority_group", "carer", "uptake") == (0, 2, 2)
    assert await tally(outcomes, "priority_group", NO_PRIORITY_GROUP, "uptake") == (0, 1, 1)

    # Declined, and triage sends the referral on: the episode moves to the next provider's cells.
    await outcomes.deliver(activity(declined, "declined", date(2026, 3, 3), provider_id=RUTLAND))
    await outcomes.deliver(delivered(declined, CITY))
    assert (await outcomes.episode(declined)).profile.provider_id == CITY
    await assert_tallies_recomputed(outcomes)
    assert await tally(outcomes, "provider", RUTLAND, "uptake") is None  # emptied, so deleted
    assert await tally(outcomes, "provider", CITY, "uptake") == (0, 3, 3)

    # Milestones: contact (a median's value), enrolment (uptake, completion), the end (adherence).
    await outcomes.deliver(
        activity(runs, "accepted", date(2026, 3, 4)),
        activity(runs, "contacted", date(2026, 3, 6)),
        activity(declined, "accepted", date(2026, 3, 5)),
        activity(declined, "contacted", date(2026, 3, 9)),
    )
    await assert_tallies_recomputed(outcomes)
    counts = await outcomes.rows(
        "SELECT value, count FROM kpi_value_counts WHERE dimension = 'all' ORDER BY value"
    )
    assert [tuple(r) for r in counts] == [(4, 1), (7, 1)]
    await outcomes.deliver(activity(runs, "enrolled", date(2026, 3, 10), sessions_offered=4))
    await outcomes.deliver(*[activity(runs, "session_attended", date(2026, 3, 11 + i)) for i in range(3)])
    assert await tally(outcomes, "all", "all", "uptake") == (1, 3, 3)
    assert await tally(outcomes, "all", "all", "completion") == (0, 1, 1)
    assert await tally(outcomes, "all", "all", "adherence") is None  # not ended yet
    baseline = {"timepoint": "baseline", "mvpa_minutes_per_week": 30, "activity_index": "inactive"}
    week_12 = {"timepoint": "week_12", "mvpa_minutes_per_week": 90, "activity_index": "active"}
    await outcomes.deliver(
        activity(runs, "measures_recorded", date(2026, 3, 10), measures=baseline),
        activity(runs, "measures_recorded", date(2026, 6, 1), measures=week_12),
        activity(runs, "completed", date(2026, 6, 2), sessions_offered=4),
    )
    await assert_tallies_recomputed(outcomes)
    assert await tally(outcomes, "all", "all", "adherence") == (3, 4, 1)
    assert await tally(outcomes, "all", "all", "activity_minutes_change") == (60, 1, 1)
    assert await tally(outcomes, "all", "all", "inactive_to_active_12w") == (1, 1, 1)

    # Corrections of the measures: a higher version replaces what the KPIs counted.
    await outcomes.deliver(
        activity(
            runs,
            "measures_recorded",
            date(2026, 6, 3),
            measures=week_12 | {"version": 2, "mvpa_minutes_per_week": 20, "activity_index": "inactive"},
        ),
    )
    await assert_tallies_recomputed(outcomes)
    assert await tally(outcomes, "all", "all", "activity_minutes_change") == (-10, 1, 1)
    assert await tally(outcomes, "all", "all", "inactive_to_active_12w") == (0, 1, 1)
    await outcomes.deliver(
        activity(
            runs,
            "measures_recorded",
            date(2026, 6, 4),
            measures=baseline | {"version": 2, "mvpa_minutes_per_week": 10, "activity_index": "active"},
        ),
    )
    await assert_tallies_recomputed(outcomes)
    assert await tally(outcomes, "all", "all", "activity_minutes_change") == (10, 1, 1)
    assert await tally(outcomes, "all", "all", "inactive_to_active_12w") is None  # left the denominator
    await assert_cells_computed(outcomes)


async def test_steps_that_change_no_kpi_leave_the_facts_and_tallies_alone(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid))
    await outcomes.deliver(activity(rid, "enrolled", date(2026, 3, 10), sessions_offered=8))
    await outcomes.rows("DELETE FROM kpi_dirty")
    before = [tuple(r) for r in await outcomes.rows("SELECT * FROM kpi_tallies ORDER BY 1, 2, 3, 4")]
    await outcomes.deliver(activity(rid, "session_attended", date(2026, 3, 11)))
    assert (await outcomes.episode(rid)).milestones.sessions_attended == 1
    assert [tuple(r) for r in await outcomes.rows("SELECT * FROM kpi_tallies ORDER BY 1, 2, 3, 4")] == before
    assert await outcomes.rows("SELECT * FROM kpi_dirty") == []
    await assert_tallies_recomputed(outcomes)


async def test_breakdowns_from_the_tallies_equal_the_same_breakdowns_over_the_facts(outcomes, population):
    async with outcomes.service.pool.acquire() as conn:
        for by in DIMENSIONS:
            for period in PERIODS:
                selected = {} if period is None else {MONTH: period}
                assert await tallied_breakdown(conn, by, period) == await facts_breakdown(
                    conn, by, selected
                ), (by, period)


async def test_filtered_breakdowns_over_the_facts_agree_with_the_unfiltered_ones_from_the_tallies(
    outcomes, population
):
    async with outcomes.service.pool.acquire() as conn:
        for period in PERIODS:
            selected = {} if period is None else {MONTH: period}
            everyone = await breakdown(conn, KpiDimension.ALL, selected)
            for by in KpiDimension:
                if by is KpiDimension.ALL:
                    continue
                unfiltered = await breakdown(conn, by, selected)  # from the tallies
                values = {v for cells in unfiltered.by_value.values() for v in cells}
                for value in sorted(values):
                    one = selected | {by: value}
                    filtered = await facts_breakdown(conn, by, one)
                    for kpi in KpiName:
                        # Broken down by the dimension it is filtered on, a value's episodes fall
                        # in its own cell (and, for priority groups, in the others they are in).
                        cell = unfiltered.by_value.get(kpi, {}).get(value)
                        assert filtered.by_value.get(kpi, {}).get(value) == cell, (by, value, kpi)
                        assert filtered.total.get(kpi) == cell, (by, value, kpi)
                        if by is not KpiDimension.PRIORITY_GROUP and kpi in filtered.by_value:
                            assert set(filtered.by_value[kpi]) == {value}
                    # By month or all, one cell's episodes through the tallies and through the facts.
                    for over in (MONTH, KpiDimension.ALL):
                        assert await breakdown(conn, over, one) == await facts_breakdown(conn, over, one)
                # Cells that do not overlap add up to everyone.
                if by is not KpiDimension.PRIORITY_GROUP:
                    for kpi, tally in everyone.total.items():
                        cells = unfiltered.by_value[kpi].values()
                        assert sum(c.numerator for c in cells) == tally.numerator, (by, kpi)
                        assert sum(c.denominator for c in cells) == tally.denominator, (by, kpi)
                        assert sum(c.episodes for c in cells) == tally.episodes, (by, kpi)


async def assert_both_changes_counted_once(outcomes, rid: uuid.UUID) -> None:
    """The episode has both steps (contacted on 5 March, enrolled on the 9th), and the tallies and
    cells are what the facts add up to."""
    episode = await outcomes.episode(rid)
    assert episode is not None
    assert (episode.milestones.first_contact_on, episode.milestones.enrolled_on) == (
        date(2026, 3, 5),
        date(2026, 3, 9),
    )
    await assert_tallies_recomputed(outcomes)
    await assert_cells_computed(outcomes)


async def test_two_transactions_changing_an_episode_not_held_in_memory_take_turns_and_count_once(
    outcomes, other_process
):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid))
    contacted = activity(rid, "contacted", date(2026, 3, 5))
    enrolled = activity(rid, "enrolled", date(2026, 3, 9), sessions_offered=10)
    # The other instance has never met the episode: it locks it to read it.
    first = other_process.uow()
    await first.__aenter__()
    await handle_activity(contacted, first, outcomes.keys)  # holds the episode's lock

    async def second() -> None:
        async with other_process.uow() as uow:
            await handle_activity(enrolled, uow, outcomes.keys)  # waits for the lock
            await uow.commit()

    waiting = asyncio.create_task(second())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await first.commit()
    await first.__aexit__(None, None, None)
    await waiting
    await assert_both_changes_counted_once(outcomes, rid)


async def test_of_two_transactions_changing_an_episode_held_in_memory_the_later_is_refused_and_counts_once(
    outcomes,
):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid))  # now held in this process's memory
    contacted = activity(rid, "contacted", date(2026, 3, 5))
    enrolled = activity(rid, "enrolled", date(2026, 3, 9), sessions_offered=10)
    first = outcomes.service.uow()
    await first.__aenter__()
    try:
        await handle_activity(contacted, first, outcomes.keys)  # taken from memory, unlocked
        async with outcomes.service.uow() as uow:
            await handle_activity(enrolled, uow, outcomes.keys)
            await uow.commit()
        with pytest.raises(ConcurrentChange):
            await first.commit()
    finally:
        await first.__aexit__(None, None, None)
    # Applied again, as a consumer does after a conflict, on what is stored now.
    async with outcomes.service.uow() as uow:
        await handle_activity(contacted, uow, outcomes.keys)
        await uow.commit()

    await assert_both_changes_counted_once(outcomes, rid)
