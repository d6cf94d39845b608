"""Risk level of a referral placed on a programme: which instructors may take the patient."""

from __future__ import annotations

from referral_schemas.enums import Programme, RiskLevel
from referral_schemas.events.common import Reason
from referral_schemas.events.referral import ReferralAccepted
from triage.domain.reasons import reason
from triage.domain.rules import RiskBand, Rules


def _why(
    band: RiskBand, referral: ReferralAccepted, programme: Programme, conditions: int
) -> tuple[str | None, str] | None:
    """The first criterion of the band the referral meets: the field behind it and its wording."""
    s = referral.safety
    if programme in band.programmes:
        return None, f"the {programme.value.replace('_', ' ')} programme"
    if (
        band.systolic_at_least is not None
        and s.resting_bp_systolic is not None
        and s.resting_bp_systolic >= band.systolic_at_least
    ):
        return (
            "data.safety.resting_bp_systolic",
            f"resting systolic blood pressure of {band.systolic_at_least} mmHg or more",
        )
    if (
        band.diastolic_at_least is not None
        and s.resting_bp_diastolic is not None
        and s.resting_bp_diastolic >= band.diastolic_at_least
    ):
        return (
            "data.safety.resting_bp_diastolic",
            f"resting diastolic blood pressure of {band.diastolic_at_least} mmHg or more",
        )
    if band.age_at_least is not None and referral.demographics.age_years >= band.age_at_least:
        return "data.demographics.age_years", f"age {band.age_at_least} or over"
    if band.conditions_at_least is not None and conditions >= band.conditions_at_least:
        return "data.reasons", f"{band.conditions_at_least} or more coded conditions"
    return None


def assess(
    referral: ReferralAccepted, rules: Rules, programme: Programme, codes: frozenset[str]
) -> tuple[RiskLevel, Reason]:
    conditions = len(codes & rules.known_codes)
    for level, band in ((RiskLevel.HIGH, rules.risk.high), (RiskLevel.MEDIUM, rules.risk.medium)):
        why = _why(band, referral, programme, conditions)
        if why is not None:
            field, text = why
            # Thresholds, not the patient's readings: reasons never echo patient data.
            return level, reason(f"risk.{level.value}", field, f"{level.value.capitalize()} risk: {text}.")
    return RiskLevel.LOW, reason("risk.low", None, "No high or medium risk criterion applies.")
