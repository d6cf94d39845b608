"""validate(): every problem with a submission reported with its code and field, or the checked referral."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, ClassVar

import pytest
from referral_intake.domain.validation import (
    Accepted,
    Rejected,
    ValidationPolicy,
    validate,
    validate_cancellation,
)
from referral_schemas.enums import District
from referral_schemas.events.referral import ReferralSubmitted
from referral_schemas.examples import example
from servicekit.testing import with_changes

# The example referral: Asha Mistry, born 1961-04-17, so 64 on this day; LE1 5WW; Exercise Referral.
TODAY = date(2026, 3, 2)
POLICY = ValidationPolicy(accept_test_nhs_numbers=True)
BASE: dict[str, Any] = example("referral.submitted").data.model_dump(mode="json")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


class FakeArea:
    """A served area of three postcodes, with the directory's normalisation rules."""

    served: ClassVar[dict[str, District]] = {
        "LE1 5WW": District.LEICESTER,
        "LE11 3TU": District.CHARNWOOD,
        "LE15 6RB": District.RUTLAND,
    }

    def normalise_postcode(self, raw: str) -> str | None:
        m = _POSTCODE.match("".join(raw.upper().split()))
        return f"{m[1]} {m[2]}" if m else None

    def district_for(self, postcode: str) -> District | None:
        return self.served.get(postcode)


AREA = FakeArea()


def submission(**changes: Any) -> ReferralSubmitted:
    """The example submission with dotted-path changes, read through the contract as a consumer would."""
    return ReferralSubmitted.model_validate_json(json.dumps(with_changes(BASE, changes)))


def check(
    sub: ReferralSubmitted, policy: ValidationPolicy = POLICY, today: date = TODAY
) -> Accepted | Rejected:
    return validate(sub, today=today, policy=policy, area=AREA)


def problems(result: Accepted | Rejected) -> set[tuple[str, str | None]]:
    assert isinstance(result, Rejected), f"expected a rejection, got {result!r}"
    return {(r.code, r.field) for r in result.reasons}


# ---------------------------------------------------------------------------- accepted
def test_the_example_referral_is_accepted_with_everything_the_service_needs():
    result = check(submission())
    assert isinstance(result, Accepted)
    assert result.nhs_number == "9990000018"
    assert (result.postcode, result.district, result.age_years) == ("LE1 5WW", District.LEICESTER, 64)
    assert result.referrer_ods_code == "C82001"
    assert result.contact.address_lines == ["Flat 3", "27 Welford Road", "Leicester"]
    assert result.contact.postcode == "LE1 5WW"
    assert result.residence.lsoa == "E01013646"
    assert result.demographics.ethnicity == "H"
    assert (result.safety.resting_bp_systolic, result.safety.resting_bp_diastolic) == (148, 92)
    assert result.reason_text is not None and result.reason_text.startswith("Stage 1 hypertension")
    assert result.notes is not None and result.notes.startswith("Cares for her husband")


def test_identifiers_are_normalised_to_the_contract_forms():
    result = check(
        submission(
            **{
                "patient.nhs_number": "999 000 0018",
                "patient.postcode": " le15  6rb ",
                "patient.ethnicity": " h ",
                "patient.lsoa": " e01013646 ",
                "patient.email": "  asha@example.org ",
                "patient.phone": "   ",
                "referrer.ods_code": " c82001 ",
            }
        )
    )
    assert isinstance(result, Accepted)
    assert result.nhs_number == result.contact.nhs_number == "9990000018"
    assert (result.postcode, result.district) == ("LE15 6RB", District.RUTLAND)
    assert result.demographics.ethnicity == "H"
    assert result.residence.lsoa == "E01013646"
    assert result.referrer_ods_code == "C82001"
    assert (result.contact.email, result.contact.phone) == ("asha@example.org", None)


