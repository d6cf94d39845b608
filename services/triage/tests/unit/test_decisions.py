"""Triage decisions over realistic referrals, rule-file errors, and one decision for every referral."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from referral_schemas.enums import DeprivationSource, TriageDecision
from referral_schemas.events.referral import ReferralAccepted
from referral_schemas.examples import example
from triage.datafiles import DataFileError
from triage.domain.decide import decide
from triage.domain.rules import default_rules, load_rules

TODAY = date(2026, 3, 2)
RULES = default_rules()
BASE = example("referral.accepted").data.model_dump(mode="json")
RULES_FILE = Path(__file__).parents[2] / "src" / "triage" / "rules" / "triage-rules.yaml"


class Deciles:
    """Deprivation by LSOA as the tests say; unknown without one."""

    def __init__(self, decile: int | None) -> None:
        self.decile = decile

    def deprivation_for(self, postcode: str | None, lsoa: str | None) -> tuple[int | None, DeprivationSource]:
        if self.decile is None:
            return None, DeprivationSource.UNKNOWN
        return self.decile, DeprivationSource.LSOA


def referral(
    codes: list[str] = (),  # type: ignore[assignment]
    age: int = 55,
    *,
    requested: str | None = None,
    bp: tuple[int, int] | None = (130, 80),
    ethnicity: str | None = "A",
    source: str = "gp",
    flags: dict[str, bool] | None = None,
    **safety: Any,
) -> ReferralAccepted:
    doc = json.loads(json.dumps(BASE))
    doc["reasons"] = [{"system": "http://snomed.info/sct", "code": c} for c in codes]
    doc["demographics"]["age_years"] = age
    doc["demographics"]["ethnicity"] = ethnicity
    doc["requested_programme"] = requested
    doc["source_type"] = source
    doc["priority_flags"] = flags or {}
    doc["safety"] = {
        **({"resting_bp_systolic": bp[0], "resting_bp_diastolic": bp[1]} if bp else {}),
        **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in safety.items()},
    }
    return ReferralAccepted.model_validate_json(json.dumps(doc))


HTN, T2D, OBESITY, DEPRESSION, ANXIETY = "38341003", "44054006", "414916001", "35489007", "197480006"
MI, HF, COPD, ASTHMA = "22298006", "84114007", "13645005", "195967001"
KNEE_OA, HIP_OA, BACK = "239873007", "239872002", "279039007"
FALL, FRAILTY, CANCER, BREAST_CA, SCHIZOPHRENIA = "1912002", "248279007", "363346000", "254837009", "58214004"
ECZEMA = "43116000"  # no programme takes it

ASSIGN, SIGNPOST, RETURN = TriageDecision.ASSIGN, TriageDecision.SIGNPOST, TriageDecision.RETURN_TO_REFERRER

# (case, referral, decile, expected decision, programme, risk, prioritised)
CASES = [
    ("hypertension", referral([HTN]), 6, ASSIGN, "exercise_referral", "low", True),
    ("type 2 diabetes", referral([T2D]), 6, ASSIGN, "exercise_referral", "low", False),
    ("obesity", referral([OBESITY], 30), 7, ASSIGN, "exercise_referral", "low", False),
    ("depression", referral([DEPRESSION], 24), 5, ASSIGN, "exercise_referral", "low", False),
    ("anxiety, young adult", referral([ANXIETY], 17), 8, ASSIGN, "exercise_referral", "low", False),
    ("diabetes and obesity", referral([T2D, OBESITY]), 6, ASSIGN, "exercise_referral", "medium", False),
    ("hypertension 145/85", referral([HTN], bp=(145, 85)), 6, ASSIGN, "exercise_referral", "medium", True),
    ("hypertension 165/95", referral([HTN], bp=(165, 95)), 6, ASSIGN, "exercise_referral", "high", True),
    ("diabetes aged 78", referral([T2D], 78), 6, ASSIGN, "exercise_referral", "medium", False),
    ("diabetes, Core20", referral([T2D]), 1, ASSIGN, "exercise_referral", "low", True),
    ("diabetes, decile 2", referral([T2D]), 2, ASSIGN, "exercise_referral", "low", True),
    ("diabetes, decile 3", referral([T2D]), 3, ASSIGN, "exercise_referral", "low", False),
    ("diabetes, Indian", referral([T2D], ethnicity="H"), 6, ASSIGN, "exercise_referral", "low", True),
    ("diabetes, not stated", referral([T2D], ethnicity="Z"), 6, ASSIGN, "exercise_referral", "low", False),
    ("diabetes, carer", referral([T2D], flags={"carer": True}), 6, ASSIGN, "exercise_referral", "low", True),
    (
        "depression, learning disability",
        referral([DEPRESSION], flags={"learning_disability_autism": True}),
        6,
        ASSIGN,
        "exercise_referral",
        "low",
        True,
    ),
    ("schizophrenia only", referral([SCHIZOPHRENIA]), 6, SIGNPOST, None, None, True),
    (
        "post-MI at 30 days",
        referral([MI], 62, recent_cardiac_event_date=TODAY - timedelta(days=30)),
        6,
        ASSIGN,
        "cardiopulmonary_rehab",
        "high",
        False,
    ),
    (
        "post-MI at 3 days",
        referral([MI], 62, recent_cardiac_event_date=TODAY - timedelta(days=3)),
        6,
        RETURN,
        None,
        None,
        False,
    ),
    ("heart failure", referral([HF], 70), 6, ASSIGN, "cardiopulmonary_rehab", "high", False),
    ("COPD", referral([COPD], 68), 6, ASSIGN, "cardiopulmonary_rehab", "high", True),
    ("asthma", referral([ASTHMA], 40), 6, ASSIGN, "cardiopulmonary_rehab", "high", False),
    ("knee osteoarthritis", referral([KNEE_OA], 60), 6, ASSIGN, "escape_pain", "low", False),
    ("hip osteoarthritis aged 80", referral([HIP_OA], 80), 6, ASSIGN, "escape_pain", "medium", False),
    ("back pain aged 40", referral([BACK], 40), 6, SIGNPOST, None, None, False),
    ("back pain aged 50", referral([BACK], 50), 6, ASSIGN, "escape_pain", "low", False),
    ("fall aged 72", referral([FALL], 72), 6, ASSIGN, "steady_steps", "low", False),
    ("fall aged 60", referral([FALL], 60), 6, SIGNPOST, None, None, False),
    ("frailty aged 85", referral([FRAILTY], 85), 6, ASSIGN, "steady_steps", "medium", False),
    (
        "cancer before surgery",
        referral([BREAST_CA], 58, surgery_date=TODAY + timedelta(days=28)),
        6,
        ASSIGN,
        "fit4surgery",
        "low",
        True,
    ),
    ("cancer, no surgery date", referral([CANCER], 58), 6, ASSIGN, "fit4surgery", "low", True),
    ("pregnant", referral([], 29, pregnant=True), 6, ASSIGN, "pre_post_natal", "low", True),
    (
        "postnatal with depression",
        referral([DEPRESSION], 33, postnatal=True),
        6,
        ASSIGN,
        "pre_post_natal",
        "low",
        True,
    ),
    (
        "hospital discharge",
        referral([HTN], 81, source="hospital_discharge", discharge_date=TODAY),
        6,
        ASSIGN,
        "discharge_to_assess",
        "medium",
        True,
    ),
    (
        "discharge date from a GP",
        referral([], 70, discharge_date=TODAY - timedelta(days=3)),
        6,
        ASSIGN,
        "discharge_to_assess",
        "low",
        False,
    ),
    ("eczema only", referral([ECZEMA]), 6, SIGNPOST, None, None, False),
    ("no codes at all", referral([]), None, SIGNPOST, None, None, False),
    ("BP 182/96", referral([HTN], bp=(182, 96)), 6, RETURN, None, None, True),
    ("BP 150/104", referral([HTN], bp=(150, 104)), 6, RETURN, None, None, True),
    ("unstable angina", referral([HTN], unstable_angina=True), 6, RETURN, None, None, True),
    ("uncontrolled arrhythmia", referral([T2D], uncontrolled_arrhythmia=True), 6, RETURN, None, None, False),
    (
        "requested ESCAPE-Pain, eligible",
        referral([HTN], 60, requested="escape_pain"),
        6,
        ASSIGN,
        "escape_pain",
        "low",
        True,
    ),
    (
        "requested Steady Steps, too young",
        referral([T2D], 50, requested="steady_steps"),
        6,
        ASSIGN,
        "exercise_referral",
        "low",
        False,
    ),
    (
        "requested Pre and Post Natal, too old",
        referral([], 60, requested="pre_post_natal"),
        6,
        SIGNPOST,
        None,
        None,
        False,
    ),
]


@pytest.mark.parametrize(
    ("case", "accepted", "decile", "decision", "programme", "risk", "prioritised"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_realistic_referrals_get_the_expected_decision(
    case, accepted, decile, decision, programme, risk, prioritised
):
    result = decide(accepted, rules=RULES, deprivation=Deciles(decile), today=TODAY).triaged
    assert result.decision is decision
    assert (result.programme.value if result.programme else None) == programme
    assert (result.risk.value if result.risk else None) == risk
    assert result.priority.prioritised is prioritised
    assert result.rule_version == RULES.version


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40


def test_priority_records_its_deprivation_source_and_shortens_the_deadline():
    high = decide(referral([T2D]), rules=RULES, deprivation=Deciles(1), today=TODAY)
    low = decide(referral([T2D]), rules=RULES, deprivation=Deciles(9), today=TODAY)
    unknown = decide(referral([T2D]), rules=RULES, deprivation=Deciles(None), today=TODAY)
    assert high.triaged.priority.core20 is True
    assert high.triaged.priority.deprivation_source is DeprivationSource.LSOA
    assert unknown.triaged.priority.deprivation_source is DeprivationSource.UNKNOWN
    assert high.contact_deadline_working_days < low.contact_deadline_working_days


def test_a_contraindication_names_its_reason_and_never_a_programme():
    result = decide(
        referral([HTN], bp=(185, 110), unstable_angina=True), rules=RULES, deprivation=Deciles(5), today=TODAY
    )
    codes = {r.code for r in result.triaged.reasons}
    assert codes == {"contraindication.blood_pressure", "contraindication.unstable_angina"}
    assert result.triaged.programme is None


def _broken(tmp_path: Path, mutate) -> Path:
    import yaml

    doc = yaml.safe_load(RULES_FILE.read_text())
    mutate(doc)
    out = tmp_path / "rules.yaml"
    out.write_text(yaml.safe_dump(doc))
    return out


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("version"), "version: Field required"),
        (lambda d: d["programmes"][3].update(programme="zumba"), "programmes[3].programme"),
        (lambda d: d["programmes"][0].update(min_age="old"), "programmes[0].min_age"),
        (
            lambda d: d["programmes"][6]["codes"].append({"code": "38341003", "display": "dup"}),
            "programmes[7]: code 38341003 already leads to escape_pain",
        ),
        (lambda d: d["programmes"][4]["codes"][0].update(code="COPD"), "programmes[4].codes[0].code"),
        (
            lambda d: d["contact_deadline_working_days"].update(prioritised=20),
            "cannot be later than the standard",
        ),
        (
            lambda d: d["priority"]["clinical_areas"].update(gout={"codes": []}),
            "priority.clinical_areas.gout",
        ),
    ],
)
def test_a_broken_rules_file_is_refused_with_the_file_path_and_problem(tmp_path, mutate, expected):
    path = _broken(tmp_path, mutate)
    with pytest.raises(DataFileError) as caught:
        load_rules(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_file_that_is_not_yaml_is_refused(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("version: [unclosed")
    with pytest.raises(DataFileError, match="cannot be read as YAML"):
        load_rules(path)


_known_codes = [c.code for r in RULES.programmes for c in r.codes]


@settings(max_examples=300, deadline=None)
@given(
    codes=st.lists(st.sampled_from([*_known_codes, ECZEMA, "999999999"]), max_size=4),
    age=st.integers(16, 105),
    bp=st.one_of(st.none(), st.tuples(st.integers(90, 220), st.integers(50, 130))),
    decile=st.one_of(st.none(), st.integers(1, 10)),
    angina=st.booleans(),
    event_days=st.one_of(st.none(), st.integers(0, 400)),
    requested=st.one_of(st.none(), st.sampled_from([r.programme.value for r in RULES.programmes])),
)
def test_every_referral_gets_exactly_one_valid_decision(
    codes, age, bp, decile, angina, event_days, requested
):
    extra: dict[str, Any] = {"unstable_angina": angina}
    if event_days is not None:
        extra["recent_cardiac_event_date"] = TODAY - timedelta(days=event_days)
    accepted = referral(codes, age, bp=bp, requested=requested, **extra)
    result = decide(accepted, rules=RULES, deprivation=Deciles(decile), today=TODAY).triaged
    assert result.rule_version == RULES.version
    contraindicated = (
        angina
        or (bp is not None and (bp[0] >= 180 or bp[1] >= 100))
        or any(r.code == "contraindication.recent_cardiac_event" for r in result.reasons)
    )
    assert (result.decision is RETURN) == contraindicated
    assert (result.decision is ASSIGN) == (result.programme is not None)
