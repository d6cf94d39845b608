"""Whether a submitted referral can be accepted, and if not, every reason why.

`validate` never raises for any `ReferralSubmitted`: each problem becomes a `Reason` with a
stable code, the path of the field concerned and a sentence that never repeats patient data.
Free text is data: it is bounded and refused with control characters, never interpreted.
A cancellation is checked for its own fields only; its referral's state is the handler's affair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from pydantic import ValidationError
from referral_intake.domain.nhs_number import NhsNumberProblem, check_nhs_number
from referral_intake.domain.programmes import REQUIREMENTS, missing_safety
from referral_schemas.enums import District, ReferralAction
from referral_schemas.events.common import (
    SNOMED_CT,
    ClinicalSafety,
    Demographics,
    PatientContact,
    Reason,
    Residence,
)
from referral_schemas.events.referral import ReferralSubmitted

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ODS = re.compile(r"^[A-Z0-9]{3,10}$")
_LSOA = re.compile(r"^E01[0-9]{6}$")
_ETHNICITY = re.compile(r"^([A-HJ-NPRSZ]|99)$")
_SNOMED_ID = re.compile(r"^[1-9][0-9]{5,17}$")
_SUMMARY_MAX = 2000


class AreaLookup(Protocol):
    def normalise_postcode(self, raw: str) -> str | None: ...

    def district_for(self, postcode: str) -> District | None:
        """The served district of a postcode; None when outside the area or unknown."""
        ...


@dataclass(frozen=True)
class ValidationPolicy:
    accept_test_nhs_numbers: bool = False
    max_free_text: int = 2000
    min_age: int = 16
    max_age: int = 120


@dataclass(frozen=True)
class Accepted:
    nhs_number: str
    referrer_ods_code: str
    contact: PatientContact
    demographics: Demographics
    residence: Residence
    safety: ClinicalSafety
    reason_text: str | None


@dataclass(frozen=True)
class Rejected:
    reasons: list[Reason]
    summary: str


def validate(
    submission: ReferralSubmitted, *, today: date, policy: ValidationPolicy, area: AreaLookup
) -> Accepted | Rejected:
    problems = _Problems()
    _check_free_text(submission, policy, problems)
    ods = submission.referrer.ods_code.strip().upper()
    if not _ODS.match(ods):
        problems.add(
            "referrer.ods_code", "referrer.ods_code", "The referrer's ODS code is missing or malformed."
        )
    if submission.action is ReferralAction.CANCEL:
        raise ValueError("validate() is for new referrals and updates; use validate_cancellation")

    p = submission.patient
    nhs = check_nhs_number(p.nhs_number, accept_test_numbers=policy.accept_test_nhs_numbers)
    if isinstance(nhs, NhsNumberProblem):
        problems.add(nhs.code, "patient.nhs_number", nhs.message)
    age = _age(p.date_of_birth, today, policy, problems)
    postcode = area.normalise_postcode(p.postcode)
    district = None
    if postcode is None:
        problems.add("postcode.format", "patient.postcode", "The postcode is not a valid UK postcode.")
    else:
        district = area.district_for(postcode)
        if district is None:
            problems.add(
                "postcode.outside_area",
                "patient.postcode",
                "The postcode is outside Leicester, Leicestershire and Rutland, which this service covers.",
            )
    if not submission.consent.share_with_provider:
        problems.add(
            "consent.missing",
            "consent.share_with_provider",
            "The patient's consent to share with a provider is not recorded.",
        )
    _check_reasons(submission, problems)
    safety = _check_safety(submission, age, problems)
    if p.ethnicity is not None and not _ETHNICITY.match(p.ethnicity.strip().upper()):
        problems.add(
            "ethnicity.unknown_code", "patient.ethnicity", "The ethnicity is not an NHS ethnic category code."
        )
    contact = _contact(submission, nhs, postcode, problems)
    if (rejected := problems.rejected()) is not None:
        return rejected
    assert isinstance(nhs, str)
    assert postcode is not None
    assert district is not None
    assert age is not None
    assert contact is not None
    assert safety is not None
    lsoa = (p.lsoa or "").strip().upper()
    ethnicity = p.ethnicity.strip().upper() if p.ethnicity else None
    reason_text = (submission.reason_text or "").strip() or None
    return Accepted(
        nhs_number=nhs,
        referrer_ods_code=ods,
        contact=contact,
        demographics=Demographics(age_years=age, sex=p.sex, ethnicity=ethnicity),
        # An LSOA that is not an English LSOA code is dropped rather than refused: it is optional,
        # and the postcode gives the area just as well.
        residence=Residence(postcode=postcode, lsoa=lsoa if _LSOA.match(lsoa) else None, district=district),
        safety=safety,
        reason_text=reason_text,
    )


def validate_cancellation(submission: ReferralSubmitted, *, policy: ValidationPolicy) -> Rejected | None:
    """A cancellation's own fields; its clinical content is irrelevant and not checked."""
    problems = _Problems()
    if submission.cancel_status is None:
        problems.add(
            "cancel.status_missing", "cancel_status", "A cancellation must say revoked or entered-in-error."
        )
    reason = submission.cancel_reason or ""
    if len(reason) > policy.max_free_text:
        problems.add(
            "free_text.too_long", "cancel_reason", f"At most {policy.max_free_text} characters are accepted."
        )
    if _CONTROL.search(reason):
        problems.add(
            "free_text.control_characters", "cancel_reason", "This text contains control characters."
        )
    return problems.rejected()


