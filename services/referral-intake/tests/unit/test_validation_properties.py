"""Properties of validate over arbitrary submissions: it answers, never raises, never leaks."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, ClassVar

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from referral_intake.domain.validation import Accepted, Rejected, ValidationPolicy, validate
from referral_schemas.enums import District, Programme, ReferralAction, Sex
from referral_schemas.events.referral import ReferralSubmitted
from referral_schemas.examples import example
from servicekit.testing import with_changes

TODAY = date(2026, 3, 2)
BASE: dict[str, Any] = example("referral.submitted").data.model_dump(mode="json")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
# Every code intake gives, so referrers can rely on the vocabulary staying put.
KNOWN_CODES = {
    "action.cancel",
    "address.line_too_long",
    "address.missing",
    "address.too_many_lines",
    "age.out_of_range",
    "cancel.status_missing",
    "consent.missing",
    "date_of_birth.future",
    "date_of_birth.implausible",
    "email.invalid",
    "ethnicity.unknown_code",
    "free_text.control_characters",
    "free_text.too_long",
    "lsoa.format",
    "name.missing",
    "name.too_long",
    "nhs_number.checksum",
    "nhs_number.format",
    "nhs_number.missing",
    "nhs_number.test_number",
    "phone.invalid",
    "postcode.format",
    "postcode.outside_area",
    "programme.age_range",
    "reason.code_format",
    "reason.missing",
    "referrer.ods_code",
    "safety.bp_implausible",
    "safety.bp_missing",
    "safety.cardiac_history_missing",
    "safety.discharge_date_missing",
    "safety.pregnancy_status_missing",
    "safety.surgery_date_missing",
}


class FakeArea:
    served: ClassVar[dict[str, District]] = {"LE1 5WW": District.LEICESTER, "LE11 3TU": District.CHARNWOOD}

    def normalise_postcode(self, raw: str) -> str | None:
        m = _POSTCODE.match("".join(raw.upper().split()))
        return f"{m[1]} {m[2]}" if m else None

    def district_for(self, postcode: str) -> District | None:
        return self.served.get(postcode)


AREA = FakeArea()

# Any text, control characters and astral planes included (lone surrogates cannot travel in JSON).
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
_maybe_text = st.none() | _text
_digits = st.from_regex(r"\A[0-9 -]{0,14}\Z")
_postcodes = st.sampled_from(["LE1 5WW", "le115tu", "SW1A 1AA", "LE1", "", "LE10 3AZ"]) | _text
_dates = st.dates(date(1850, 1, 1), date(2100, 12, 31))
_bp = st.none() | st.integers(-10_000, 10_000)
_coding = st.fixed_dictionaries(
    {"code": st.text(min_size=1, max_size=20)},
    optional={
        "system": st.sampled_from(["http://snomed.info/sct", "http://read.info/ctv3"]),
        "display": _maybe_text,
    },
)


@st.composite
def submissions(draw: st.DrawFn) -> dict[str, Any]:
    """The example submission with many fields replaced by arbitrary values of their types."""
    candidates = {
        "action": st.sampled_from([a.value for a in ReferralAction]),
        "cancel_status": st.none() | st.sampled_from(["revoked", "entered-in-error"]),
        "cancel_reason": _maybe_text,
        "referrer.ods_code": st.text(max_size=20),
        "referrer.clinician_name": _maybe_text,
        "patient.nhs_number": _digits | st.text(max_size=20),
        "patient.given_name": _text,
        "patient.family_name": _text,
        "patient.date_of_birth": _dates.map(str),
        "patient.sex": st.sampled_from([s.value for s in Sex]),
        "patient.ethnicity": st.none() | st.text(max_size=20),
        "patient.postcode": _postcodes.map(lambda p: p[:20]),
        "patient.lsoa": st.none() | st.text(max_size=20) | st.just("E01013646"),
        "patient.phone": _maybe_text,
        "patient.email": _maybe_text | st.emails().map(lambda e: e[:200]),
        "patient.address_lines": st.lists(_text, max_size=20),
        "consent.share_with_provider": st.booleans(),
        "reasons": st.lists(_coding, max_size=4),
        "reason_text": _maybe_text,
        "requested_programme": st.none() | st.sampled_from([p.value for p in Programme]),
        "safety": st.fixed_dictionaries(
            {},
            optional={
                "resting_bp_systolic": _bp,
                "resting_bp_diastolic": _bp,
                "recent_cardiac_event_date": st.none() | _dates.map(str),
                "unstable_angina": st.none() | st.booleans(),
                "uncontrolled_arrhythmia": st.none() | st.booleans(),
                "pregnant": st.none() | st.booleans(),
                "postnatal": st.none() | st.booleans(),
                "discharge_date": st.none() | _dates.map(str),
                "surgery_date": st.none() | _dates.map(str),
            },
        ),
        "notes": _maybe_text | st.integers(0, 3000).map(lambda n: "n" * n),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(candidates)), unique=True, max_size=len(candidates)))
    return with_changes(BASE, {path: draw(candidates[path]) for path in chosen})


_policies = st.builds(
    ValidationPolicy,
    accept_test_nhs_numbers=st.booleans(),
    max_free_text=st.integers(1, 5000),
    min_age=st.integers(0, 20),
    max_age=st.integers(60, 120),
)


def _read(doc: dict[str, Any]) -> ReferralSubmitted:
    try:
        return ReferralSubmitted.model_validate_json(json.dumps(doc))
    except ValidationError:
        assume(False)  # the contract refuses it: a dead letter, never reaches validate
        raise


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(submissions(), _policies, _dates)
def test_validate_only_ever_accepts_or_rejects_with_well_formed_reasons(doc, policy, today):
    result = validate(_read(doc), today=today, policy=policy, area=AREA)
    assert isinstance(result, Accepted | Rejected)
    if isinstance(result, Rejected):
        assert result.reasons
        assert 0 < len(result.summary) <= 2000
        for reason in result.reasons:
            assert reason.code in KNOWN_CODES, reason.code
            assert reason.field is not None and reason.field.startswith("data.")
            assert reason.message.strip()
    else:
        # An acceptance is only ever built from checked values.
        assert result.nhs_number.isdigit() and len(result.nhs_number) == 10
        assert policy.min_age <= result.age_years <= policy.max_age
        assert result.contact.nhs_number == result.nhs_number


@settings(max_examples=300, deadline=None)
@given(
    submissions(),
    st.from_regex(r"\A[0-9]{10}\Z"),
    st.sampled_from(["LE1 5WW", "SW1A 1AA", "NG7 2UH", "LE11 3TU", "B15 2TT"]),
    # "Qx" keeps a generated name from spelling a word a message might use.
    st.text(st.characters(categories=["Lu", "Ll"]), max_size=30).map(lambda s: "Qx" + s),
)
def test_messages_never_contain_the_nhs_number_postcode_or_name_given(doc, nhs_number, postcode, name):
    doc = with_changes(
        doc,
        {"patient.nhs_number": nhs_number, "patient.postcode": postcode, "patient.family_name": name},
    )
    policy = ValidationPolicy(accept_test_nhs_numbers=False)
    result = validate(_read(doc), today=TODAY, policy=policy, area=AREA)
    if isinstance(result, Rejected):
        said = (result.summary + "\n".join(r.message for r in result.reasons)).upper()
        assert nhs_number not in said
        assert postcode.upper() not in said and postcode.split()[0] + " " not in said
        assert name.upper() not in said
