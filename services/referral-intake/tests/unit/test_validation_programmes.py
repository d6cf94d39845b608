"""The per-programme table intake checks referrals against: complete, versioned, and self-checking."""

from __future__ import annotations

from datetime import date

import pytest
from referral_intake.domain.programmes import (
    PROGRAMME_RULES,
    RULES_VERSION,
    ProgrammeRequirements,
    ProgrammeRules,
    missing_safety,
)
from referral_schemas.enums import Programme
from referral_schemas.events.common import SafetyAsSubmitted

P = Programme


def test_every_programme_has_requirements_under_the_stamped_version():
    assert set(PROGRAMME_RULES.requirements) == set(Programme)
    assert PROGRAMME_RULES.version == RULES_VERSION


@pytest.mark.parametrize(
    ("programme", "youngest", "oldest"),
    [
        (P.EXERCISE_REFERRAL, 16, None),
        (P.CARDIOPULMONARY_REHAB, 18, None),
        (P.ESCAPE_PAIN, 45, None),
        (P.STEADY_STEPS, 65, None),
        (P.FIT4SURGERY, 18, None),
        (P.PRE_POST_NATAL, 16, 55),
        (P.DISCHARGE_TO_ASSESS, 18, None),
    ],
)
def test_each_programme_admits_exactly_its_age_range(programme, youngest, oldest):
    rules = PROGRAMME_RULES[programme]
    assert not rules.admits_age(youngest - 1)
    assert rules.admits_age(youngest)
    assert rules.admits_age(oldest if oldest is not None else 120)
    if oldest is not None:
        assert not rules.admits_age(oldest + 1)


@pytest.mark.parametrize(
    ("programme", "expected"),
    [
        (P.EXERCISE_REFERRAL, {"safety.bp_missing"}),
        (P.CARDIOPULMONARY_REHAB, {"safety.bp_missing", "safety.cardiac_history_missing"}),
        (P.ESCAPE_PAIN, set()),
        (P.STEADY_STEPS, set()),
        (P.FIT4SURGERY, {"safety.surgery_date_missing"}),
        (P.PRE_POST_NATAL, {"safety.pregnancy_status_missing"}),
        (P.DISCHARGE_TO_ASSESS, {"safety.discharge_date_missing"}),
    ],
)
def test_with_no_safety_facts_each_programme_names_what_it_needs(programme, expected):
    assert {fact.code for fact in missing_safety(programme, SafetyAsSubmitted())} == expected


@pytest.mark.parametrize(
    ("programme", "facts"),
    [
        (P.EXERCISE_REFERRAL, {"resting_bp_systolic": 130, "resting_bp_diastolic": 80}),
        (
            P.CARDIOPULMONARY_REHAB,
            {
                "resting_bp_systolic": 130,
                "resting_bp_diastolic": 80,
                "recent_cardiac_event_date": date(2026, 1, 5),
            },
        ),
        (
            P.CARDIOPULMONARY_REHAB,
            {
                "resting_bp_systolic": 130,
                "resting_bp_diastolic": 80,
                "unstable_angina": False,
                "uncontrolled_arrhythmia": False,
            },
        ),
        (P.FIT4SURGERY, {"surgery_date": date(2026, 5, 1)}),
        (P.PRE_POST_NATAL, {"pregnant": True}),
        (P.PRE_POST_NATAL, {"postnatal": True}),
        (P.DISCHARGE_TO_ASSESS, {"discharge_date": date(2026, 2, 27)}),
    ],
)
def test_the_facts_a_programme_needs_satisfy_it(programme, facts):
    assert missing_safety(programme, SafetyAsSubmitted(**facts)) == []


def test_pregnancy_status_answered_no_twice_does_not_satisfy_pre_and_post_natal():
    facts = SafetyAsSubmitted(pregnant=False, postnatal=False)
    assert [f.code for f in missing_safety(P.PRE_POST_NATAL, facts)] == ["safety.pregnancy_status_missing"]


@pytest.mark.parametrize(("youngest", "oldest"), [(-1, None), (50, 40), (18, 131), (131, None)])
def test_a_row_with_an_impossible_age_range_is_refused(youngest, oldest):
    with pytest.raises(ValueError, match="age range"):
        ProgrammeRequirements(youngest, oldest)


def test_a_table_that_leaves_out_a_programme_is_refused():
    partial = {p: r for p, r in PROGRAMME_RULES.requirements.items() if p is not P.STEADY_STEPS}
    with pytest.raises(ValueError, match="steady_steps"):
        ProgrammeRules(version="x", requirements=partial)


def test_the_table_cannot_be_changed_at_run_time():
    with pytest.raises(TypeError):
        PROGRAMME_RULES.requirements[P.STEADY_STEPS] = ProgrammeRequirements(50)  # type: ignore[index]