def test_blank_optional_fields_are_dropped_not_refused():
    result = check(
        submission(**{"patient.lsoa": " ", "patient.ethnicity": "", "notes": "  ", "patient.email": None})
    )
    assert isinstance(result, Accepted)
    assert (result.residence.lsoa, result.demographics.ethnicity, result.notes) == (None, None, None)


def test_sql_and_html_looking_text_is_accepted_as_data_unchanged():
    sql = "Robert'); DROP TABLE referrals;-- ' OR '1'='1"
    html = "<script>alert('x')</script><img src=x onerror=alert(1)> wants to swim"
    result = check(
        submission(
            notes=sql,
            reason_text=html,
            **{"patient.given_name": "<b>Asha</b>", "patient.address_lines": ["1 Main St; DELETE FROM x"]},
        )
    )
    assert isinstance(result, Accepted)
    assert (result.notes, result.reason_text) == (sql, html)
    assert result.contact.given_name == "<b>Asha</b>"
    assert result.contact.address_lines == ["1 Main St; DELETE FROM x"]


def test_line_breaks_and_tabs_are_ordinary_in_free_text():
    result = check(submission(notes="Line one\r\nLine two\n\tindented", reason_text="Pain\tknee"))
    assert isinstance(result, Accepted)
    assert result.notes == "Line one\r\nLine two\n\tindented"


def test_an_address_of_more_than_six_lines_keeps_every_part_in_six():
    lines = ["Flat 3", "Welford House", "27 Welford Road", "Southfields", "Leicester", "Leicestershire", "UK"]
    result = check(submission(**{"patient.address_lines": ["", *lines, "  "]}))
    assert isinstance(result, Accepted)
    assert result.contact.address_lines == [*lines[:5], "Leicestershire, UK"]


def test_a_birthday_on_the_day_counts_and_the_day_before_does_not():
    born = {"patient.date_of_birth": "1961-03-02"}
    on_the_day = check(submission(**born, requested_programme="steady_steps"))
    assert isinstance(on_the_day, Accepted)
    assert on_the_day.age_years == 65
    day_before = check(submission(**born, requested_programme="steady_steps"), today=date(2026, 3, 1))
    assert problems(day_before) == {("programme.age_range", "data.requested_programme")}


def test_cardiopulmonary_rehab_accepts_explicit_no_to_angina_and_arrhythmia_instead_of_an_event_date():
    result = check(
        submission(
            requested_programme="cardiopulmonary_rehab",
            **{"safety.unstable_angina": False, "safety.uncontrolled_arrhythmia": False},
        )
    )
    assert isinstance(result, Accepted)


def test_an_update_gets_the_same_checks_as_a_new_referral():
    assert isinstance(check(submission(action="update")), Accepted)
    bad = check(submission(action="update", **{"patient.nhs_number": "9990000019"}))
    assert problems(bad) == {("nhs_number.checksum", "data.patient.nhs_number")}


