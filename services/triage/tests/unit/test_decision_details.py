"""What a decision says beyond its outcome: reasons, priority detail and the contact deadline."""

from __future__ import annotations

from referral_schemas.enums import (
    ClinicalArea,
    ConditionGroup,
    DeprivationSource,
    PlusGroup,
    Programme,
    RiskLevel,
    TriageDecision,
)
from referral_schemas.examples import example

HTN, T2D, COPD, MI, SCHIZOPHRENIA, ECZEMA = (
    "38341003",
    "44054006",
    "13645005",
    "22298006",
    "58214004",
    "43116000",
)


def test_the_contract_example_is_decided_as_the_example_shows(triage) -> None:
    accepted = example("referral.accepted").data
    shown = example("referral.triaged").data
    result = triage(accepted, 2)
    got = result.triaged
    assert (got.decision, got.programme, got.risk) == (shown.decision, shown.programme, shown.risk)
    assert got.priority == shown.priority
    assert got.condition_group is shown.condition_group
    assert [r.code for r in got.reasons] == [r.code for r in shown.reasons]
    assert result.contact_deadline_working_days == 5


def test_the_contact_deadline_is_shorter_for_prioritised_referrals(triage, referral, rules) -> None:
    standard = triage(referral([T2D]), 6)
    prioritised = triage(referral([T2D]), 1)
    assert standard.contact_deadline_working_days == rules.contact_deadline_working_days.standard == 10
    assert prioritised.contact_deadline_working_days == rules.contact_deadline_working_days.prioritised == 5


def test_signposted_and_returned_referrals_also_carry_their_deadline(triage, referral) -> None:
    assert triage(referral([ECZEMA]), 1).contact_deadline_working_days == 5
    assert triage(referral([T2D], bp=(190, 90)), 9).contact_deadline_working_days == 10


def test_deprivation_is_looked_up_by_the_residence_postcode_and_lsoa(triage, referral) -> None:
    class Recording:
        def __init__(self) -> None:
            self.asked: list[tuple[str | None, str | None]] = []

        def deprivation_for(
            self, postcode: str | None, lsoa: str | None
        ) -> tuple[int | None, DeprivationSource]:
            self.asked.append((postcode, lsoa))
            return 4, DeprivationSource.POSTCODE_MSOA

    lookup = Recording()
    accepted = referral([T2D])
    priority = triage(accepted, lookup=lookup).triaged.priority
    assert lookup.asked == [(accepted.residence.postcode, accepted.residence.lsoa)]
    assert (priority.imd_decile, priority.deprivation_source) == (4, DeprivationSource.POSTCODE_MSOA)


def test_a_lookup_breaking_its_contract_leaves_deprivation_unknown(triage, referral) -> None:
    class Broken:
        def __init__(self, decile: int | None, source: DeprivationSource) -> None:
            self.answer = (decile, source)

        def deprivation_for(
            self, postcode: str | None, lsoa: str | None
        ) -> tuple[int | None, DeprivationSource]:
            return self.answer

    for answer in [(11, DeprivationSource.LSOA), (0, DeprivationSource.LSOA), (1, DeprivationSource.UNKNOWN)]:
        priority = triage(referral([T2D]), lookup=Broken(*answer)).triaged.priority
        assert (priority.core20, priority.imd_decile) == (False, None)
        assert priority.deprivation_source is DeprivationSource.UNKNOWN


def test_priority_lists_every_group_and_area_in_contract_order(triage, referral) -> None:
    accepted = referral(
        [SCHIZOPHRENIA, COPD, HTN],
        60,
        ethnicity="K",
        flags={"carer": True, "learning_disability_autism": True, "severe_mental_illness": True},
    )
    priority = triage(accepted, 1).triaged.priority
    assert priority.core20 is True
    assert priority.plus_groups == list(PlusGroup)
    assert priority.clinical_areas == [ClinicalArea.HYPERTENSION, ClinicalArea.COPD, ClinicalArea.SMI]


