"""Checks of the clinical content: why the patient is referred and the safety facts given."""

from __future__ import annotations

import re

from referral_intake.domain.problems import Problems
from referral_intake.domain.programmes import PROGRAMME_RULES, missing_safety, programme_name
from referral_schemas.events.common import SNOMED_CT, ClinicalSafety, Coding
from referral_schemas.events.referral import ReferralSubmitted

# A SNOMED CT identifier is 6 to 18 digits with no leading zero.
_SNOMED_ID = re.compile(r"^[1-9][0-9]{5,17}$")
# ClinicalSafety's bounds, mmHg: readings outside them are typing errors, not patients.
SYSTOLIC_RANGE = (50, 300)
DIASTOLIC_RANGE = (30, 200)


def check_reasons(reasons: list[Coding], reason_text: str | None, problems: Problems) -> None:
    """At least one SNOMED CT coded reason or a stated one; coded ones shaped as SNOMED CT ids."""
    coded = False
    for i, reason in enumerate(reasons):
        if reason.system != SNOMED_CT:
            continue  # other code systems are kept as given but do not count as a coded reason
        coded = True
        if not _SNOMED_ID.match(reason.code):
            problems.add(
                "reason.code_format",
                f"reasons[{i}].code",
                "A SNOMED CT code must be 6 to 18 digits, not starting with 0.",
            )
    if not coded and not (reason_text or "").strip():
        problems.add(
            "reason.missing",
            "reasons",
            "The reason for referral must be given as a SNOMED CT code or in words.",
        )


def check_safety(submission: ReferralSubmitted, age: int | None, problems: Problems) -> ClinicalSafety | None:
    """Plausible blood pressure, the facts the requested programme needs, and its age range.

    Returns the safety facts as the checked contract type, or None when a reading is implausible.
    """
    safety = submission.safety
    systolic, diastolic = safety.resting_bp_systolic, safety.resting_bp_diastolic
    plausible = True
    for field, value, (low, high) in (
        ("resting_bp_systolic", systolic, SYSTOLIC_RANGE),
        ("resting_bp_diastolic", diastolic, DIASTOLIC_RANGE),
    ):
        if value is not None and not low <= value <= high:
            problems.add(
                "safety.bp_implausible",
                f"safety.{field}",
                f"The resting blood pressure reading is outside {low}-{high} mmHg, which cannot be right.",
            )
            plausible = False
    if systolic is not None and diastolic is not None and systolic <= diastolic:
        problems.add(
            "safety.bp_implausible",
            "safety.resting_bp_systolic",
            "The systolic blood pressure must be higher than the diastolic.",
        )
        plausible = False
    programme = submission.requested_programme
    if programme is not None:
        rules = PROGRAMME_RULES[programme]
        if age is not None and not rules.admits_age(age):
            problems.add(
                "programme.age_range",
                "requested_programme",
                f"{programme_name(programme)} is for people {rules.describe_ages()}.",
            )
        for fact in missing_safety(programme, safety):
            problems.add(fact.code, f"safety.{fact.field}", fact.message)
    if not plausible:
        return None
    return ClinicalSafety.model_validate(safety.model_dump())