# ---------------------------------------------------------------------------- each problem
@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"patient.nhs_number": ""}, "nhs_number.missing", "patient.nhs_number"),
        ({"patient.nhs_number": "99900A0018"}, "nhs_number.format", "patient.nhs_number"),
        ({"patient.nhs_number": "999000001"}, "nhs_number.format", "patient.nhs_number"),
        ({"patient.nhs_number": "9990000019"}, "nhs_number.checksum", "patient.nhs_number"),
        ({"patient.date_of_birth": "2026-03-03"}, "date_of_birth.future", "patient.date_of_birth"),
        ({"patient.date_of_birth": "1905-03-01"}, "date_of_birth.implausible", "patient.date_of_birth"),
        ({"patient.date_of_birth": "2010-03-03"}, "age.out_of_range", "patient.date_of_birth"),
        (
            {"requested_programme": "steady_steps"},  # she is 64
            "programme.age_range",
            "requested_programme",
        ),
        (
            {"requested_programme": "escape_pain", "patient.date_of_birth": "1990-01-01"},
            "programme.age_range",
            "requested_programme",
        ),
        ({"patient.postcode": "LE1"}, "postcode.format", "patient.postcode"),
        ({"patient.postcode": "LE1 5WW 5WW"}, "postcode.format", "patient.postcode"),
        ({"patient.postcode": "SW1A 1AA"}, "postcode.outside_area", "patient.postcode"),
        ({"consent.share_with_provider": False}, "consent.missing", "consent.share_with_provider"),
        ({"referrer.ods_code": "not an ods"}, "referrer.ods_code", "referrer.ods_code"),
        ({"referrer.ods_code": ""}, "referrer.ods_code", "referrer.ods_code"),
        ({"referrer.ods_code": "C8"}, "referrer.ods_code", "referrer.ods_code"),
        ({"reasons": [], "reason_text": "  \n "}, "reason.missing", "reasons"),
        (
            {"reasons": [{"system": "http://read.info/ctv3", "code": "G20.."}], "reason_text": None},
            "reason.missing",
            "reasons",
        ),
        ({"reasons": [{"code": "hypertension"}]}, "reason.code_format", "reasons[0].code"),
        ({"reasons": [{"code": "038341003"}]}, "reason.code_format", "reasons[0].code"),
        ({"safety": {}}, "safety.bp_missing", "safety.resting_bp_systolic"),
        ({"safety.resting_bp_diastolic": None}, "safety.bp_missing", "safety.resting_bp_diastolic"),
        (
            {"requested_programme": "cardiopulmonary_rehab", "safety.resting_bp_systolic": None},
            "safety.bp_missing",
            "safety.resting_bp_systolic",
        ),
        ({"safety.resting_bp_systolic": 301}, "safety.bp_implausible", "safety.resting_bp_systolic"),
        ({"safety.resting_bp_systolic": 49}, "safety.bp_implausible", "safety.resting_bp_systolic"),
        ({"safety.resting_bp_diastolic": 29}, "safety.bp_implausible", "safety.resting_bp_diastolic"),
        (
            {"safety.resting_bp_systolic": 201, "safety.resting_bp_diastolic": 201},
            "safety.bp_implausible",
            "safety.resting_bp_diastolic",
        ),
        (
            {"safety.resting_bp_systolic": 90, "safety.resting_bp_diastolic": 90},
            "safety.bp_implausible",
            "safety.resting_bp_systolic",
        ),
        (
            {"requested_programme": "cardiopulmonary_rehab", "safety.unstable_angina": False},
            "safety.cardiac_history_missing",
            "safety.recent_cardiac_event_date",
        ),
        (
            {"requested_programme": "discharge_to_assess"},
            "safety.discharge_date_missing",
            "safety.discharge_date",
        ),
        ({"requested_programme": "fit4surgery"}, "safety.surgery_date_missing", "safety.surgery_date"),
        (
            {
                "requested_programme": "pre_post_natal",
                "patient.date_of_birth": "1995-05-05",
                "safety.pregnant": False,
            },
            "safety.pregnancy_status_missing",
            "safety.pregnant",
        ),
        ({"patient.lsoa": "W01000001"}, "lsoa.format", "patient.lsoa"),
        ({"patient.lsoa": "E0101364"}, "lsoa.format", "patient.lsoa"),
        ({"patient.address_lines": []}, "address.missing", "patient.address_lines"),
        ({"patient.address_lines": [" ", ""]}, "address.missing", "patient.address_lines"),
        (
            {"patient.address_lines": ["Flat 3", "x" * 201]},
            "address.line_too_long",
            "patient.address_lines[1]",
        ),
        (
            {"patient.address_lines": [f"Line {i}" for i in range(5)] + ["y" * 150, "z" * 60]},
            "address.too_many_lines",
            "patient.address_lines",
        ),
        ({"patient.given_name": " "}, "name.missing", "patient.given_name"),
        ({"patient.family_name": ""}, "name.missing", "patient.family_name"),
        ({"patient.family_name": "M" * 201}, "name.too_long", "patient.family_name"),
        ({"patient.phone": "0" * 41}, "phone.invalid", "patient.phone"),
        ({"patient.email": "asha.example.org"}, "email.invalid", "patient.email"),
        ({"patient.email": "asha @example.org"}, "email.invalid", "patient.email"),
        ({"patient.ethnicity": "Q"}, "ethnicity.unknown_code", "patient.ethnicity"),
        ({"notes": "n" * 2001}, "free_text.too_long", "notes"),
        ({"reason_text": "r" * 2001}, "free_text.too_long", "reason_text"),
        ({"cancel_reason": "c" * 2001}, "free_text.too_long", "cancel_reason"),
        ({"reason_text": "feels\x00unwell"}, "free_text.control_characters", "reason_text"),
        ({"notes": "\x1b[31mred"}, "free_text.control_characters", "notes"),
        ({"notes": "delete\x7f"}, "free_text.control_characters", "notes"),
        ({"notes": "c1 \x85 control"}, "free_text.control_characters", "notes"),
        ({"patient.family_name": "Mis\x07try"}, "free_text.control_characters", "patient.family_name"),
        ({"patient.phone": "0116\x00496"}, "free_text.control_characters", "patient.phone"),
        (
            {"patient.address_lines": ["Flat 3", "27\x0bWelford Road"]},
            "free_text.control_characters",
            "patient.address_lines[1]",
        ),
        (
            {"reasons": [{"code": "38341003", "display": "Hyper\x1ftension"}]},
            "free_text.control_characters",
            "reasons[0].display",
        ),
        ({"consent.recorded_by": "Dr\x00Patel"}, "free_text.control_characters", "consent.recorded_by"),
    ],
)
def test_each_problem_is_reported_with_its_code_and_field(changes, code, field):
    assert (code, f"data.{field}") in problems(check(submission(**changes)))


