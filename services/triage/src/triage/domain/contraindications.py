"""Safety facts that send a referral back to its referrer instead of to any programme."""

from __future__ import annotations

from datetime import date

from referral_schemas.enums import Programme
from referral_schemas.events.common import Reason
from referral_schemas.events.referral import ReferralAccepted
from triage.domain.facts import days_since_cardiac_event
from triage.domain.reasons import reason
from triage.domain.rules import Rules


def contraindications(
    referral: ReferralAccepted, rules: Rules, programme: Programme | None, today: date
) -> list[Reason]:
    """Every contraindication present; empty when the patient may be placed or signposted."""
    limits = rules.contraindications
    bp = limits.blood_pressure
    s = referral.safety
    found: list[Reason] = []
    systolic_high = s.resting_bp_systolic is not None and s.resting_bp_systolic >= bp.systolic_at_least
    diastolic_high = s.resting_bp_diastolic is not None and s.resting_bp_diastolic >= bp.diastolic_at_least
    if systolic_high or diastolic_high:
        found.append(
            reason(
                "contraindication.blood_pressure",
                "data.safety.resting_bp_systolic" if systolic_high else "data.safety.resting_bp_diastolic",
                f"Resting blood pressure at or above {bp.systolic_at_least}/"
                f"{bp.diastolic_at_least} mmHg: please refer again once it is controlled.",
            )
        )
    if s.unstable_angina:
        found.append(
            reason(
                "contraindication.unstable_angina",
                "data.safety.unstable_angina",
                "Unstable angina: exercise is contraindicated until it is stabilised.",
            )
        )
    if s.uncontrolled_arrhythmia:
        found.append(
            reason(
                "contraindication.uncontrolled_arrhythmia",
                "data.safety.uncontrolled_arrhythmia",
                "Uncontrolled arrhythmia: exercise is contraindicated until it is controlled.",
            )
        )
    window = limits.recent_cardiac_event
    days = days_since_cardiac_event(referral, today)
    if days is not None and days < window.excluded_days:
        exempt = programme in window.exempt_programmes and days >= window.exempt_from_day
        if not exempt:
            found.append(
                reason(
                    "contraindication.recent_cardiac_event",
                    "data.safety.recent_cardiac_event_date",
                    _cardiac_message(window.excluded_days, window.exempt_programmes, window.exempt_from_day),
                )
            )
    return found


def _cardiac_message(excluded_days: int, exempt: list[Programme], from_day: int) -> str:
    if not exempt:
        return f"A cardiac event within the last {excluded_days} days: no programme may take the patient yet."
    names = ", ".join(p.value.replace("_", " ") for p in exempt)
    return (
        f"A cardiac event within the last {excluded_days} days: only {names} may take the patient, "
        f"from day {from_day} after the event."
    )
