"""The submission checks: every problem named precisely, nothing but a rejection ever raised."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from referral_intake.adapters.area import LlrArea
from referral_intake.domain.nhs_number import NhsNumberProblem, check_nhs_number
from referral_intake.domain.pseudonym import patient_key
from referral_intake.domain.validation import (
    Accepted,
    Rejected,
    ValidationPolicy,
    validate,
    validate_cancellation,
)
from referral_schemas.events.referral import ReferralSubmitted
from referral_schemas.examples import example
from referral_schemas.primitives import PseudonymousKey
from servicekit.testing import with_changes

TODAY = date(2026, 3, 2)
POLICY = ValidationPolicy(accept_test_nhs_numbers=True)
AREA = LlrArea()
BASE = example("referral.submitted").data.model_dump(mode="json")


def submission(**changes: Any) -> ReferralSubmitted:
    doc = with_changes(BASE, changes)
    return ReferralSubmitted.model_validate_json(json.dumps(doc))


def codes(result: Accepted | Rejected) -> set[str]:
    assert isinstance(result, Rejected), "expected a rejection"
    return {r.code for r in result.reasons}


def check(sub: ReferralSubmitted, policy: ValidationPolicy = POLICY) -> Accepted | Rejected:
    return validate(sub, today=TODAY, policy=policy, area=AREA)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9990000018", "9990000018"),
        ("999 000 0018", "9990000018"),
        ("999-000-0018", "9990000018"),
        ("4010232137", "4010232137"),  # a real-format number, check digit 7
        ("9990000019", "nhs_number.checksum"),
        ("4010232138", "nhs_number.checksum"),
        ("9990000000", "nhs_number.checksum"),  # remainder 1: check digit 10, never issued
        ("999000001", "nhs_number.format"),
        ("99900000180", "nhs_number.format"),
        ("99900A0018", "nhs_number.format"),
        (
            "\uff19\uff19\uff19\uff10\uff10\uff10\uff10\uff10\uff11\uff18",
            "nhs_number.format",
        ),  # full-width digits
        ("", "nhs_number.missing"),
        ("   ", "nhs_number.missing"),
    ],
)
def test_nhs_numbers_are_checked_by_length_digits_and_modulus_11(raw, expected):
    result = check_nhs_number(raw, accept_test_numbers=True)
    assert (result if isinstance(result, str) else result.code) == expected


def test_test_range_numbers_are_refused_unless_the_setting_accepts_them():
    refused = check_nhs_number("9990000018", accept_test_numbers=False)
    assert isinstance(refused, NhsNumberProblem)
    assert refused.code == "nhs_number.test_number"
    assert check_nhs_number("4010232137", accept_test_numbers=False) == "4010232137"


def test_the_patient_key_is_keyed_stable_and_a_valid_pseudonymous_key():
    key = patient_key("9990000018", b"k1")
    assert key == patient_key("9990000018", b"k1")
    assert key != patient_key("9990000018", b"k2")
    assert "9990000018" not in key
    TypeAdapter(PseudonymousKey).validate_python(key)


def test_a_valid_referral_is_accepted_with_normalised_contact_and_residence():
    result = check(submission(**{"patient.postcode": " le1 5ww "}))
    assert isinstance(result, Accepted)
    assert result.contact.postcode == "LE1 5WW"
    assert result.residence.district.value == "leicester"
    assert result.demographics.age_years == 64
    assert result.safety.resting_bp_systolic == 148


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"patient.date_of_birth": "2027-01-01"}, "date_of_birth.future"),
        ({"patient.date_of_birth": "1880-01-01"}, "date_of_birth.implausible"),
        ({"patient.date_of_birth": "2015-01-01"}, "age.out_of_range"),
        (
            {"patient.date_of_birth": "1990-01-01", "requested_programme": "steady_steps"},
            "programme.age_range",
        ),
        ({"patient.postcode": "LE1"}, "postcode.format"),
        ({"patient.postcode": "SW1A 1AA"}, "postcode.outside_area"),
        ({"patient.postcode": "LE10 3AZ"}, "postcode.outside_area"),  # Rugby, not LLR
        ({"consent.share_with_provider": False}, "consent.missing"),
        ({"referrer.ods_code": "not an ods"}, "referrer.ods_code"),
        ({"reasons": [], "reason_text": "  "}, "reason.missing"),
        ({"reasons": [{"code": "hypertension"}]}, "reason.code_format"),
        ({"safety.resting_bp_systolic": 80, "safety.resting_bp_diastolic": 120}, "safety.bp_implausible"),
        ({"safety.resting_bp_systolic": 400}, "safety.bp_implausible"),
        ({"safety": {}}, "safety.bp_missing"),  # exercise referral needs a blood pressure
        ({"requested_programme": "discharge_to_assess"}, "safety.discharge_date_missing"),
        ({"requested_programme": "fit4surgery"}, "safety.surgery_date_missing"),
        ({"requested_programme": "cardiopulmonary_rehab"}, "safety.cardiac_history_missing"),
        ({"requested_programme": "pre_post_natal"}, "safety.pregnancy_status_missing"),
        ({"patient.address_lines": []}, "address.missing"),
        ({"patient.given_name": " "}, "name.missing"),
        ({"patient.email": "not-an-email"}, "email.invalid"),
        ({"patient.ethnicity": "Q"}, "ethnicity.unknown_code"),
        ({"notes": "n" * 100_000}, "free_text.too_long"),
        ({"reason_text": "feels\x00unwell\x1b[31m"}, "free_text.control_characters"),
        ({"patient.family_name": "Mis\x07try"}, "free_text.control_characters"),
    ],
)
def test_each_problem_gets_its_own_code(changes, code):
    assert code in codes(check(submission(**changes)))


def test_all_problems_are_reported_together_and_messages_never_echo_patient_data():
    result = check(
        submission(
            **{
                "patient.nhs_number": "9990000019",
                "patient.postcode": "SW1A 1AA",
                "consent.share_with_provider": False,
            }
        )
    )
    assert codes(result) == {"nhs_number.checksum", "postcode.outside_area", "consent.missing"}
    assert isinstance(result, Rejected)
    assert result.summary.startswith("3 problems:")
    everything = result.summary + " ".join(r.message for r in result.reasons)
    assert "9990000019" not in everything
    assert "SW1A" not in everything
    assert all(r.field and r.field.startswith("data.") for r in result.reasons)


def test_sql_and_html_looking_text_is_accepted_as_plain_data():
    result = check(
        submission(
            notes="Robert'); DROP TABLE referrals;--",
            reason_text="<script>alert('x')</script> wants to swim",
            **{"patient.given_name": "<b>Asha</b>"},
        )
    )
    assert isinstance(result, Accepted)
    assert result.reason_text == "<script>alert('x')</script> wants to swim"
    assert result.contact.given_name == "<b>Asha</b>"


def test_a_megabyte_of_free_text_is_a_rejection_not_an_exception():
    big = submission(notes="n" * 100_000)  # the contract's own ceiling; intake's is lower
    assert codes(check(big)) == {"free_text.too_long"}


def test_a_cancellation_is_checked_for_its_own_fields_only():
    no_status = submission(action="cancel", **{"patient.nhs_number": "bad"})
    rejected = validate_cancellation(no_status, policy=POLICY)
    assert rejected is not None
    assert {r.code for r in rejected.reasons} == {"cancel.status_missing"}
    assert validate_cancellation(submission(action="cancel", cancel_status="revoked"), policy=POLICY) is None


_text = st.text(max_size=40)
_field_values = st.one_of(
    st.none(),
    _text,
    st.integers(-1000, 1000),
    st.booleans(),
    st.dates().map(str),
    st.lists(_text, max_size=3),
)
_paths = st.sampled_from(
    [
        "patient.nhs_number",
        "patient.postcode",
        "patient.date_of_birth",
        "patient.given_name",
        "patient.email",
        "patient.phone",
        "patient.ethnicity",
        "patient.lsoa",
        "patient.address_lines",
        "referrer.ods_code",
        "reason_text",
        "notes",
        "requested_programme",
        "safety.resting_bp_systolic",
        "safety.resting_bp_diastolic",
        "safety.discharge_date",
        "consent.share_with_provider",
        "reasons",
    ]
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_paths, _field_values, max_size=6), st.booleans())
def test_the_checks_never_raise_for_any_submission_the_contract_admits(changes, test_numbers):
    try:
        sub = submission(**changes)
    except ValueError:
        return  # the contract refused the shape: a dead letter, not intake's checks
    result = check(sub, ValidationPolicy(accept_test_nhs_numbers=test_numbers))
    assert isinstance(result, Accepted | Rejected)
    if isinstance(result, Rejected):
        assert result.reasons
        assert result.summary