def test_test_range_numbers_are_refused_when_the_policy_does_not_accept_them():
    refused = check(submission(), ValidationPolicy(accept_test_nhs_numbers=False))
    assert problems(refused) == {("nhs_number.test_number", "data.patient.nhs_number")}
    real = check(submission(**{"patient.nhs_number": "9434765919"}), ValidationPolicy())
    assert isinstance(real, Accepted)


def test_the_policy_sets_the_age_range_and_the_free_text_limit():
    strict = ValidationPolicy(accept_test_nhs_numbers=True, min_age=18, max_age=60, max_free_text=50)
    result = check(submission(notes="n" * 51, reason_text="r" * 50), strict)  # she is 64
    assert problems(result) == {
        ("age.out_of_range", "data.patient.date_of_birth"),
        ("free_text.too_long", "data.notes"),
    }


def test_reason_text_is_held_to_the_contracts_2000_characters_even_when_the_policy_allows_more():
    generous = ValidationPolicy(accept_test_nhs_numbers=True, max_free_text=5000)
    assert problems(check(submission(reason_text="r" * 2001), generous)) == {
        ("free_text.too_long", "data.reason_text")
    }
    assert isinstance(check(submission(notes="n" * 4000), generous), Accepted)


@pytest.mark.parametrize(
    "settings",
    [{"max_free_text": 0}, {"min_age": -1}, {"min_age": 50, "max_age": 40}, {"max_age": 121}],
)
def test_a_policy_that_makes_no_sense_is_refused(settings):
    with pytest.raises(ValueError):
        ValidationPolicy(**settings)


