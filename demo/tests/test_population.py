"""The demo's synthetic population: valid referrals from every source, reaching every programme's
conditions, with the few mistakes intake must catch."""

from __future__ import annotations

from collections import Counter
from datetime import date

from llr_geo import lookup_postcode
from referral_schemas.enums import SourceType
from referrals_demo.population import CONDITIONS, TEST_PATIENTS, nhs_test_number, referrals

TODAY = date(2026, 12, 3)


def test_the_same_seed_gives_the_same_referrals():
    first = [e.data for e in referrals(50, today=TODAY)]
    again = [e.data for e in referrals(50, today=TODAY)]
    assert first == again


def test_referrals_come_from_every_source_and_every_condition():
    population = [e.data for e in referrals(2000, today=TODAY)]
    assert {r.source_type for r in population} == set(SourceType)
    assert {r.reasons[0].code for r in population} == {c.code for c in CONDITIONS}
    discharges = [r for r in population if r.source_type is SourceType.HOSPITAL_DISCHARGE]
    assert discharges and all(r.safety.discharge_date is not None for r in discharges)


def test_patients_live_at_real_llr_postcodes_except_the_deliberate_mistakes():
    population = [e.data for e in referrals(2000, today=TODAY)]
    outside = [r for r in population if (lookup_postcode(r.patient.postcode) or None) is None
               or lookup_postcode(r.patient.postcode).district is None]  # fmt: skip
    assert {r.patient.postcode for r in outside} == {"SW1A 1AA"}
    assert 0.005 < len(outside) / len(population) < 0.03


def test_most_nhs_numbers_pass_the_check_and_a_few_do_not():
    population = [e.data for e in referrals(2000, today=TODAY)]
    valid = Counter(r.patient.nhs_number == nhs_test_number(i) for i, r in enumerate(population))
    assert 0.005 < valid[False] / len(population) < 0.03


def test_test_numbers_are_distinct_and_pass_modulus_11():
    # The first and the last few thousand of the range a population (of any size) draws from.
    ns = [*range(5000), *range(TEST_PATIENTS - 5000, TEST_PATIENTS)]
    numbers = [nhs_test_number(n) for n in ns]
    assert len(set(numbers)) == len(ns)
    assert all(number.startswith("999") for number in numbers)
    for number in numbers:
        total = sum(int(d) * w for d, w in zip(number[:9], range(10, 1, -1), strict=True))
        assert (11 - total % 11) % 11 == int(number[9])


def test_referrals_can_come_from_chosen_kinds_of_referrer_only():
    population = [e.data for e in referrals(300, today=TODAY, sources={SourceType.SOCIAL_PRESCRIBER})]
    assert {r.source_type for r in population} == {SourceType.SOCIAL_PRESCRIBER}


def test_choosing_every_kind_of_referrer_gives_the_usual_population():
    chosen = [e.data for e in referrals(50, today=TODAY, sources=set(SourceType))]
    assert chosen == [e.data for e in referrals(50, today=TODAY)]
