"""Whether a submitted referral can be accepted, and if not, every reason why.

`validate` never raises for a `ReferralSubmitted` the contract admits: each problem becomes a
`Reason` with a stable dotted code, the path of the field concerned ("data.patient.nhs_number")
and a plain sentence that never repeats patient data, and all of them are reported together.
Free text is data: bounded and refused with control characters, never interpreted, so SQL- or
HTML-looking text is accepted as it is.

New referrals and updates get the full checks; whether an update may apply (the referral exists
and is active) is the service's affair. A cancellation is checked for its own fields only
(`validate_cancellation`): its source identifiers are already held to the contract, and the
clinical content it repeats is irrelevant to withdrawing a referral.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from referral_intake.domain.clinical import check_reasons, check_safety
from referral_intake.domain.free_text import has_control_characters
from referral_intake.domain.nhs_number import NhsNumberProblem, check_nhs_number
from referral_intake.domain.patient import check_age, check_contact, check_ethnicity, check_residence
from referral_intake.domain.policy import AreaLookup, ValidationPolicy
from referral_intake.domain.problems import Problems, Rejected
from referral_schemas.enums import District, ReferralAction
from referral_schemas.events.common import ClinicalSafety, Demographics, PatientContact, Residence
from referral_schemas.events.referral import ReferralSubmitted

__all__ = [
    "Accepted",
    "AreaLookup",
    "Rejected",
    "ValidationPolicy",
    "validate",
    "validate_cancellation",
]

_ODS = re.compile(r"^[A-Z0-9]{3,10}$")  # referral_schemas.primitives.OdsCode
# ReferralAccepted.reason_text is a Text (at most 2000 characters), whatever the policy allows.
_PASSED_ON_TEXT = 2000


@dataclass(frozen=True)
class Accepted:
    """A referral that passed every check, in the contract types `ReferralAccepted` is built from."""

    nhs_number: str
    referrer_ods_code: str
    contact: PatientContact
    demographics: Demographics
    residence: Residence
    safety: ClinicalSafety
    reason_text: str | None
    notes: str | None

    @property
    def postcode(self) -> str:
        return self.residence.postcode

    @property
    def district(self) -> District:
        return self.residence.district

    @property
    def age_years(self) -> int:
        return self.demographics.age_years


def validate(
    submission: ReferralSubmitted, *, today: date, policy: ValidationPolicy, area: AreaLookup
) -> Accepted | Rejected:
    """Check a new referral or an update; `today` is the date ages are worked out on.

    A cancellation passed here is answered by `validate_cancellation`'s rejection if its own
    fields are wrong, else by a rejection with code "action.cancel": it is not a referral to
    accept, and the service routes cancellations to `validate_cancellation` instead.
    """
    if submission.action is ReferralAction.CANCEL:
        return validate_cancellation(submission, policy=policy) or _not_a_referral()
    problems = Problems()
    ods = _check_referrer(submission, problems)
    if not submission.consent.share_with_provider:
        problems.add(
            "consent.missing",
            "consent.share_with_provider",
            "The patient's consent to share their details with a provider is not recorded.",
        )
    patient = submission.patient
    nhs = check_nhs_number(patient.nhs_number, accept_test_numbers=policy.accept_test_nhs_numbers)
    if isinstance(nhs, NhsNumberProblem):
        problems.add(nhs.code, "patient.nhs_number", nhs.message)
        nhs_number = None
    else:
        nhs_number = nhs
    age = check_age(patient.date_of_birth, today, policy, problems)
    residence = check_residence(patient, area, problems)
    ethnicity = check_ethnicity(patient.ethnicity, problems)
    contact = check_contact(patient, nhs_number, residence.postcode if residence else None, problems)
    check_reasons(submission.reasons, submission.reason_text, problems)
    safety = check_safety(submission, age, problems)
    _check_free_text(submission, policy, problems)

    if (rejected := problems.rejected()) is not None:
        return rejected
    # No problem recorded means every check produced its value; these only inform mypy.
    assert nhs_number is not None
    assert ods is not None
    assert age is not None
    assert residence is not None
    assert contact is not None
    assert safety is not None
    return Accepted(
        nhs_number=nhs_number,
        referrer_ods_code=ods,
        contact=contact,
        demographics=Demographics(age_years=age, sex=patient.sex, ethnicity=ethnicity),
        residence=residence,
        safety=safety,
        reason_text=(submission.reason_text or "").strip() or None,
        notes=(submission.notes or "").strip() or None,
    )


def validate_cancellation(submission: ReferralSubmitted, *, policy: ValidationPolicy) -> Rejected | None:
    """A cancellation's own fields (status, reason text); None when it is in order.

    Its clinical content is not checked: a referrer must be able to withdraw a referral whose
    details were wrong.
    """
    problems = Problems()
    if submission.cancel_status is None:
        problems.add(
            "cancel.status_missing",
            "cancel_status",
            "A cancellation must say whether the referral is revoked or entered in error.",
        )
    _check_text("cancel_reason", submission.cancel_reason, policy.max_free_text, problems)
    return problems.rejected()


def _not_a_referral() -> Rejected:
    problems = Problems()
    problems.add(
        "action.cancel",
        "action",
        "A cancellation is handled as a cancellation, not checked as a referral to accept.",
    )
    rejected = problems.rejected()
    assert rejected is not None
    return rejected


def _check_referrer(submission: ReferralSubmitted, problems: Problems) -> str | None:
    ods = submission.referrer.ods_code.strip().upper()
    if not _ODS.match(ods):
        problems.add(
            "referrer.ods_code",
            "referrer.ods_code",
            "The referrer's ODS code is missing or is not 3 to 10 letters and digits.",
        )
        return None
    return ods


def _check_free_text(submission: ReferralSubmitted, policy: ValidationPolicy, problems: Problems) -> None:
    """Length of the free-text fields, and control characters in every text field."""
    reason_limit = min(policy.max_free_text, _PASSED_ON_TEXT)
    _check_text("reason_text", submission.reason_text, reason_limit, problems)
    _check_text("notes", submission.notes, policy.max_free_text, problems)
    _check_text("cancel_reason", submission.cancel_reason, policy.max_free_text, problems)
    patient, referrer = submission.patient, submission.referrer
    others: dict[str, str | None] = {
        "patient.given_name": patient.given_name,
        "patient.family_name": patient.family_name,
        "patient.phone": patient.phone,
        "patient.email": patient.email,
        **{f"patient.address_lines[{i}]": line for i, line in enumerate(patient.address_lines)},
        "referrer.clinician_name": referrer.clinician_name,
        "referrer.role": referrer.role,
        "referrer.phone": referrer.phone,
        "referrer.email": referrer.email,
        "consent.recorded_by": submission.consent.recorded_by,
    }
    for i, coding in enumerate(submission.reasons):
        others |= {
            f"reasons[{i}].system": coding.system,
            f"reasons[{i}].code": coding.code,
            f"reasons[{i}].display": coding.display,
        }
    for field, text in others.items():
        if text is not None and has_control_characters(text):
            _control_characters(field, problems)


def _check_text(field: str, text: str | None, limit: int, problems: Problems) -> None:
    if text is None:
        return
    if len(text) > limit:
        problems.add(
            "free_text.too_long", field, f"This text is longer than the {limit} characters accepted."
        )
    if has_control_characters(text):
        _control_characters(field, problems)


def _control_characters(field: str, problems: Problems) -> None:
    problems.add(
        "free_text.control_characters",
        field,
        "This text contains control characters; only line breaks and tabs are allowed.",
    )
