"""KPIs kept incrementally equal KPIs computed from scratch, whatever the order of changes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from outcomes.domain.accumulator import KpiAccumulator
from outcomes.domain.dimensions import DIMENSIONS
from outcomes.domain.episode import Episode, MeasureRecord, Milestones, Profile
from outcomes.domain.kpis import compute
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
    Timepoint,
)
from referral_schemas.events.provider import Measures

START = date(2026, 1, 1)


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    decile = draw(st.none() | st.integers(1, 10))
    source = (
        DeprivationSource.UNKNOWN
        if decile is None
        else draw(st.sampled_from([DeprivationSource.LSOA, DeprivationSource.POSTCODE_MSOA]))
    )
    return Profile(
        referral_date=draw(st.dates(START, date(2026, 3, 31))),
        programme=draw(st.sampled_from([Programme.EXERCISE_REFERRAL, Programme.DISCHARGE_TO_ASSESS])),
        provider_id=draw(st.sampled_from(["active-blaby", "active-rutland"])),
        district=draw(st.sampled_from([District.BLABY, District.MELTON, None])),
        imd_decile=decile,
        deprivation_source=source,
        age_band=draw(st.sampled_from([AgeBand.AGE_50_64, AgeBand.AGE_75_PLUS])),
        sex=draw(st.sampled_from([Sex.FEMALE, Sex.MALE])),
        ethnic_group=draw(st.sampled_from([EthnicGroup.WHITE, EthnicGroup.ASIAN])),
        condition_group=ConditionGroup.CARDIOVASCULAR,
        plus_groups=frozenset(
            draw(st.sets(st.sampled_from([PlusGroup.CARER, PlusGroup.SEVERE_MENTAL_ILLNESS])))
        ),
        prioritised=draw(st.booleans()),
    )


def measures(timepoint: Timepoint) -> st.SearchStrategy[Measures]:
    return st.builds(
        Measures,
        timepoint=st.just(timepoint),
        version=st.integers(1, 3),
        mvpa_minutes_per_week=st.none() | st.integers(0, 300),
        activity_index=st.none() | st.sampled_from(ActivityIndex),
        wellbeing_swemwbs=st.none() | st.integers(7, 35),
        d2a_outcome=st.none() | st.sampled_from(D2AOutcome),
        at_home_91_days=st.none() | st.booleans(),
    )


# Built once: strategies made afresh inside every draw make generation many times slower.
PROFILES = profiles()
MEASURES = {t: st.lists(measures(t), max_size=2, unique_by=lambda m: m.version) for t in Timepoint}


@st.composite
def episodes(draw: st.DrawFn) -> Episode:
    """An episode with a placeholder id."""
    profile = draw(PROFILES)
    day = profile.referral_date
    enrolled = draw(st.booleans())
    ended = draw(st.sampled_from(["completed", "dropped_out", None])) if enrolled else None
    milestones = Milestones(
        first_contact_on=draw(st.none() | st.dates(day, day + timedelta(days=20))),
        enrolled_on=day + timedelta(days=21) if enrolled else None,
        sessions_offered=draw(st.none() | st.integers(1, 12)) if enrolled else None,
        sessions_attended=draw(st.integers(0, 14)) if enrolled else 0,
        completed_on=day + timedelta(days=100) if ended == "completed" else None,
        dropped_out_on=day + timedelta(days=60) if ended == "dropped_out" else None,
    )
    history = [
        MeasureRecord(uuid.uuid4(), day, m)
        for timepoint in (Timepoint.BASELINE, Timepoint.WEEK_12, Timepoint.MONTH_6)
        for m in draw(MEASURES[timepoint])
    ]
    return Episode("ep_0000000000000000", profile, milestones, tuple(history))


EPISODES = episodes()
MAYBE_EPISODES = st.none() | EPISODES


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[tuple[str, Episode | None]], dict[str, Episode]]:
    """A run of changes (a new version of an episode, or its removal) and the episodes left."""
    ids = [f"ep_{n:016d}" for n in range(draw(st.integers(0, 25)))]
    changes: list[tuple[str, Episode | None]] = [(i, replace(draw(EPISODES), episode_id=i)) for i in ids]
    if ids:
        for _ in range(draw(st.integers(0, 15))):
            target = draw(st.sampled_from(ids))
            version = draw(MAYBE_EPISODES)
            changes.append((target, None if version is None else replace(version, episode_id=target)))
    held: dict[str, Episode] = {}
    for episode_id, version in changes:
        if version is None:
            held.pop(episode_id, None)
        else:
            held[episode_id] = version
    return changes, held


def months() -> list[str | None]:
    return [None, "2026-01", "2026-02", "2026-03"]


@settings(max_examples=100, deadline=None)
@given(histories())
def test_kpis_kept_incrementally_equal_kpis_computed_from_scratch(history):
    changes, held = history
    accumulator = KpiAccumulator()
    for episode_id, version in changes:
        if version is None:
            if episode_id in accumulator:
                # remove() takes out the version it counted: only the id of what it is given matters.
                accumulator.remove(Episode(episode_id, _PLACEHOLDER_PROFILE))
        else:
            accumulator.replace(version)
    assert len(accumulator) == len(held)
    for by in DIMENSIONS:
        for period in months():
            assert accumulator.cells(by=by, period=period) == compute(held.values(), by=by, period=period)


_PLACEHOLDER_PROFILE = Profile(
    referral_date=START,
    programme=Programme.STEADY_STEPS,
    provider_id="placeholder",
    district=None,
    imd_decile=None,
    deprivation_source=DeprivationSource.UNKNOWN,
    age_band=AgeBand.AGE_16_17,
    sex=Sex.UNKNOWN,
    ethnic_group=EthnicGroup.NOT_STATED,
    condition_group=ConditionGroup.OTHER,
)

# Breakdowns whose cells add up to the total (a patient is in several priority groups).
_PARTITIONS = [d for d in DIMENSIONS if d is not KpiDimension.PRIORITY_GROUP]


@settings(max_examples=100, deadline=None)
@given(histories())
def test_no_published_cell_holds_a_small_count_nor_leaves_one_withheld_cell_recoverable(history):
    _, held = history
    for period in months():
        totals = {c.kpi: c for c in compute(held.values(), by=KpiDimension.ALL, period=period)}
        for by in _PARTITIONS:
            cells = compute(held.values(), by=by, period=period)
            for c in cells:
                if not c.suppressed:
                    assert not any(
                        0 < n < 5 for n in (c.numerator, c.denominator, c.episodes) if n is not None
                    )
            if by is KpiDimension.ALL:
                continue
            for kpi in KpiName:
                withheld = [c for c in cells if c.kpi is kpi and c.suppressed]
                if kpi in totals and not totals[kpi].suppressed:
                    assert len(withheld) != 1, (by, kpi, withheld)


def test_removing_an_episode_not_counted_is_an_error():
    with pytest.raises(ValueError, match="not counted"):
        KpiAccumulator().remove(Episode("ep_0000000000000001", _PLACEHOLDER_PROFILE))


def test_adding_an_episode_twice_is_an_error():
    episode = Episode("ep_0000000000000001", _PLACEHOLDER_PROFILE)
    accumulator = KpiAccumulator([episode])
    with pytest.raises(ValueError, match="already counted"):
        accumulator.add(episode)


def test_removal_takes_out_the_version_that_was_counted():
    counted = Episode("ep_0000000000000001", _PLACEHOLDER_PROFILE, Milestones(enrolled_on=START))
    accumulator = KpiAccumulator([counted])
    accumulator.remove(Episode("ep_0000000000000001", _PLACEHOLDER_PROFILE))
    assert accumulator.cells(by=KpiDimension.ALL) == []
    assert len(accumulator) == 0
