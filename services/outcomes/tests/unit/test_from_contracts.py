"""Episode events built from the contracts outcomes consumes, and the bands they use."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from outcomes.domain.demographics import age_band, ethnic_group
from outcomes.domain.episode import Episode, apply
from outcomes.domain.from_contracts import activity_recorded, episode_opened
from referral_schemas.enums import (
    AgeBand,
    EthnicGroup,
    ProviderResponseType,
    Sex,
    Timepoint,
)
from referral_schemas.examples import example

EPISODE = "ep_9c1d7e3a5b2f4c8d"


def test_an_episode_opens_from_the_triage_decision_and_the_provider_it_reached():
    triaged = example("referral.triaged").data
    opening = episode_opened(uuid.uuid4(), EPISODE, triaged, "active-charnwood")
    p = opening.profile
    assert p.referral_date == date(2026, 3, 2)
    assert (p.programme, p.provider_id) == (triaged.programme, "active-charnwood")
    assert p.district is triaged.district
    assert (p.imd_decile, p.deprivation_source) == (2, triaged.priority.deprivation_source)
    assert p.core20 is True
    assert (p.age_band, p.sex, p.ethnic_group) == (AgeBand.AGE_50_64, Sex.FEMALE, EthnicGroup.ASIAN)
    assert p.condition_group is triaged.condition_group
    assert p.plus_groups == frozenset(triaged.priority.plus_groups)
    assert p.prioritised is triaged.priority.prioritised
    assert isinstance(apply(None, opening), Episode)


def test_provider_activity_carries_its_measures_into_the_episode():
    activity = example("provider.activity").data
    event = activity_recorded(uuid.uuid4(), EPISODE, activity)
    assert event.activity is ProviderResponseType.MEASURES_RECORDED
    assert event.occurred_on == date(2026, 3, 10)
    assert event.provider_id == activity.provider_id
    assert event.measures is not None
    assert event.measures.timepoint is Timepoint.BASELINE


@pytest.mark.parametrize(
    ("age", "band"),
    [(16, AgeBand.AGE_16_17), (17, AgeBand.AGE_16_17), (18, AgeBand.AGE_18_34), (34, AgeBand.AGE_18_34),
     (35, AgeBand.AGE_35_49), (64, AgeBand.AGE_50_64), (65, AgeBand.AGE_65_74), (74, AgeBand.AGE_65_74),
     (75, AgeBand.AGE_75_PLUS), (130, AgeBand.AGE_75_PLUS)],
)  # fmt: skip
def test_ages_fall_in_their_bands_at_the_boundaries(age, band):
    assert age_band(age) is band


def test_an_age_below_every_band_is_an_error():
    with pytest.raises(ValueError, match="starts at 16"):
        age_band(15)


@pytest.mark.parametrize(
    ("code", "group"),
    [("A", EthnicGroup.WHITE), ("C", EthnicGroup.WHITE), ("D", EthnicGroup.MIXED), ("G", EthnicGroup.MIXED),
     ("H", EthnicGroup.ASIAN), ("L", EthnicGroup.ASIAN), ("M", EthnicGroup.BLACK), ("P", EthnicGroup.BLACK),
     ("R", EthnicGroup.OTHER), ("S", EthnicGroup.OTHER), ("Z", EthnicGroup.NOT_STATED),
     ("99", EthnicGroup.NOT_STATED), (None, EthnicGroup.NOT_STATED), ("h", EthnicGroup.ASIAN)],
)  # fmt: skip
def test_nhs_ethnic_categories_group_as_the_census_groups_them(code, group):
    assert ethnic_group(code) is group