def test_the_severe_mental_illness_flag_alone_gives_the_smi_area(triage, referral) -> None:
    priority = triage(referral([T2D], flags={"severe_mental_illness": True})).triaged.priority
    assert priority.plus_groups == [PlusGroup.SEVERE_MENTAL_ILLNESS]
    assert priority.clinical_areas == [ClinicalArea.SMI]


def test_pregnancy_gives_the_maternity_area_even_when_signposted(triage, referral) -> None:
    result = triage(referral([], 15, pregnant=True)).triaged
    assert result.decision is TriageDecision.SIGNPOST
    assert result.priority.clinical_areas == [ClinicalArea.MATERNITY]


def test_every_contraindication_present_is_given_and_no_programme_named(triage, referral) -> None:
    accepted = referral(
        [MI], 62, bp=(185, 110), unstable_angina=True, uncontrolled_arrhythmia=True, cardiac_event_days_ago=2
    )
    result = triage(accepted).triaged
    assert result.decision is TriageDecision.RETURN_TO_REFERRER
    assert (result.programme, result.risk, result.signpost_to) == (None, None, [])
    assert [r.code for r in result.reasons] == [
        "contraindication.blood_pressure",
        "contraindication.unstable_angina",
        "contraindication.uncontrolled_arrhythmia",
        "contraindication.recent_cardiac_event",
    ]


def test_a_high_diastolic_alone_is_named_as_the_field_at_fault(triage, referral) -> None:
    (reason,) = triage(referral([T2D], bp=(120, 104))).triaged.reasons
    assert (reason.code, reason.field) == (
        "contraindication.blood_pressure",
        "data.safety.resting_bp_diastolic",
    )


def test_reasons_never_echo_the_patients_readings(triage, referral) -> None:
    result = triage(referral([HTN], bp=(187, 93))).triaged
    assert all("187" not in r.message and "93" not in r.message for r in result.reasons)


def test_an_assignment_says_which_programme_and_what_set_its_risk(triage, referral) -> None:
    result = triage(referral([HTN], bp=(165, 80))).triaged
    assert [(r.code, r.field) for r in result.reasons] == [
        ("programme.exercise_referral", None),
        ("risk.high", "data.safety.resting_bp_systolic"),
    ]


def test_a_low_risk_assignment_says_no_criterion_applies(triage, referral) -> None:
    result = triage(referral([T2D])).triaged
    assert result.risk is RiskLevel.LOW
    assert result.reasons[-1].code == "risk.low"


def test_a_request_the_patient_is_not_eligible_for_is_explained(triage, referral) -> None:
    result = triage(referral([T2D], 50, requested=Programme.STEADY_STEPS)).triaged
    assert result.programme is Programme.EXERCISE_REFERRAL
    assert result.reasons[0].code == "programme.request_not_eligible"
    assert result.reasons[0].field == "data.requested_programme"


def test_a_signpost_offers_every_universal_offer_in_the_rules(triage, referral, rules) -> None:
    result = triage(referral([ECZEMA])).triaged
    assert result.signpost_to == rules.signpost_to
    assert [r.code for r in result.reasons] == ["programme.none_fits"]


def test_the_condition_group_follows_the_rule_that_placed_the_referral(triage, referral) -> None:
    # Hypertension is listed first in the rules, so it leads for a referral with both.
    assert triage(referral([T2D, HTN])).triaged.condition_group is ConditionGroup.CARDIOVASCULAR
    assert triage(referral([T2D, COPD])).triaged.condition_group is ConditionGroup.RESPIRATORY


def test_a_decision_copies_what_outcome_reporting_needs(triage, referral, rules) -> None:
    accepted = referral([T2D], ethnicity="M")
    result = triage(accepted).triaged
    assert result.patient_key == accepted.patient_key
    assert result.referred_at == accepted.referred_at
    assert result.demographics == accepted.demographics
    assert result.district is accepted.residence.district
    assert result.rule_version == "2026.11.1" == rules.version
