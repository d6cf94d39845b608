"""Payload rules: what each event guarantees, and what is left to the services' own rules."""

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError
from referral_schemas import ContractError, dump_event, parse_event
from referral_schemas.enums import (
    ConditionGroup,
    DeprivationSource,
    District,
    KpiDimension,
    KpiName,
    Programme,
    RiskLevel,
    Sex,
    Suppression,
    TriageDecision,
)
from referral_schemas.events.common import Demographics, Priority
from referral_schemas.events.outcome import OutcomeKpi
from referral_schemas.events.referral import ReferralTriaged
from referral_schemas.examples import example


def violation(raw: bytes) -> str:
    with pytest.raises(ContractError) as info:
        parse_event(raw)
    assert info.value.code == "schema_violation"
    return info.value.detail


# --- referral.submitted: shape only, so that intake can answer content problems with reasons


@pytest.mark.parametrize(
    "changes",
    [
        {"data.patient.nhs_number": "9990000019"},  # fails modulus 11
        {"data.patient.nhs_number": "not a number"},
        {"data.patient.nhs_number": ""},
        {"data.patient.date_of_birth": "2031-01-01"},  # in the future
        {"data.patient.postcode": "SW1A 1AA"},  # outside LLR
        {"data.patient.postcode": "le15ww"},
        {"data.patient.lsoa": "Leicester 040A"},
        {"data.patient.ethnicity": "Indian"},
        {"data.patient.given_name": ""},
        {"data.patient.address_lines": []},
        {"data.patient.email": "not an e-mail"},
        {"data.referrer.ods_code": "c82 001"},
        {"data.safety.resting_bp_systolic": 1480},
        {"data.safety.resting_bp_diastolic": -5},
        {"data.notes": "n" * 100_000},
        {"data.reason_text": "r" * 100_000},
        {"data.reasons": [], "data.reason_text": None},
        {"data.consent.share_with_provider": False, "data.consent.recorded_at": None},
        {"data.action": "cancel"},  # without cancel_status
        {"data.reasons.0.code": "not-snomed"},
    ],
)
def test_submitted_accepts_content_that_intake_must_reject_with_reasons(wire, changes):
    event = parse_event(wire("referral.submitted", changes))
    assert event.event_type == "referral.submitted"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"data.notes": "n" * 100_001}, "data.notes"),
        ({"data.patient.nhs_number": "9" * 21}, "data.patient.nhs_number"),
        ({"data.patient.sex": "F"}, "data.patient.sex"),
        ({"data.patient.date_of_birth": "17/04/1961"}, "data.patient.date_of_birth"),
        ({"data.patient.address_lines": ["x" * 1001]}, "data.patient.address_lines[0]"),
        ({"data.source_referral_id": "REF\x1f1"}, "data.source_referral_id"),
        ({"data.source_system": ""}, "data.source_system"),
        ({"data.source_system": "s" * 65}, "data.source_system"),
        ({"data.cancel_status": "withdrawn"}, "data.cancel_status"),
        ({"data.safety.resting_bp_systolic": "148"}, "data.safety.resting_bp_systolic"),
        ({"data.consent.share_with_provider": "yes"}, "data.consent.share_with_provider"),
    ],
)
def test_submitted_refuses_what_is_not_even_the_right_shape(wire, changes, field):
    assert field in violation(wire("referral.submitted", changes))


def test_submitted_refuses_a_missing_patient(wire):
    assert "data.patient: Field required" in violation(wire("referral.submitted", drop=("data.patient",)))


# --- after intake: values are checked


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"data.contact.nhs_number": "999 000 0018"}, "data.contact.nhs_number"),
        ({"data.contact.postcode": "le1 5ww"}, "data.contact.postcode"),
        ({"data.contact.address_lines": []}, "data.contact.address_lines"),
        ({"data.residence.lsoa": "E02002834"}, "data.residence.lsoa"),
        ({"data.residence.district": "nottingham"}, "data.residence.district"),
        ({"data.demographics.ethnicity": "I"}, "data.demographics.ethnicity"),
        ({"data.safety.resting_bp_systolic": 1480}, "data.safety.resting_bp_systolic"),
        ({"data.reason_text": "r" * 2001}, "data.reason_text"),
        ({"data.patient_key": "short"}, "data.patient_key"),
        ({"data.revision": 0}, "data.revision"),
    ],
)
def test_accepted_guarantees_checked_values(wire, changes, field):
    assert field in violation(wire("referral.accepted", changes))


