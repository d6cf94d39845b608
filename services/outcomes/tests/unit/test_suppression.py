"""Disclosure control: small counts withheld, and nothing withheld recoverable from the total."""

from __future__ import annotations

from datetime import date

import pytest
from outcomes.domain.episode import Episode, Milestones, Profile
from outcomes.domain.kpis import compute
from outcomes.domain.suppression import Counts, is_small, suppress
from referral_schemas.enums import (
    AgeBand,
    ConditionGroup,
    DeprivationSource,
    District,
    EthnicGroup,
    KpiDimension,
    KpiName,
    Programme,
    Sex,
    Suppression,
)

NONE, PRIMARY, SECONDARY = Suppression.NONE, Suppression.PRIMARY, Suppression.SECONDARY


def people(numerator: int, denominator: int) -> Counts:
    return Counts(numerator, denominator, denominator)


@pytest.mark.parametrize(
    ("counts", "small"),
    [
        (people(0, 0), False),
        (people(0, 5), False),
        (people(1, 5), True),
        (people(4, 20), True),
        (people(5, 5), False),
        (people(5, 4), True),
        (Counts(None, 4, 4), True),
        (Counts(None, 5, 5), False),
        (Counts(40, 48, 4), True),  # sessions: 4 people behind 48 sessions
    ],
)
def test_a_count_from_1_to_4_is_small_and_zero_is_not(counts, small):
    assert is_small(counts) is small


def test_without_a_published_total_only_small_cells_are_withheld():
    assert suppress([people(2, 10), people(6, 10), people(8, 20)], total=None) == [PRIMARY, NONE, NONE]


def test_a_lone_withheld_cell_takes_the_next_smallest_with_it_when_the_total_is_published():
    # Total 16 of 40; 6 + 8 published would give away the 2.
    cells = [people(2, 10), people(8, 20), people(6, 10)]
    verdicts = suppress(cells, total=people(16, 40))
    assert verdicts == [PRIMARY, NONE, SECONDARY]


def test_ties_on_size_take_the_first_cell():
    verdicts = suppress([people(6, 10), people(3, 10), people(7, 10)], total=people(16, 30))
    assert verdicts == [SECONDARY, PRIMARY, NONE]


def test_two_withheld_cells_need_nothing_more():
    cells = [people(2, 10), people(3, 10), people(8, 20)]
    assert suppress(cells, total=people(13, 40)) == [PRIMARY, PRIMARY, NONE]


def test_a_withheld_total_protects_a_lone_withheld_cell():
    assert suppress([people(0, 3), people(0, 0)], total=people(0, 3)) == [PRIMARY, NONE]


def test_nothing_withheld_means_nothing_more_withheld():
    assert suppress([people(5, 10), people(6, 10)], total=people(11, 20)) == [NONE, NONE]


def referred(n: int, district: District, *, enrolled: bool) -> Episode:
    profile = Profile(
        referral_date=date(2026, 3, 2),
        programme=Programme.EXERCISE_REFERRAL,
        provider_id="active-blaby",
        district=district,
        imd_decile=5,
        deprivation_source=DeprivationSource.LSOA,
        age_band=AgeBand.AGE_35_49,
        sex=Sex.MALE,
        ethnic_group=EthnicGroup.WHITE,
        condition_group=ConditionGroup.METABOLIC,
    )
    milestones = Milestones(enrolled_on=date(2026, 3, 20) if enrolled else None)
    return Episode(f"ep_{n:016d}", profile, milestones)


def district(first: int, where: District, referrals: int, enrolments: int) -> list[Episode]:
    return [referred(first + i, where, enrolled=i < enrolments) for i in range(referrals)]


def test_the_total_minus_the_published_cells_never_reveals_a_withheld_one():
    population = (
        district(0, District.BLABY, 10, 2)
        + district(100, District.MELTON, 10, 6)
        + district(200, District.CHARNWOOD, 20, 12)
    )
    (total,) = [c for c in compute(population, by=KpiDimension.ALL) if c.kpi is KpiName.UPTAKE]
    assert (total.numerator, total.denominator, total.suppressed) == (20, 40, False)
    uptake = {
        c.dimension_value: c for c in compute(population, by=KpiDimension.DISTRICT) if c.kpi is KpiName.UPTAKE
    }
    # Blaby's 2 is withheld; with Melton published, 20 - 6 - 12 would give it back, so Melton
    # (the smaller of the others) goes too, and only the sum 8 can be worked out.
    assert uptake["blaby"].suppression is PRIMARY
    assert uptake["melton"].suppression is SECONDARY
    assert (uptake["melton"].numerator, uptake["melton"].denominator, uptake["melton"].value) == (
        None,
        None,
        None,
    )
    assert (uptake["charnwood"].numerator, uptake["charnwood"].denominator) == (12, 20)
