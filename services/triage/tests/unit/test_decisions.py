"""Decisions over realistic referrals: programme or signpost or return, risk, priority, condition."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest
from referral_schemas.enums import ConditionGroup, Programme, RiskLevel, SourceType, TriageDecision

HTN, ESSENTIAL_HTN, T2D, OBESITY, PREDIABETES = "38341003", "59621000", "44054006", "414916001", "714628002"
DEPRESSION, ANXIETY, SCHIZOPHRENIA = "35489007", "197480006", "58214004"
MI, HEART_FAILURE, ANGINA, COPD, BRONCHIECTASIS, ASTHMA = (
    "22298006",
    "84114007",
    "194828000",
    "13645005",
    "12295008",
    "195967001",
)
KNEE_OA, HIP_OA, BACK_PAIN, FALL, FRAILTY = "239873007", "239872002", "279039007", "1912002", "248279007"
CANCER, BREAST_CA, COLON_CA, PREGNANCY = "363346000", "254837009", "363406005", "77386006"
ECZEMA = "43116000"  # a real condition no programme is for

ASSIGN, SIGNPOST, RETURN = TriageDecision.ASSIGN, TriageDecision.SIGNPOST, TriageDecision.RETURN_TO_REFERRER
LOW, MEDIUM, HIGH = RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH
P, G = Programme, ConditionGroup


class Case(NamedTuple):
    name: str
    referral: dict[str, Any]
    decision: TriageDecision
    programme: Programme | None
    risk: RiskLevel | None
    prioritised: bool
    condition: ConditionGroup
    decile: int | None = 6


def c(codes: list[str], age: int = 55, **changes: Any) -> dict[str, Any]:
    return {"codes": codes, "age": age, **changes}


CASES = [
    # Exercise Referral: stable long-term conditions
    Case("hypertension", c([HTN]), ASSIGN, P.EXERCISE_REFERRAL, LOW, True, G.CARDIOVASCULAR),
    Case(
        "essential hypertension", c([ESSENTIAL_HTN]), ASSIGN, P.EXERCISE_REFERRAL, LOW, True, G.CARDIOVASCULAR
    ),
    Case("type 2 diabetes", c([T2D]), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.METABOLIC),
    Case("obesity at 30", c([OBESITY], 30), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.METABOLIC),
    Case("prediabetes", c([PREDIABETES]), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.METABOLIC),
    Case("depression at 24", c([DEPRESSION], 24), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.MENTAL_HEALTH),
    Case("anxiety at 16", c([ANXIETY], 16), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.MENTAL_HEALTH),
    Case("anxiety at 15 is too young", c([ANXIETY], 15), SIGNPOST, None, None, False, G.MENTAL_HEALTH),
    Case(
        "schizophrenia is an SMI area",
        c([SCHIZOPHRENIA]),
        ASSIGN,
        P.EXERCISE_REFERRAL,
        LOW,
        True,
        G.MENTAL_HEALTH,
    ),
    Case("asthma at 40", c([ASTHMA], 40), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.RESPIRATORY),
    Case("back pain at 50", c([BACK_PAIN], 50), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.MUSCULOSKELETAL),
    Case(
        "knee OA at 35 falls back",
        c([KNEE_OA], 35),
        ASSIGN,
        P.EXERCISE_REFERRAL,
        LOW,
        False,
        G.MUSCULOSKELETAL,
    ),
    Case("fall at 60 falls back", c([FALL], 60), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.FALLS_FRAILTY),
    # risk
    Case("diabetes and obesity", c([T2D, OBESITY]), ASSIGN, P.EXERCISE_REFERRAL, MEDIUM, False, G.METABOLIC),
    Case("BP 145/85", c([HTN], bp=(145, 85)), ASSIGN, P.EXERCISE_REFERRAL, MEDIUM, True, G.CARDIOVASCULAR),
    Case("BP 135/92", c([T2D], bp=(135, 92)), ASSIGN, P.EXERCISE_REFERRAL, MEDIUM, False, G.METABOLIC),
    Case("BP 165/88", c([HTN], bp=(165, 88)), ASSIGN, P.EXERCISE_REFERRAL, HIGH, True, G.CARDIOVASCULAR),
    Case("BP 150/96", c([HTN], bp=(150, 96)), ASSIGN, P.EXERCISE_REFERRAL, HIGH, True, G.CARDIOVASCULAR),
    Case("BP 179/99", c([HTN], bp=(179, 99)), ASSIGN, P.EXERCISE_REFERRAL, HIGH, True, G.CARDIOVASCULAR),
    Case("diabetes at 78", c([T2D], 78), ASSIGN, P.EXERCISE_REFERRAL, MEDIUM, False, G.METABOLIC),
    Case("no BP recorded", c([T2D], bp=None), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.METABOLIC),
    # priority
    Case("Core20, decile 1", c([T2D]), ASSIGN, P.EXERCISE_REFERRAL, LOW, True, G.METABOLIC, 1),
    Case("Core20, decile 2", c([T2D]), ASSIGN, P.EXERCISE_REFERRAL, LOW, True, G.METABOLIC, 2),
    Case("decile 3", c([T2D]), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.METABOLIC, 3),
    Case("decile unknown", c([T2D]), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.METABOLIC, None),
    Case("Indian", c([T2D], ethnicity="H"), ASSIGN, P.EXERCISE_REFERRAL, LOW, True, G.METABOLIC),
    Case("African", c([T2D], ethnicity="N"), ASSIGN, P.EXERCISE_REFERRAL, LOW, True, G.METABOLIC),
    Case("White and Asian", c([T2D], ethnicity="F"), ASSIGN, P.EXERCISE_REFERRAL, LOW, True, G.METABOLIC),
    Case("other White", c([T2D], ethnicity="C"), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.METABOLIC),
    Case("not stated", c([T2D], ethnicity="Z"), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.METABOLIC),
    Case("not known", c([T2D], ethnicity="99"), ASSIGN, P.EXERCISE_REFERRAL, LOW, False, G.METABOLIC),
    Case("carer", c([T2D], flags={"carer": True}), ASSIGN, P.EXERCISE_REFERRAL, LOW, True, G.METABOLIC),
    Case(
        "learning disability",
        c([DEPRESSION], flags={"learning_disability_autism": True}),
        ASSIGN,
        P.EXERCISE_REFERRAL,
        LOW,
        True,
        G.MENTAL_HEALTH,
    ),
    # Cardiopulmonary Rehabilitation
    Case("COPD at 68", c([COPD], 68), ASSIGN, P.CARDIOPULMONARY_REHAB, HIGH, True, G.RESPIRATORY),
    Case(
        "bronchiectasis", c([BRONCHIECTASIS], 50), ASSIGN, P.CARDIOPULMONARY_REHAB, HIGH, False, G.RESPIRATORY
    ),
    Case(
        "heart failure",
        c([HEART_FAILURE], 70),
        ASSIGN,
        P.CARDIOPULMONARY_REHAB,
        HIGH,
        False,
        G.CARDIOVASCULAR,
    ),
    Case("stable angina", c([ANGINA], 66), ASSIGN, P.CARDIOPULMONARY_REHAB, HIGH, False, G.CARDIOVASCULAR),
    Case(
        "MI 30 days ago",
        c([MI], 62, cardiac_event_days_ago=30),
        ASSIGN,
        P.CARDIOPULMONARY_REHAB,
        HIGH,
        False,
        G.CARDIOVASCULAR,
    ),
    Case(
        "MI 7 days ago, first day rehab may start",
        c([MI], 62, cardiac_event_days_ago=7),
        ASSIGN,
        P.CARDIOPULMONARY_REHAB,
        HIGH,
        False,
        G.CARDIOVASCULAR,
    ),
    Case("MI 6 days ago", c([MI], 62, cardiac_event_days_ago=6), RETURN, None, None, False, G.CARDIOVASCULAR),
    Case(
        "MI dated tomorrow counts as today",
        c([MI], 62, cardiac_event_days_ago=-1),
        RETURN,
        None,
        None,
        False,
        G.CARDIOVASCULAR,
    ),
    Case(
        "MI 200 days ago",
        c([MI], 62, cardiac_event_days_ago=200),
        ASSIGN,
        P.CARDIOPULMONARY_REHAB,
        HIGH,
        False,
        G.CARDIOVASCULAR,
    ),
    Case(
        "cardiac event 20 days ago makes diabetes a rehab case",
        c([T2D], 62, cardiac_event_days_ago=20),
        ASSIGN,
        P.CARDIOPULMONARY_REHAB,
        HIGH,
        False,
        G.CARDIOVASCULAR,
    ),
    Case(
        "cardiac event 42 days ago is past the window",
        c([T2D], 62, cardiac_event_days_ago=42),
        ASSIGN,
        P.EXERCISE_REFERRAL,
        LOW,
        False,
        G.METABOLIC,
    ),
    # ESCAPE-Pain, Steady Steps
    Case("knee OA at 60", c([KNEE_OA], 60), ASSIGN, P.ESCAPE_PAIN, LOW, False, G.MUSCULOSKELETAL),
    Case("hip OA at 80", c([HIP_OA], 80), ASSIGN, P.ESCAPE_PAIN, MEDIUM, False, G.MUSCULOSKELETAL),
    Case("fall at 72", c([FALL], 72), ASSIGN, P.STEADY_STEPS, MEDIUM, False, G.FALLS_FRAILTY),
    Case("frailty at 85", c([FRAILTY], 85), ASSIGN, P.STEADY_STEPS, MEDIUM, False, G.FALLS_FRAILTY),
    Case("frailty at 50", c([FRAILTY], 50), SIGNPOST, None, None, False, G.FALLS_FRAILTY),
    # Fit4Surgery, Pre and Post Natal, Discharge to Assess
    Case(
        "breast cancer, surgery in 4 weeks",
        c([BREAST_CA], 58, surgery_in_days=28),
        ASSIGN,
        P.FIT4SURGERY,
        MEDIUM,
        True,
        G.CANCER,
    ),
    Case("surgery date alone", c([], 45, surgery_in_days=10), ASSIGN, P.FIT4SURGERY, MEDIUM, False, G.CANCER),
    Case("colon cancer, no date", c([COLON_CA], 67), ASSIGN, P.FIT4SURGERY, MEDIUM, True, G.CANCER),
    Case(
        "surgery already done is not prehab",
        c([KNEE_OA], 66, surgery_in_days=-30),
        ASSIGN,
        P.ESCAPE_PAIN,
        LOW,
        False,
        G.MUSCULOSKELETAL,
    ),
    Case("pregnant at 29", c([], 29, pregnant=True), ASSIGN, P.PRE_POST_NATAL, LOW, True, G.MATERNITY),
    Case("pregnancy code", c([PREGNANCY], 30), ASSIGN, P.PRE_POST_NATAL, LOW, True, G.MATERNITY),
    Case(
        "postnatal with depression",
        c([DEPRESSION], 33, postnatal=True),
        ASSIGN,
        P.PRE_POST_NATAL,
        LOW,
        True,
        G.MATERNITY,
    ),
    Case("pregnant at 15", c([], 15, pregnant=True), SIGNPOST, None, None, True, G.MATERNITY),
    Case(
        "discharge team, hypertension, 81",
        c([HTN], 81, source=SourceType.HOSPITAL_DISCHARGE, discharged_days_ago=0),
        ASSIGN,
        P.DISCHARGE_TO_ASSESS,
        MEDIUM,
        True,
        G.POST_DISCHARGE,
    ),
    Case(
        "GP with a discharge date",
        c([], 70, discharged_days_ago=3),
        ASSIGN,
        P.DISCHARGE_TO_ASSESS,
        MEDIUM,
        False,
        G.POST_DISCHARGE,
    ),
    Case(
        "discharge team, 17",
        c([], 17, source=SourceType.HOSPITAL_DISCHARGE),
        SIGNPOST,
        None,
        None,
        False,
        G.POST_DISCHARGE,
    ),
    # nothing fits
    Case("eczema only", c([ECZEMA]), SIGNPOST, None, None, False, G.OTHER),
    Case("no codes at all", c([]), SIGNPOST, None, None, False, G.OTHER, None),
    Case("a code from another system", c([HTN], system="urn:local"), SIGNPOST, None, None, False, G.OTHER),
    # contraindications
    Case("BP 182/96", c([HTN], bp=(182, 96)), RETURN, None, None, True, G.CARDIOVASCULAR),
    Case("BP 180/70", c([HTN], bp=(180, 70)), RETURN, None, None, True, G.CARDIOVASCULAR),
    Case("BP 150/100", c([T2D], bp=(150, 100)), RETURN, None, None, False, G.METABOLIC),
    Case(
        "unstable angina", c([ANGINA], 66, unstable_angina=True), RETURN, None, None, False, G.CARDIOVASCULAR
    ),
    Case("arrhythmia", c([T2D], uncontrolled_arrhythmia=True), RETURN, None, None, False, G.METABOLIC),
    Case("eczema with BP 190/100", c([ECZEMA], bp=(190, 100)), RETURN, None, None, False, G.OTHER),
    # the referrer's request
    Case(
        "requested ESCAPE-Pain over rehab",
        c([COPD, KNEE_OA], 60, requested=P.ESCAPE_PAIN),
        ASSIGN,
        P.ESCAPE_PAIN,
        MEDIUM,
        True,
        G.MUSCULOSKELETAL,
    ),
    Case(
        "requested Exercise Referral over rehab",
        c([COPD, HTN], 60, requested=P.EXERCISE_REFERRAL),
        ASSIGN,
        P.EXERCISE_REFERRAL,
        MEDIUM,
        True,
        G.CARDIOVASCULAR,
    ),
    Case(
        "requested Exercise Referral for an unlisted condition",
        c([ECZEMA], requested=P.EXERCISE_REFERRAL),
        ASSIGN,
        P.EXERCISE_REFERRAL,
        LOW,
        False,
        G.OTHER,
    ),
    Case(
        "requested ESCAPE-Pain on the clinician's judgement",
        c([HTN, T2D], 64, requested=P.ESCAPE_PAIN),
        ASSIGN,
        P.ESCAPE_PAIN,
        MEDIUM,
        True,
        G.CARDIOVASCULAR,
    ),
    Case(
        "requested Steady Steps at 80",
        c([T2D], 80, requested=P.STEADY_STEPS),
        ASSIGN,
        P.STEADY_STEPS,
        MEDIUM,
        False,
        G.METABOLIC,
    ),
    Case(
        "requested Fit4Surgery with no planned treatment",
        c([T2D], 60, requested=P.FIT4SURGERY),
        ASSIGN,
        P.EXERCISE_REFERRAL,
        LOW,
        False,
        G.METABOLIC,
    ),
    Case(
        "requested Discharge to Assess with no discharge",
        c([HTN], 70, requested=P.DISCHARGE_TO_ASSESS),
        ASSIGN,
        P.EXERCISE_REFERRAL,
        LOW,
        True,
        G.CARDIOVASCULAR,
    ),
    Case(
        "requested Steady Steps at 50",
        c([T2D], 50, requested=P.STEADY_STEPS),
        ASSIGN,
        P.EXERCISE_REFERRAL,
        LOW,
        False,
        G.METABOLIC,
    ),
    Case(
        "requested Pre and Post Natal, not pregnant",
        c([], 60, requested=P.PRE_POST_NATAL),
        SIGNPOST,
        None,
        None,
        False,
        G.OTHER,
    ),
    Case(
        "requested Exercise Referral 20 days after an MI",
        c([T2D], 62, requested=P.EXERCISE_REFERRAL, cardiac_event_days_ago=20),
        RETURN,
        None,
        None,
        False,
        G.METABOLIC,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_realistic_referral_gets_its_expected_decision(case: Case, referral, triage, rules) -> None:
    spec = dict(case.referral)
    result = triage(referral(spec.pop("codes"), spec.pop("age"), **spec), case.decile).triaged
    assert (result.decision, result.programme, result.risk) == (case.decision, case.programme, case.risk)
    assert result.priority.prioritised is case.prioritised
    assert result.condition_group is case.condition
    assert result.rule_version == rules.version


def test_the_table_covers_forty_referrals_and_every_programme() -> None:
    assert len(CASES) >= 40
    assert {case.programme for case in CASES} >= set(Programme)
    assert {case.decision for case in CASES} == set(TriageDecision)