def test_accepted_carries_no_raw_nhs_number_outside_contact():
    event = example("referral.accepted")
    outside_contact = event.data.model_dump(exclude={"contact"}, mode="json")
    assert "9990000018" not in str(outside_contact)


# --- triage


def test_priority_core20_is_exactly_imd_decile_1_or_2():
    Priority(core20=True, imd_decile=2, deprivation_source=DeprivationSource.LSOA, prioritised=True)
    with pytest.raises(ValidationError, match="core20"):
        Priority(core20=True, imd_decile=3, deprivation_source=DeprivationSource.LSOA, prioritised=True)
    with pytest.raises(ValidationError, match="core20"):
        Priority(core20=False, imd_decile=1, deprivation_source=DeprivationSource.LSOA, prioritised=False)


def test_priority_without_a_decile_says_its_source_is_unknown():
    Priority(core20=False, deprivation_source=DeprivationSource.UNKNOWN, prioritised=False)
    with pytest.raises(ValidationError, match="deprivation_source"):
        Priority(core20=False, deprivation_source=DeprivationSource.POSTCODE_MSOA, prioritised=False)


def _triaged(**changes):
    return ReferralTriaged.model_validate({**example("referral.triaged").data.model_dump(), **changes})


def test_payloads_are_built_from_python_with_python_types():
    triaged = ReferralTriaged(
        decision=TriageDecision.ASSIGN,
        programme=Programme.ESCAPE_PAIN,
        risk=RiskLevel.LOW,
        priority=Priority(core20=False, deprivation_source=DeprivationSource.UNKNOWN, prioritised=False),
        rule_version="2026.03.1",
        patient_key="pk_4f9a1c7e2b8d6a3f",
        referred_at=dt.datetime(2026, 3, 2, 9, 12, tzinfo=dt.UTC),
        condition_group=ConditionGroup.MUSCULOSKELETAL,
        demographics=Demographics(age_years=71, sex=Sex.MALE),
        district=District.MELTON,
    )
    assert triaged.district == "melton"


def test_python_callers_get_no_coercion_either():
    with pytest.raises(ValidationError, match="instance of Sex"):
        Demographics(age_years=71, sex="male")
    with pytest.raises(ValidationError, match="valid integer"):
        Demographics(age_years="71", sex=Sex.MALE)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"programme": None}, "programme and risk"),
        ({"risk": None}, "programme and risk"),
        ({"decision": TriageDecision.SIGNPOST}, "signpost_to"),
        ({"decision": TriageDecision.RETURN_TO_REFERRER, "reasons": []}, "reasons"),
    ],
)
def test_a_triage_decision_carries_what_it_needs(changes, message):
    with pytest.raises(ValidationError, match=message):
        _triaged(**changes)


# --- assignments and providers


def test_a_reassignment_names_the_assignment_it_replaces(wire):
    first = example("assignment.created").data
    assert "reassigned_from" in violation(wire("assignment.created", {"data.attempt": 2}))
    assert "reassigned_from" in violation(
        wire("assignment.created", {"data.reassigned_from": str(uuid.uuid4())})
    )
    second = wire("assignment.created", {"data.attempt": 2, "data.reassigned_from": str(first.assignment_id)})
    assert parse_event(second).data.reassigned_from == first.assignment_id


def test_a_withdrawal_names_the_deadline_exactly_when_it_expired(wire):
    assert "contact_deadline" in violation(wire("assignment.withdrawn", {"data.reason": "expired"}))
    assert "contact_deadline" in violation(
        wire("assignment.withdrawn", {"data.contact_deadline": "2026-03-04T17:00:00Z"})
    )
    expired = wire(
        "assignment.withdrawn",
        {
            "data.reason": "expired",
            "data.contact_deadline": "2026-03-04T17:00:00Z",
            "data.stage_reached": None,
        },
    )
    assert parse_event(expired).data.contact_deadline == dt.datetime(2026, 3, 4, 17, tzinfo=dt.UTC)