# ---------------------------------------------------------------------------- all together
def test_every_problem_is_reported_together_with_a_one_sentence_summary():
    result = check(
        submission(
            **{
                "patient.nhs_number": "9990000019",
                "patient.postcode": "SW1A 1AA",
                "patient.email": "nope",
                "patient.address_lines": [],
                "consent.share_with_provider": False,
                "safety.resting_bp_systolic": 400,
                "notes": "bad\x00",
            }
        )
    )
    assert problems(result) == {
        ("nhs_number.checksum", "data.patient.nhs_number"),
        ("postcode.outside_area", "data.patient.postcode"),
        ("email.invalid", "data.patient.email"),
        ("address.missing", "data.patient.address_lines"),
        ("consent.missing", "data.consent.share_with_provider"),
        ("safety.bp_implausible", "data.safety.resting_bp_systolic"),
        ("free_text.control_characters", "data.notes"),
    }
    assert isinstance(result, Rejected)
    assert result.summary.startswith("7 problems: ")
    assert result.summary.endswith(".")
    assert "the NHS number fails its check digit" in result.summary
    assert "\n" not in result.summary


def test_a_single_problem_is_summarised_in_the_singular():
    result = check(submission(**{"consent.share_with_provider": False}))
    assert isinstance(result, Rejected)
    assert result.summary.startswith("1 problem: the patient's consent")


def test_the_largest_notes_the_contract_admits_are_a_rejection_not_an_exception():
    assert problems(check(submission(notes="n" * 100_000))) == {("free_text.too_long", "data.notes")}


def test_a_megabyte_of_free_text_that_bypassed_the_contract_is_still_just_a_rejection():
    # The consumer dead-letters a message this large; validate copes even if one slips through.
    sub = submission().model_copy(update={"notes": "n" * 1_000_000, "reason_text": "<p>" * 400_000})
    assert problems(check(sub)) == {
        ("free_text.too_long", "data.notes"),
        ("free_text.too_long", "data.reason_text"),
    }


def test_hundreds_of_problems_are_capped_to_what_a_rejection_event_holds():
    bad_codes = [{"code": f"x{i}"} for i in range(100)]
    result = check(submission(reasons=bad_codes, **{"patient.address_lines": ["ok\x00"] * 20}))
    assert isinstance(result, Rejected)
    assert len(result.reasons) == 100
    assert len(result.summary) <= 2000


def test_messages_and_summary_never_repeat_the_patients_details():
    details = {
        "patient.nhs_number": "4010232138",
        "patient.postcode": "NG7 2UH",
        "patient.given_name": "Zebedee\x00",
        "patient.family_name": "Quartermaine" * 20,
        "patient.email": "zebedee.quartermaine",
        "patient.date_of_birth": "2031-07-19",
        "patient.lsoa": "W01001234",
    }
    result = check(submission(**details))
    assert isinstance(result, Rejected)
    text = result.summary + " ".join(r.message for r in result.reasons)
    for needle in ("4010232138", "401 023", "NG7", "Zebedee", "Quartermaine", "2031", "W01001234"):
        assert needle.lower() not in text.lower()


# ---------------------------------------------------------------------------- cancellations
def test_a_cancellation_is_checked_for_its_own_fields_not_its_clinical_content():
    wrong_everywhere = {"patient.nhs_number": "bad", "consent.share_with_provider": False, "safety": {}}
    fine = submission(action="cancel", cancel_status="revoked", **wrong_everywhere)
    assert validate_cancellation(fine, policy=POLICY) is None
    no_status = validate_cancellation(submission(action="cancel", **wrong_everywhere), policy=POLICY)
    assert problems(no_status) == {("cancel.status_missing", "data.cancel_status")}


def test_a_cancellation_reason_is_free_text_like_any_other():
    sub = submission(action="cancel", cancel_status="entered-in-error", cancel_reason="x\x00" * 1500)
    assert problems(validate_cancellation(sub, policy=POLICY)) == {
        ("free_text.too_long", "data.cancel_reason"),
        ("free_text.control_characters", "data.cancel_reason"),
    }


def test_validate_answers_a_cancellation_without_raising_and_without_judging_its_clinical_content():
    fine = check(submission(action="cancel", cancel_status="revoked", **{"patient.nhs_number": "bad"}))
    assert problems(fine) == {("action.cancel", "data.action")}
    no_status = check(submission(action="cancel"))
    assert problems(no_status) == {("cancel.status_missing", "data.cancel_status")}