# ---------------------------------------------------------------------------- checks
class _Problems:
    def __init__(self) -> None:
        self.reasons: list[Reason] = []

    def add(self, code: str, field: str, message: str) -> None:
        self.reasons.append(Reason(code=code, field=f"data.{field}", message=message))

    def rejected(self) -> Rejected | None:
        if not self.reasons:
            return None
        messages = "; ".join(r.message.rstrip(".") for r in self.reasons)
        count = len(self.reasons)
        summary = f"{count} problem{'s' if count > 1 else ''}: {messages}."
        if len(summary) > _SUMMARY_MAX:
            summary = summary[: _SUMMARY_MAX - 1] + "…"
        return Rejected(self.reasons[:100], summary)


def _age(born: date, today: date, policy: ValidationPolicy, problems: _Problems) -> int | None:
    if born > today:
        problems.add("date_of_birth.future", "patient.date_of_birth", "The date of birth is in the future.")
        return None
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age > policy.max_age:
        problems.add(
            "date_of_birth.implausible",
            "patient.date_of_birth",
            f"The date of birth gives an age over {policy.max_age}.",
        )
        return None
    if age < policy.min_age:
        problems.add(
            "age.out_of_range",
            "patient.date_of_birth",
            f"The service is for people aged {policy.min_age} or over.",
        )
    return age


def _check_free_text(s: ReferralSubmitted, policy: ValidationPolicy, problems: _Problems) -> None:
    texts = {
        "reason_text": s.reason_text,
        "notes": s.notes,
        "cancel_reason": s.cancel_reason,
        "patient.given_name": s.patient.given_name,
        "patient.family_name": s.patient.family_name,
        "referrer.clinician_name": s.referrer.clinician_name,
        **{f"patient.address_lines[{i}]": line for i, line in enumerate(s.patient.address_lines)},
    }
    for field, text in texts.items():
        if text is None:
            continue
        if len(text) > policy.max_free_text:
            problems.add(
                "free_text.too_long",
                field,
                f"This text has {len(text)} characters; at most {policy.max_free_text} are accepted.",
            )
        if _CONTROL.search(text):
            problems.add("free_text.control_characters", field, "This text contains control characters.")


def _check_reasons(s: ReferralSubmitted, problems: _Problems) -> None:
    coded = [r for r in s.reasons if r.system == SNOMED_CT]
    for i, r in enumerate(coded):
        if not _SNOMED_ID.match(r.code):
            problems.add(
                "reason.code_format", f"reasons[{i}].code", "A SNOMED CT code must be 6 to 18 digits."
            )
    if not coded and not (s.reason_text or "").strip():
        problems.add(
            "reason.missing", "reasons", "The reason for referral must be coded (SNOMED CT) or stated."
        )


def _check_safety(s: ReferralSubmitted, age: int | None, problems: _Problems) -> ClinicalSafety | None:
    safety = s.safety
    sys_bp, dia_bp = safety.resting_bp_systolic, safety.resting_bp_diastolic
    plausible = True
    if (sys_bp is not None and not 50 <= sys_bp <= 300) or (dia_bp is not None and not 30 <= dia_bp <= 200):
        plausible = False
    if sys_bp is not None and dia_bp is not None and sys_bp <= dia_bp:
        plausible = False
    if not plausible:
        problems.add(
            "safety.bp_implausible",
            "safety.resting_bp_systolic",
            "The resting blood pressure reading is not plausible.",
        )
    programme = s.requested_programme
    if programme is not None:
        req = REQUIREMENTS[programme]
        if age is not None and (age < req.min_age or (req.max_age is not None and age > req.max_age)):
            upper = f" to {req.max_age}" if req.max_age is not None else " or over"
            problems.add(
                "programme.age_range",
                "requested_programme",
                f"{programme.value.replace('_', ' ')} is for people aged {req.min_age}{upper}.",
            )
        for code, field, message in missing_safety(programme, safety):
            problems.add(code, f"safety.{field}", message)
    if not plausible:
        return None
    return ClinicalSafety.model_validate(safety.model_dump())


def _contact(
    s: ReferralSubmitted, nhs: str | NhsNumberProblem, postcode: str | None, problems: _Problems
) -> PatientContact | None:
    p = s.patient
    lines = [line.strip() for line in p.address_lines if line.strip()]
    if not lines:
        problems.add("address.missing", "patient.address_lines", "At least one address line is needed.")
    for field, value in (("patient.given_name", p.given_name), ("patient.family_name", p.family_name)):
        if not value.strip():
            problems.add("name.missing", field, "The patient's name is missing.")
    if not lines or not isinstance(nhs, str) or postcode is None:
        return None
    try:
        return PatientContact(
            nhs_number=nhs,
            given_name=p.given_name.strip(),
            family_name=p.family_name.strip(),
            date_of_birth=p.date_of_birth,
            phone=(p.phone or "").strip() or None,
            email=(p.email or "").strip() or None,
            address_lines=lines[:6],
            postcode=postcode,
        )
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "patient"
            problems.add(
                f"{field}.invalid",
                f"patient.{field}",
                f"The patient's {field.replace('_', ' ')} is not valid.",
            )
        return None