def test_a_withdrawal_reason_is_one_the_contract_names(wire):
    assert "reason" in violation(wire("assignment.withdrawn", {"data.reason": "provider_declined"}))
    assert "detail" in violation(wire("assignment.withdrawn", {"data.detail": ""}))


def test_a_measures_response_carries_its_measures(wire):
    assert "measures" in violation(wire("provider.response", {"data.measures": None}))


@pytest.mark.parametrize(
    ("measure", "value"),
    [
        ("mvpa_minutes_per_week", 10081),
        ("mvpa_minutes_per_week", -1),
        ("wellbeing_swemwbs", 6),
        ("wellbeing_swemwbs", 36),
        ("fear_of_falling_fes_i", 29),
        ("version", 0),
        ("timepoint", "week_6"),
    ],
)
def test_measures_stay_within_their_scales(wire, measure, value):
    assert f"data.measures.{measure}" in violation(
        wire("provider.activity", {f"data.measures.{measure}": value})
    )


@pytest.mark.parametrize("provider_id", ["Active Blaby", "", "active_blaby"])
def test_provider_ids_are_directory_slugs(wire, provider_id):
    assert "data.provider_id" in violation(wire("assignment.delivered", {"data.provider_id": provider_id}))


def test_dates_are_iso_text_only(wire):
    assert "data.occurred_on" in violation(wire("provider.activity", {"data.occurred_on": "20260310"}))
    assert "data.occurred_on" in violation(
        wire("provider.activity", {"data.occurred_on": "2026-03-10T00:00:00Z"})
    )
    assert "data.delivered_at" in violation(wire("assignment.delivered", {"data.delivered_at": "1772442755"}))


# --- commissioner stream


def test_outcome_core20_is_exactly_quintile_1(wire):
    assert "core20" in violation(wire("outcome.recorded", {"data.imd_quintile": 2}))
    unknown = {"data.imd_quintile": None, "data.core20": False}
    assert "deprivation_source" in violation(wire("outcome.recorded", unknown))
    parse_event(wire("outcome.recorded", {**unknown, "data.deprivation_source": "unknown"}))


def _kpi(**changes):
    return OutcomeKpi.model_validate({**example("outcome.kpi").data.model_dump(), **changes})


def test_a_suppressed_kpi_cell_carries_no_numbers():
    cell = _kpi(
        numerator=None, denominator=None, value=None, suppressed=True, suppression=Suppression.PRIMARY
    )
    assert cell.suppressed
    with pytest.raises(ValidationError, match="carries no numerator"):
        _kpi(suppressed=True, suppression=Suppression.PRIMARY)
    with pytest.raises(ValidationError, match="carries no numerator"):
        _kpi(numerator=None, denominator=None, suppressed=True, suppression=Suppression.SECONDARY)


def test_kpi_suppressed_agrees_with_suppression():
    with pytest.raises(ValidationError, match="suppressed is true exactly"):
        _kpi(suppressed=True)
    with pytest.raises(ValidationError, match="suppressed is true exactly"):
        _kpi(numerator=None, denominator=None, value=None, suppressed=False, suppression=Suppression.PRIMARY)


def test_an_unsuppressed_kpi_cell_carries_its_counts():
    with pytest.raises(ValidationError, match="denominator and value"):
        _kpi(denominator=None)
    with pytest.raises(ValidationError, match="denominator and value"):
        _kpi(value=None)
    assert _kpi(kpi=KpiName.TIME_TO_FIRST_CONTACT_DAYS, numerator=None, value=6.5).numerator is None
    with pytest.raises(ValidationError, match="exceeds"):
        _kpi(numerator=64)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_kpi_value_is_a_finite_number(value):
    raw = dump_event(example("outcome.kpi")).replace(b'"value":0.6508', b'"value":' + value.encode())
    with pytest.raises(ContractError, match=r"data\.value: Input should be a finite number"):
        parse_event(raw)


def test_the_all_breakdown_has_the_value_all():
    assert _kpi(dimension=KpiDimension.ALL, dimension_value="all").dimension_value == "all"
    with pytest.raises(ValidationError, match='"all"'):
        _kpi(dimension=KpiDimension.ALL, dimension_value="melton")
    with pytest.raises(ValidationError, match='"all"'):
        _kpi(dimension_value="all")
