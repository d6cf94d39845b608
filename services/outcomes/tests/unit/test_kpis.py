"""KPI values on small hand-built populations, checked against numbers worked out by hand."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from outcomes.domain.dimensions import MONTH
from outcomes.domain.episode import Episode, MeasureRecord, Milestones, Profile
from outcomes.domain.kpis import KPIS, KpiCell, compute
from referral_schemas.enums import (
    ActivityIndex,
    AgeBand,
    ConditionGroup,
    D2AOutcome,
    DeprivationSource,
    District,
    EthnicGroup,
    KpiDimension,
    KpiName,
    PlusGroup,
    Programme,
    Sex,
    Suppression,
    Timepoint,
)
from referral_schemas.enums import ActivityIndex as A
from referral_schemas.events.outcome import OutcomeKpi
from referral_schemas.events.provider import Measures

REFERRED = date(2026, 3, 2)


def profile(**overrides: Any) -> Profile:
    fields: dict[str, Any] = {
        "referral_date": REFERRED,
        "programme": Programme.EXERCISE_REFERRAL,
        "provider_id": "active-blaby",
        "district": District.BLABY,
        "imd_decile": 5,
        "deprivation_source": DeprivationSource.LSOA,
        "age_band": AgeBand.AGE_50_64,
        "sex": Sex.FEMALE,
        "ethnic_group": EthnicGroup.WHITE,
        "condition_group": ConditionGroup.CARDIOVASCULAR,
    }
    return Profile(**(fields | overrides))


def record(timepoint: Timepoint, on: date, version: int = 1, **values: Any) -> MeasureRecord:
    return MeasureRecord(uuid.uuid4(), on, Measures(timepoint=timepoint, version=version, **values))


def episode(
    n: int,
    *,
    contact: int | None = None,
    enrolled: bool = False,
    offered: int | None = None,
    attended: int = 0,
    ended: str | None = None,
    baseline: tuple[ActivityIndex, int, int] | None = None,
    week_12: tuple[ActivityIndex, int, int] | None = None,
    records: tuple[MeasureRecord, ...] = (),
    **profile_fields: Any,
) -> Episode:
    p = profile(**profile_fields)
    history = list(records)
    for timepoint, taken, days in ((Timepoint.BASELINE, baseline, 7), (Timepoint.WEEK_12, week_12, 91)):
        if taken is not None:
            index, minutes, score = taken
            history.append(
                record(
                    timepoint,
                    p.referral_date + timedelta(days=days),
                    activity_index=index,
                    mvpa_minutes_per_week=minutes,
                    wellbeing_swemwbs=score,
                )
            )
    end = p.referral_date + timedelta(days=100)
    milestones = Milestones(
        first_contact_on=None if contact is None else p.referral_date + timedelta(days=contact),
        enrolled_on=p.referral_date + timedelta(days=20) if enrolled else None,
        sessions_offered=offered,
        sessions_attended=attended,
        completed_on=end if ended == "completed" else None,
        dropped_out_on=end if ended == "dropped_out" else None,
    )
    return Episode(f"ep_{n:016d}", p, milestones, tuple(history))


def cohort(first: int, **profile_fields: Any) -> list[Episode]:
    """Ten exercise-referral episodes whose KPIs are worked out by hand in the tests below."""
    on = {"enrolled": True, **profile_fields}
    return [
        episode(first, contact=2, offered=12, attended=12, ended="completed",
                baseline=(A.INACTIVE, 0, 20), week_12=(A.ACTIVE, 150, 26), **on),
        episode(first + 1, contact=3, offered=12, attended=9, ended="completed",
                baseline=(A.INACTIVE, 30, 18), week_12=(A.MODERATELY_ACTIVE, 120, 22), **on),
        episode(first + 2, contact=5, offered=12, attended=8, ended="completed",
                baseline=(A.INACTIVE, 10, 25), week_12=(A.MODERATELY_INACTIVE, 60, 24), **on),
        episode(first + 3, contact=7, offered=12, attended=3, ended="dropped_out",
                baseline=(A.INACTIVE, 0, 15), week_12=(A.INACTIVE, 0, 15), **on),
        episode(first + 4, contact=10, offered=12, attended=6, ended="dropped_out",
                baseline=(A.MODERATELY_INACTIVE, 40, 21), week_12=(A.ACTIVE, 200, 30), **on),
        episode(first + 5, contact=4, offered=12, attended=5,
                baseline=(A.INACTIVE, 20, 22), **on),
        episode(first + 6, contact=1, offered=10, attended=10, ended="completed",
                baseline=(A.INACTIVE, 60, 30), week_12=(A.MODERATELY_ACTIVE, 90, 28), **on),
        episode(first + 7, contact=14, **profile_fields),
        episode(first + 8, **profile_fields),
        episode(first + 9, **profile_fields),
    ]  # fmt: skip


# Two identical cohorts, so that every count of the whole population is 5 or more.
POPULATION = cohort(0, district=District.BLABY) + cohort(100, district=District.MELTON)


def cell(cells: list[KpiCell], kpi: KpiName, value: str = "all") -> KpiCell:
    (found,) = [c for c in cells if c.kpi is kpi and c.dimension_value == value]
    return found


def figures(c: KpiCell) -> tuple[int | None, int | None, float | None]:
    return c.numerator, c.denominator, c.value


def test_every_kpi_of_the_contract_is_defined_once_with_its_numerator_and_denominator():
    assert [k.name for k in KPIS] == list(KpiName)
    assert all(k.numerator and k.denominator and k.description for k in KPIS)


def test_uptake_is_enrolled_over_referred():
    # 7 of each cohort's 10 enrolled.
    assert figures(cell(compute(POPULATION, by=KpiDimension.ALL), KpiName.UPTAKE)) == (14, 20, 0.7)


def test_time_to_first_contact_is_the_median_of_days_over_those_contacted():
    # Days 1, 2, 3, 4 | 5, 7, 10, 14 twice over: the middle two are 4 and 5.
    c = cell(compute(POPULATION, by=KpiDimension.ALL), KpiName.TIME_TO_FIRST_CONTACT_DAYS)
    assert figures(c) == (None, 16, 4.5)


def test_adherence_is_sessions_attended_over_offered_in_episodes_that_ended():
    # Ended: 12+9+8+3+6+10 = 48 attended of 12*5+10 = 70 offered, per cohort; the one still
    # running (5 of 12 so far) is left out.
    c = cell(compute(POPULATION, by=KpiDimension.ALL), KpiName.ADHERENCE)
    assert figures(c) == (96, 140, pytest.approx(48 / 70))
    assert c.episodes == 12


def test_adherence_75_counts_those_attending_three_quarters_or_more():
    # 12/12, 9/12 (exactly 75%) and 10/10 qualify; 8/12, 3/12 and 6/12 do not.
    c = cell(compute(POPULATION, by=KpiDimension.ALL), KpiName.ADHERENCE_75)
    assert figures(c) == (6, 12, 0.5)


def test_completion_is_completed_over_enrolled():
    c = cell(compute(POPULATION, by=KpiDimension.ALL), KpiName.COMPLETION)
    assert figures(c) == (8, 14, pytest.approx(4 / 7))


def test_inactive_to_active_counts_only_those_inactive_at_baseline_with_a_12_week_index():
    # Inactive at baseline with a 12-week index: 5 per cohort (the running one has no 12 weeks,
    # the moderately inactive one is not inactive); active or moderately active at 12 weeks: 3.
    c = cell(compute(POPULATION, by=KpiDimension.ALL), KpiName.INACTIVE_TO_ACTIVE_12W)
    assert figures(c) == (6, 10, 0.6)


def test_activity_minutes_change_is_the_mean_of_12_week_minus_baseline():
    # +150, +90, +50, 0, +160, +30 = 480 over 6.
    c = cell(compute(POPULATION, by=KpiDimension.ALL), KpiName.ACTIVITY_MINUTES_CHANGE)
    assert figures(c) == (None, 12, 80.0)


def test_wellbeing_change_is_the_mean_swemwbs_change():
    # +6, +4, -1, 0, +9, -2 = 16 over 6.
    c = cell(compute(POPULATION, by=KpiDimension.ALL), KpiName.WELLBEING_CHANGE)
    assert figures(c) == (None, 12, pytest.approx(16 / 6))


def test_the_latest_correction_of_a_measure_is_the_one_counted():
    corrected = episode(
        999,
        baseline=(A.INACTIVE, 0, 20),
        records=(record(Timepoint.WEEK_12, date(2026, 6, 1), version=2, mvpa_minutes_per_week=300),),
    )
    stale = record(Timepoint.WEEK_12, date(2026, 6, 1), version=1, mvpa_minutes_per_week=10)
    corrected = Episode(corrected.episode_id, corrected.profile, corrected.milestones,
                        (stale, *corrected.measure_history))  # fmt: skip
    population = [*POPULATION, corrected]
    c = cell(compute(population, by=KpiDimension.ALL), KpiName.ACTIVITY_MINUTES_CHANGE)
    assert figures(c) == (None, 13, (960 + 300) / 13)


def d2a(n: int, *outcomes: tuple[Timepoint, int, D2AOutcome | None, bool | None]) -> Episode:
    base = record(Timepoint.BASELINE, REFERRED)
    later = tuple(
        record(t, REFERRED + timedelta(days=91), version=v, d2a_outcome=o, at_home_91_days=h)
        for t, v, o, h in outcomes
    )
    return episode(n, records=(base, *later), programme=Programme.DISCHARGE_TO_ASSESS,
                   condition_group=ConditionGroup.POST_DISCHARGE)  # fmt: skip


def test_d2a_kpis_count_the_latest_outcome_of_discharge_to_assess_episodes_only():
    w12, m6 = Timepoint.WEEK_12, Timepoint.MONTH_6
    independent, reduced, ongoing = D2AOutcome.INDEPENDENT, D2AOutcome.REDUCED_CARE, D2AOutcome.ONGOING_CARE
    population = [
        *(d2a(i, (w12, 1, independent, True)) for i in range(5)),
        # Reduced care at 12 weeks, independent by 6 months: independent.
        d2a(5, (w12, 1, reduced, True), (m6, 1, independent, None)),
        # Corrected from reduced care to independent.
        d2a(6, (w12, 1, reduced, True), (w12, 2, independent, True)),
        d2a(7, (w12, 1, reduced, False)),
        d2a(8, (w12, 1, reduced, True)),
        d2a(9, (w12, 1, ongoing, False)),
        # No outcome yet: in neither denominator.
        d2a(10),
        # Independent but not recorded at home: in the first denominator only.
        d2a(11, (w12, 1, independent, None)),
        # Not Discharge to Assess: an outcome recorded there is ignored.
        episode(12, records=(record(w12, REFERRED, d2a_outcome=ongoing, at_home_91_days=False),)),
    ]
    cells = compute(population, by=KpiDimension.ALL)
    assert figures(cell(cells, KpiName.D2A_INDEPENDENT)) == (8, 11, pytest.approx(8 / 11))
    assert figures(cell(cells, KpiName.D2A_AT_HOME_91)) == (8, 10, 0.8)


def test_a_breakdown_gives_one_cell_per_value_with_that_values_figures():
    cells = compute(POPULATION, by=KpiDimension.DISTRICT)
    assert figures(cell(cells, KpiName.UPTAKE, "blaby")) == (7, 10, 0.7)
    assert figures(cell(cells, KpiName.UPTAKE, "melton")) == (7, 10, 0.7)
    assert {c.dimension for c in cells} == {KpiDimension.DISTRICT}


def test_small_counts_in_a_breakdown_are_suppressed_and_carry_no_numbers():
    # Each district completes 4 of 7: a count below 5.
    cells = compute(POPULATION, by=KpiDimension.DISTRICT)
    for district in ("blaby", "melton"):
        c = cell(cells, KpiName.COMPLETION, district)
        assert c.suppressed
        assert c.suppression is Suppression.PRIMARY
        assert figures(c) == (None, None, None)
        assert c.episodes is None


def test_a_cell_is_suppressed_when_few_people_stand_behind_many_sessions():
    # 4 ended episodes with 48 sessions offered: the counts are large, the people are few.
    few = [episode(i, enrolled=True, offered=12, attended=10, ended="completed") for i in range(4)]
    c = cell(compute(few, by=KpiDimension.ALL), KpiName.ADHERENCE)
    assert c.suppression is Suppression.PRIMARY


def test_a_period_selects_the_episodes_referred_in_that_month():
    april = [episode(200 + i, enrolled=i < 3, referral_date=date(2026, 4, 10)) for i in range(6)]
    population = POPULATION + april
    assert figures(cell(compute(population, by=KpiDimension.ALL, period="2026-04"), KpiName.UPTAKE)) == (
        None,
        None,
        None,
    )  # 3 of 6: suppressed
    assert figures(cell(compute(population, by=KpiDimension.ALL, period="2026-03"), KpiName.UPTAKE)) == (
        14,
        20,
        0.7,
    )
    by_month = compute(population, by=MONTH)
    assert [c.dimension_value for c in by_month if c.kpi is KpiName.UPTAKE] == ["2026-03", "2026-04"]
    assert all(c.period == "2026-03" for c in compute(population, by=KpiDimension.ALL, period="2026-03"))


@pytest.mark.parametrize("period", ["2026-13", "2026-3", "March", ""])
def test_a_period_that_is_not_a_month_is_an_error(period):
    with pytest.raises(ValueError, match="YYYY-MM"):
        compute(POPULATION, by=KpiDimension.ALL, period=period)


def test_cells_with_nothing_in_their_denominator_are_left_out():
    never_enrolled = [episode(i) for i in range(6)]
    kpis = {c.kpi for c in compute(never_enrolled, by=KpiDimension.ALL)}
    assert kpis == {KpiName.UPTAKE}


@pytest.mark.parametrize(
    ("by", "fields", "expected"),
    [
        (KpiDimension.PROGRAMME, {"programme": Programme.ESCAPE_PAIN}, "escape_pain"),
        (KpiDimension.PROVIDER, {"provider_id": "active-rutland"}, "active-rutland"),
        (KpiDimension.DISTRICT, {"district": None}, "unknown"),
        (KpiDimension.IMD_QUINTILE, {"imd_decile": 4}, "2"),
        (
            KpiDimension.IMD_QUINTILE,
            {"imd_decile": None, "deprivation_source": DeprivationSource.UNKNOWN},
            "unknown",
        ),
        (KpiDimension.CORE20, {"imd_decile": 2}, "core20"),
        (KpiDimension.CORE20, {"imd_decile": 3}, "rest"),
        (
            KpiDimension.CORE20,
            {"imd_decile": None, "deprivation_source": DeprivationSource.UNKNOWN},
            "unknown",
        ),
        (KpiDimension.ETHNICITY, {"ethnic_group": EthnicGroup.BLACK}, "black"),
        (KpiDimension.AGE_BAND, {"age_band": AgeBand.AGE_75_PLUS}, "75+"),
        (KpiDimension.SEX, {"sex": Sex.MALE}, "male"),
        (KpiDimension.PRIORITY_GROUP, {}, "none"),
        (MONTH, {"referral_date": date(2026, 11, 30)}, "2026-11"),
    ],
)
def test_each_dimension_puts_an_episode_in_the_cell_of_its_value(by, fields, expected):
    population = [episode(i, **fields) for i in range(5)]
    uptake = [c for c in compute(population, by=by) if c.kpi is KpiName.UPTAKE]
    assert [(c.dimension_value, c.denominator) for c in uptake] == [(expected, 5)]


def test_an_episode_in_two_priority_groups_counts_in_both():
    both = frozenset({PlusGroup.CARER, PlusGroup.SEVERE_MENTAL_ILLNESS})
    population = [episode(i, plus_groups=both) for i in range(5)] + [
        episode(10 + i, plus_groups=frozenset({PlusGroup.CARER})) for i in range(5)
    ]
    uptake = [c for c in compute(population, by=KpiDimension.PRIORITY_GROUP) if c.kpi is KpiName.UPTAKE]
    assert [(c.dimension_value, c.denominator) for c in uptake] == [
        ("carer", 10),
        ("severe_mental_illness", 5),
    ]


@pytest.mark.parametrize("by", [KpiDimension.ALL, KpiDimension.DISTRICT])
def test_every_cell_can_become_an_outcome_kpi_event(by):
    for c in compute(POPULATION, by=by, period="2026-03"):
        assert c.period is not None
        event = OutcomeKpi(
            kpi=c.kpi,
            period=c.period,
            dimension=KpiDimension(c.dimension),
            dimension_value=c.dimension_value,
            numerator=c.numerator,
            denominator=c.denominator,
            value=c.value,
            suppressed=c.suppressed,
            suppression=c.suppression,
        )
        assert event.suppressed == c.suppressed
