"""What intake checks per requested programme: who it is for and which safety facts it needs.

Intake checks only what a referral must carry before anyone can decide on it; triage's rules
decide the programme. Age ranges follow the programmes' published eligibility in LLR (adults,
with Exercise Referral and Pre and Post Natal open from 16; ESCAPE-Pain for chronic joint pain,
typically 45+; Steady Steps for older people at risk of falls, typically 65+).
"""

from __future__ import annotations

from dataclasses import dataclass

from referral_schemas.enums import Programme
from referral_schemas.events.common import SafetyAsSubmitted

RULES_VERSION = "intake-2026.11.1"


@dataclass(frozen=True)
class ProgrammeRequirements:
    min_age: int
    max_age: int | None
    needs_blood_pressure: bool = False
    needs_cardiac_history: bool = False
    needs_discharge_date: bool = False
    needs_surgery_date: bool = False
    needs_pregnancy_status: bool = False


REQUIREMENTS: dict[Programme, ProgrammeRequirements] = {
    Programme.EXERCISE_REFERRAL: ProgrammeRequirements(16, None, needs_blood_pressure=True),
    Programme.CARDIOPULMONARY_REHAB: ProgrammeRequirements(
        18, None, needs_blood_pressure=True, needs_cardiac_history=True
    ),
    Programme.ESCAPE_PAIN: ProgrammeRequirements(45, None),
    Programme.STEADY_STEPS: ProgrammeRequirements(65, None),
    Programme.FIT4SURGERY: ProgrammeRequirements(18, None, needs_surgery_date=True),
    Programme.PRE_POST_NATAL: ProgrammeRequirements(16, 55, needs_pregnancy_status=True),
    Programme.DISCHARGE_TO_ASSESS: ProgrammeRequirements(18, None, needs_discharge_date=True),
}
assert set(REQUIREMENTS) == set(Programme), "every programme needs its intake requirements"


def missing_safety(programme: Programme, safety: SafetyAsSubmitted) -> list[tuple[str, str, str]]:
    """(code, field, message) for each safety fact `programme` needs that the referral lacks."""
    req = REQUIREMENTS[programme]
    name = programme.value.replace("_", " ")
    out: list[tuple[str, str, str]] = []
    if req.needs_blood_pressure and (
        safety.resting_bp_systolic is None or safety.resting_bp_diastolic is None
    ):
        out.append(("safety.bp_missing", "resting_bp_systolic", f"{name} needs a resting blood pressure."))
    if req.needs_cardiac_history and (
        safety.recent_cardiac_event_date is None
        and (safety.unstable_angina is None or safety.uncontrolled_arrhythmia is None)
    ):
        out.append(
            (
                "safety.cardiac_history_missing",
                "recent_cardiac_event_date",
                f"{name} needs the date of the cardiac event, or answers on unstable angina and arrhythmia.",
            )
        )
    if req.needs_discharge_date and safety.discharge_date is None:
        out.append(("safety.discharge_date_missing", "discharge_date", f"{name} needs the discharge date."))
    if req.needs_surgery_date and safety.surgery_date is None:
        out.append(
            ("safety.surgery_date_missing", "surgery_date", f"{name} needs the planned treatment date.")
        )
    if req.needs_pregnancy_status and not (safety.pregnant or safety.postnatal):
        out.append(
            (
                "safety.pregnancy_status_missing",
                "pregnant",
                f"{name} is for people pregnant or within 12 months after birth.",
            )
        )
    return out
